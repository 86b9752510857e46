"""Learning federation benchmark: cross-node propagation latency and catch-up after an outage.

    /work/venv/bin/python bench/learning_federation_bench.py [--rates 1,10,100] [--seconds N]
        [--catch-up-items N] [--outage-seconds N] [--store sqlite|postgres] [--wait-quiet N]
        [--no-probe] [--postgres-dsn DSN]

The region (issue 4): a real hub and three real nodes on loopback, built by
`tests.support.region.Region` the way `copnet hub` and `copnet up
--hub-credentials` build them: a hub nats-server (JetStream domain `hub`,
per-node leaf credentials and permissions), and per node a nats-server (leaf of
the hub, `sync_interval: always`) with the registry and learning services
(`ServiceRuntime`, roles api+worker: gRPC, relay, inboxes, federation links,
catalogue follower). Node A (`guys`) publishes; B (`kings`) and C (`lewisham`)
both `Subscribe(node_id="guys")`. NOTE: the three nodes' services run in this
one Python process (threads of `ServiceThread`), so they share one GIL; in
production each node is its own machine and each service its own process.

Propagation, per rate (open loop, `--rates`, default 1, 10 and 100 items/s):
a client process (spawned, so it shares no GIL with the nodes) calls A's
LearningService over gRPC, `CreateItem` then `PublishItem` for each item
(visibility REGION), at the scheduled times whatever the replies do. Each rate
runs `--seconds` (at least 30 items) after 2 s of uncounted warm-up. For every
item, with no polling of B or C during the run:

- t0 "published": the timestamp of A's `LearningItem.Published` event (read
  from A's event store afterwards), i.e. `published_at`;
- "applied on B": the timestamp of B's `ReceivedItem.Received` event for it
  (B's event store, read afterwards): the inbox has decided to record it;
- "searchable on B": when B's catalogue projection committed the batch holding
  that event (the follower's `Catalogue.process` is wrapped in this process to
  note the time after it returns; from then on `SearchCatalogue` finds it);
- "found by gRPC search on B" (sampled): the client process polls B's and C's
  `SearchCatalogue(text=<the item's unique word>)` for at most one item per
  second per node (every 20 ms for 0.5 s, then every 100 ms), which checks the
  two figures above from outside at a small cost to B and C.

The latency of each is its time minus t0 (one machine, one clock). Hops, from
timestamps the run leaves behind (JetStream stores each message's time; nothing
extra is published): t0 -> on A's node stream (A's relay) -> on A's public
stream (sourced by A's server) -> on B's federation stream (sourced through the
hub) -> fetched by B's federation inbox -> handler started -> `Received` event
-> handler done (committed) -> catalogue committed. The inbox times come from
wrapping B's inbox `_process` and `FederationPolicy.handle` (two `time.time()`
calls and, for `item_published`, one envelope decode per message).

Baselines, measured in the same run just before each rate, from a separate
client process, at the same rate and with messages of the same size as an
`item_published` envelope, through the same servers and the same hub link:
publish on A's server to `copnet.<region>.guys.fedbench.ping` (A's node stream
takes it, A's server sources it into A's public stream as it does learning
events); B and C each get a stream `FEDBENCH_<NODE>` configured exactly like
their federation stream (`federation_stream_config`) with one source, A's
public stream filtered to that subject through the hub (`public_source`). The
latency is receive time - send time, taken by:
- "raw same server": an ordered push consumer on A's node stream (NATS itself:
  publish, store with fsync, deliver, on one server);
- "raw A public": an ordered push consumer on A's public stream (+ one sourcing);
- "raw cross-node push": an ordered push consumer on B's / C's FEDBENCH stream
  (+ sourcing through the hub onto the other node's disk): NATS's share of the
  copnet path, the baseline the ratio is taken against;
- "raw cross-node inbox-style": a durable pull consumer on B's FEDBENCH stream
  consuming like copnet's `Inbox` (fetch 1, `max_ack_pending=1`, `ack_sync`),
  with no work per message.
Ratio = copnet "searchable on B" p50 (p99) / "raw cross-node push" p50 (p99)
at the same rate.

Catch-up (`--catch-up-items`, 300): the hub's nats-server is killed
(`region.hub.server.kill()`), the items are published on A as fast as the client
can (8 calls in flight), the outage lasts at least `--outage-seconds` (10),
then the hub is started again (`region.hub.start()`). Reported per subscriber:
from the restart to the first and last of them on B's federation stream (the
sourcing), to the first and last applied (the inbox), the catch-up rate
(items / (last applied - first applied)) and the effective rate (items / (last
applied - restart)); the federation stream's source state (active, lag, error)
is sampled every 0.5 s and `FederationLinks`' re-link log lines are captured,
to show what dominates the wait.

Each phase records how busy the machine was just before it, the cores used by
this process (the three nodes' services), by the client process, by the four
nats-servers and by everything else (other work on the machine). Between
phases the run waits until the region is quiet (every relay, follower and
federation inbox caught up). Results are printed as a table and written as
JSON to bench/results/learning-federation-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import json
import logging
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
for _path in (str(ROOT), str(BENCH_DIR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
# The registry benchmark's helpers: percentiles, CPU meters, machine facts, PostgreSQL.
rb = importlib.import_module("registry_bench")

RESULTS_DIR = BENCH_DIR / "results"
ORIGIN = "guys"
SUBSCRIBERS = ("kings", "lewisham")
NODES = (ORIGIN, *SUBSCRIBERS)
TARGET_RATE = 10.0
TARGET_P99_MS = 250.0
MIN_ITEMS = 30
WARMUP_SECONDS = 2.0
RAW_SERVICE = "fedbench"
RAW_CONSUMERS = ("same_server", "origin_public", "cross_push", "cross_inbox")
PROBE_FAST_SECONDS = 0.5
PROBE_FAST_INTERVAL = 0.02
PROBE_SLOW_INTERVAL = 0.1
QUIET_BUSY_FRACTION = rb.QUIET_BUSY_FRACTION

log = logging.getLogger("learning_federation_bench")

BODY = (
    "A nurse-led remote monitoring pathway for gestational diabetes: women upload readings "
    "from home, the team reviews them daily, and clinic visits are kept for those who need "
    "them. What we measured, what changed, what it cost and how another trust could start. "
) * 6


# Small helpers


def summary(seconds: Sequence[float]) -> dict[str, Any]:
    return rb.summary_ms(list(seconds))


def timestamp_of(value: datetime) -> float:
    return value.timestamp()


def proc_cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user + system) a process has used so far, from /proc (Linux)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PhaseMeter:
    """Cores used over a window: this process, the nats-servers, the rest of the machine."""

    def __init__(self, nats_pids: dict[str, int | None]) -> None:
        self.nats_pids = nats_pids
        self.meter = rb.CpuMeter()
        self.began = time.monotonic()
        self.nats = {name: proc_cpu_seconds(pid) for name, pid in nats_pids.items()}

    def read(self, client_cores: float | None = None) -> dict[str, Any]:
        wall = time.monotonic() - self.began
        figures: dict[str, Any] = dict(self.meter.read())
        figures["nodes_process_cores"] = figures.pop("server_process_cores")
        nats_total = 0.0
        per_server = {}
        for name, pid in self.nats_pids.items():
            now, then = proc_cpu_seconds(pid), self.nats.get(name)
            if now is not None and then is not None:
                per_server[name] = round((now - then) / wall, 3)
                nats_total += (now - then) / wall
        figures["nats_servers_cores"] = round(nats_total, 3)
        figures["nats_servers"] = per_server
        if client_cores is not None:
            figures["client_process_cores"] = client_cores
        if figures.get("other_cores") is not None:
            figures["other_cores"] = round(
                figures["other_cores"] - nats_total - (client_cores or 0.0), 3
            )
        figures["window_s"] = round(wall, 2)
        return figures


# The client process: publishing through gRPC, and the raw JetStream baseline


def client_main(conn: Connection, job: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING)
    try:
        runner = {"publish": publish_client, "burst": burst_client, "raw": raw_client}
        result = asyncio.run(runner[job["kind"]](conn, job))
        conn.send({"event": "done", "result": result})
    except Exception as error:
        import traceback

        conn.send({"event": "failed", "error": f"{error!r}\n{traceback.format_exc()}"})
    finally:
        conn.close()


def _item_requests(job: dict[str, Any], n: int) -> tuple[Any, str]:
    from copnet.learning.v1 import learning_pb2 as lpb

    word = f"fb{job['run']}{job['label']}n{n}z"
    return (
        lpb.CreateItemRequest(
            request_id=str(uuid.uuid4()),
            kind=lpb.ITEM_KIND_REPLICABLE_MODEL,
            title=f"Remote monitoring pathway {word}",
            summary=f"How a trust monitors gestational diabetes at home ({word}).",
            body=BODY,
            domain_tags=["diabetes-in-pregnancy", "quality"],
            community_id=job["community_id"],
            visibility=lpb.VISIBILITY_REGION,
        ),
        word,
    )


async def _create_and_publish(stub: Any, job: dict[str, Any], n: int, metadata: Any) -> dict:
    import grpc

    from copnet.learning.v1 import learning_pb2 as lpb

    request, word = _item_requests(job, n)
    record: dict[str, Any] = {"n": n, "word": word, "sent": time.time()}
    try:
        created = await stub.CreateItem(request, metadata=metadata, timeout=60)
        record["created"] = time.time()
        await stub.PublishItem(
            lpb.PublishItemRequest(request_id=str(uuid.uuid4()), item_id=created.item.item_id),
            metadata=metadata,
            timeout=60,
        )
        record["published_reply"] = time.time()
        record["item_id"] = created.item.item_id
    except grpc.aio.AioRpcError as error:
        record["error"] = error.code().name
    return record


async def _probe(stub: Any, metadata: Any, item_id: str, word: str) -> dict[str, Any]:
    """Polls SearchCatalogue on a subscriber until the item is found."""
    import grpc

    from copnet.learning.v1 import learning_pb2 as lpb

    began = time.time()
    polls = 0
    errors = 0
    while time.time() - began < 120:
        polls += 1
        try:
            reply = await stub.SearchCatalogue(
                lpb.SearchCatalogueRequest(text=word, page_size=5), metadata=metadata, timeout=10
            )
            if any(item.item_id == item_id for item in reply.items):
                return {"found": time.time(), "began": began, "polls": polls, "errors": errors}
        except grpc.aio.AioRpcError:
            errors += 1
        waited = time.time() - began
        await asyncio.sleep(
            PROBE_FAST_INTERVAL if waited < PROBE_FAST_SECONDS else PROBE_SLOW_INTERVAL
        )
    return {"found": None, "began": began, "polls": polls, "errors": errors}


async def publish_client(conn: Connection, job: dict[str, Any]) -> dict[str, Any]:
    """Open loop: CreateItem + PublishItem at `rate`, and sampled search probes on B and C."""
    import grpc

    from copnet.learning.v1 import learning_pb2_grpc as lpb_grpc

    metadata = (("authorization", f"Bearer {job['token']}"),)
    channels = [grpc.aio.insecure_channel(job["target"])]
    stub = lpb_grpc.LearningServiceStub(channels[0])
    probe_stubs: dict[str, tuple[Any, Any]] = {}
    for node, (address, token) in job["probes"].items():
        channel = grpc.aio.insecure_channel(address)
        channels.append(channel)
        probe_stubs[node] = (
            lpb_grpc.LearningServiceStub(channel),
            (("authorization", f"Bearer {token}"),),
        )
    for channel in channels:
        await asyncio.wait_for(channel.channel_ready(), 10)
    rate, warmup, seconds = job["rate"], job["warmup"], job["seconds"]
    offset = time.time() - time.monotonic()
    began = time.monotonic() + 0.05
    start = began + warmup
    end = start + seconds
    records: list[dict[str, Any]] = []
    probe_tasks: list[asyncio.Task] = []
    probing: dict[str, bool] = dict.fromkeys(probe_stubs, False)
    last_probe: dict[str, float] = dict.fromkeys(probe_stubs, 0.0)

    async def probe(node: str, record: dict[str, Any]) -> None:
        probe_stub, probe_metadata = probe_stubs[node]
        try:
            record.setdefault("probes", {})[node] = await _probe(
                probe_stub, probe_metadata, record["item_id"], record["word"]
            )
        finally:
            probing[node] = False

    async def one(n: int, scheduled: float) -> None:
        record = await _create_and_publish(stub, job, n, metadata)
        record["scheduled"] = scheduled + offset
        record["counted"] = start <= scheduled < end
        records.append(record)
        if "item_id" not in record:
            return
        for node in probe_stubs:
            now = time.monotonic()
            if not probing[node] and now - last_probe[node] >= 1.0 / job["probe_max_per_s"]:
                probing[node] = True
                last_probe[node] = now
                probe_tasks.append(asyncio.create_task(probe(node, record)))

    calls = []
    cpu_at_start = None
    window = [0.0, 0.0]
    for n in range(round((warmup + seconds) * rate)):
        scheduled = began + n / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if scheduled >= start and cpu_at_start is None:
            cpu_at_start = time.process_time()
            window[0] = time.monotonic()
            conn.send({"event": "measuring"})
        calls.append(asyncio.create_task(one(n, scheduled)))
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    window[1] = time.monotonic()
    conn.send({"event": "window_closed"})
    client_cores = (time.process_time() - (cpu_at_start or 0.0)) / max(1e-6, window[1] - window[0])
    await asyncio.gather(*calls)
    await asyncio.gather(*probe_tasks)
    for channel in channels:
        await channel.close()
    return {
        "records": sorted(records, key=lambda r: r["n"]),
        "window": [start + offset, end + offset],
        "client_process_cores": round(client_cores, 3),
    }


async def burst_client(conn: Connection, job: dict[str, Any]) -> dict[str, Any]:
    """Closed loop: `count` items as fast as `concurrency` calls in flight allow."""
    import grpc

    from copnet.learning.v1 import learning_pb2_grpc as lpb_grpc

    metadata = (("authorization", f"Bearer {job['token']}"),)
    records: list[dict[str, Any]] = []
    async with grpc.aio.insecure_channel(job["target"]) as channel:
        await asyncio.wait_for(channel.channel_ready(), 10)
        stub = lpb_grpc.LearningServiceStub(channel)
        numbers = iter(range(job["count"]))
        began = time.time()

        async def worker() -> None:
            for n in numbers:
                record = await _create_and_publish(stub, job, n, metadata)
                record["counted"] = True
                records.append(record)

        await asyncio.gather(*(worker() for _ in range(job["concurrency"])))
    return {"records": sorted(records, key=lambda r: r["n"]), "began": began, "ended": time.time()}


def raw_subject(region: str) -> str:
    return f"copnet.{region}.{ORIGIN}.{RAW_SERVICE}.ping"


def raw_stream_name(node: str) -> str:
    from services.common.messaging import stream_token

    return f"FEDBENCH_{stream_token(node)}"


async def raw_client(conn: Connection, job: dict[str, Any]) -> dict[str, Any]:
    """Raw JetStream through the same servers and hub: publish on A, consume on A, B and C."""
    import nats
    import nats.errors
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    from services.common import messaging
    from services.common.messaging import NodeIdentity

    region = job["region"]
    subject = raw_subject(region)
    origin = NodeIdentity(ORIGIN, region)
    rate, warmup, seconds = job["rate"], job["warmup"], job["seconds"]
    received: dict[str, dict[int, float]] = defaultdict(dict)
    clients = []

    def recorder(name: str):
        async def record(msg: Any) -> None:
            now = time.time()
            headers = msg.headers or {}
            if "fedbench-n" in headers:
                n = int(headers["fedbench-n"])
                received[name].setdefault(n, now - float(headers["fedbench-sent"]))

        return record

    nc_a = await nats.connect(job["urls"][ORIGIN], connect_timeout=5)
    clients.append(nc_a)
    js_a = nc_a.jetstream()
    await js_a.subscribe(
        subject,
        stream=origin.stream_name,
        cb=recorder("same_server"),
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    await js_a.subscribe(
        subject,
        stream=origin.public_stream_name,
        cb=recorder("origin_public"),
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    stopping = asyncio.Event()
    pullers = []
    for node in SUBSCRIBERS:
        identity = NodeIdentity(node, region)
        nc = await nats.connect(job["urls"][node], connect_timeout=5)
        clients.append(nc)
        js = nc.jetstream()
        stream = raw_stream_name(node)
        config = dataclasses.replace(
            identity.federation_stream_config([identity.public_source(ORIGIN, subject)]),
            name=stream,
            description="learning federation benchmark: raw JetStream through the hub",
        )
        await messaging.ensure_stream(js, config)
        await js.subscribe(
            subject,
            stream=stream,
            cb=recorder(f"cross_push:{node}"),
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        durable = "fedbench-inbox-style"
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, durable)
        await js.add_consumer(
            stream,
            ConsumerConfig(
                durable_name=durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.NEW,
                filter_subject=subject,
                max_ack_pending=1,
                ack_wait=30,
            ),
        )
        subscription = await js.pull_subscribe_bind(durable=durable, stream=stream)
        on_message = recorder(f"cross_inbox:{node}")

        async def pull(subscription: Any = subscription, on_message: Any = on_message) -> None:
            while not stopping.is_set():
                try:
                    messages = await subscription.fetch(1, timeout=1.0)
                except nats.errors.TimeoutError:
                    continue
                for message in messages:
                    await on_message(message)
                    await message.ack_sync()

        pullers.append(asyncio.create_task(pull()))

    payload = b"x" * job["payload_bytes"]
    acks: dict[int, float] = {}

    async def publish(n: int) -> None:
        sent = time.time()
        headers = {"fedbench-n": str(n), "fedbench-sent": repr(sent)}
        await js_a.publish(subject, payload, headers=headers, timeout=10)
        acks[n] = time.time() - sent

    # Until every consumer has seen a ping, the hub's sources are still linking up.
    names = ["same_server", "origin_public"] + [
        f"{kind}:{node}" for node in SUBSCRIBERS for kind in ("cross_push", "cross_inbox")
    ]
    deadline = time.monotonic() + 60
    n = -1
    while not all(received[name] for name in names):
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"raw baseline never linked: {[k for k in names if not received[k]]}"
            )
        await publish(n)
        n -= 1
        await asyncio.sleep(0.1)

    began = time.monotonic() + 0.05
    start = began + warmup
    end = start + seconds
    total = round((warmup + seconds) * rate)
    tasks = []
    counted: list[int] = []
    cpu_at_start = None
    for n in range(total):
        scheduled = began + n / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if scheduled >= start:
            if cpu_at_start is None:
                cpu_at_start = time.process_time()
                conn.send({"event": "measuring"})
            counted.append(n)
        tasks.append(asyncio.create_task(publish(n)))
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    conn.send({"event": "window_closed"})
    client_cores = (time.process_time() - (cpu_at_start or 0.0)) / seconds
    await asyncio.gather(*tasks)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(
        all(n in received[name] for n in counted) for name in names
    ):
        await asyncio.sleep(0.05)
    stopping.set()
    await asyncio.gather(*pullers)
    for nc in clients:
        await nc.close()
    return {
        "count": len(counted),
        "pub_ack": summary([acks[n] for n in counted if n in acks]),
        "latency": {
            name: {
                **summary([received[name][n] for n in counted if n in received[name]]),
                "missing": sum(1 for n in counted if n not in received[name]),
            }
            for name in names
        },
        "client_process_cores": round(client_cores, 3),
    }


def run_job(
    job: dict[str, Any], on_measuring: Callable[[], None], on_closed: Callable[[], None]
) -> dict[str, Any]:
    """Runs a client job in a spawned process (its own GIL); relays its window signals."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=client_main, args=(child, job), daemon=True)
    process.start()
    child.close()
    deadline = time.monotonic() + job.get("timeout", 900)
    try:
        while True:
            if not parent.poll(max(0.1, deadline - time.monotonic())):
                raise TimeoutError(f"the {job['kind']} client did not answer in time")
            message = parent.recv()
            if message["event"] == "measuring":
                on_measuring()
            elif message["event"] == "window_closed":
                on_closed()
            elif message["event"] == "done":
                return message["result"]
            elif message["event"] == "failed":
                raise RuntimeError(f"{job['kind']} client failed: {message['error']}")
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()


