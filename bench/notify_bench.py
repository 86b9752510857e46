"""E-mails rendered and delivered per second, and a convening's invitations to 1,000 members.

    .venv/bin/python -m bench.notify_bench [--members 1000] [--concurrency 4] [--rounds 2]

It runs a node in this process on a temporary directory: a real nats-server, the
registry, events and notify services (API and worker each) on loopback gRPC ports,
notify sending over SMTP to a real SMTP server (aiosmtpd) in a separate process
that only counts what it accepts. It registers `members` members, has them join
one community (through the registry's API), waits until notify's directory knows
them all (through NATS), then, per round:

- end to end: a co-lead schedules a convening (`ScheduleConvening` over gRPC);
  measured from the call to the last invitation accepted by the SMTP server, with
  the moments notify had recorded all the invitations (its policy, through NATS)
  and the first one arrived;
- delivery rate: invitations accepted per second between the first and the last
  (each one: read, preferences and address looked up, rendered from the templates
  with its iCalendar invitation, attempt claimed in the store, sent, outcome recorded);
- render only: the same notifications composed again in this process
  (`Composer.prepare`, no store writes, no SMTP): what rendering costs;
- raw SMTP: the baseline, `smtplib` sending an already rendered invitation of the
  same size to the same server from `concurrency` threads, one connection each.

Results are printed and written to bench/results/notify-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import smtplib
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from copnet.events.v1 import events_pb2 as epb
from copnet.events.v1 import events_pb2_grpc as epb_grpc
from copnet.registry.v1 import registry_pb2 as rpb
from copnet.registry.v1 import registry_pb2_grpc as rpb_grpc
from services.common.channels import ChannelSecurity, open_channel
from services.common.service import ServiceDefinition, ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from services.events.service import DEFINITION as EVENTS
from services.node import node_nats_server
from services.notify.delivery.compose import Ready
from services.notify.delivery.transport import wire_bytes
from services.notify.service import definition
from services.notify.settings import NotifySettings
from services.registry.service import DEFINITION as REGISTRY
from tests.support.ports import free_port

RESULTS = Path(__file__).parent / "results"
# The events service's web pages (calendar feeds) on any free port: not a node's.
os.environ.setdefault("COPNET_EVENTS_HTTP_ADDRESS", "127.0.0.1:0")


def rid() -> str:
    return str(uuid.uuid4())


# The SMTP server: its own process, so that it does not share this one's interpreter.


def _sink(port: int, count: Any, first: Any, last: Any, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            now = time.time()
            with count.get_lock():
                if count.value == 0:
                    first.value = now
                count.value += 1
                last.value = now
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class SmtpSink:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.count = context.Value("l", 0)
        self.first = context.Value("d", 0.0)
        self.last = context.Value("d", 0.0)
        ready, self._stop = context.Event(), context.Event()
        self.process = context.Process(
            target=_sink,
            args=(self.port, self.count, self.first, self.last, ready, self._stop),
            daemon=True,
        )
        self.process.start()
        if not ready.wait(30):
            raise RuntimeError("the SMTP server did not start")

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value = 0
            self.first.value = self.last.value = 0.0

    def stop(self) -> None:
        self._stop.set()
        self.process.join(10)


# The node


class Node:
    def __init__(self, root: Path, smtp: SmtpSink, concurrency: int) -> None:
        self.settings = NodeSettings(
            node_id="bench", region="bench", data_dir=root / "node", nats_port=free_port()
        )
        self.nats = node_nats_server(self.settings)
        self.nats.start()
        self.settings = self.settings.with_overrides(nats_url=self.nats.url)
        self.authority = TokenAuthority.for_node("bench", root / "key.pem")
        notify = NotifySettings(
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_security="none",
            mail_from="Bench CoP network <notify@bench.copnet.example>",
            http_address="127.0.0.1:0",
            concurrency=concurrency,
            poll_interval=0.2,
        )
        self.threads = [self._start(REGISTRY), self._start(EVENTS), self._start(definition(notify))]
        registry, events, self.notify = (t.runtime for t in self.threads)
        assert registry is not None and events is not None and self.notify is not None
        self.events_runtime = events
        security = ChannelSecurity.of(self.settings)
        self.registry = rpb_grpc.RegistryServiceStub(
            open_channel(f"127.0.0.1:{registry.port}", security)
        )
        self.events = epb_grpc.EventsServiceStub(open_channel(f"127.0.0.1:{events.port}", security))
        self.operator = self.auth("operator")

    def _start(self, service: ServiceDefinition) -> ServiceThread:
        thread = ServiceThread(
            lambda: ServiceRuntime(
                service, self.settings, address="127.0.0.1:0", authority=self.authority
            )
        )
        thread.start()
        return thread

    def auth(self, subject: str) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.authority.issue(subject)}")]

    @property
    def parts(self) -> Any:
        return self.notify.notify  # type: ignore[union-attr]

    def stop(self) -> None:
        for thread in reversed(self.threads):
            thread.stop()
        self.nats.kill()


def community(node: Node, members: int) -> tuple[str, str]:
    """A community with a lead and `members` members, all known to notify's directory."""
    org = node.registry.CreateOrganisation(
        rpb.CreateOrganisationRequest(
            request_id=rid(), name="Bench Trust", kind=rpb.ORGANISATION_KIND_NHS_TRUST, region="x"
        ),
        metadata=node.operator,
    ).organisation.organisation_id

    def register(i: int) -> str:
        return node.registry.RegisterMember(
            rpb.RegisterMemberRequest(
                request_id=rid(),
                display_name=f"Member {i}",
                profession=rpb.PROFESSION_NURSE,
                home_organisation_id=org,
                email=f"m{i}-{uuid.uuid4().hex[:6]}@bench.nhs.uk",
            ),
            metadata=node.operator,
        ).member.member_id

    lead = register(0)
    community_id = node.registry.CreateCommunity(
        rpb.CreateCommunityRequest(
            request_id=rid(),
            slug=f"bench-{uuid.uuid4().hex[:8]}",
            name="Bench CoP",
            domain="bench",
            region="x",
            joining_policy=rpb.JOINING_POLICY_OPEN,
        ),
        metadata=node.auth(lead),
    ).community.community_id

    def join(i: int) -> None:
        member = register(i)
        node.registry.JoinCommunity(
            rpb.JoinCommunityRequest(request_id=rid(), community_id=community_id, member_id=member),
            metadata=node.operator,
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(join, range(1, members + 1)))
    directory = node.parts.directory
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if len(directory.active_members(community_id)) == members + 1:
            return community_id, lead
        time.sleep(0.2)
    raise TimeoutError("notify did not learn the members")


