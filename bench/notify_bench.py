"""A convening's invitations to 1,000 members through a node as `copnet up` runs it, beside
raw smtplib's rate to the same SMTP server in the same run.

    .venv/bin/python -m bench.notify_bench [--members 1000] [--rounds 2] [--concurrency 4]

It starts a node with `copnet up` on a temporary data directory (SQLite; nats-server and
every service in its own process, as an operator runs it), notify sending over SMTP
(`COPNET_SMTP_SECURITY=none`) to a real SMTP server (aiosmtpd) in a process of its own
that only counts what it accepts (and which notifications, to catch a duplicate). It
registers `members` members and a lead through the registry's API, has them join one
community, waits until notify's directory has the last of them (`min_registry_position`
on a notify call), then per round the lead schedules a convening (`ScheduleConvening`)
and it measures:

- scheduled -> first / all invitations accepted by the SMTP server;
- delivered per second, between the first and the last: each invitation read, checked
  (preferences, the late rule, the address), rendered, its attempt claimed in notify's
  event store, sent, its outcome recorded, the mailbox view and the relay following;
- the CPU seconds notify's process used in the round (and the node's, all processes);
- raw smtplib: the baseline, one of the invitations as sent (its bytes, kept by the
  SMTP server) sent again `recipients` times by `smtplib` to the same server from
  `concurrency` threads, one connection each, right after the round.

The machine's load average (os.getloadavg) is recorded before and after; results are
printed and written to bench/results/notify-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import psutil

from copnet.events.v1 import events_pb2 as epb
from copnet.notify.v1 import notify_pb2 as npb
from copnet.registry.v1 import registry_pb2 as rpb
from tests.support.node_process import NodeClient, RunningNode
from tests.support.ports import free_port
from tests.support.waiting import eventually

RESULTS = Path(__file__).parent / "results"
SENDER = "notify@bench.copnet.example"


def rid() -> str:
    return str(uuid.uuid4())


# The SMTP server: its own process, so that it does not share a node's interpreter.


def _sink(port: int, shared: dict[str, Any], sample: str, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    seen: set[bytes] = set()

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            now = time.time()
            content = envelope.original_content or b""
            start = content.find(b"X-Copnet-Notification: ")
            notification = content[start : content.find(b"\r\n", start)] if start >= 0 else b""
            with shared["count"].get_lock():
                if shared["count"].value == 0:
                    shared["first"].value = now
                    if notification:
                        Path(sample).write_bytes(content)
                shared["count"].value += 1
                shared["last"].value = now
                if notification:
                    if notification in seen:
                        shared["duplicates"].value += 1
                    seen.add(notification)
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class SmtpSink:
    def __init__(self, sample: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.sample = sample
        self.shared = {
            "count": context.Value("l", 0),
            "duplicates": context.Value("l", 0),
            "first": context.Value("d", 0.0),
            "last": context.Value("d", 0.0),
        }
        ready, self._stop = context.Event(), context.Event()
        self.process = context.Process(
            target=_sink, args=(self.port, self.shared, str(sample), ready, self._stop)
        )
        self.process.start()
        if not ready.wait(30):
            raise RuntimeError("the SMTP server did not start")

    def value(self, name: str) -> Any:
        return self.shared[name].value

    def reset(self) -> None:
        with self.shared["count"].get_lock():
            self.shared["count"].value = self.shared["duplicates"].value = 0
            self.shared["first"].value = self.shared["last"].value = 0.0

    def stop(self) -> None:
        self._stop.set()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


# The node and its community


def community(client: NodeClient, members: int) -> tuple[str, str]:
    """A community with a lead and `members` members, once notify's directory has them all."""
    org = client.organisation()
    lead = client.member(org, "Lead Bench")
    community_id = client.community(lead, f"bench-{uuid.uuid4().hex[:8]}")

    def join(i: int) -> int:
        member = client.registry.RegisterMember(
            rpb.RegisterMemberRequest(
                request_id=rid(),
                display_name=f"Member {i}",
                profession=rpb.PROFESSION_NURSE,
                home_organisation_id=org,
                email=f"m{i}-{uuid.uuid4().hex[:6]}@bench.nhs.uk",
            ),
            metadata=client.auth(),
            timeout=30,
        ).member.member_id
        return client.registry.JoinCommunity(
            rpb.JoinCommunityRequest(request_id=rid(), community_id=community_id, member_id=member),
            metadata=client.auth(),
            timeout=30,
        ).position

    with ThreadPoolExecutor(8) as pool:
        last = max(pool.map(join, range(1, members + 1)))

    def notify_has_them() -> bool:
        try:
            client.notify.GetPreferences(
                npb.GetPreferencesRequest(member_id=lead, min_registry_position=last),
                metadata=client.auth(),
                timeout=10,
            )
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error
            return False
        return True

    eventually(notify_has_them, 600, interval=0.5)
    return community_id, lead