# Instruments in the nodes' process (time stamps only; no behaviour changes)


class Instruments:
    """When B's and C's federation inboxes fetched and applied each item, and when their
    catalogues committed it. Installed by wrapping methods on the running instances."""

    def __init__(self) -> None:
        self.fetched: dict[str, dict[str, float]] = defaultdict(dict)
        self.processed: dict[str, dict[str, float]] = defaultdict(dict)
        self.handle_start: dict[str, dict[str, float]] = defaultdict(dict)
        self.handle_end: dict[str, dict[str, float]] = defaultdict(dict)
        self.projected: dict[str, dict[str, float]] = defaultdict(dict)
        # Every message each node's federation inbox handled: (event type, fetched, done).
        self.inbox_log: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
        self.relinks: list[dict[str, Any]] = []

    def install(self, region: Any) -> None:
        for node in NODES:
            runtime = region[node].runtime("learning")
            inbox = next(i for i in runtime.inboxes if i.name == "learning-federation")
            self._wrap_inbox(node, inbox)
            self._wrap_handler(node, inbox.handler)
            if node in SUBSCRIBERS:
                self._wrap_catalogue(node, runtime.projections["catalogue"])

    def _wrap_inbox(self, node: str, inbox: Any) -> None:
        original = inbox._process

        async def process(raw: Any) -> None:
            fetched = time.time()
            event_type = raw.subject.rsplit(".", 1)[-1]
            item_id = item_id_of(raw.data) if event_type == "item_published" else None
            if item_id:
                self.fetched[node].setdefault(item_id, fetched)
            await original(raw)
            done = time.time()
            if item_id:
                self.processed[node].setdefault(item_id, done)
            self.inbox_log[node].append((event_type, fetched, done))

        inbox._process = process

    def _wrap_handler(self, node: str, handler: Any) -> None:
        original = handler.handle

        def handle(message: Any) -> bool:
            started = time.time()
            result = original(message)
            if message.event_type == "item_published" and message.payload is not None:
                item_id = message.payload.item.item_id
                self.handle_start[node].setdefault(item_id, started)
                self.handle_end[node].setdefault(item_id, time.time())
            return result

        handler.handle = handle

    def _wrap_catalogue(self, node: str, catalogue: Any) -> None:
        from services.learning.domain import ReceivedItem

        original = catalogue.process

        def process(batch: Sequence[tuple[Any, int]]) -> bool:
            result = original(batch)
            now = time.time()
            for domain_event, _ in batch:
                if isinstance(domain_event, ReceivedItem.Received):
                    self.projected[node].setdefault(domain_event.item_id, now)
            return result

        catalogue.process = process


