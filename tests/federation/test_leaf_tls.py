"""Leaf links over TLS: a real hub with its region CA, real nodes' nats-servers on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import pytest

from services.common.leaftls import LeafTls
from services.common.natsserver import NatsServer
from services.common.pki import RegionPki, load_cert, sans_of
from services.common.region import DIRECTORY_SUBJECT, HubCredentials
from services.common.settings import NodeSettings
from services.hub import Hub, HubSettings
from services.node import node_nats_server
from tests.support import natsauth
from tests.support.aio import LoopThread
from tests.support.ports import free_port

REGION = "south-east-london"
NODES = [("guys", "Guy's and St Thomas'"), ("kings", "King's College Hospital")]


@dataclasses.dataclass
class TlsRegion:
    base: Path
    hub: Hub
    loop: LoopThread
    servers: dict[str, NatsServer] = dataclasses.field(default_factory=dict)

    def start_node(self, node_id: str, credentials: Path | None = None) -> NatsServer:
        settings = NodeSettings(
            node_id=node_id,
            region=REGION,
            data_dir=self.base / node_id,
            nats_port=free_port(),
            hub_credentials=credentials or self.hub.settings.credentials_file(node_id),
        )
        server = node_nats_server(settings)
        natsauth.remember(server.url, settings.data_dir)
        self.servers[node_id] = server
        server.start()
        return server

    def credentials(self, node_id: str, tls: LeafTls | None) -> Path:
        """The hub's credentials for `node_id`, with another TLS section."""
        given = HubCredentials.load(self.hub.settings.credentials_file(node_id))
        path = self.base / f"{node_id}-altered.json"
        dataclasses.replace(given, tls=tls).save(path)
        return path

    def both_reach_hub(self, first: str, second: str, within: float) -> bool:
        """Whether both nodes read the region directory through their leaf links within
        `within` seconds (the one thing the hub grants every node's account: a link that
        did not come up reads nothing)."""
        return self.loop.run(
            _reach_hub([self.servers[first].url, self.servers[second].url], within),
            timeout=within + 30,
        )

    def hub_log(self) -> str:
        assert self.hub.server is not None
        return self.hub.server.log_file.read_text(errors="replace")


async def _reach_hub(urls: list[str], within: float) -> bool:
    clients = [await natsauth.connect(url) for url in urls]
    try:
        deadline = time.monotonic() + within
        waiting = list(clients)
        while waiting and time.monotonic() < deadline:
            for client in list(waiting):
                try:
                    reply = await client.request(DIRECTORY_SUBJECT, b"", timeout=0.5)
                except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
                    continue
                if not (reply.headers or {}).get("Status"):
                    waiting.remove(client)
            if waiting:
                await asyncio.sleep(0.2)
        return not waiting
    finally:
        for client in clients:
            await client.close()


@pytest.fixture
def tls_region(tmp_path: Path) -> Iterator[TlsRegion]:
    hub = Hub(
        HubSettings(tmp_path / "hub", REGION, port=free_port(), leaf_port=free_port(), tls=True)
    )
    hub.add_nodes(NODES)
    loop = LoopThread()
    region = TlsRegion(tmp_path, hub, loop)
    try:
        hub.start()
        yield region
    finally:
        loop.close()
        for server in region.servers.values():
            server.kill()
        hub.stop()
        if hub.server is not None:
            hub.server.kill()


def test_nodes_holding_the_region_ca_link_over_tls_and_messages_cross(tls_region: TlsRegion):
    credentials = HubCredentials.load(tls_region.hub.settings.credentials_file("guys"))
    assert credentials.hub_url.startswith("tls://127.0.0.1:")
    assert credentials.tls is not None and credentials.tls.cert_pem and credentials.tls.key_pem
    guys = tls_region.start_node("guys")
    tls_region.start_node("kings")

    assert tls_region.both_reach_hub("guys", "kings", within=20)
    assert tls_region.both_reach_hub("kings", "guys", within=20)
    config = guys.config_file.read_text()
    assert '"tls": {' in config and "client.key" in config
    key = tls_region.base / "guys" / "nats" / "tls" / "client.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    hub_config = tls_region.hub.server.config_file.read_text()  # type: ignore[union-attr]
    assert '"verify": true' in hub_config


