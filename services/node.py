"""`copnet up`: one organisation's whole node, in the foreground.

Locks the data directory (a second `copnet up` on it refuses, naming the
holder), checks that its ports are free, starts nats-server (JetStream on, its
store under the data directory, a leaf of the regional hub when one is given),
then each service as its own process. Every child dies with the supervisor.
It restarts whatever exits (a service or nats-server) after a back-off that
starts again from a fraction of a second once the child has run for a healthy
while (`COPNET_RESTART_HEALTHY_SECONDS`, 60), and restarts a nats-server that
stops answering (frozen, say). It stops everything, services first, on Ctrl-C
or SIGTERM. A second `copnet up` on the same data directory resumes where the
first stopped: the stores and the NATS streams are on disk.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from services.common.keyring import ensure_keys, ensure_link_secrets
from services.common.messaging import NodeIdentity
from services.common.natsserver import LeafRemote, NatsServer, NatsServerConfig, TlsConfig
from services.common.nodeauth import OPERATOR, NodeUsers
from services.common.pki import write_file
from services.common.readiness import wait_all_serving
from services.common.readiness import wait_serving as wait_serving  # for callers of services.node
from services.common.region import HubCredentials
from services.common.settings import WEB_SERVICES, NodeSettings, available_services
from services.common.supervision import (
    Child,
    DataDirInUse,
    DataDirLock,
    Keeper,
    check_ports_free,
    spawn,
)
from services.common.transport import check_node_transport
from services.node_grants import service_grants as service_grants  # deploy/ reads it here
from services.report.address import REPORT_READS, report_address, report_url

if TYPE_CHECKING:
    from services.common.channels import ChannelSecurity

log = logging.getLogger("copnet.node")

READY_TIMEOUT = 30.0
# How often `copnet up` looks whether the region directory changed (a file's mtime).
DIRECTORY_CHECK_INTERVAL = 0.2
# How long `copnet up` waits for the hub's region directory before starting the services.
DIRECTORY_READ_TIMEOUT = 3.0


class NodeIdentityMismatch(RuntimeError):
    pass


def claim_data_dir(settings: NodeSettings) -> None:
    """Binds a data directory to one node id and region, so stores are never mixed."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    identity_file = settings.data_dir / "node.json"
    wanted = {"node_id": settings.node_id, "region": settings.region}
    if identity_file.exists():
        recorded = json.loads(identity_file.read_text())
        if recorded != wanted:
            raise NodeIdentityMismatch(
                f"{settings.data_dir} belongs to node {recorded['node_id']!r} of region "
                f"{recorded['region']!r}; use another --data-dir or the same --node-id/--region"
            )
        return
    identity_file.write_text(json.dumps(wanted, indent=2) + "\n")


def node_nats_server(settings: NodeSettings, partners: Collection[str] | None = None) -> NatsServer:
    """The node's nats-server. `partners`: the region's other nodes, whose partner streams
    the learning service may keep (by default those of the region directory the node
    last read; `Node` reloads the server's users when the directory changes)."""
    remotes: tuple[LeafRemote, ...] = ()
    if settings.joins_hub:
        identity = NodeIdentity(settings.node_id, settings.region)
        credentials = hub_credentials(settings)
        remotes = (
            LeafRemote(
                credentials.hub_url if credentials else settings.hub_url,
                seed=credentials.leaf_seed if credentials else "",
                deny_exports=tuple(identity.leaf_deny_exports()),
                deny_imports=tuple(identity.leaf_deny_imports()),
                tls=hub_leaf_tls(settings),
            ),
        )
    users = NodeUsers(settings.data_dir)
    identity = NodeIdentity(settings.node_id, settings.region)
    config = NatsServerConfig(
        name=f"copnet-{settings.node_id}",
        store_dir=settings.data_dir / "nats" / "jetstream",
        host=settings.listen_host,
        port=settings.nats_port,
        jetstream_domain=settings.node_id,
        leaf_remotes=remotes,
        authorization=users.authorization(
            identity,
            service_grants(identity),
            region_partners(settings) if partners is None else partners,
        ),
        # With a certificate, the client port speaks TLS only (the services' too).
        client_tls=TlsConfig(settings.tls_ca, settings.tls_cert, settings.tls_key)
        if settings.tls_cert
        else None,
        client_seed=users.seed(OPERATOR),
        monitor_port=settings.nats_monitor_port,
        ports_file_dir=settings.data_dir / "nats",
    )
    return NatsServer(config, settings.data_dir / "nats")