def item_id_of(data: bytes) -> str | None:
    from copnet.integration.v1 import envelope_pb2
    from copnet.learning.v1 import learning_events_pb2 as events

    try:
        envelope = envelope_pb2.Envelope.FromString(data)
        snapshot = events.ItemSnapshot()
        if envelope.payload.Unpack(snapshot):
            return snapshot.item.item_id
    except Exception:  # not ours to judge: the inbox rejects what it cannot read
        return None
    return None


class LogCapture(logging.Handler):
    """Keeps the federation links' log lines (e.g. "re-linked federation sources")."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(
            {"time": record.created, "level": record.levelname, "message": record.getMessage()}
        )


# Reading what the run left behind


def store_times(app: Any, after: int, kind: type) -> tuple[dict[str, float], int]:
    """Item id -> timestamp of each event of `kind` after notification `after`."""
    found: dict[str, float] = {}
    position = after
    while True:
        batch = app.recorder.select_notifications(position, 500, inclusive_of_start=False)
        if not batch:
            return found, position
        for notification in batch:
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, kind):
                item_id = getattr(event, "item_id", None) or str(event.originator_id)
                found.setdefault(item_id, event.timestamp.timestamp())
        position = batch[-1].id


async def stream_times(url: str, stream: str, subject: str, after_seq: int) -> dict[str, float]:
    """Item id -> time each `item_published` message was stored in `stream`, after a sequence."""
    import nats
    import nats.errors
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    nc = await nats.connect(url, connect_timeout=5)
    found: dict[str, float] = {}
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        if info.state.last_seq <= after_seq:
            return found
        subscription = await js.pull_subscribe(
            subject,
            stream=stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.NONE,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=after_seq + 1,
                inactive_threshold=30,
            ),
        )
        while True:
            try:
                messages = await subscription.fetch(500, timeout=1.0)
            except nats.errors.TimeoutError:
                break
            for message in messages:
                item_id = item_id_of(message.data)
                if item_id:
                    found.setdefault(item_id, message.metadata.timestamp.timestamp())
            if messages and messages[-1].metadata.num_pending == 0:
                break
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
    finally:
        await nc.close()
    return found


async def last_sequences(region: Any) -> dict[str, int]:
    import nats

    from services.common.messaging import NodeIdentity

    sequences = {}
    for node in NODES:
        identity = NodeIdentity(node, region[node].settings.region)
        nc = await nats.connect(region[node].nats.url, connect_timeout=5)
        try:
            js = nc.jetstream()
            for stream in (
                identity.stream_name,
                identity.public_stream_name,
                identity.federation_stream_name,
            ):
                with contextlib.suppress(Exception):
                    sequences[stream] = (await js.stream_info(stream)).state.last_seq
        finally:
            await nc.close()
    return sequences


async def region_state(region: Any) -> dict[str, Any]:
    """What is still in flight: per node, relay and follower behind the log, inbox pending,
    federation sources' lag."""
    import nats

    from services.common.messaging import NodeIdentity

    state: dict[str, Any] = {}
    for node in NODES:
        runtime = region[node].runtime("learning")
        head = runtime.app.recorder.max_notification_id() or 0
        relay = runtime.relay.position if runtime.relay else head
        follower = runtime.follower("catalogue").position
        identity = NodeIdentity(node, region[node].settings.region)
        pending = lag = -1
        nc = await nats.connect(region[node].nats.url, connect_timeout=5)
        try:
            js = nc.jetstream(timeout=2)
            with contextlib.suppress(Exception):
                info = await js.consumer_info(
                    identity.federation_stream_name, "learning-federation"
                )
                pending = info.num_pending + info.num_ack_pending
            with contextlib.suppress(Exception):
                stream = await js.stream_info(identity.federation_stream_name)
                lag = sum(max(0, s.lag or 0) for s in stream.sources or [])
        finally:
            await nc.close()
        state[node] = {
            "relay_behind": head - relay,
            "catalogue_behind": head - follower,
            "inbox_pending": pending,
            "sources_lag": lag,
        }
    return state


