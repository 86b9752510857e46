"""`copnet hub`: a region's hub, in the foreground.

Runs a nats-server with JetStream domain `hub`, a leaf-node listener for the
region's nodes (one account each, see `services.common.region`), and the
region directory, signed by the hub. Like `copnet up`, it locks its data
directory, refuses ports in use, and restarts its nats-server when it exits or
stops answering. A node added to the region gets its private keys in
`<data-dir>/credentials/<node>.json` (0600), written once, for its operator, who
starts the node with `copnet up --hub-credentials <that file>` (and may then
delete it from the hub: the hub keeps public keys only). `--rotate-keys NODE`
writes new ones. Everything the hub writes is private to its user (umask 077).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.js.api import DiscardPolicy, StorageType, StreamConfig

from services.common import signing
from services.common.leaftls import HubLeafTls, hub_hosts, hub_leaf_tls
from services.common.messaging import ensure_stream
from services.common.natsserver import NatsServer, NatsServerConfig
from services.common.region import (
    DIRECTORY_STREAM,
    DIRECTORY_SUBJECT,
    HUB_DOMAIN,
    HubCredentials,
    HubSecrets,
    NodeSeeds,
    RegionManifest,
    hub_accounts,
    sign_directory,
)
from services.common.supervision import DataDirInUse, DataDirLock, Keeper, check_ports_free
from services.status import record_hub_links

log = logging.getLogger("copnet.hub")
# How often the hub notes its leaf links' traffic (`copnet hub status`).
LINKS_EVERY = 5.0


@dataclass(frozen=True)
class HubSettings:
    data_dir: Path
    region: str
    listen_host: str = "127.0.0.1"
    port: int = 4222
    leaf_port: int = 7422
    # How nodes reach the leaf listener (defaults to the listen host).
    public_host: str = ""
    # Leaf links over TLS: the hub's own region CA under <data-dir>/pki (it issues the
    # hub's certificate and each node's client certificate, and client certificates are
    # required), or the operator's certificate, key and CA when `tls_cert` is given.
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    # The monitoring endpoint (`/leafz`: which nodes are linked), on loopback: -1 any free
    # port (in the ports file under <data-dir>/nats), 0 none.
    monitor_port: int = -1

    @property
    def manifest_file(self) -> Path:
        return self.data_dir / "region.json"

    def credentials_file(self, node_id: str) -> Path:
        return self.data_dir / "credentials" / f"{node_id}.json"

    @property
    def secrets_file(self) -> Path:
        return self.data_dir / "secrets" / "hub.json"

    @property
    def leaf_url(self) -> str:
        scheme = "tls" if self.tls else "nats-leaf"
        return f"{scheme}://{self.public_host or self.listen_host}:{self.leaf_port}"

    def leaf_tls(self) -> HubLeafTls | None:
        if not self.tls:
            return None
        hosts = hub_hosts(self.listen_host, self.public_host)
        return hub_leaf_tls(
            self.data_dir / "pki", self.region, hosts, self.tls_cert, self.tls_key, self.tls_ca
        )


class Hub:
    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        self.manifest = RegionManifest.load_or_create(settings.manifest_file, settings.region)
        self.secrets = HubSecrets.load_or_create(settings.secrets_file)
        self.server: NatsServer | None = None
        self.lock = DataDirLock(settings.data_dir, f"copnet hub (region {settings.region})")
        self.keeper = Keeper(f"the hub of {settings.region}")
        self._links: dict[str, Any] = {}
        self._links_at = 0.0
        self.tls = settings.leaf_tls()

    def add_nodes(self, nodes: list[tuple[str, str]]) -> None:
        """Adds nodes (id, display name) to the region; a new node's keys are written to
        its credentials file, existing nodes keep theirs."""
        for node_id, name in nodes:
            seeds = self.manifest.add_node(node_id, name)
            if seeds is not None:
                self._write_credentials(node_id, seeds)
        self.manifest.save(self.settings.manifest_file)

    def rotate_keys(self, node_id: str) -> None:
        """New keys for a node (its old leaf key is refused once the hub restarts)."""
        if node_id not in self.manifest.nodes:
            raise ValueError(f"node {node_id!r} is not in region {self.manifest.region!r}")
        self._write_credentials(node_id, self.manifest.rotate_keys(node_id))
        self.manifest.save(self.settings.manifest_file)

    def _write_credentials(self, node_id: str, seeds: NodeSeeds) -> None:
        HubCredentials(
            region=self.manifest.region,
            node_id=node_id,
            hub_url=self.settings.leaf_url,
            leaf_seed=seeds.leaf_seed,
            signing_seed=seeds.signing_seed,
            hub_key=signing.public_key(self.secrets.signing_seed),
            tls=self.tls.for_node(node_id, self.manifest.region) if self.tls else None,
        ).save(self.settings.credentials_file(node_id))

    @property
    def admin_url(self) -> str:
        return f"nats://{self.settings.listen_host}:{self.settings.port}"

    async def admin_connect(self) -> nats.NATS:
        """A client of the hub's own account (its JetStream and the directory)."""
        return await nats.connect(
            self.admin_url, nkeys_seed_str=self.secrets.admin_seed, connect_timeout=5
        )

    def start(self) -> None:
        """Locks the data directory, checks the ports, starts nats-server and writes the
        region directory."""
        if self.lock.fd is None:
            self.lock.acquire()
            host = self.settings.listen_host
            check_ports_free(
                [(host, self.settings.port, "client"), (host, self.settings.leaf_port, "leaf")]
            )
        config = NatsServerConfig(
            name=f"copnet-hub-{self.manifest.region}",
            store_dir=self.settings.data_dir / "nats" / "jetstream",
            host=self.settings.listen_host,
            port=self.settings.port,
            jetstream_domain=HUB_DOMAIN,
            leaf_listen_port=self.settings.leaf_port,
            accounts=hub_accounts(self.manifest, signing.public_key(self.secrets.admin_seed)),
            leaf_tls=self.tls.listener if self.tls else None,
            monitor_port=self.settings.monitor_port,
            ports_file_dir=self.settings.data_dir / "nats",
        )
        self.server = NatsServer(config, self.settings.data_dir / "nats", self.lock.inherited)
        self.server.start()
        asyncio.run(self.publish_directory())

    def tend(self) -> None:
        """Restarts a nats-server that exited or stopped answering (after a back-off); every
        LINKS_EVERY seconds notes the leaf links' traffic (for `copnet hub status`)."""
        if self.server is not None:
            self.keeper.watch(self.server)
            self.keeper.tend(self.server)
            if time.monotonic() - self._links_at >= LINKS_EVERY:
                self._links_at = time.monotonic()
                self._links = record_hub_links(self.settings.data_dir, self._links)

    async def publish_directory(self) -> None:
        """Writes the region directory: the nodes and their public keys, signed by the hub.
        Nodes read the last message of its one subject (no other part of the hub's
        JetStream is reachable from their accounts)."""
        client = await self.admin_connect()
        try:
            js = client.jetstream()
            await ensure_stream(
                js,
                StreamConfig(
                    name=DIRECTORY_STREAM,
                    subjects=[DIRECTORY_SUBJECT],
                    storage=StorageType.FILE,
                    max_msgs_per_subject=1,
                    discard=DiscardPolicy.OLD,
                    allow_direct=True,
                    description=f"The directory of region {self.manifest.region}",
                ),
            )
            document = self.manifest.directory_document()
            await js.publish(
                DIRECTORY_SUBJECT,
                document,
                headers=sign_directory(document, self.secrets.signing_seed),
            )
        finally:
            await client.close()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.lock.release()

    def _tls_summary(self) -> str:
        if self.tls is None:
            return "OFF (plain TCP: leaf credentials and federated data unencrypted)"
        if self.tls.pki is None:
            return f"on, the operator's certificate {self.settings.tls_cert}"
        return (
            f"on, region CA {self.tls.pki.ca_file} (nodes present client certificates; "
            "each node's credentials file carries its certificate)"
        )

    def describe(self) -> str:
        lines = [
            f"copnet hub of region {self.manifest.region} is up",
            f"  leaf nodes connect to {self.settings.leaf_url}",
            f"  leaf TLS:            {self._tls_summary()}",
            f"  clients (admin):     nats://{self.settings.listen_host}:{self.settings.port}",
            f"  nodes ({len(self.manifest.nodes)}):",
        ]
        for node in sorted(self.manifest.nodes.values(), key=lambda n: n.node_id):
            lines.append(
                f"    {node.node_id:<16} {node.name}  "
                f"credentials: {self.settings.credentials_file(node.node_id)}"
                + (
                    ""
                    if self.settings.credentials_file(node.node_id).exists()
                    else " (handed over)"
                )
            )
        lines.append("Start a node with: copnet up --hub-credentials <its credentials file>")
        return "\n".join(lines)


def run_hub(
    settings: HubSettings, nodes: list[tuple[str, str]], rotate: list[str] | None = None
) -> int:
    os.umask(0o077)
    hub = Hub(settings)
    hub.add_nodes(nodes)
    for node_id in rotate or []:
        hub.rotate_keys(node_id)
        log.warning("new keys for node %s: %s", node_id, settings.credentials_file(node_id))
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s; stopping the hub", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        hub.start()
        print(hub.describe(), flush=True)
        while not stopping.wait(0.2):
            hub.tend()
    except DataDirInUse as error:
        log.error("%s", error)
        return 2
    except (RuntimeError, TimeoutError, OSError, ValueError) as error:
        log.error("the hub could not start: %s", error)
        return 1
    finally:
        hub.stop()
    return 0