def test_a_node_trusting_another_regions_ca_does_not_link(tls_region: TlsRegion):
    other = RegionPki(tls_region.base / "other-pki", "copnet region elsewhere CA")
    issued = other.client_cert("node-guys", ["guys"])
    impostor_ca = LeafTls(other.ca_pem(), issued.cert_pem(), issued.key_pem())
    tls_region.start_node("guys", tls_region.credentials("guys", impostor_ca))
    tls_region.start_node("kings")

    assert not tls_region.both_reach_hub("guys", "kings", within=4)
    node_log = tls_region.servers["guys"].log_file.read_text(errors="replace")
    assert "certificate" in node_log.lower(), node_log[-2000:]


def test_a_node_without_a_client_certificate_is_refused(tls_region: TlsRegion):
    ca_only = HubCredentials.load(tls_region.hub.settings.credentials_file("guys")).tls
    assert ca_only is not None
    tls_region.start_node("guys", tls_region.credentials("guys", LeafTls(ca_only.ca_pem)))
    tls_region.start_node("kings")

    assert not tls_region.both_reach_hub("guys", "kings", within=4)
    log = tls_region.hub_log()
    assert "client didn't provide a certificate" in log, log[-2000:]


def test_a_node_with_a_client_certificate_from_another_ca_is_refused(tls_region: TlsRegion):
    given = HubCredentials.load(tls_region.hub.settings.credentials_file("guys")).tls
    assert given is not None
    other = RegionPki(tls_region.base / "other-pki")
    issued = other.client_cert("node-guys", ["guys"])
    tls_region.start_node(
        "guys",
        tls_region.credentials("guys", LeafTls(given.ca_pem, issued.cert_pem(), issued.key_pem())),
    )
    tls_region.start_node("kings")

    assert not tls_region.both_reach_hub("guys", "kings", within=4)
    log = tls_region.hub_log()
    # Go's TLS client does not even offer a certificate the hub's CA did not sign.
    assert "TLS leafnode handshake error" in log, log[-2000:]


def test_a_node_without_tls_is_refused(tls_region: TlsRegion):
    given = HubCredentials.load(tls_region.hub.settings.credentials_file("guys"))
    plain_url = given.hub_url.replace("tls://", "nats-leaf://")
    plain = tls_region.base / "guys-plain.json"
    dataclasses.replace(given, hub_url=plain_url, tls=None).save(plain)
    tls_region.start_node("guys", plain)
    tls_region.start_node("kings")

    assert not tls_region.both_reach_hub("guys", "kings", within=4)


def test_the_hub_keeps_its_ca_and_certificates_across_restarts(tmp_path: Path):
    settings = HubSettings(
        tmp_path / "hub", REGION, port=free_port(), leaf_port=free_port(), tls=True
    )
    pki = tmp_path / "hub" / "pki"
    Hub(settings).add_nodes(NODES)
    ca, server_cert = (pki / "ca.crt").read_text(), (pki / "hub-leaf.crt").read_text()
    guys = HubCredentials.load(settings.credentials_file("guys")).tls
    Hub(settings).add_nodes([])
    assert (pki / "ca.crt").read_text() == ca
    assert (pki / "hub-leaf.crt").read_text() == server_cert
    assert HubCredentials.load(settings.credentials_file("guys")).tls == guys

    Hub(dataclasses.replace(settings, public_host="hub.example.nhs.uk"))
    assert (pki / "ca.crt").read_text() == ca
    assert "hub.example.nhs.uk" in sans_of(load_cert(pki / "hub-leaf.crt"))


def test_a_hub_with_the_operators_own_certificate(tmp_path: Path):
    """--tls-cert/--tls-key/--tls-ca: nodes get the CA only (no client certificates)."""
    own = RegionPki(tmp_path / "operator-pki", "NHS region operator CA")
    issued = own.server_cert("hub", ["127.0.0.1"])
    hub = Hub(
        HubSettings(
            tmp_path / "hub",
            REGION,
            port=free_port(),
            leaf_port=free_port(),
            tls=True,
            tls_cert=issued.cert_file,
            tls_key=issued.key_file,
            tls_ca=issued.ca_file,
        )
    )
    hub.add_nodes(NODES)
    assert not (tmp_path / "hub" / "pki").exists()
    tls = HubCredentials.load(hub.settings.credentials_file("guys")).tls
    assert tls == LeafTls(own.ca_pem())
    loop = LoopThread()
    region = TlsRegion(tmp_path, hub, loop)
    try:
        hub.start()
        region.start_node("guys")
        region.start_node("kings")
        assert region.both_reach_hub("guys", "kings", within=20)
    finally:
        loop.close()
        for server in region.servers.values():
            server.kill()
        hub.stop()
    with pytest.raises(ValueError, match="together"):
        Hub(HubSettings(tmp_path / "hub2", REGION, tls=True, tls_cert=issued.cert_file))