def wait_region_quiet(region: Any, timeout: float) -> dict[str, Any]:
    """Waits until nothing is in flight anywhere (twice in a row, 0.5 s apart)."""
    began = time.monotonic()
    quiet_checks = 0
    state: dict[str, Any] = {}
    while time.monotonic() - began < timeout:
        state = asyncio.run(region_state(region))
        busy = any(any(v != 0 for v in s.values()) for s in state.values())
        quiet_checks = 0 if busy else quiet_checks + 1
        if quiet_checks >= 2:
            return {"quiet": True, "waited_s": round(time.monotonic() - began, 1)}
        time.sleep(0.5)
    return {"quiet": False, "waited_s": round(time.monotonic() - began, 1), "state": state}


# The run


@dataclasses.dataclass(frozen=True)
class Options:
    rates: tuple[float, ...]
    seconds: float
    raw_seconds: float
    catch_up_items: int
    outage_seconds: float
    store: str
    wait_quiet: float
    probe: bool
    drain_timeout: float
    postgres_dsn: str
    work_dir: Path | None
    output: Path | None


class Bench:
    def __init__(self, region: Any, options: Options, run_id: str) -> None:
        from services.common.messaging import NodeIdentity

        self.region = region
        self.options = options
        self.run_id = run_id
        self.region_name = region[ORIGIN].settings.region
        self.identities = {n: NodeIdentity(n, self.region_name) for n in NODES}
        self.instruments = Instruments()
        self.log_capture = LogCapture()
        self.community: Any = None
        self.payload_bytes = 1500

    @property
    def nats_pids(self) -> dict[str, int | None]:
        pids: dict[str, int | None] = {}
        hub = self.region.hub.server
        pids["hub"] = hub.process.pid if hub is not None and hub.process is not None else None
        for node in NODES:
            process = self.region[node].nats.process
            pids[node] = process.pid if process is not None else None
        return pids

    def learning_address(self, node: str) -> str:
        return f"127.0.0.1:{self.region[node].runtime('learning').port}"

    # Setting up

    def set_up(self) -> dict[str, Any]:
        from copnet.learning.v1 import learning_pb2 as lpb
        from tests.support.region import rid

        began = time.monotonic()
        federation_log = logging.getLogger("services.learning.federation")
        federation_log.setLevel(logging.INFO)
        federation_log.addHandler(self.log_capture)
        self.community = self.region.community(ORIGIN, "dip-cop")
        for node in SUBSCRIBERS:
            self.region[node].learning(
                "Subscribe", lpb.SubscribeRequest(request_id=rid(), node_id=ORIGIN)
            )
        self.instruments.install(self.region)
        # Warm up the whole path (and wait for the sources to link) with a few items.
        items = [self.region.publish(self.community, f"Warm-up item {i}") for i in range(3)]
        ids = {item.item_id for item in items}
        deadline = time.monotonic() + 120
        while not all(ids <= set(self.instruments.projected[n]) for n in SUBSCRIBERS):
            if time.monotonic() > deadline:
                raise TimeoutError("the warm-up items never reached every subscriber")
            time.sleep(0.1)
        quiet = wait_region_quiet(self.region, 60)
        self.payload_bytes = self._item_published_size()
        return {
            "seconds": round(time.monotonic() - began, 1),
            "quiet": quiet,
            "item_published_envelope_bytes": self.payload_bytes,
        }

    def _item_published_size(self) -> int:
        async def read() -> int:
            import nats

            nc = await nats.connect(self.region[ORIGIN].nats.url, connect_timeout=5)
            try:
                message = await nc.jetstream().get_msg(
                    self.identities[ORIGIN].stream_name,
                    subject=self.identities[ORIGIN].federated_subject("learning", "item_published"),
                )
                return len(message.data or b"")
            finally:
                await nc.close()

        return asyncio.run(read())

    def machine_before(self) -> dict[str, Any]:
        if self.options.wait_quiet > 0:
            return rb.settle(self.options.wait_quiet)
        return rb.busy_before_run(1.0)

    # Raw JetStream baseline

    def raw_phase(self, rate: float) -> dict[str, Any]:
        seconds = max(self.options.raw_seconds, MIN_ITEMS / rate)
        job = {
            "kind": "raw",
            "region": self.region_name,
            "urls": {node: self.region[node].nats.url for node in NODES},
            "rate": rate,
            "warmup": 1.0,
            "seconds": seconds,
            "payload_bytes": self.payload_bytes,
        }
        machine = self.machine_before()
        log.warning("raw JetStream baseline at %g/s for %g s", rate, seconds)
        meter: list[PhaseMeter] = []
        cpu: dict[str, Any] = {}
        result = run_job(
            job,
            lambda: meter.append(PhaseMeter(self.nats_pids)),
            lambda: cpu.update(meter[0].read() if meter else {}),
        )
        if cpu:
            client = result.pop("client_process_cores", None)
            cpu = {**cpu, "client_process_cores": client}
            if cpu.get("other_cores") is not None and client is not None:
                cpu["other_cores"] = round(cpu["other_cores"] - client, 3)
        result["cpu"] = cpu
        result["machine_before"] = machine
        result["rate"] = rate
        result["seconds"] = seconds
        return result

    # copnet: publishing on A through gRPC

    def propagation_phase(self, rate: float) -> dict[str, Any]:
        from services.learning.domain import LearningItem, ReceivedItem

        seconds = max(self.options.seconds, MIN_ITEMS / rate)
        quiet = wait_region_quiet(self.region, 120)
        sequences = asyncio.run(last_sequences(self.region))
        positions = {
            n: self.region[n].runtime("learning").app.recorder.max_notification_id() or 0
            for n in NODES
        }
        inbox_marks = {n: len(self.instruments.inbox_log[n]) for n in NODES}
        probes = (
            {
                node: (self.learning_address(node), self.region[node].operator)
                for node in SUBSCRIBERS
            }
            if self.options.probe
            else {}
        )
        job = {
            "kind": "publish",
            "target": self.learning_address(ORIGIN),
            "token": self.community.lead_token,
            "community_id": self.community.community_id,
            "rate": rate,
            "warmup": WARMUP_SECONDS,
            "seconds": seconds,
            "run": self.run_id,
            "label": f"r{rate:g}".replace(".", "p"),
            "probes": probes,
            "probe_max_per_s": 1.0,
        }
        machine = self.machine_before()
        log.warning("copnet propagation at %g items/s for %g s", rate, seconds)
        meter: list[PhaseMeter] = []
        cpu: dict[str, Any] = {}
        result = run_job(
            job,
            lambda: meter.append(PhaseMeter(self.nats_pids)),
            lambda: cpu.update(meter[0].read() if meter else {}),
        )
        client_finished = time.time()
        client = result.pop("client_process_cores", None)
        if cpu:
            cpu = {**cpu, "client_process_cores": client}
            if cpu.get("other_cores") is not None and client is not None:
                cpu["other_cores"] = round(cpu["other_cores"] - client, 3)
        records = result["records"]
        ids = {r["item_id"] for r in records if "item_id" in r}
        drained = self._drain(ids, self.options.drain_timeout)
        drain_state = None if drained else asyncio.run(region_state(self.region))

        origin_app = self.region[ORIGIN].runtime("learning").app
        published, _ = store_times(origin_app, positions[ORIGIN], LearningItem.Published)
        applied = {
            node: store_times(
                self.region[node].runtime("learning").app, positions[node], ReceivedItem.Received
            )[0]
            for node in SUBSCRIBERS
        }
        streams = self._stream_times(sequences)
        figures = self._figures(records, result["window"], published, applied, streams)
        figures.update(
            {
                "rate": rate,
                "seconds": seconds,
                "cpu": cpu,
                "machine_before": machine,
                "quiet_before": quiet,
                "drained": drained,
                "drain_state": drain_state,
                "drain_after_last_publish_s": self._drain_time(ids, client_finished),
                "inbox_messages": {
                    n: dict(
                        Counter(e for e, _, _ in self.instruments.inbox_log[n][inbox_marks[n] :])
                    )
                    for n in NODES
                },
                "inbox_busy_fraction": {
                    n: self._inbox_busy(n, inbox_marks[n], result["window"]) for n in NODES
                },
                "relay_puback_recent": summary(
                    list(self.region[ORIGIN].runtime("learning").relay.stats.recent_lags)[-200:]
                ),
            }
        )
        return figures

    def _drain(self, ids: set[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(ids <= set(self.instruments.projected[n]) for n in SUBSCRIBERS):
                return True
            time.sleep(0.1)
        return False

    def _drain_time(self, ids: set[str], finished: float) -> float | None:
        times = [self.instruments.projected[n].get(i) for n in SUBSCRIBERS for i in ids]
        if not times or any(t is None for t in times):
            return None
        return round(max(t for t in times if t is not None) - finished, 2)

    def _inbox_busy(self, node: str, mark: int, window: list[float]) -> float:
        """Share of the window the node's federation inbox spent processing messages."""
        low, high = window
        busy = sum(
            max(0.0, min(done, high) - max(fetched, low))
            for _, fetched, done in self.instruments.inbox_log[node][mark:]
        )
        return round(busy / (high - low), 3)

    def _stream_times(self, sequences: dict[str, int]) -> dict[str, dict[str, float]]:
        subject = self.identities[ORIGIN].federated_subject("learning", "item_published")

        async def read() -> dict[str, dict[str, float]]:
            origin = self.identities[ORIGIN]
            url = self.region[ORIGIN].nats.url
            found = {
                "node_stream": await stream_times(
                    url, origin.stream_name, subject, sequences.get(origin.stream_name, 0)
                ),
                "public_stream": await stream_times(
                    url,
                    origin.public_stream_name,
                    subject,
                    sequences.get(origin.public_stream_name, 0),
                ),
            }
            for node in SUBSCRIBERS:
                stream = self.identities[node].federation_stream_name
                found[f"federation:{node}"] = await stream_times(
                    self.region[node].nats.url, stream, subject, sequences.get(stream, 0)
                )
            return found

        return asyncio.run(read())

    def _figures(
        self,
        records: list[dict[str, Any]],
        window: list[float],
        published: dict[str, float],
        applied: dict[str, dict[str, float]],
        streams: dict[str, dict[str, float]],
    ) -> dict[str, Any]:
        counted = [r for r in records if r.get("counted") and r.get("item_id") in published]
        errors = Counter(r["error"] for r in records if "error" in r)
        low, high = window
        t0 = {r["item_id"]: published[r["item_id"]] for r in counted}
        in_window = sum(1 for t in t0.values() if low <= t < high)
        completed = [r["published_reply"] for r in counted]
        figures: dict[str, Any] = {
            "items": len(counted),
            "errors": dict(errors),
            "offered_per_s": round(len(counted) / (high - low), 2),
            "achieved_per_s": round(in_window / (high - low), 2),
            "completed_per_s": round(len(completed) / (max(completed) - low), 2)
            if completed
            else None,
            "publish_call": summary([r["published_reply"] - r["scheduled"] for r in counted]),
            "publish_start_to_published": summary(
                [t0[r["item_id"]] - r["scheduled"] for r in counted]
            ),
            "subscribers": {},
        }
        inst = self.instruments
        for node in SUBSCRIBERS:

            def lat(times: dict[str, float], node: str = node) -> list[float]:
                return [times[i] - t0[i] for i in t0 if i in times]

            ordered = sorted(t0, key=t0.get)
            projected_lat = [
                (t0[i], inst.projected[node][i] - t0[i])
                for i in ordered
                if i in inst.projected[node]
            ]
            probed = [
                r for r in counted if r.get("probes", {}).get(node, {}).get("found") is not None
            ]
            probes = [r["probes"][node] for r in counted if node in r.get("probes", {})]
            fed = streams.get(f"federation:{node}", {})
            hops = {
                "relay: published -> on A node stream": [
                    streams["node_stream"][i] - t0[i] for i in t0 if i in streams["node_stream"]
                ],
                "A node stream -> A public stream": [
                    streams["public_stream"][i] - streams["node_stream"][i]
                    for i in t0
                    if i in streams["public_stream"] and i in streams["node_stream"]
                ],
                "A public -> B federation stream (hub)": [
                    fed[i] - streams["public_stream"][i]
                    for i in t0
                    if i in fed and i in streams["public_stream"]
                ],
                "B stream -> fetched by inbox": [
                    inst.fetched[node][i] - fed[i]
                    for i in t0
                    if i in fed and i in inst.fetched[node]
                ],
                "fetched -> handler start": [
                    inst.handle_start[node][i] - inst.fetched[node][i]
                    for i in t0
                    if i in inst.handle_start[node] and i in inst.fetched[node]
                ],
                "handler start -> Received event": [
                    applied[node][i] - inst.handle_start[node][i]
                    for i in t0
                    if i in applied[node] and i in inst.handle_start[node]
                ],
                "Received event -> handler done": [
                    inst.handle_end[node][i] - applied[node][i]
                    for i in t0
                    if i in applied[node] and i in inst.handle_end[node]
                ],
                "handler done -> catalogue committed": [
                    inst.projected[node][i] - inst.handle_end[node][i]
                    for i in t0
                    if i in inst.projected[node] and i in inst.handle_end[node]
                ],
            }
            figures["subscribers"][node] = {
                "on_federation_stream": summary(lat(fed)),
                "applied": summary(lat(applied[node])),
                "searchable": summary(lat(inst.projected[node])),
                "grpc_search_found": summary(
                    [r["probes"][node]["found"] - t0[r["item_id"]] for r in probed]
                ),
                "grpc_found_minus_committed": summary(
                    [
                        r["probes"][node]["found"] - inst.projected[node][r["item_id"]]
                        for r in probed
                        if r["item_id"] in inst.projected[node]
                    ]
                ),
                "probes_not_found": len(probes) - len(probed),
                "probe_polls": sum(p["polls"] for p in probes),
                "missing": sum(1 for i in t0 if i not in inst.projected[node]),
                "lag_growth": lag_growth(projected_lat),
                "hops": {name: summary(values) for name, values in hops.items()},
            }
        return figures

    # Catch-up after a hub outage

    def catch_up_phase(self) -> dict[str, Any]:
        from services.learning.domain import LearningItem, ReceivedItem

        count = self.options.catch_up_items
        quiet = wait_region_quiet(self.region, 120)
        machine = self.machine_before()
        sequences = asyncio.run(last_sequences(self.region))
        positions = {
            n: self.region[n].runtime("learning").app.recorder.max_notification_id() or 0
            for n in NODES
        }
        log_mark = len(self.log_capture.records)
        log.warning("catch-up: hub down, %d items on %s", count, ORIGIN)
        hub = self.region.hub.server
        assert hub is not None
        down_at = time.time()
        hub.kill()
        job = {
            "kind": "burst",
            "target": self.learning_address(ORIGIN),
            "token": self.community.lead_token,
            "community_id": self.community.community_id,
            "count": count,
            "concurrency": 8,
            "run": self.run_id,
            "label": "cu",
        }
        burst = run_job(job, lambda: None, lambda: None)
        ids = {r["item_id"] for r in burst["records"] if "item_id" in r}
        origin = self.region[ORIGIN].runtime("learning")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            head = origin.app.recorder.max_notification_id() or 0
            if origin.relay is not None and origin.relay.position >= head:
                break
            time.sleep(0.1)
        relayed_at = time.time()
        time.sleep(max(0.0, down_at + self.options.outage_seconds - time.time()))
        early = {n: len(ids & set(self.instruments.handle_end[n])) for n in SUBSCRIBERS}
        restart_began = time.time()
        self.region.hub.start()
        restarted = time.time()
        meter = PhaseMeter(self.nats_pids)
        timeline = asyncio.run(self._watch_catch_up(ids, restarted))
        cpu = meter.read()
        published, _ = store_times(origin.app, positions[ORIGIN], LearningItem.Published)
        applied = {
            node: store_times(
                self.region[node].runtime("learning").app, positions[node], ReceivedItem.Received
            )[0]
            for node in SUBSCRIBERS
        }
        streams = self._stream_times(sequences)
        per_node = {}
        for node in SUBSCRIBERS:
            fed = [
                streams[f"federation:{node}"][i] for i in ids if i in streams[f"federation:{node}"]
            ]
            done = [applied[node][i] for i in ids if i in applied[node]]
            projected = [
                self.instruments.projected[node][i]
                for i in ids
                if i in self.instruments.projected[node]
            ]
            per_node[node] = catch_up_figures(len(ids), restarted, fed, done, projected)
        relinks = [
            {**r, "after_restart_s": round(r["time"] - restarted, 2)}
            for r in self.log_capture.records[log_mark:]
        ]
        return {
            "items": len(ids),
            "errors": dict(Counter(r["error"] for r in burst["records"] if "error" in r)),
            "machine_before": machine,
            "quiet_before": quiet,
            "publish_burst_s": round(burst["ended"] - burst["began"], 2),
            "publish_burst_per_s": round(len(ids) / max(1e-6, burst["ended"] - burst["began"]), 1),
            "published_on_a": sum(1 for i in ids if i in published),
            "relayed_after_down_s": round(relayed_at - down_at, 2),
            "outage_s": round(restart_began - down_at, 2),
            "hub_start_s": round(restarted - restart_began, 2),
            "applied_during_outage": early,
            "subscribers": per_node,
            "source_timeline": timeline,
            "federation_log": relinks,
            "nats_log": self._nats_log_lines(down_at),
            "cpu_after_restart": cpu,
        }

    async def _watch_catch_up(self, ids: set[str], restarted: float) -> list[dict[str, Any]]:
        """Samples the subscribers' federation sources until every item is applied."""
        import nats

        clients = {
            node: await nats.connect(self.region[node].nats.url, connect_timeout=5)
            for node in SUBSCRIBERS
        }
        timeline: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.options.drain_timeout
        try:
            while time.monotonic() < deadline:
                sample: dict[str, Any] = {"t": round(time.time() - restarted, 2)}
                for node, nc in clients.items():
                    applied = len(ids & set(self.instruments.projected[node]))
                    sources = []
                    with contextlib.suppress(Exception):
                        info = await nc.jetstream(timeout=1).stream_info(
                            self.identities[node].federation_stream_name
                        )
                        for s in info.sources or []:
                            if s.name.startswith(self.identities[ORIGIN].public_stream_name):
                                sources.append(
                                    {
                                        "active_ms": None
                                        if s.active is None
                                        else round(s.active / 1e6),
                                        "lag": s.lag,
                                        "error": bool(s.error),
                                    }
                                )
                    sample[node] = {"applied": applied, "public_source": sources}
                timeline.append(sample)
                if all(ids <= set(self.instruments.projected[n]) for n in SUBSCRIBERS):
                    break
                await asyncio.sleep(0.5)
        finally:
            for nc in clients.values():
                await nc.close()
        return timeline

    def _nats_log_lines(self, since: float) -> dict[str, list[str]]:
        """The subscribers' nats-server log lines about the leaf link and sources."""
        lines: dict[str, list[str]] = {}
        for node in SUBSCRIBERS:
            path = self.region[node].nats.log_file
            kept = []
            with contextlib.suppress(OSError):
                for line in path.read_text(errors="replace").splitlines():
                    parts = line.split(" ", 3)
                    if len(parts) < 4:
                        continue
                    with contextlib.suppress(ValueError):
                        # nats-server logs local time
                        at = datetime.strptime(f"{parts[1]} {parts[2]}", "%Y/%m/%d %H:%M:%S.%f")
                        lowered = line.lower()
                        if at.timestamp() >= since - 1 and (
                            "leafnode" in lowered or "source" in lowered
                        ):
                            kept.append(line)
            lines[node] = kept[:60]
        return lines


def lag_growth(points: list[tuple[float, float]]) -> dict[str, Any]:
    """How latency moved over the run: least-squares slope (ms per s) and first/last tenths."""
    if len(points) < 5:
        return {"slope_ms_per_s": None}
    xs = [p[0] - points[0][0] for p in points]
    ys = [p[1] for p in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    slope = (
        sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var if var else 0
    )
    tenth = max(1, len(points) // 10)
    return {
        "slope_ms_per_s": round(slope * 1000, 1),
        "first_tenth_median_ms": round(statistics.median(ys[:tenth]) * 1000, 1),
        "last_tenth_median_ms": round(statistics.median(ys[-tenth:]) * 1000, 1),
    }


def catch_up_figures(
    count: int, restarted: float, fed: list[float], done: list[float], projected: list[float]
) -> dict[str, Any]:
    def after(values: list[float], pick: Callable[[list[float]], float]) -> float | None:
        return round(pick(values) - restarted, 2) if values else None

    figures: dict[str, Any] = {
        "on_stream": len(fed),
        "applied": len(done),
        "searchable": len(projected),
        "first_on_stream_s": after(fed, min),
        "last_on_stream_s": after(fed, max),
        "first_applied_s": after(done, min),
        "last_applied_s": after(done, max),
        "last_searchable_s": after(projected, max),
    }
    if len(fed) > 1:
        figures["sourcing_per_s"] = round(len(fed) / max(1e-6, max(fed) - min(fed)), 1)
    if len(done) > 1:
        figures["catch_up_per_s"] = round(len(done) / max(1e-6, max(done) - min(done)), 1)
        figures["effective_per_s"] = round(len(done) / max(1e-6, max(done) - restarted), 1)
    figures["complete"] = len(projected) == count
    return figures


def run(options: Options, command_line: str) -> dict[str, Any]:
    from services.common.messaging import NodeIdentity
    from services.common.telemetry import configure_tracing

    # As every copnet process does: the SDK tracer provider, exporting nowhere. Installed
    # before tests.support is imported (tests/conftest.py would otherwise install one
    # that keeps every span in memory).
    configure_tracing("learning", NodeIdentity(ORIGIN, "bench"), env={})
    from tests.support.region import Region

    owned = options.work_dir is None
    work_dir = options.work_dir or Path(tempfile.mkdtemp(prefix="copnet-fedbench-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:6]
    pg_server = None
    region = None
    try:
        dsn, pg_version = "", None
        if options.store == "postgres":
            dsn, pg_server = rb.start_postgres(options.postgres_dsn, work_dir)
            pg_version = rb.postgres_version(dsn)
        machine = rb.machine_facts(pg_version)
        machine["busy_before_run"] = rb.busy_before_run()
        results: dict[str, Any] = {
            "command": command_line,
            "started_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "machine": machine,
            "options": {
                "rates": list(options.rates),
                "seconds": options.seconds,
                "raw_seconds": options.raw_seconds,
                "catch_up_items": options.catch_up_items,
                "outage_seconds": options.outage_seconds,
                "store": options.store,
                "wait_quiet": options.wait_quiet,
                "probe": options.probe,
                "work_dir_filesystem": rb.filesystem_of(work_dir),
                "postgres": (
                    None
                    if options.store != "postgres"
                    else "given DSN"
                    if options.postgres_dsn
                    else "embedded"
                ),
            },
            "targets": {"rate": TARGET_RATE, "p99_ms_max": TARGET_P99_MS},
            "phases": [],
        }
        began = time.monotonic()
        log.warning("starting the region (hub + 3 nodes)")
        region = Region(
            work_dir / "region", list(NODES), postgres_dsn=dsn, schema_prefix=f"fb_{run_id}_"
        )
        bench = Bench(region, options, run_id)
        results["set_up"] = bench.set_up()
        for rate in options.rates:
            raw = bench.raw_phase(rate)
            copnet = bench.propagation_phase(rate)
            copnet["raw"] = raw
            copnet["ratios"] = ratios(copnet, raw)
            results["phases"].append(copnet)
        if options.catch_up_items > 0:
            results["catch_up"] = bench.catch_up_phase()
        results["duration_s"] = round(time.monotonic() - began, 1)
        return results
    finally:
        if region is not None:
            region.close()
        if dsn and options.postgres_dsn:
            drop_schemas(dsn, f"fb_{run_id}_")
        if pg_server is not None:
            pg_server.cleanup()
        if owned:
            shutil.rmtree(work_dir, ignore_errors=True)


def drop_schemas(dsn: str, prefix: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            (prefix.replace("_", "\\_") + "%",),
        ).fetchall()
        for (schema,) in rows:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def ratios(copnet: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for node in SUBSCRIBERS:
        base = raw["latency"][f"cross_push:{node}"]
        mine = copnet["subscribers"][node]["searchable"]
        found[node] = {
            quantile: (
                round(mine[f"{quantile}_ms"] / base[f"{quantile}_ms"], 1)
                if mine[f"{quantile}_ms"] and base[f"{quantile}_ms"]
                else None
            )
            for quantile in ("p50", "p99")
        }
    return found


# Reporting


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def verdict(results: dict[str, Any]) -> str:
    phase = next((p for p in results["phases"] if p["rate"] == TARGET_RATE), None)
    if phase is None:
        return f"target not measured (no run at {TARGET_RATE:g} items/s)"
    parts = []
    for node in SUBSCRIBERS:
        p99 = phase["subscribers"][node]["searchable"]["p99_ms"]
        if p99 is None:
            parts.append(f"{node}: nothing arrived")
        else:
            parts.append(
                f"{node} p99 {p99:.0f} ms "
                + ("met" if p99 < TARGET_P99_MS else f"MISSED by {p99 - TARGET_P99_MS:.0f} ms")
            )
    return (
        f"published on A -> searchable on B/C at {TARGET_RATE:g} items/s "
        f"(target p99 < {TARGET_P99_MS:g} ms): " + "; ".join(parts)
    )


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    before = machine["busy_before_run"]
    options = results["options"]
    lines = [
        f"copnet learning federation benchmark: {machine['cpus']} CPUs ({machine['cpu_model']}), "
        f"Python {machine['python']}, store {options['store']}; hub + 3 nodes on loopback, "
        "one process for the nodes' services",
        f"machine before the run: {_fmt(before['busy_fraction'], 2)} busy, "
        f"load average {before['load_average_1m']}",
        "",
        f"{'rate':>5} {'measurement':44} {'node':9} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'x raw p50':>9} {'x raw p99':>9}",
    ]

    def row(rate: Any, label: str, node: str, s: dict[str, Any], ratio: Any = None) -> None:
        ratio = ratio or {}
        lines.append(
            f"{rate:>5} {label:44} {node:9} {s['count']:>5} {_fmt(s['p50_ms']):>8} "
            f"{_fmt(s['p99_ms']):>8} {_fmt(s['max_ms']):>8} "
            f"{_fmt(ratio.get('p50')):>9} {_fmt(ratio.get('p99')):>9}"
        )

    for phase in results["phases"]:
        rate = f"{phase['rate']:g}"
        raw = phase["raw"]["latency"]
        row(rate, "raw JetStream: same server (A node stream)", ORIGIN, raw["same_server"])
        row(rate, "raw JetStream: A public stream (sourced)", ORIGIN, raw["origin_public"])
        for node in SUBSCRIBERS:
            row(rate, "raw JetStream: A -> hub -> node, push", node, raw[f"cross_push:{node}"])
            row(
                rate,
                "raw JetStream: A -> hub -> node, inbox-style",
                node,
                raw[f"cross_inbox:{node}"],
            )
        for node in SUBSCRIBERS:
            s = phase["subscribers"][node]
            row(rate, "copnet: published -> on node's fed. stream", node, s["on_federation_stream"])
            row(rate, "copnet: published -> applied (Received)", node, s["applied"])
            row(
                rate,
                "copnet: published -> searchable (catalogue)",
                node,
                s["searchable"],
                phase["ratios"][node],
            )
            row(rate, "copnet: published -> found by gRPC (sampled)", node, s["grpc_search_found"])
        cpu = phase.get("cpu") or {}
        lines.append(
            f"{'':5} offered {phase['offered_per_s']}/s, achieved {phase['achieved_per_s']}/s "
            f"(published in the window), publish call p50/p99 "
            f"{_fmt(phase['publish_call']['p50_ms'])}/{_fmt(phase['publish_call']['p99_ms'])} ms; "
            f"errors {phase['errors'] or 'none'}; drained {phase['drained']} "
            f"({phase['drain_after_last_publish_s']} s after the client finished)"
        )
        growth = {n: phase["subscribers"][n]["lag_growth"] for n in SUBSCRIBERS}
        lines.append(
            f"{'':5} lag growth (ms per s of run): "
            + ", ".join(f"{n} {g.get('slope_ms_per_s')}" for n, g in growth.items())
            + "; inbox busy: "
            + ", ".join(f"{n} {v:.0%}" for n, v in phase["inbox_busy_fraction"].items())
        )
        lines.append(
            f"{'':5} cores: nodes' process {_fmt(cpu.get('nodes_process_cores'), 2)}, "
            f"nats-servers {_fmt(cpu.get('nats_servers_cores'), 2)}, client "
            f"{_fmt(cpu.get('client_process_cores'), 2)}, other {_fmt(cpu.get('other_cores'), 2)}; "
            f"machine before: {_fmt(phase['machine_before']['busy_fraction'], 2)} busy"
        )
        hops = phase["subscribers"][SUBSCRIBERS[0]]["hops"]
        lines.append(
            f"{'':5} hops to {SUBSCRIBERS[0]} (p50/p99 ms): "
            + "; ".join(f"{k} {_fmt(v['p50_ms'])}/{_fmt(v['p99_ms'])}" for k, v in hops.items())
        )
        lines.append("")
    catch_up = results.get("catch_up")
    if catch_up:
        lines.append(
            f"catch-up: {catch_up['items']} items published on A in "
            f"{catch_up['publish_burst_s']} s "
            f"with the hub down (outage {catch_up['outage_s']} s, hub start "
            f"{catch_up['hub_start_s']} s); from the hub's restart:"
        )
        for node, f in catch_up["subscribers"].items():
            lines.append(
                f"  {node:9} first on stream {f['first_on_stream_s']} s, last on stream "
                f"{f['last_on_stream_s']} s, first applied {f['first_applied_s']} s, last applied "
                f"{f['last_applied_s']} s; sourcing {f.get('sourcing_per_s')}/s, catch-up "
                f"{f.get('catch_up_per_s')} items/s, effective {f.get('effective_per_s')} items/s"
                f"{'' if f['complete'] else ' INCOMPLETE'}"
            )
        for record in catch_up["federation_log"]:
            lines.append(f"  log +{record['after_restart_s']} s: {record['message']}")
        lines.append("")
    lines.append(verdict(results))
    lines.append(f"took {results['duration_s']} s")
    return "\n".join(lines)


def parse_options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description="Learning federation: cross-node propagation latency and catch-up."
    )
    parser.add_argument("--rates", type=rb.parse_rates, default=(1.0, 10.0, 100.0))
    parser.add_argument(
        "--seconds", type=float, default=15.0, help=f"per rate (at least {MIN_ITEMS} items)"
    )
    parser.add_argument("--raw-seconds", type=float, default=10.0, help="raw baseline per rate")
    parser.add_argument("--catch-up-items", type=int, default=300)
    parser.add_argument("--outage-seconds", type=float, default=10.0)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each phase, wait up to this many seconds for the machine to be "
        f"quiet (at most {QUIET_BUSY_FRACTION:.0%} busy)",
    )
    parser.add_argument("--no-probe", action="store_true", help="no gRPC search probes")
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    parser.add_argument(
        "--postgres-dsn",
        default=os.environ.get("COPNET_BENCH_POSTGRES_DSN", ""),
        help="PostgreSQL to use with --store postgres (default: an embedded server)",
    )
    parser.add_argument("--work-dir", type=Path, help="where stores go (default: a temp dir)")
    parser.add_argument("--output", type=Path, help="JSON file (default: bench/results/...)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.catch_up_items < 0 or args.raw_seconds <= 0:
        parser.error("--seconds and --raw-seconds must be positive, --catch-up-items >= 0")
    return Options(
        rates=args.rates,
        seconds=args.seconds,
        raw_seconds=args.raw_seconds,
        catch_up_items=args.catch_up_items,
        outage_seconds=args.outage_seconds,
        store=args.store,
        wait_quiet=args.wait_quiet,
        probe=not args.no_probe,
        drain_timeout=args.drain_timeout,
        postgres_dsn=args.postgres_dsn,
        work_dir=args.work_dir,
        output=args.output,
    )


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    options = parse_options(argv)
    command_line = " ".join(
        ["python", "bench/learning_federation_bench.py", *(sys.argv[1:] if argv is None else argv)]
    )
    results = run(options, command_line)
    print(render(results))
    output = options.output or RESULTS_DIR / (
        f"learning-federation-{options.store}-{datetime.now(tz=UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {output}")


if __name__ == "__main__":
    main()
