"""gRPC calls per second with and without TLS: the price of encrypting the APIs.

    .venv/bin/python -m bench.grpc_tls_bench [--seconds 5] [--warmup 1] [--clients 4]
        [--concurrency 8] [--rounds 3] [--call get|health] [--tiny]

One node's registry (one SQLite store) served three ways at once, each by a
`ServiceRuntime(DEFINITION, roles=("api",))` in this process on its own loopback
port: plain gRPC, TLS (a P-256 server certificate from a CA made for the run),
and mutual TLS (the clients show a certificate from the same CA). The call is the
same on each: `GetOrganisation` of one organisation, as the operator (a cheap read:
the token check, the interceptor, one aggregate read from the store), or with
`--call health` the health check (no token, no store). `--clients` client
processes (so the clients do not share the server's GIL), each one `grpc.aio`
channel (one connection: the TLS handshake happens once, the measure is the
steady state) with `--concurrency` calls in flight, run for `--warmup` seconds
uncounted, then `--seconds` counted. Transports are measured in turn, `--rounds`
times, interleaved; the median per transport is reported with the ratios TLS /
plain and mutual TLS / plain, and the machine's load (os.getloadavg) before and
after. Results are printed, and written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

TRANSPORTS = ("plain", "tls", "mutual-tls")


@dataclass(frozen=True)
class Options:
    seconds: float = 5.0
    warmup: float = 1.0
    clients: int = 4
    concurrency: int = 8
    rounds: int = 3
    call: str = "get"
    work_dir: Path | None = None


def client_main(job: dict[str, Any], results: Any) -> None:
    """One client process: `concurrency` calls in flight on one channel, until the end."""
    try:
        results.put(asyncio.run(_closed_loop(job)))
    except Exception as error:  # reported to the parent, which raises
        results.put({"error": f"{type(error).__name__}: {error}"})


async def _closed_loop(job: dict[str, Any]) -> dict[str, Any]:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from copnet.registry.v1 import registry_pb2 as pb
    from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
    from services.common.channels import ChannelSecurity, open_aio_channel

    security = ChannelSecurity.from_json(job["security"])
    metadata = (("authorization", f"Bearer {job['token']}"),)
    async with open_aio_channel(job["target"], security) as channel:
        await asyncio.wait_for(channel.channel_ready(), 10)
        if job["call"] == "health":
            health = health_pb2_grpc.HealthStub(channel)
            request: Any = health_pb2.HealthCheckRequest(service="")

            async def call() -> Any:
                return await health.Check(request, timeout=10)  # type: ignore[attr-defined]
        else:
            registry = pb_grpc.RegistryServiceStub(channel)
            request = pb.GetOrganisationRequest(organisation_id=job["organisation_id"])

            async def call() -> Any:
                return await registry.GetOrganisation(request, metadata=metadata, timeout=10)

        start = job["start_at"]
        end = start + job["seconds"]
        counted, failed = 0, 0

        async def worker() -> None:
            nonlocal counted, failed
            while True:
                began = time.time()
                if began >= end:
                    return
                try:
                    await call()
                except grpc.aio.AioRpcError:
                    failed += 1
                    continue
                if start <= time.time() < end:
                    counted += 1

        await asyncio.gather(*(worker() for _ in range(job["concurrency"])))
    return {"calls": counted, "errors": failed}


def measure(options: Options, job: dict[str, Any]) -> dict[str, Any]:
    """`options.clients` processes against one port; calls/s over the counted window."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 1.0 + options.warmup  # the processes' start-up, then the warm-up
    job = {**job, "start_at": start_at, "seconds": options.seconds}
    processes = [
        context.Process(target=client_main, args=(job, results), daemon=True)
        for _ in range(options.clients)
    ]
    for process in processes:
        process.start()
    try:
        answers = [results.get(timeout=options.warmup + options.seconds + 60) for _ in processes]
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
    failures = [a["error"] for a in answers if "error" in a]
    if failures:
        raise RuntimeError(f"a benchmark client failed: {failures[0]}")
    calls = sum(a["calls"] for a in answers)
    return {
        "calls_per_s": round(calls / options.seconds, 1),
        "errors": sum(a["errors"] for a in answers),
    }


