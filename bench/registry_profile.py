"""Where the time of a registry gRPC command goes: stage timings and a sampled profile.

    .venv/bin/python bench/registry_profile.py [--store postgres|sqlite]
        [--seconds N] [--concurrency N] [--relay-rates 100,200,300]
        [--postgres-dsn DSN] [--no-py-spy] [--no-native]

A companion of registry_bench.py (same stores, same client process, same
`ServiceRuntime(DEFINITION, roles=("api",))`), for explaining its figures.

1. Stage timings. The registry servicer and the application are wrapped, on
   their instances in this process only (no production code changes), to time
   each CreateOrganisation: the handler as a whole; from handler entry to the
   application code starting on a worker thread (validation, request
   fingerprint, `asyncio.to_thread` hand-off and the wait for a free thread);
   the receipt lookup (`_find`, a `select_events`); the save, split into the
   recorder's `insert_events` (the write transaction: on PostgreSQL
   `LOCK TABLE ... IN EXCLUSIVE MODE`, NOTIFY, INSERT, commit) and the rest
   (collecting and encoding the events, waking followers); the hop back to the
   event loop and the answer. Token verification in the interceptor is timed
   too. Once with one call in flight (the cost of one command), once with
   `--concurrency` (where queueing adds up).
2. A sampled profile of the server process under the concurrent load, taken
   with py-spy (`--gil`: only the thread holding the GIL is sampled, which is
   what bounds a CPU-bound Python process), and the same for the raw
   `Application.save` baseline. Samples are grouped by what the code was doing
   (innermost matching frame) and turned into milliseconds of GIL time per
   operation with the process's CPU time per operation. Needs py-spy
   (`pip install py-spy`) and permission to ptrace this process. On
   PostgreSQL, pg_stat_activity is sampled over the same windows: are the
   backends queueing for the events table's lock, flushing the WAL, or idle,
   waiting for the Python process?
3. The relay at a few open-loop rates (registry_bench.py's lag measurement,
   with the relay's methods wrapped on its instance): how long each publish
   waits for its PubAck, how many events a batch carries, how long a batch
   takes, and the share of the time the relay is busy. The relay awaits each
   PubAck before the next publish, so that share says how close the rate is to
   the relay's ceiling.

Results go to bench/results/ as JSON, with py-spy's collapsed stacks beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import dataclasses
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import registry_bench as bench

log = logging.getLogger("registry_profile")

# What the server was doing: the first of these whose marker is in a frame, from the leaf up
# (py-spy runs with --full-filenames, and --native for C frames).
ACTIVITIES: list[tuple[str, tuple[str, ...]]] = [
    ("token verification (JWT, Ed25519)", ("TokenAuthority.verify", "/jwt/")),
    ("write transaction (insert_events)", ("insert_events",)),
    ("receipt lookup (select_events)", ("select_events", "CopnetApplication._find")),
    (
        "directory projection (follower thread)",
        ("ProjectionFollower", "services/common/projection.py", "services/registry/views/"),
    ),
    ("tracing (OpenTelemetry)", ("/opentelemetry/",)),
    ("event encoding (mapper, JSON)", ("to_stored_event", "eventsourcing/persistence.py")),
    (
        "domain: new aggregates and their events",
        (
            "eventsourcing/domain.py",
            "services/registry/domain/",
            "services/common/aggregate.py",
            "services/common/idempotency.py",
        ),
    ),
    (
        "application: execute, save (rest)",
        (
            "services/common/application.py",
            "services/registry/application/",
            "eventsourcing/application.py",
        ),
    ),
    (
        "servicer: validation, fingerprint, answer",
        ("services/registry/grpc_api/", "services/common/servicer.py", "protoconv.py"),
    ),
    ("gRPC core (Cython and C: I/O, call state)", ("/grpc/_cython/",)),
    ("gRPC server, Python side, and interceptors", ("/grpc/", "services/common/grpc_server.py")),
    (
        "thread hand-off (to_thread, executor)",
        ("concurrent/futures/", "asyncio/threads.py", "run_in_executor"),
    ),
    ("asyncio event loop (select, scheduling)", ("/asyncio/", "selectors.py")),
]
# Without --native, a sample whose leaf is the event loop's Handle._run is in C: on
# this loop, mostly grpc.aio's Cython core.
C_CALLBACK = "gRPC core (Cython and C: I/O, call state)"


def activity_of(stack: Sequence[str]) -> str:
    if stack and stack[-1].startswith("Handle._run "):
        return C_CALLBACK
    for frame in reversed(stack):
        for name, markers in ACTIVITIES:
            if any(marker in frame for marker in markers):
                return name
    return "other"


def read_py_spy_raw(path: Path) -> Counter[str]:
    """Collapsed stacks ("frame;frame;... count") -> samples per activity."""
    samples: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples[activity_of(stack.split(";"))] += int(count)
    return samples


def py_spy_binary() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Sampler:
    """py-spy recording this process for a while, in the background."""

    def __init__(
        self, binary: str, seconds: float, output: Path, native: bool, rate: int = 100
    ) -> None:
        self.output = output
        self.process = subprocess.Popen(
            [
                binary,
                "record",
                "--pid",
                str(os.getpid()),
                "--gil",
                "--full-filenames",
                *(["--native"] if native else []),
                "--rate",
                str(rate),
                "--duration",
                str(max(1, round(seconds))),
                "--format",
                "raw",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> Counter[str] | None:
        _, errors = self.process.communicate(timeout=60)
        if self.process.returncode != 0 or not self.output.exists():
            log.warning("py-spy failed: %s", errors.strip()[-500:])
            return None
        return read_py_spy_raw(self.output)


SamplerFactory = Callable[[float, Path], Sampler]


# Stage timings


_marks: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar(
    "bench_marks", default=None
)


class Stages:
    """Per-command stage durations, collected from wrappers on the service's objects."""

    def __init__(self) -> None:
        self.calls: list[dict[str, float]] = []
        self.verify: list[float] = []
        self.recording = False
        self._lock = threading.Lock()

    def add(self, marks: dict[str, float]) -> None:
        if self.recording:
            with self._lock:
                self.calls.append(marks)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.verify.clear()

    def summary(self) -> dict[str, dict[str, float | None]]:
        stages: dict[str, list[float]] = defaultdict(list)
        for m in self.calls:
            if "app_start" not in m or "handler_end" not in m:
                continue
            save = m.get("save", 0.0)
            insert = m.get("insert", 0.0)
            lookup = m.get("find", 0.0)
            app = m["app_end"] - m["app_start"]
            stages["handler, whole"].append(m["handler_end"] - m["handler_start"])
            stages["  entry -> worker thread runs the command"].append(
                m["app_start"] - m["handler_start"]
            )
            stages["  application command, whole"].append(app)
            stages["    receipt lookup (select_events)"].append(lookup)
            stages["    decide: new Organisation, receipt"].append(app - lookup - save)
            stages["    save: write transaction (insert_events)"].append(insert)
            stages["    save: collect, encode, notify"].append(save - insert)
            stages["  back on the event loop, answer"].append(m["handler_end"] - m["app_end"])
        stages["token verification (interceptor)"] = list(self.verify)
        return {
            name: {
                "mean_ms": round(sum(values) / len(values) * 1000, 3) if values else None,
                "p50_ms": _ms(bench.percentile(values, 50)),
                "p99_ms": _ms(bench.percentile(values, 99)),
            }
            for name, values in stages.items()
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 3)


