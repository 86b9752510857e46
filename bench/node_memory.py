"""A node at rest: memory per process, and the time from `copnet up` to every service SERVING.

    .venv/bin/python -m bench.node_memory [--runs 3] [--settle 10] [--imports]

Each run starts `copnet up` as an operator does (`python -m services.cli up`, SQLite, on a
temporary data directory and free loopback ports), then measures:

- start-up: seconds from the launch to every service answering SERVING on its gRPC
  health (the readiness of its API), and to the report page answering HTTP;
- at rest: `settle` seconds later, each process of the tree (the supervisor, nats-server,
  the four services, the report child): RSS, USS (the memory only it holds; what the
  machine gets back if it exits) and PSS, from psutil; the totals; the CPU each used
  while at rest.

The machine's load (`os.getloadavg()`) is recorded before and after each run. With
`--imports`, it also runs each process's entry under `python -X importtime` and lists the
packages that cost the most to import (cumulative microseconds, and the module count).

Results are printed and written to bench/results/node-memory-<time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

SERVICES = ("registry", "events", "learning", "notify")
WEB_PORTS = 2  # notify's and the events service's web pages follow the gRPC ports
RESULTS = Path(__file__).parent / "results"

# What each process runs first: the code it imports before serving.
ENTRIES = {
    "supervisor": "import services.cli, services.node; services.cli.build_parser()",
    **{name: f"import services.common.process, services.{name}.service" for name in SERVICES},
    "report": "import services.report.serve",
}


def free_port_block(size: int) -> int:
    """The first of `size` consecutive free loopback ports."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + size >= 65535:
            continue
        held = []
        try:
            for port in range(first, first + size):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError("no block of free ports")


def serving(address: str, service: str) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    api = f"copnet.{service}.v1.{service.capitalize()}Service"
    with grpc.insecure_channel(address) as channel:
        try:
            check = health_pb2_grpc.HealthStub(channel).Check  # type: ignore[attr-defined]
            reply = check(health_pb2.HealthCheckRequest(service=api), timeout=0.5)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def page_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5):
            return True
    except urllib.error.HTTPError:
        return True  # 401 without a token: it answers
    except OSError:
        return False


def process_name(process: psutil.Process) -> str:
    words = process.cmdline()
    if words and Path(words[0]).name == "nats-server":
        return "nats-server"
    if "-m" in words:
        module = words[words.index("-m") + 1]
        return "supervisor" if module == "services.cli" else module.removeprefix("services.")
    return Path(words[0]).name if words else "?"


def snapshot(root: psutil.Process) -> dict[str, dict[str, float]]:
    """RSS, USS and PSS (MB) and CPU seconds of every process of the tree, by name."""
    found = {}
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            memory = process.memory_full_info()
            cpu = process.cpu_times()
            found[process_name(process)] = {
                "pid": process.pid,
                "rss_mb": memory.rss / 1e6,
                "uss_mb": memory.uss / 1e6,
                "pss_mb": memory.pss / 1e6,
                "threads": process.num_threads(),
                "cpu_s": cpu.user + cpu.system,
            }
    return found