def schedule(client: NodeClient, community_id: str, lead: str, day: int) -> None:
    local = (datetime.now(UTC) + timedelta(days=30 + day)).astimezone(ZoneInfo("Europe/London"))

    def scheduled() -> bool:
        try:
            client.events.ScheduleConvening(
                epb.ScheduleConveningRequest(
                    request_id=rid(),
                    community_id=community_id,
                    title=f"Cancer rehab and lymphoedema {day}",
                    topic="Cancer rehab",
                    description="Lunchtime webinar with the community's AHPs.",
                    format=epb.CONVENING_FORMAT_WEBINAR,
                    join_link="https://meet.example.nhs.uk/bench",
                    start=local.strftime("%Y-%m-%dT12:30"),
                    end=local.strftime("%Y-%m-%dT13:30"),
                    time_zone="Europe/London",
                ),
                metadata=client.auth(lead),
                timeout=30,
            )
        except grpc.RpcError as error:  # the events service has not heard of the lead yet
            waiting = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)
            assert error.code() in waiting, error
            return False
        return True

    eventually(scheduled, 120, interval=0.2)


def cpu_seconds(processes: dict[str, psutil.Process]) -> dict[str, float]:
    seconds = {}
    for name, process in processes.items():
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[name] = times.user + times.system
    return seconds


@dataclass
class Round:
    recipients: int
    seconds_to_first_mail: float
    seconds_to_all_delivered: float
    delivered_per_second: float
    raw_smtp_per_second: float
    ratio_to_raw: float
    duplicates: int
    message_bytes: int
    notify_cpu_seconds: float
    node_cpu_seconds: float
    notify_cpu_ms_per_email: float


