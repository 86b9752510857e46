"""What a calendar application's polling costs, and how long CPD documents take.

    .venv/bin/python -m bench.events_feeds [--convenings 200] [--polls 300]

It runs the registry and the events service in this process (as bench.events_signups
does: a real nats-server, loopback gRPC), schedules `convenings` convenings in one
community, issues a member's community feed and measures over real HTTP:

- render: a convening changes; how long until the feed shows it (the read model
  catching up, then one render of the whole feed);
- 200: the feed again, unchanged (the rendered text is kept per change);
- 304: a conditional request with the ETag (what a polling calendar sends);

then, in process, a certificate PDF and a record PDF of `convenings` activities.
Results are printed and written to bench/results/events_feeds-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from bench.events_signups import RESULTS, Node, community, rid, schedule
from copnet.events.v1 import events_pb2 as epb
from services.events.cpd.documents import CertificateFacts, CpdEntry, certificate_pdf, record_pdf

os.environ.setdefault("COPNET_EVENTS_HTTP_ADDRESS", "127.0.0.1:0")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def timed(call: Callable[[], object], times: int) -> list[float]:
    taken = []
    for _ in range(times):
        start = time.perf_counter()
        call()
        taken.append(time.perf_counter() - start)
    return taken


def feeds(node: Node, convenings: int, polls: int) -> dict[str, object]:
    community_id, lead, (member,) = community(node, 1)
    ids = [schedule(node, community_id, lead, 0, day) for day in range(convenings)]
    feed = node.events.IssueCalendarFeed(
        epb.IssueCalendarFeedRequest(
            request_id=rid(), kind=epb.CALENDAR_FEED_KIND_COMMUNITY, community_id=community_id
        ),
        metadata=node.auth(member),
    ).feed
    with httpx.Client(timeout=30) as client:
        while client.get(feed.url).content.count(b"BEGIN:VEVENT") < convenings:
            time.sleep(0.05)
        etag = client.get(feed.url).headers["etag"]
        node.events.UpdateConvening(
            epb.UpdateConveningRequest(request_id=rid(), convening_id=ids[0], title="Changed"),
            metadata=node.auth(lead),
        )
        start = time.perf_counter()
        while client.get(feed.url, headers={"If-None-Match": etag}).status_code == 304:
            time.sleep(0.01)
        seen = time.perf_counter() - start
        body = client.get(feed.url)
        etag = body.headers["etag"]
        full = timed(lambda: client.get(feed.url), polls)
        conditional = timed(lambda: client.get(feed.url, headers={"If-None-Match": etag}), polls)
    return {
        "convenings": convenings,
        "feed_bytes": len(body.content),
        "change_seen_ms": ms(seen),
        "get_200_median_ms": ms(statistics.median(full)),
        "get_304_median_ms": ms(statistics.median(conditional)),
        "get_304_p95_ms": ms(sorted(conditional)[int(len(conditional) * 0.95)]),
    }


def documents(activities: int) -> dict[str, object]:
    entry = CpdEntry(
        "Enhanced supportive care: early referral", "Enhanced Supportive Care", "Cancer CoP",
        "webinar", date(2024, 2, 21), "12:30-13:30 Europe/London", 1.0,
        ("Slides and recording shared as an online resource",),
        "https://copnet.example.nhs.uk/cpd/verify/" + "x" * 59 + "." + "y" * 22,
    )  # fmt: skip
    facts = CertificateFacts("A Member", entry, ("A Lead",), "bench", "y" * 22, date.today())
    certificate_pdf(facts)
    certificate = timed(lambda: certificate_pdf(facts), 20)
    start = time.perf_counter()
    record_pdf("A Member", "all", [entry] * activities, float(activities))
    return {
        "certificate_pdf_median_ms": ms(statistics.median(certificate)),
        "record_pdf_ms": ms(time.perf_counter() - start),
        "record_activities": activities,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--convenings", type=int, default=200)
    parser.add_argument("--polls", type=int, default=300)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        node = Node(Path(work), "")
        try:
            results = {"feeds": feeds(node, options.convenings, options.polls)}
        finally:
            node.stop()
    results["documents"] = documents(options.convenings)
    results["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    print(json.dumps(results, indent=2))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"events_feeds-{stamp}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