@dataclass
class Round:
    recipients: int
    seconds_to_all_recorded: float
    seconds_to_first_mail: float
    seconds_to_all_delivered: float
    delivered_per_second: float
    rendered_per_second: float
    raw_smtp_per_second: float
    message_bytes: int
    notify_cpu_seconds: float


def schedule(node: Node, community_id: str, lead: str, day: int) -> str:
    start = datetime.now(tz=UTC) + timedelta(days=30 + day)
    return node.events.ScheduleConvening(
        epb.ScheduleConveningRequest(
            request_id=rid(),
            community_id=community_id,
            title=f"Cancer rehab and lymphoedema {day}",
            topic="Cancer rehab",
            description="Lunchtime webinar with the community's AHPs.",
            format=epb.CONVENING_FORMAT_WEBINAR,
            join_link="https://meet.example.nhs.uk/bench",
            start=start.strftime("%Y-%m-%dT12:30"),
            end=start.strftime("%Y-%m-%dT13:30"),
            time_zone="Europe/London",
        ),
        metadata=node.auth(lead),
    ).convening.convening_id


def invitations_recorded(node: Node, convening_id: str) -> int:
    with node.parts.mailbox.store.read() as tx:
        row = tx.one(
            "SELECT COUNT(*) AS n FROM notifications WHERE convening_id = ?", (convening_id,)
        )
    return int(row["n"]) if row else 0