def run(options: Options, note: str = "") -> dict[str, Any]:
    from copnet.registry.v1 import registry_pb2 as pb
    from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
    from services.common.channels import ChannelSecurity, open_channel
    from services.common.pki import RegionPki, Usage
    from services.common.service import ServiceRuntime, ServiceThread
    from services.common.settings import NodeSettings
    from services.common.tokens import TokenAuthority
    from services.node import node_nats_server
    from services.registry.service import DEFINITION
    from tests.support.ports import free_port

    work = Path(options.work_dir or tempfile.mkdtemp(prefix="grpc-tls-bench-"))
    pki = RegionPki(work / "pki", common_name="bench CA")
    server = pki.issue("server", ["localhost", "127.0.0.1"], Usage.SERVER)
    client = pki.client_cert("bench-client", ["bench-client"])
    plain = NodeSettings(
        node_id="bench", region="bench", data_dir=work / "node", nats_port=free_port()
    )
    nats = node_nats_server(plain)  # the NATS link every service keeps (idle here)
    nats.start()
    plain = plain.with_overrides(nats_url=nats.url)
    settings = {
        "plain": plain,
        "tls": replace(plain, tls_cert=server.cert_file, tls_key=server.key_file),
        "mutual-tls": replace(
            plain, tls_cert=server.cert_file, tls_key=server.key_file, client_ca=pki.ca_file
        ),
    }
    security = {
        "plain": ChannelSecurity.plain(),
        "tls": ChannelSecurity(True, pki.ca_file),
        "mutual-tls": ChannelSecurity(True, pki.ca_file, client.cert_file, client.key_file),
    }
    authority = TokenAuthority.for_node("bench", work / "token-key.pem")
    token = authority.issue("operator")
    threads: dict[str, ServiceThread] = {}
    load_before = os.getloadavg()
    try:
        for transport in TRANSPORTS:

            def runtime(transport: str = transport) -> ServiceRuntime:
                return ServiceRuntime(
                    DEFINITION,
                    settings[transport],
                    roles=("api",),
                    address="127.0.0.1:0",
                    authority=authority,
                )

            threads[transport] = ServiceThread(runtime)
            threads[transport].start()
        ports = {t: thread.runtime.port for t, thread in threads.items() if thread.runtime}
        with open_channel(f"127.0.0.1:{ports['tls']}", security["tls"]) as channel:
            organisation = (
                pb_grpc.RegistryServiceStub(channel)
                .CreateOrganisation(
                    pb.CreateOrganisationRequest(
                        request_id=str(uuid.uuid4()),
                        name="Bench NHS Trust",
                        kind=pb.ORGANISATION_KIND_NHS_TRUST,
                        region="london",
                    ),
                    metadata=[("authorization", f"Bearer {token}")],
                    timeout=10,
                )
                .organisation.organisation_id
            )
        rounds: dict[str, list[dict[str, Any]]] = {t: [] for t in TRANSPORTS}
        for _ in range(options.rounds):
            for transport in TRANSPORTS:
                job = {
                    "target": f"127.0.0.1:{ports[transport]}",
                    "security": security[transport].as_json(),
                    "token": token,
                    "organisation_id": organisation,
                    "call": options.call,
                    "concurrency": options.concurrency,
                }
                rounds[transport].append(measure(options, job))
    finally:
        for thread in threads.values():
            thread.stop()
        nats.stop()
    median = {t: statistics.median(r["calls_per_s"] for r in rounds[t]) for t in TRANSPORTS}
    return {
        "note": note,
        "call": "GetOrganisation" if options.call == "get" else "grpc.health.v1.Health/Check",
        "clients": options.clients,
        "concurrency": options.concurrency,
        "seconds": options.seconds,
        "rounds": rounds,
        "calls_per_s": median,
        "ratio_tls_to_plain": round(median["tls"] / median["plain"], 3) if median["plain"] else 0,
        "ratio_mutual_tls_to_plain": (
            round(median["mutual-tls"] / median["plain"], 3) if median["plain"] else 0
        ),
        "errors": sum(r["errors"] for t in TRANSPORTS for r in rounds[t]),
        "machine": {
            "cpus": os.cpu_count(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0],
        },
    }


def render(results: dict[str, Any]) -> str:
    rates = results["calls_per_s"]
    machine = results["machine"]
    lines = [
        f"gRPC {results['call']}: {results['clients']} client processes x "
        f"{results['concurrency']} in flight, {results['seconds']}s per measure, "
        f"median of {len(results['rounds']['plain'])} rounds",
    ]
    for transport in TRANSPORTS:
        each = ", ".join(f"{r['calls_per_s']:.0f}" for r in results["rounds"][transport])
        lines.append(f"  {transport:<11} {rates[transport]:>9.0f} calls/s  (rounds: {each})")
    lines += [
        f"  TLS / plain: {results['ratio_tls_to_plain']:.2f}; "
        f"mutual TLS / plain: {results['ratio_mutual_tls_to_plain']:.2f}; "
        f"errors: {results['errors']}",
        f"  machine: {machine['cpus']} CPUs, load average {machine['load_before']} before, "
        f"{machine['load_after']} after",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--call", choices=["get", "health"], default="get")
    parser.add_argument("--tiny", action="store_true", help="a smoke run (a second in all)")
    parser.add_argument("--note", default="")
    args = parser.parse_args(argv)
    options = Options(
        args.seconds, args.warmup, args.clients, args.concurrency, args.rounds, args.call
    )
    if args.tiny:
        options = replace(options, seconds=0.3, warmup=0.1, clients=1, concurrency=2, rounds=1)
    results = run(options, args.note)
    print(render(results))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"grpc_tls_{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
