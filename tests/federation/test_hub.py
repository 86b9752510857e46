"""A region's hub and its nodes, as `copnet hub` and `copnet up --hub-credentials` build them."""

from __future__ import annotations

import json
from pathlib import Path

import nats
import pytest
from nats.js.api import StreamConfig

from services.common.messaging import NodeIdentity, ensure_node_streams, ensure_stream
from services.common.region import DIRECTORY_BUCKET, HubCredentials, parse_directory
from services.common.settings import NodeSettings
from services.hub import Hub, HubSettings
from services.node import NodeIdentityMismatch, node_nats_server
from tests.support.aio import LoopThread
from tests.support.ports import free_port
from tests.support.waiting import eventually

REGION = "south-east-london"
NODES = [
    ("guys", "Guy's and St Thomas'"),
    ("kings", "King's College Hospital"),
    ("lewisham", "Lewisham and Greenwich"),
]


@pytest.fixture
def region(tmp_path: Path):
    hub = Hub(HubSettings(tmp_path / "hub", REGION, port=free_port(), leaf_port=free_port()))
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
    clients = {n: loop.run(nats.connect(s.url)) for n, s in servers.items()}
    yield hub, servers, clients, loop
    for client in clients.values():
        loop.run(client.close())
    loop.close()
    for server in servers.values():
        server.kill()
    hub.stop()


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


def test_a_node_cannot_speak_for_another_and_the_directory_is_read_only(region):
    hub, _servers, clients, loop = region
    seen: list[str] = []
    admin = loop.run(nats.connect(hub.admin_url))

    async def spy(message) -> None:
        seen.append(message.subject)

    loop.run(admin.subscribe("copnet.>", cb=spy))
    loop.run(admin.flush())

    def published() -> bool:
        loop.run(clients["kings"].publish(f"copnet.{REGION}.kings.learning.ping", b"ok"))
        loop.run(clients["kings"].publish(f"copnet.{REGION}.guys.learning.spoofed", b"forged"))
        return f"copnet.{REGION}.kings.learning.ping" in seen

    eventually(published, 20, interval=0.5)
    assert not any(".guys." in subject for subject in seen)

    directory = loop.run(clients["lewisham"].jetstream(domain="hub").key_value(DIRECTORY_BUCKET))
    entries = {key: loop.run(directory.get(key)).value for key in loop.run(directory.keys())}
    assert {n: e["name"] for n, e in parse_directory(entries).items()} == dict(NODES)
    with pytest.raises(Exception):  # noqa: B017 - refused writes surface as several error types
        loop.run(directory.put("nodes.rogue", b"{}"))
    loop.run(admin.close())


def test_the_hub_keeps_credentials_across_restarts_and_nodes_check_them(tmp_path: Path):
    settings = HubSettings(tmp_path / "hub", REGION, port=free_port(), leaf_port=free_port())
    first = Hub(settings)
    first.add_nodes(NODES[:1])
    password = HubCredentials.load(settings.credentials_file("guys")).password
    again = Hub(settings)
    again.add_nodes([("kings", "King's")])
    assert HubCredentials.load(settings.credentials_file("guys")).password == password
    assert set(json.loads(settings.manifest_file.read_text())["nodes"][0]) >= {"node_id"}
    assert oct(settings.credentials_file("kings").stat().st_mode & 0o777) == "0o600"
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