def region_partners(settings: NodeSettings) -> frozenset[str]:
    """The region's other nodes, from the directory the node last read (checked against the
    hub's key); none for a node outside a region or before its first read."""
    credentials = hub_credentials(settings)
    if credentials is None:
        return frozenset()
    from services.common.trust import RegionTrust

    identity = NodeIdentity(settings.node_id, settings.region)
    trust = RegionTrust.from_credentials(identity, credentials, settings.data_dir)
    return frozenset(trust.nodes()) - {settings.node_id}


def hub_credentials(settings: NodeSettings) -> HubCredentials | None:
    """The keys the hub gave this node (None when it joins a hub without any)."""
    if settings.hub_credentials is None:
        return None
    credentials = HubCredentials.load(settings.hub_credentials)
    if (credentials.node_id, credentials.region) != (settings.node_id, settings.region):
        raise NodeIdentityMismatch(
            f"{settings.hub_credentials} is for node {credentials.node_id!r} of region "
            f"{credentials.region!r}, not {settings.node_id!r} of {settings.region!r}"
        )
    return credentials


def hub_leaf_tls(settings: NodeSettings) -> TlsConfig | None:
    """The leaf remote's `tls` when the hub's credentials carry TLS: the CA (and this node's
    client certificate and key, 0600) written under `<data-dir>/nats/tls` on every start."""
    if settings.hub_credentials is None:
        return None
    tls = HubCredentials.load(settings.hub_credentials).tls
    return tls.write(settings.data_dir / "nats" / "tls") if tls else None


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    # Where its output goes; the terminal when None.
    log_file: Path | None = None
    # File descriptors it keeps open (the supervisor's data-directory lock).
    inherit_fds: tuple[int, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    started_at: float = field(default=0.0)

    def start(self) -> None:
        command = [sys.executable, "-m", f"services.{self.name}"]
        if self.log_file is None:
            self.process = spawn(command, env=self.env, pass_fds=self.inherit_fds)
        else:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with self.log_file.open("ab") as log:
                self.process = spawn(
                    command,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=self.inherit_fds,
                )
        self.started_at = time.monotonic()

    def poll(self) -> int | None:
        return self.process.poll() if self.process is not None else None

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def terminate(self) -> None:
        """Asks it to stop (SIGTERM); `stop` waits for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs; killing it", self.name, timeout)
            self.process.kill()
            self.process.wait(5)


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


class Node:
    def __init__(
        self,
        settings: NodeSettings,
        services: tuple[str, ...] | None = None,
        log_dir: Path | None = None,
    ):
        self.settings = settings
        self.services = services or available_services()
        self.partners = region_partners(settings)
        self.nats = node_nats_server(settings, self.partners)
        # The region directory the learning service keeps, and when it last changed.
        self._directory: Path | None = None
        self._directory_seen: float | None = None
        self._follower: threading.Thread | None = None
        self.processes: list[ServiceProcess] = []
        self.log_dir = log_dir
        self.lock = DataDirLock(settings.data_dir, f"copnet up (node {settings.node_id})")
        self.keeper = Keeper(f"node {settings.node_id}")
        self._stopping = threading.Event()

    def ports(self) -> list[tuple[str, int, str]]:
        """Every port the node listens on, for the check that they are free."""
        wanted = [(self.settings.listen_host, self.settings.nats_port, "NATS")]
        for name in self.services:
            wanted.append((*_host_port(self.settings.address(name)), f"{name} gRPC"))
        for name, web in self.web_addresses().items():
            wanted.append((*_host_port(web), f"{name} web pages"))
        for name in self.services:
            if self.settings.metrics_port_of(name):
                port = self.settings.metrics_port_of(name)
                wanted.append((self.settings.listen_host, port, f"{name} metrics"))
        if self.settings.nats_monitor_port > 0:
            wanted.append(("127.0.0.1", self.settings.nats_monitor_port, "NATS monitoring"))
        if self.serves_report:
            wanted.append((*_host_port(report_address(self.settings)), "report page"))
        return wanted

    def web_addresses(self) -> dict[str, str]:
        """Where the services with web pages serve them (COPNET_<SERVICE>_HTTP_ADDRESS, else
        the ports after the gRPC ports)."""
        return {
            name: os.environ.get(f"COPNET_{name.upper()}_HTTP_ADDRESS")
            or self.settings.default_web_address(name)
            for name in WEB_SERVICES
            if name in self.services
        }

    @property
    def serves_report(self) -> bool:
        """The report page (services/report, a client of the node's APIs) runs beside the
        services it reads."""
        return all(name in self.services for name in REPORT_READS)

    def start(self) -> None:
        check_node_transport(
            self.settings, {name: self.settings.address(name) for name in self.services}
        )
        self.lock.acquire()
        claim_data_dir(self.settings)
        check_ports_free(self.ports())
        # The keys before the services: each service then reads only what it needs (the
        # public keys and revocations; notify the link secrets), never the signing key.
        ensure_keys(self.settings.key_files)
        ensure_link_secrets(self.settings.key_files, self.settings.node_id)
        self.nats.inherit_fds = self.lock.inherited
        self.nats.start()
        log.info(
            "nats-server listening on %s (store %s)", self.nats.url, self.nats.config.store_dir
        )
        if self.settings.hub_credentials is not None:
            # The region's nodes before the services start, so that the learning service
            # may keep its partners' streams from the first; then its reads of the
            # directory (whether or not anyone calls `tend`).
            self.read_region_directory(DIRECTORY_READ_TIMEOUT)
            self.follow_region_directory()
            self._follower = threading.Thread(
                target=self._follow_region_directory, name="region directory", daemon=True
            )
            self._follower.start()
        env = {**os.environ, **self.settings.to_env(), "COPNET_NATS_URL": self.nats.url}
        for name in self.services:
            log_file = self.log_dir / f"{name}.log" if self.log_dir else None
            metrics = {"COPNET_METRICS_PORT": str(self.settings.metrics_port_of(name))}
            process = ServiceProcess(name, {**env, **metrics}, log_file, self.lock.inherited)
            process.start()
            self.processes.append(process)
        self.write_endpoints()
        targets = [
            (self.settings.address(p.name), f"copnet.{p.name}.v1.{p.name.capitalize()}Service")
            for p in self.processes
        ]
        late = wait_all_serving(targets, READY_TIMEOUT, self.security().as_json())
        if late is not None:
            name = next(
                (p.name for p in self.processes if self.settings.address(p.name) == late), late
            )
            raise RuntimeError(f"{name} did not report SERVING on {late}")
        if self.serves_report:
            log_file = self.log_dir / "report.log" if self.log_dir else None
            report = ServiceProcess("report", env, log_file, self.lock.inherited)
            report.start()
            self.processes.append(report)

    def security(self) -> ChannelSecurity:
        """How the node's own clients reach its services (plain, TLS, mutual TLS)."""
        from services.common.channels import ChannelSecurity

        return ChannelSecurity.of(self.settings)

    def write_endpoints(self) -> None:
        """Where `copnet status` finds the services' figures (`<data-dir>/endpoints.json`)."""
        host = self.settings.listen_host
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        metrics = {
            name: f"http://{host}:{self.settings.metrics_port_of(name)}/metrics"
            for name in self.services
            if self.settings.metrics_port_of(name)
        }
        grpc = {name: self.settings.address(name) for name in self.services}
        endpoints = {"metrics": metrics, "grpc": grpc, "joins_hub": self.settings.joins_hub}
        write_file(self.settings.data_dir / "endpoints.json", json.dumps(endpoints).encode(), 0o644)

    def supervise(self) -> None:
        """Restarts what exits, until the node stops."""
        while not self._stopping.wait(0.2):
            self.tend()

    def tend(self) -> None:
        """One round of supervision: nats-server answering, every child running."""
        if self._stopping.is_set():
            return
        self.keeper.watch(self.nats)
        children: list[Child] = [self.nats, *self.processes]
        for child in children:
            self.keeper.tend(child)

    def read_region_directory(self, timeout: float) -> bool:
        """Reads the region directory from the hub through the node's own server (as its
        operator), as the learning service does, into the same file; False when the hub
        does not answer within `timeout` (the directory read last, if any, stays)."""
        import asyncio

        import nats.errors

        from services.common.trust import RegionTrust

        credentials = hub_credentials(self.settings)
        assert credentials is not None
        identity = NodeIdentity(self.settings.node_id, self.settings.region)
        trust = RegionTrust.from_credentials(identity, credentials, self.settings.data_dir)

        async def read() -> bool:
            deadline = time.monotonic() + timeout
            client = await self.nats.connect(connect_timeout=timeout, allow_reconnect=False)
            try:
                while time.monotonic() < deadline:  # the leaf link may still be connecting
                    if await trust.refresh(client, timeout=0.5) is not None:
                        return True
                    await asyncio.sleep(0.1)
                return False
            finally:
                await client.close()

        try:
            return asyncio.run(read())
        except (OSError, nats.errors.Error) as error:
            log.warning("cannot read the region directory: %s", error)
            return False

    def _follow_region_directory(self) -> None:
        while not self._stopping.wait(DIRECTORY_CHECK_INTERVAL):
            try:
                self.follow_region_directory()
            except (OSError, ValueError) as error:
                log.error("cannot follow the region directory: %s", error)

    def follow_region_directory(self) -> None:
        """When the learning service has read a region directory with other nodes than the
        server's users allow for, the server reloads its users with them (learning keeps a
        stream per partner, and may create only those the config names)."""
        credentials = hub_credentials(self.settings) if self._directory is None else None
        if credentials is not None:
            from services.common.trust import RegionTrust

            identity = NodeIdentity(self.settings.node_id, self.settings.region)
            trust = RegionTrust.from_credentials(identity, credentials, self.settings.data_dir)
            self._directory = trust.cache_file
        if self._directory is None:
            return
        try:
            changed = self._directory.stat().st_mtime
        except FileNotFoundError:
            return
        if changed == self._directory_seen:
            return
        self._directory_seen = changed
        partners = region_partners(self.settings)
        if partners != self.partners:
            log.info("region partners now %s: reloading nats-server's users", sorted(partners))
            self.partners = partners
            self.nats.reload(node_nats_server(self.settings, partners).config)

    def request_stop(self) -> None:
        self._stopping.set()

    def stop(self) -> None:
        """Stops the services (all asked at once, each waited for), then nats-server."""
        self._stopping.set()
        if self._follower is not None:
            self._follower.join(5)
        for process in self.processes:
            process.terminate()
        for process in reversed(self.processes):
            process.stop()
        self.nats.stop()
        self.lock.release()

    def describe(self) -> str:
        lines = [
            f"copnet node {self.settings.node_id} (region {self.settings.region}) is up",
            f"  data:      {self.settings.data_dir.resolve()}",
            f"  stores:    {'PostgreSQL' if self.settings.postgres_dsn else 'SQLite'}",
            f"  nats:      {self.nats.url} (JetStream domain {self.settings.node_id})",
        ]
        if self.settings.joins_hub:
            credentials = hub_credentials(self.settings)
            hub = urlsplit(credentials.hub_url if credentials else self.settings.hub_url)
            lines.append(f"  hub:       {hub.scheme}://{hub.hostname}:{hub.port} (leaf node)")
        transport = "gRPC"
        if self.settings.tls:
            transport = "gRPC, mutual TLS" if self.settings.client_ca else "gRPC, TLS"
        elif self.settings.insecure:
            transport = "gRPC, no TLS: --insecure"
        for name in self.services:
            lines.append(f"  {name + ':':<10} {self.settings.address(name)} ({transport})")
        scheme = "https" if self.settings.tls else "http"
        for name, web in self.web_addresses().items():
            lines.append(f"  {name + ' web:':<10} {scheme}://{web}")
        if self.serves_report:
            lines.append(f"  report:    {report_url(self.settings)} (sign in with a token)")
        data_dir = f" --data-dir {self.settings.data_dir}" if self.settings.data_dir else ""
        lines.append(f"A token for API calls: copnet token --operator --name alice{data_dir}")
        lines.append("Stop with Ctrl-C.")
        return "\n".join(lines)


def run_node(settings: NodeSettings) -> int:
    os.umask(0o077)  # keys, configs and stores: private to the node's user
    node = Node(settings)

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s; stopping the node", signal.Signals(signum).name)
        node.request_stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        node.start()
        print(node.describe(), flush=True)
        node.supervise()
    except (NodeIdentityMismatch, DataDirInUse, ValueError) as error:
        log.error("%s", error)
        return 2
    except (RuntimeError, TimeoutError, OSError) as error:
        log.error("the node could not start: %s", error)
        return 1
    finally:
        if node.lock.fd is not None:  # it started (in part): stop what did
            node.stop()
            log.info("node %s stopped", settings.node_id)
    return 0


def default_data_dir() -> Path:
    return Path(os.environ.get("COPNET_DATA_DIR") or "copnet-data")