def one_run(settle: float, timeout: float, checkout: Path | None = None) -> dict[str, Any]:
    load_before = os.getloadavg()
    data = Path(tempfile.mkdtemp(prefix="copnet-mem-"))
    grpc_port = free_port_block(len(SERVICES) + WEB_PORTS + 1)
    metrics_port = free_port_block(len(SERVICES))
    nats_port = free_port_block(1)
    command = [
        sys.executable,
        "-m",
        "services.cli",
        "up",
        "--data-dir",
        str(data / "node"),
        "--node-id",
        "guys",
        "--region",
        "sel",
        "--nats-port",
        str(nats_port),
        "--grpc-port-base",
        str(grpc_port),
        "--metrics-port-base",
        str(metrics_port),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
    log = data / "up.log"
    addresses = {name: f"127.0.0.1:{grpc_port + i}" for i, name in enumerate(SERVICES)}
    report = f"http://127.0.0.1:{grpc_port + len(SERVICES) + WEB_PORTS}/"
    started = time.monotonic()
    with log.open("wb") as out:
        up = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=checkout or None
        )
    try:
        waiting = set(SERVICES)
        ready: dict[str, float] = {}
        while waiting or "report" not in ready:
            if time.monotonic() - started > timeout or up.poll() is not None:
                raise RuntimeError(f"the node did not start:\n{log.read_text()[-3000:]}")
            for name in sorted(waiting):
                if serving(addresses[name], name):
                    ready[name] = time.monotonic() - started
                    waiting.discard(name)
            if not waiting and "report" not in ready and page_answers(report):
                ready["report"] = time.monotonic() - started
            time.sleep(0.05)
        all_serving = max(ready[name] for name in SERVICES)
        root = psutil.Process(up.pid)
        at_ready = snapshot(root)
        time.sleep(settle)
        at_rest = snapshot(root)
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(60)
        except subprocess.TimeoutExpired:
            up.kill()
        shutil.rmtree(data, ignore_errors=True)
    for name, figures in at_rest.items():
        before = at_ready.get(name, {}).get("cpu_s", figures["cpu_s"])
        figures["idle_cpu_pct"] = 100 * (figures["cpu_s"] - before) / settle
    return {
        "serving_s": {name: round(ready[name], 2) for name in SERVICES},
        "all_serving_s": round(all_serving, 2),
        "report_page_s": round(ready["report"], 2),
        "processes": at_rest,
        "total_rss_mb": sum(p["rss_mb"] for p in at_rest.values()),
        "total_uss_mb": sum(p["uss_mb"] for p in at_rest.values()),
        "total_pss_mb": sum(p["pss_mb"] for p in at_rest.values()),
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


def one_shared_run(settle: float, timeout: float) -> dict[str, Any]:
    """The prototype of one shared process for the four services (`bench.shared_services`)
    beside the node's own nats-server, as `copnet up` starts it; no report, no supervisor
    (their figures are the per-process runs')."""
    from services.common.keyring import ensure_keys, ensure_link_secrets
    from services.common.readiness import wait_all_serving
    from services.common.settings import NodeSettings
    from services.node import Node, claim_data_dir

    load_before = os.getloadavg()
    data = Path(tempfile.mkdtemp(prefix="copnet-mem-shared-"))
    grpc_port = free_port_block(len(SERVICES) + WEB_PORTS + 1)
    settings = NodeSettings(
        node_id="guys",
        region="sel",
        data_dir=data / "node",
        nats_port=free_port_block(1),
        grpc_port_base=grpc_port,
        metrics_port_base=0,
    )
    settings = settings.with_overrides(nats_url=f"nats://127.0.0.1:{settings.nats_port}")
    node = Node(settings)
    node.lock.acquire()
    claim_data_dir(settings)
    ensure_keys(settings.key_files)
    ensure_link_secrets(settings.key_files, settings.node_id)
    node.nats.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COPNET_")},
        **settings.to_env(),
        "COPNET_NATS_URL": node.nats.url,
    }
    log = data / "shared.log"
    started = time.monotonic()
    with log.open("wb") as out:
        shared = subprocess.Popen(
            [sys.executable, "-m", "bench.shared_services"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        targets = [
            (settings.address(name), f"copnet.{name}.v1.{name.capitalize()}Service")
            for name in SERVICES
        ]
        late = wait_all_serving(targets, timeout, {})
        if late is not None:
            raise RuntimeError(f"{late} did not serve:\n{log.read_text()[-3000:]}")
        all_serving = time.monotonic() - started
        figures = {"services (one process)": psutil.Process(shared.pid)}
        assert node.nats.process is not None
        figures["nats-server"] = psutil.Process(node.nats.process.pid)
        at_ready = {name: p.cpu_times() for name, p in figures.items()}
        time.sleep(settle)
        processes = {}
        for name, process in figures.items():
            memory, cpu = process.memory_full_info(), process.cpu_times()
            before = at_ready[name]
            processes[name] = {
                "pid": process.pid,
                "rss_mb": memory.rss / 1e6,
                "uss_mb": memory.uss / 1e6,
                "pss_mb": memory.pss / 1e6,
                "threads": process.num_threads(),
                "cpu_s": cpu.user + cpu.system,
                "idle_cpu_pct": 100
                * ((cpu.user + cpu.system) - (before.user + before.system))
                / settle,
            }
    finally:
        shared.send_signal(signal.SIGTERM)
        try:
            shared.wait(60)
        except subprocess.TimeoutExpired:
            shared.kill()
        node.nats.stop()
        node.lock.release()
        shutil.rmtree(data, ignore_errors=True)
    return {
        "serving_s": {},
        "all_serving_s": round(all_serving, 2),
        "report_page_s": 0.0,
        "processes": processes,
        "total_rss_mb": sum(p["rss_mb"] for p in processes.values()),
        "total_uss_mb": sum(p["uss_mb"] for p in processes.values()),
        "total_pss_mb": sum(p["pss_mb"] for p in processes.values()),
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")


def import_profile(code: str, top: int = 10, checkout: Path | None = None) -> dict[str, Any]:
    """`python -X importtime -c code`: the modules it imports, its time, and the top-level
    packages that cost most (self time summed per package)."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GRPC_ENABLE_FORK_SUPPORT": "0"},
        cwd=checkout or None,
    )
    elapsed = time.monotonic() - started
    per_package: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    modules = 0
    for line in result.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        modules += 1
        package = match.group(4).split(".")[0]
        if package == "services":
            package = ".".join(match.group(4).split(".")[:3])
        per_package[package] += int(match.group(1))
        count[package] += 1
    heaviest = sorted(per_package.items(), key=lambda item: -item[1])[:top]
    return {
        "modules": modules,
        "seconds": round(elapsed, 3),
        "heaviest_ms": {name: round(us / 1000, 1) for name, us in heaviest},
        "heaviest_modules": {name: count[name] for name, _ in heaviest},
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    names = sorted({name for run in runs for name in run["processes"]})

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 1)

    return {
        "per_process": {
            name: {
                key: median(
                    [run["processes"][name][key] for run in runs if name in run["processes"]]
                )
                for key in ("rss_mb", "uss_mb", "pss_mb", "threads", "idle_cpu_pct")
            }
            for name in names
        },
        "total_rss_mb": median([run["total_rss_mb"] for run in runs]),
        "total_uss_mb": median([run["total_uss_mb"] for run in runs]),
        "total_pss_mb": median([run["total_pss_mb"] for run in runs]),
        "all_serving_s": median([run["all_serving_s"] for run in runs]),
        "report_page_s": median([run["report_page_s"] for run in runs]),
    }


def print_table(figures: dict[str, Any], runs: int) -> None:
    print(
        f"{'process':<12} {'RSS MB':>8} {'USS MB':>8} {'PSS MB':>8} {'threads':>8} {'idle CPU%':>9}"
    )
    for name, row in figures["per_process"].items():
        print(
            f"{name:<12} {row['rss_mb']:>8.1f} {row['uss_mb']:>8.1f} {row['pss_mb']:>8.1f} "
            f"{row['threads']:>8.0f} {row['idle_cpu_pct']:>9.1f}"
        )
    print(
        f"{'total':<12} {figures['total_rss_mb']:>8.1f} {figures['total_uss_mb']:>8.1f} "
        f"{figures['total_pss_mb']:>8.1f}"
    )
    print(
        f"all services SERVING after {figures['all_serving_s']} s; the report page answers after "
        f"{figures['report_page_s']} s (medians of {runs} runs)"
    )


def print_summary(result: dict[str, Any]) -> None:
    if "baseline" in result:
        print(f"baseline: {result['baseline']['checkout']}")
        print_table(result["baseline"]["summary"], len(result["baseline"]["runs"]))
        print("this checkout:")
    print_table(result["summary"], len(result["runs"]))
    print(
        "load before/after each run:", [(r["load_before"], r["load_after"]) for r in result["runs"]]
    )
    if "baseline" in result:
        base, now = result["baseline"]["summary"], result["summary"]
        ratios = {
            what: now[key] / base[key]
            for what, key in (
                ("RSS", "total_rss_mb"),
                ("USS", "total_uss_mb"),
                ("PSS", "total_pss_mb"),
                ("time to SERVING", "all_serving_s"),
            )
        }
        print("this checkout / baseline:", ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
        result["ratios"] = {k: round(v, 3) for k, v in ratios.items()}
    if "shared_summary" in result:
        shared = result["shared_summary"]
        print("prototype: the four services in one process (bench.shared_services)")
        for name, row in shared["per_process"].items():
            memory = f"RSS {row['rss_mb']:.1f} USS {row['uss_mb']:.1f} PSS {row['pss_mb']:.1f}"
            print(f"{name:<24} {memory}")
        print(f"its services SERVING after {shared['all_serving_s']} s")
    sources = [("", result.get("imports", {}))]
    sources.append(("baseline ", result.get("baseline", {}).get("imports", {})))
    for prefix, profiles in sources:
        for name, profile in profiles.items():
            heaviest = ", ".join(f"{k} {v}" for k, v in list(profile["heaviest_ms"].items())[:6])
            print(
                f"{prefix}imports {name}: {profile['modules']} modules, {profile['seconds']} s "
                f"({heaviest} ms)"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="nodes started one after another (3)")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds at rest (10)")
    parser.add_argument("--timeout", type=float, default=90.0, help="start-up deadline (90)")
    parser.add_argument("--imports", action="store_true", help="each entry's import profile")
    parser.add_argument("--label", default="", help="a name for this run, in the JSON")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also a node run from another checkout's code (e.g. an export of main), "
        "alternating with this one's runs",
    )
    parser.add_argument(
        "--shared",
        action="store_true",
        help="also the prototype of one process for the four services (bench.shared_services)",
    )
    options = parser.parse_args(argv)
    runs = []
    baseline = []
    for _ in range(options.runs):  # alternated, so that both see the same load
        if options.baseline is not None:
            baseline.append(one_run(options.settle, options.timeout, options.baseline))
        runs.append(one_run(options.settle, options.timeout))
    shared = []
    if options.shared:
        shared = [one_shared_run(options.settle, options.timeout) for _ in range(options.runs)]
    result: dict[str, Any] = {
        "label": options.label,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "settle_s": options.settle,
        "runs": runs,
        "summary": summary(runs),
    }
    if shared:
        result["shared_runs"] = shared
        result["shared_summary"] = summary(shared)
    if options.imports:
        result["imports"] = {name: import_profile(code) for name, code in ENTRIES.items()}
    if baseline:
        result["baseline"] = {"checkout": str(options.baseline), "runs": baseline}
        result["baseline"]["summary"] = summary(baseline)
        if options.imports:
            result["baseline"]["imports"] = {
                name: import_profile(code, checkout=options.baseline)
                for name, code in ENTRIES.items()
            }
    print_summary(result)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = RESULTS / f"node-memory-{stamp}{'-' + options.label if options.label else ''}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