def measure_round(
    node: RunningNode,
    client: NodeClient,
    smtp: SmtpSink,
    where: tuple[str, str],
    day: int,
    recipients: int,
    concurrency: int,
    profile: Path | None = None,
) -> Round:
    smtp.reset()
    processes = node.children()
    spy = None
    if profile is not None:  # py-spy on notify's process for the round (a flame graph)
        spy = subprocess.Popen(
            [
                shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy",
                *("record", "--nonblocking", "-r", "100", "-p", str(processes["notify"].pid)),
                *("-o", str(profile), "-f", "flamegraph" if profile.suffix == ".svg" else "raw"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)
    before = cpu_seconds(processes)
    started = time.time()
    schedule(client, *where, day)
    deadline = time.monotonic() + 900
    while smtp.value("count") < recipients:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {smtp.value('count')} of {recipients} invitations arrived")
        time.sleep(0.01)
    first, finished = smtp.value("first"), smtp.value("last")
    duplicates = smtp.value("duplicates")
    after = cpu_seconds(processes)
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    sample = smtp.sample.read_bytes()
    # The same bytes, under another name than notify's header (so not counted as a copy).
    copy = sample.replace(b"X-Copnet-Notification: ", b"X-Bench-Raw-Copy-Of: ", 1)
    raw = raw_smtp(smtp, copy, recipients, concurrency)
    delivered = (recipients - 1) / (finished - first) if finished > first else 0.0
    return Round(
        recipients=recipients,
        seconds_to_first_mail=first - started,
        seconds_to_all_delivered=finished - started,
        delivered_per_second=delivered,
        raw_smtp_per_second=raw,
        ratio_to_raw=delivered / raw if raw else 0.0,
        duplicates=duplicates,
        message_bytes=len(sample),
        notify_cpu_seconds=used.get("notify", 0.0),
        node_cpu_seconds=sum(used.values()),
        notify_cpu_ms_per_email=1000 * used.get("notify", 0.0) / recipients,
    )


def raw_smtp(smtp: SmtpSink, message: bytes, count: int, concurrency: int) -> float:
    smtp.reset()
    per_thread = [count // concurrency + (i < count % concurrency) for i in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)

    def send(n: int) -> None:
        client = smtplib.SMTP("127.0.0.1", smtp.port)
        barrier.wait()
        for _ in range(n):
            client.sendmail(SENDER, ["m@bench.nhs.uk"], message)
        client.quit()

    threads = [threading.Thread(target=send, args=(n,)) for n in per_thread]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.time()
    for thread in threads:
        thread.join()
    return count / (max(smtp.value("last"), started + 1e-6) - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4, help="COPNET_NOTIFY_CONCURRENCY")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy notify's process during the last round into this file (.svg or raw)",
    )
    options = parser.parse_args()
    load_before = os.getloadavg()
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="notify-bench-") as tmp:
        root = Path(tmp)
        smtp = SmtpSink(root / "sample.eml")
        env = {
            "COPNET_SMTP_HOST": "127.0.0.1",
            "COPNET_SMTP_PORT": str(smtp.port),
            "COPNET_SMTP_SECURITY": "none",
            "COPNET_MAIL_FROM": f"Bench CoP network <{SENDER}>",
            "COPNET_NOTIFY_CONCURRENCY": str(options.concurrency),
        }
        node = RunningNode(root / "data", node_id="bench", region="bench", env=env)
        try:
            node.start()
            eventually(node.all_serving, 120, interval=0.5)
            client = NodeClient(node)
            setup = time.monotonic()
            where = community(client, options.members)
            print(
                f"{options.members} members joined and known to notify in "
                f"{time.monotonic() - setup:.0f} s",
                flush=True,
            )
            for day in range(options.rounds):
                result = measure_round(
                    node,
                    client,
                    smtp,
                    where,
                    day,
                    options.members + 1,
                    options.concurrency,
                    options.profile if day == options.rounds - 1 else None,
                )
                rounds.append(result)
                print(json.dumps(asdict(result), indent=2), flush=True)
        finally:
            try:
                node.stop()
            except Exception:
                node.kill_everything()
            smtp.stop()
    median = {
        field: statistics.median(getattr(r, field) for r in rounds) for field in asdict(rounds[0])
    }
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.notify_bench "
        f"--members {options.members} --rounds {options.rounds} "
        f"--concurrency {options.concurrency}",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "options": {**vars(options), "profile": str(options.profile or "")},
        "rounds": [asdict(r) for r in rounds],
        "median": median,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"notify-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\n{options.members + 1} recipients, concurrency {options.concurrency}, medians of "
        f"{len(rounds)} rounds (load {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}):"
    )
    rows = [
        ("scheduled -> first invitation delivered", "seconds_to_first_mail", "s"),
        ("scheduled -> all invitations delivered", "seconds_to_all_delivered", "s"),
        ("delivered through notify", "delivered_per_second", "e-mails/s"),
        ("raw smtplib, same message and server", "raw_smtp_per_second", "e-mails/s"),
        ("notify / raw", "ratio_to_raw", ""),
        ("notify CPU per e-mail", "notify_cpu_ms_per_email", "ms"),
        ("duplicates", "duplicates", ""),
    ]
    for label, field, unit in rows:
        print(f"  {label:<45} {median[field]:>9.3f} {unit}")
    print(f"  results: {out}")


if __name__ == "__main__":
    main()
