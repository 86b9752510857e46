"""A region's hub and its nodes, as `copnet hub` and `copnet up --hub-credentials` build them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nats
import pytest
from nats.js.api import StreamConfig

from services.common.messaging import NodeIdentity, ensure_node_streams, ensure_stream
from services.common.region import DIRECTORY_SUBJECT, HubCredentials
from services.common.settings import NodeSettings
from services.common.signing import new_seed, public_key
from services.common.trust import RegionTrust
from services.hub import Hub, HubSettings
from services.node import NodeIdentityMismatch, node_nats_server
from tests.support.aio import LoopThread
from tests.support.ports import free_port
from tests.support.region import leaf_tls_default
from tests.support.waiting import eventually

REGION = "south-east-london"
NODES = [
    ("guys", "Guy's and St Thomas'"),
    ("kings", "King's College Hospital"),
    ("lewisham", "Lewisham and Greenwich"),
]


@pytest.fixture
def region(tmp_path: Path):
    settings = HubSettings(
        tmp_path / "hub", REGION, port=free_port(), leaf_port=free_port(), tls=leaf_tls_default()
    )
    hub = Hub(settings)
    hub.add_nodes(NODES)
    hub.start()
    servers = {}
    for node_id, _ in NODES:
        settings = NodeSettings(
            node_id=node_id,
            region=REGION,
            data_dir=tmp_path / node_id,
            nats_port=free_port(),
            hub_credentials=hub.settings.credentials_file(node_id),
        )
        server = node_nats_server(settings)
        server.start()
        servers[node_id] = server
    loop = LoopThread()
    clients = {n: loop.run(s.connect()) for n, s in servers.items()}
    for client in clients.values():  # every leaf link up (a TLS handshake takes a moment)
        eventually(lambda client=client: reaches_hub(loop, client), 20)
    yield hub, servers, clients, loop
    for client in clients.values():
        loop.run(client.close())
    loop.close()
    for server in servers.values():
        server.kill()
    hub.stop()


def reaches_hub(loop: LoopThread, client) -> bool:
    """Whether the hub answers the one thing it grants every node: the directory."""
    try:
        reply = loop.run(client.request(DIRECTORY_SUBJECT, b"", timeout=1))
    except Exception:
        return False
    return not (reply.headers or {}).get("Status")


def count(loop: LoopThread, client, stream: str) -> int:
    try:
        return loop.run(client.jetstream().stream_info(stream)).state.messages
    except Exception:
        return -1


def test_partners_receive_what_is_addressed_to_them_and_nobody_else_does(region):
    _hub, _servers, clients, loop = region
    guys, kings, lewisham = (NodeIdentity(n, REGION) for n, _ in NODES)
    js = clients["guys"].jetstream()
    loop.run(ensure_node_streams(js, guys))
    for partner in ("kings", "lewisham"):
        loop.run(ensure_stream(js, guys.partner_stream_config(partner)))
    for i in range(3):
        loop.run(
            js.publish(
                guys.federated_subject("learning", "item_published"),
                b"region",
                headers={"Nats-Msg-Id": f"r{i}"},
            )
        )
        loop.run(
            js.publish(
                guys.partner_subject("kings", "learning", "item_published"),
                b"for kings",
                headers={"Nats-Msg-Id": f"k{i}"},
            )
        )
        loop.run(
            js.publish(
                guys.local_subject("registry", "member_registered"),
                b"personal",
                headers={"Nats-Msg-Id": f"l{i}"},
            )
        )

    for node, identity in (("kings", kings), ("lewisham", lewisham)):
        loop.run(
            ensure_stream(
                clients[node].jetstream(),
                identity.federation_stream_config(
                    [
                        identity.public_source("guys", guys.federated_subjects),
                        identity.addressed_source("guys"),
                    ]
                ),
            )
        )
    # Lewisham tries to take what Guy's addressed to King's, under its own deliver
    # prefix and under King's.
    for name, prefix_of in (("STOLEN", lewisham), ("STOLEN_AS_KINGS", kings)):
        source = prefix_of.addressed_source("guys")
        source.name = guys.partner_stream_name("kings")
        loop.run(
            clients["lewisham"].jetstream().add_stream(StreamConfig(name=name, sources=[source]))
        )

    eventually(lambda: count(loop, clients["kings"], kings.federation_stream_name) == 6, 30)
    eventually(lambda: count(loop, clients["lewisham"], lewisham.federation_stream_name) == 3, 30)
    loop.run(__import__("asyncio").sleep(2))
    assert count(loop, clients["lewisham"], "STOLEN") == 0
    assert count(loop, clients["lewisham"], "STOLEN_AS_KINGS") == 0
    assert count(loop, clients["lewisham"], lewisham.federation_stream_name) == 3


def test_nodes_read_the_signed_directory_and_cannot_write_it(region, tmp_path: Path):
    hub, _servers, clients, loop = region
    credentials = HubCredentials.load(hub.settings.credentials_file("lewisham"))
    trust = RegionTrust(NodeIdentity("lewisham", REGION), credentials.hub_key, tmp_path / "d.json")
    eventually(lambda: loop.run(trust.refresh(clients["lewisham"])) is not None, 20)
    directory = trust.directory
    assert directory is not None
    assert {n: e["name"] for n, e in directory.nodes.items()} == dict(NODES)
    guys = HubCredentials.load(hub.settings.credentials_file("guys"))
    assert directory.signing_keys("guys") == [public_key(guys.signing_seed)]
    # Kept on disk, checked again when read back (a node restarted while the hub is away).
    assert RegionTrust(trust.identity, credentials.hub_key, trust.cache_file).directory == directory
    # Another hub's key does not vouch for this directory.
    stranger = RegionTrust(trust.identity, public_key(new_seed()), tmp_path / "other.json")
    assert loop.run(stranger.refresh(clients["lewisham"])) is None

    # Writing, purging or deleting the directory from a node: nothing answers, nothing changes.
    for subject in (
        "$JS.hub.API.STREAM.PURGE.COPNET_REGION",
        "$JS.hub.API.STREAM.DELETE.COPNET_REGION",
        "$JS.hub.API.STREAM.CREATE.ROGUE",
        "$JS.hub.API.DIRECT.GET.COPNET_REGION",
    ):
        with pytest.raises((nats.errors.NoRespondersError, nats.errors.TimeoutError)):
            loop.run(clients["lewisham"].request(subject, b"{}", timeout=1))
    loop.run(clients["lewisham"].publish("copnet-region.directory", b"{}"))
    assert loop.run(trust.refresh(clients["lewisham"])) == directory


def test_the_hub_keeps_credentials_across_restarts_and_nodes_check_them(tmp_path: Path):
    settings = HubSettings(tmp_path / "hub", REGION, port=free_port(), leaf_port=free_port())
    first = Hub(settings)
    first.add_nodes(NODES[:1])
    guys = HubCredentials.load(settings.credentials_file("guys"))
    again = Hub(settings)
    again.add_nodes([("guys", ""), ("kings", "King's")])
    assert HubCredentials.load(settings.credentials_file("guys")) == guys  # not rewritten
    manifest = json.loads(settings.manifest_file.read_text())
    # The hub keeps public keys only: no seed, no password anywhere in its manifest.
    assert manifest["nodes"][0]["leaf_key"] == public_key(guys.leaf_seed)
    assert re.findall(r"\bS[A-Z][A-Z2-7]{56}\b", settings.manifest_file.read_text()) == []
    assert "password" not in settings.manifest_file.read_text()
    for secret in (
        settings.credentials_file("kings"),
        settings.secrets_file,
        settings.manifest_file,
    ):
        assert oct(secret.stat().st_mode & 0o777) == "0o600", secret
    again.rotate_keys("guys")
    rotated = HubCredentials.load(settings.credentials_file("guys"))
    assert rotated.leaf_seed != guys.leaf_seed
    assert again.manifest.nodes["guys"].signing_keys == [
        public_key(rotated.signing_seed),
        public_key(guys.signing_seed),
    ]
    with pytest.raises(ValueError, match="region"):
        Hub(HubSettings(tmp_path / "hub", "another-region"))
    wrong = NodeSettings(
        node_id="kings",
        region=REGION,
        data_dir=tmp_path / "k",
        hub_credentials=settings.credentials_file("guys"),
    )
    with pytest.raises(NodeIdentityMismatch, match="is for node 'guys'"):
        node_nats_server(wrong)