def _timed(function: Callable[..., Any], key: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        marks = _marks.get()
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            if marks is not None:
                marks[key] = marks.get(key, 0.0) + time.perf_counter() - began

    return wrapper


def instrumented_definition(stages: Stages):
    """The registry's definition, with its servicer and application wrapped for timing."""
    from services.registry.service import DEFINITION

    def servicer(runtime: Any) -> Any:
        app = runtime.app
        create = app.create_organisation

        def create_organisation(*args: Any, **kwargs: Any) -> Any:
            marks = _marks.get()
            if marks is not None:
                marks["app_start"] = time.perf_counter()
            try:
                return create(*args, **kwargs)
            finally:
                if marks is not None:
                    marks["app_end"] = time.perf_counter()

        app.create_organisation = create_organisation
        app._find = _timed(app._find, "find")
        app.save = _timed(app.save, "save")
        app.recorder.insert_events = _timed(app.recorder.insert_events, "insert")
        verify = runtime.authority.verify

        def timed_verify(token: str) -> Any:
            began = time.perf_counter()
            try:
                return verify(token)
            finally:
                if stages.recording:
                    stages.verify.append(time.perf_counter() - began)

        runtime.authority.verify = timed_verify
        instance = DEFINITION.servicer(runtime)
        handler = instance.CreateOrganisation

        async def timed_handler(request: Any, context: Any) -> Any:
            marks = {"handler_start": time.perf_counter()}
            token = _marks.set(marks)
            try:
                return await handler(request, context)
            finally:
                marks["handler_end"] = time.perf_counter()
                _marks.reset(token)
                stages.add(marks)

        instance.CreateOrganisation = timed_handler
        return instance

    return dataclasses.replace(DEFINITION, servicer=servicer)


def start_instrumented(settings: Any, authority: Any, stages: Stages):
    from services.common.service import ServiceRuntime, ServiceThread

    definition = instrumented_definition(stages)
    thread = ServiceThread(
        lambda: ServiceRuntime(
            definition, settings, roles=("api",), address="127.0.0.1:0", authority=authority
        )
    )
    return thread, thread.start()


class PostgresWaits:
    """What PostgreSQL's client backends are doing, sampled from pg_stat_activity every 5 ms
    (every client backend of the database but the sampler's own: use a server of its own)."""

    def __init__(self, dsn: str, seconds: float) -> None:
        self.dsn = dsn
        self.seconds = seconds
        self.samples: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def group(state: str, wait_type: str, wait_event: str) -> str:
        if state == "idle":
            return "idle in the pool: waiting for the Python process"
        if state.startswith("idle in transaction"):
            return "in a transaction, waiting for the Python process"
        if wait_type == "Lock":
            return f"waiting for a lock ({wait_event})"
        if "WAL" in wait_event.upper():
            return "writing or flushing the WAL (commit)"
        return "executing (or other waits)"

    def _run(self) -> None:
        import psycopg

        deadline = time.monotonic() + self.seconds
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            own = connection.execute("SELECT pg_backend_pid()").fetchone()
            while time.monotonic() < deadline:
                rows = connection.execute(
                    "SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, '') "
                    "FROM pg_stat_activity WHERE backend_type = 'client backend' "
                    "AND datname = current_database() AND pid <> %s",
                    (own[0] if own else 0,),
                ).fetchall()
                for state, wait_type, wait_event in rows:
                    self.samples[self.group(state or "", wait_type, wait_event)] += 1
                time.sleep(0.005)

    def result(self) -> dict[str, float]:
        self._thread.join()
        total = sum(self.samples.values()) or 1
        return {name: round(count / total, 3) for name, count in self.samples.most_common()}


def profile_grpc(
    settings: Any,
    authority: Any,
    concurrency: int,
    warmup: float,
    seconds: float,
    spy: SamplerFactory | None,
    raw_file: Path,
) -> dict[str, Any]:
    stages = Stages()
    thread, runtime = start_instrumented(settings, authority, stages)
    meter: list[bench.CpuMeter] = []
    sampler: list[Sampler] = []
    waits: list[PostgresWaits] = []

    def measuring() -> None:
        stages.reset()
        stages.recording = True
        meter.append(bench.CpuMeter())
        if spy is not None:
            sampler.append(spy(seconds - 0.5, raw_file))
        if settings.postgres_dsn:
            waits.append(PostgresWaits(settings.postgres_dsn, seconds - 0.5))

    try:
        job = {
            "kind": "closed",
            "target": f"127.0.0.1:{runtime.port}",
            "token": authority.issue("operator"),
            "concurrency": concurrency,
            "warmup": warmup,
            "seconds": seconds,
        }
        result = bench.run_client(job, measuring)
        stages.recording = False
        result["cpu"] = {
            **(meter[0].read() if meter else {}),
            "client_process_cores": result.pop("client_process_cores"),
        }
        result["stages"] = stages.summary()
        result["profile"] = sampler[0].result() if sampler else None
        result["postgres_waits"] = waits[0].result() if waits else None
        return result
    finally:
        thread.stop()


def profile_raw(
    settings: Any,
    threads: int,
    warmup: float,
    seconds: float,
    spy: SamplerFactory | None,
    raw_file: Path,
) -> dict[str, Any]:
    sampler: list[Sampler] = []
    waits: list[PostgresWaits] = []

    def start_sampler() -> None:
        time.sleep(warmup)
        if spy is not None:
            sampler.append(spy(seconds - 0.5, raw_file))
        if settings.postgres_dsn:
            waits.append(PostgresWaits(settings.postgres_dsn, seconds - 0.5))

    timer = threading.Thread(target=start_sampler)
    timer.start()
    result = bench.measure_raw(settings, threads, warmup, seconds)
    timer.join()
    result["profile"] = sampler[0].result() if sampler else None
    result["postgres_waits"] = waits[0].result() if waits else None
    return result


_relay_batch: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar(
    "bench_relay_batch", default=None
)


class RelayProbe:
    """Times the relay's batches: reading the log, each publish (which waits for its PubAck),
    and recording the tracking position; the rest is hand-offs and the event loop."""

    PARTS = ("select", "publish", "track")

    def __init__(self, runtime: Any) -> None:
        relay = runtime.relay
        self.window_start: float | None = None
        self.batches: list[dict[str, float]] = []
        self.publishes: list[float] = []
        relay_batch, publish = relay._relay_batch, relay._publish

        async def timed_batch(js: Any) -> bool:
            parts = {"began": time.monotonic(), "before": relay.position, "published": 0}
            token = _relay_batch.set(parts)
            try:
                worked = await relay_batch(js)
            finally:
                _relay_batch.reset(token)
            if worked and self.window_start is not None:
                parts["total"] = time.monotonic() - parts["began"]
                parts["positions"] = relay.position - parts["before"]
                self.batches.append(parts)
            return worked

        async def timed_publish(js: Any, publication: Any, domain_event: Any) -> None:
            began = time.perf_counter()
            await publish(js, publication, domain_event)
            took = time.perf_counter() - began
            parts = _relay_batch.get()
            if parts is not None:
                parts["published"] += 1
                parts["publish"] = parts.get("publish", 0.0) + took
            if self.window_start is not None:
                self.publishes.append(took)

        def in_batch(function: Callable[..., Any], key: str) -> Callable[..., Any]:
            # Runs on a worker thread (to_thread copies the batch's context there); the
            # directory follower calls the same recorder outside any batch.
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                parts = _relay_batch.get()
                began = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    if parts is not None:
                        parts[key] = parts.get(key, 0.0) + time.perf_counter() - began

            return wrapper

        relay.app.recorder.select_notifications = in_batch(
            relay.app.recorder.select_notifications, "select"
        )
        relay.tracking.recorder.insert_tracking = in_batch(
            relay.tracking.recorder.insert_tracking, "track"
        )
        relay._relay_batch = timed_batch
        relay._publish = timed_publish

    def measuring(self) -> None:
        self.batches.clear()
        self.publishes.clear()
        self.window_start = time.monotonic()

    def result(self) -> dict[str, Any]:
        if not self.batches or self.window_start is None:
            return {}
        count = len(self.batches)
        start = self.window_start
        # Only the part of each batch inside the window counts towards the busy share.
        busy = sum(b["began"] + b["total"] - max(b["began"], start) for b in self.batches)
        span = max(b["began"] + b["total"] for b in self.batches) - start
        mean_ms = {
            part: round(sum(b.get(part, 0.0) for b in self.batches) / count * 1000, 3)
            for part in self.PARTS
        }
        mean_ms["total"] = round(sum(b["total"] for b in self.batches) / count * 1000, 3)
        mean_ms["hand-offs, event loop, building messages"] = round(
            mean_ms["total"] - sum(mean_ms[part] for part in self.PARTS), 3
        )
        return {
            "publish_until_puback": bench.summary_ms(self.publishes),
            "batches": count,
            "positions_per_batch_mean": round(sum(b["positions"] for b in self.batches) / count, 2),
            "published_per_batch_mean": round(sum(b["published"] for b in self.batches) / count, 2),
            "published_per_batch_max": max(b["published"] for b in self.batches),
            "batch_duration": bench.summary_ms([b["total"] for b in self.batches]),
            "batch_mean_ms": mean_ms,
            "relay_busy_fraction": round(busy / span, 3),
        }


def per_operation(result: dict[str, Any]) -> dict[str, Any] | None:
    """Profile samples as shares, and as ms of server CPU per operation."""
    samples: Counter[str] | None = result.get("profile")
    if not samples:
        return None
    total = sum(samples.values())
    cpu_ms = result["cpu"]["server_process_cores"] / result["ops_per_s"] * 1000
    return {
        "samples": total,
        "server_cpu_ms_per_op": round(cpu_ms, 3),
        "activities": {
            name: {
                "share": round(count / total, 3),
                "cpu_ms_per_op": round(count / total * cpu_ms, 3),
            }
            for name, count in samples.most_common()
        },
    }


def render(results: dict[str, Any]) -> str:
    lines = [f"registry profile on {results['store']} ({results['machine']['cpus']} CPUs)", ""]
    for label, run in results["grpc"].items():
        lines.append(
            f"gRPC CreateOrganisation, {label}: {run['ops_per_s']} commands/s, client p50 "
            f"{run['latency']['p50_ms']} ms; CPU: server process "
            f"{run['cpu']['server_process_cores']} cores, client process "
            f"{run['cpu']['client_process_cores']} cores, machine "
            f"{run['cpu']['machine_busy_fraction']} busy"
        )
        lines.append(f"  {'stage':50} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for name, figures in run["stages"].items():
            lines.append(
                f"  {name:50} {bench._fmt(figures['mean_ms'], 3):>8} "
                f"{bench._fmt(figures['p50_ms'], 3):>8} {bench._fmt(figures['p99_ms'], 3):>8}"
            )
        lines.append("")
    for label, breakdown in results["profiles"].items():
        if breakdown is None:
            lines.append(f"{label}: no py-spy profile")
            continue
        lines.append(
            f"{label}: {breakdown['server_cpu_ms_per_op']} ms of server-process CPU per "
            f"operation; py-spy --gil samples: {breakdown['samples']}"
        )
        for name, figures in breakdown["activities"].items():
            lines.append(
                f"  {name:50} {figures['share'] * 100:5.1f}%  {figures['cpu_ms_per_op']:7.3f} ms/op"
            )
        lines.append("")
    for label, waits in results.get("postgres_waits", {}).items():
        if not waits:
            continue
        lines.append(f"PostgreSQL client backends during {label} (share of samples):")
        for name, share in waits.items():
            lines.append(f"  {name:50} {share * 100:5.1f}%")
        lines.append("")
    for run in results.get("relay", []):
        probe = run.get("probe") or {}
        puback = probe.get("publish_until_puback", {})
        batch = probe.get("batch_duration", {})
        lines.append(
            f"relay at {run['rate']:g} commands/s: on-stream lag p50 "
            f"{run['on_stream']['p50_ms']} ms, p99 {run['on_stream']['p99_ms']} ms; "
            f"server process {run['cpu'].get('server_process_cores')} cores"
        )
        if probe:
            lines.append(
                f"  each publish until its PubAck: p50 {puback['p50_ms']} ms, p99 "
                f"{puback['p99_ms']} ms; batches: {probe['batches']}, "
                f"{probe['published_per_batch_mean']} published each (max "
                f"{probe['published_per_batch_max']}), p50 {batch['p50_ms']} ms, p99 "
                f"{batch['p99_ms']} ms; relay busy {probe['relay_busy_fraction'] * 100:.0f}% "
                "of the time"
            )
            lines.append(
                "  a batch on average (ms): "
                + ", ".join(f"{part} {ms}" for part, ms in probe["batch_mean_ms"].items())
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description="Where a registry gRPC command's time goes.")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres-dsn", default=os.environ.get("COPNET_BENCH_POSTGRES_DSN", ""))
    parser.add_argument(
        "--relay-rates",
        type=bench.parse_rates,
        default=(100.0, 200.0, 300.0),
        help="open-loop rates at which to time the relay (commands/s)",
    )
    parser.add_argument("--relay-seconds", type=float, default=8.0)
    parser.add_argument("--no-py-spy", action="store_true", help="stage timings only")
    parser.add_argument("--no-native", action="store_true", help="py-spy without C frames")
    parser.add_argument(
        "--output", type=Path, help="JSON file (default: bench/results/...); py-spy's stacks beside"
    )
    args = parser.parse_args(argv)
    output = args.output or bench.RESULTS_DIR / (
        f"registry-profile-{args.store}-{datetime.now(tz=UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)

    from services.common.messaging import NodeIdentity
    from services.common.telemetry import configure_tracing
    from services.common.tokens import TokenAuthority

    configure_tracing("registry", NodeIdentity(bench.NODE_ID, bench.REGION), env={})
    binary = None if args.no_py_spy else py_spy_binary()
    if not args.no_py_spy and binary is None:
        log.warning("py-spy not found (pip install py-spy): stage timings only")
    spy: SamplerFactory | None = None
    if binary is not None:
        spy = partial(Sampler, binary, native=not args.no_native)
    work_dir = Path(tempfile.mkdtemp(prefix="copnet-profile-"))
    pg_server = None
    try:
        dsn = ""
        if args.store == "postgres":
            dsn, pg_server = bench.start_postgres(args.postgres_dsn, work_dir)
        stores = bench.Stores(args.store, work_dir, dsn)
        authority = TokenAuthority.for_node(bench.NODE_ID, work_dir / "keys" / "signing.pem")
        grpc_runs = {}
        try:
            for concurrency in sorted({1, args.concurrency}):
                label = f"{concurrency} in flight"
                log.warning("gRPC, %s", label)
                grpc_runs[label] = profile_grpc(
                    stores.fresh(f"grpc{concurrency}"),
                    authority,
                    concurrency,
                    args.warmup,
                    args.seconds,
                    spy if concurrency == args.concurrency else None,
                    output.with_suffix(".grpc.stacks"),
                )
            log.warning("raw Application.save, %d threads", args.concurrency)
            raw = profile_raw(
                stores.fresh("raw"),
                args.concurrency,
                args.warmup,
                args.seconds,
                spy,
                output.with_suffix(".raw-save.stacks"),
            )
            relay_runs = []
            for rate in args.relay_rates:
                log.warning("relay at %g commands/s", rate)
                relay_runs.append(
                    bench.measure_lag(
                        stores.fresh(f"relay{rate:g}"),
                        authority,
                        work_dir,
                        rate,
                        1.0,
                        args.relay_seconds,
                        probe=RelayProbe,
                    )
                )
        finally:
            stores.close()
        top = grpc_runs[f"{args.concurrency} in flight"]
        results = {
            "store": args.store,
            "started_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "machine": bench.machine_facts(bench.postgres_version(dsn) if dsn else None),
            "grpc": {
                label: {k: v for k, v in run.items() if k != "profile"}
                for label, run in grpc_runs.items()
            },
            "raw": {k: v for k, v in raw.items() if k != "profile"},
            "relay": relay_runs,
            "postgres_waits": {
                f"copnet gRPC, {args.concurrency} in flight": top.get("postgres_waits"),
                f"raw Application.save, {args.concurrency} threads": raw.get("postgres_waits"),
            },
            "profiles": {
                f"copnet gRPC, {args.concurrency} in flight": per_operation(top),
                f"raw Application.save, {args.concurrency} threads": per_operation(raw),
            },
        }
    finally:
        if pg_server is not None:
            pg_server.cleanup()
        shutil.rmtree(work_dir, ignore_errors=True)
    print(render(results))
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {output}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