def measure_round(
    node: Node,
    smtp: SmtpSink,
    community_id: str,
    lead: str,
    day: int,
    recipients: int,
    concurrency: int,
) -> Round:
    smtp.reset()
    cpu_before = time.process_time()
    started = time.time()
    convening_id = schedule(node, community_id, lead, day)
    recorded_at = 0.0
    deadline = time.monotonic() + 600
    while smtp.count.value < recipients:
        if not recorded_at and invitations_recorded(node, convening_id) >= recipients:
            recorded_at = time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {smtp.count.value} of {recipients} invitations arrived")
        time.sleep(0.01)
    finished = smtp.last.value
    cpu = time.process_time() - cpu_before
    recorded_at = recorded_at or finished
    first = smtp.first.value
    rendered, sample = render_only(node, convening_id)
    raw = raw_smtp(smtp, sample, recipients, concurrency)
    return Round(
        recipients=recipients,
        seconds_to_all_recorded=recorded_at - started,
        seconds_to_first_mail=first - started,
        seconds_to_all_delivered=finished - started,
        delivered_per_second=(recipients - 1) / (finished - first) if finished > first else 0.0,
        rendered_per_second=rendered,
        raw_smtp_per_second=raw,
        message_bytes=len(sample),
        notify_cpu_seconds=cpu,
    )


def render_only(node: Node, convening_id: str) -> tuple[float, bytes]:
    """Composes the round's invitations again, in this process: (per second, one message)."""
    app = node.notify.app  # type: ignore[union-attr]
    with node.parts.mailbox.store.read() as tx:
        ids = [
            uuid.UUID(r["notification_id"])
            for r in tx.all(
                "SELECT notification_id FROM notifications WHERE convening_id = ?", (convening_id,)
            )
        ]
    notifications = [app.notification(i) for i in ids]
    now = app.clock.now()
    started = time.perf_counter()
    sample = b""
    for n in notifications:
        prepared = node.parts.composer.prepare(n, now)
        assert isinstance(prepared, Ready), prepared
        sample = sample or wire_bytes(prepared.message)
    return len(notifications) / (time.perf_counter() - started), sample


def raw_smtp(smtp: SmtpSink, message: bytes, count: int, concurrency: int) -> float:
    smtp.reset()
    per_thread = [count // concurrency + (i < count % concurrency) for i in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)

    def send(n: int) -> None:
        client = smtplib.SMTP("127.0.0.1", smtp.port)
        barrier.wait()
        for _ in range(n):
            client.sendmail("notify@bench.copnet.example", ["m@bench.nhs.uk"], message)
        client.quit()

    threads = [threading.Thread(target=send, args=(n,)) for n in per_thread]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.time()
    for thread in threads:
        thread.join()
    return count / (max(smtp.last.value, started + 1e-6) - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    smtp = SmtpSink()
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory() as tmp:
        node = Node(Path(tmp), smtp, options.concurrency)
        try:
            setup = time.monotonic()
            community_id, lead = community(node, options.members)
            print(
                f"{options.members} members joined and known to notify in "
                f"{time.monotonic() - setup:.0f} s"
            )
            for day in range(options.rounds):
                result = measure_round(
                    node, smtp, community_id, lead, day, options.members + 1, options.concurrency
                )
                rounds.append(result)
                print(json.dumps(asdict(result), indent=2))
        finally:
            node.stop()
            smtp.stop()
    median = {
        field: statistics.median(getattr(r, field) for r in rounds) for field in asdict(rounds[0])
    }
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
        "options": vars(options),
        "rounds": [asdict(r) for r in rounds],
        "median": median,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"notify-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\n{options.members + 1} recipients, concurrency {options.concurrency}, medians of "
        f"{len(rounds)} rounds:"
    )
    rows = [
        ("scheduled -> all invitations recorded by notify", "seconds_to_all_recorded", "s"),
        ("scheduled -> first invitation delivered", "seconds_to_first_mail", "s"),
        ("scheduled -> all invitations delivered", "seconds_to_all_delivered", "s"),
        ("delivered (rendered, sent, recorded)", "delivered_per_second", "e-mails/s"),
        ("rendered only", "rendered_per_second", "e-mails/s"),
        ("raw smtplib, same message and server", "raw_smtp_per_second", "e-mails/s"),
    ]
    for label, field, unit in rows:
        print(f"  {label:<50} {median[field]:>8.2f} {unit}")
    print(f"  results: {out}")


if __name__ == "__main__":
    main()
