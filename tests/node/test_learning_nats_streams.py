"""The learning service's NATS user keeps the federation streams by name: its own, and one
per partner of the region directory, and no other (a real nats-server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.js.api import StreamConfig

from services.common import signing
from services.common.messaging import NodeIdentity, ensure_node_streams, ensure_stream
from services.common.natsserver import NatsServer
from services.common.nodeauth import NodeUsers, inbox_prefix
from services.common.region import sign_directory
from services.common.settings import NodeSettings
from services.hub import Hub, HubSettings
from services.node import Node, node_nats_server, region_partners
from tests.support.ports import free_port
from tests.support.waiting import eventually

REGION = "test-region"
GUYS = NodeIdentity("guys", REGION)


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    hub = Hub(HubSettings(tmp_path / "hub", REGION, port=free_port(), leaf_port=free_port()))
    hub.add_nodes([("guys", "Guy's"), ("kings", "King's")])
    return hub


@pytest.fixture
def settings(tmp_path: Path, hub: Hub) -> NodeSettings:
    return NodeSettings(
        node_id="guys",
        region=REGION,
        data_dir=tmp_path / "guys",
        nats_port=free_port(),
        hub_credentials=hub.settings.credentials_file("guys"),
    )


@pytest.fixture
def server(settings: NodeSettings) -> Iterator[NatsServer]:
    server = node_nats_server(settings, partners=["kings"])
    server.start()
    try:
        yield server
    finally:
        server.kill()


def write_directory(hub: Hub, settings: NodeSettings) -> None:
    """The region directory as the learning service keeps it after reading it from the hub."""
    document = hub.manifest.directory_document()
    signature = sign_directory(document, hub.secrets.signing_seed)[signing.HEADER_SIGNATURE]
    text = json.dumps({"document": document.decode(), "signature": signature})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "region-directory.json").write_text(text + "\n")


class Learning:
    """A client with the learning service's key, collecting the server's refusals."""

    def __init__(self, server: NatsServer) -> None:
        self.server = server
        self.errors: list[Exception] = []

    async def __aenter__(self) -> nats.NATS:
        async def on_error(error: Exception) -> None:
            self.errors.append(error)

        seed = NodeUsers(self.server.config.store_dir.parents[1]).seed("learning")
        self.client = await nats.connect(
            self.server.url,
            nkeys_seed_str=seed,
            inbox_prefix=inbox_prefix("learning"),
            error_cb=on_error,
            allow_reconnect=False,
        )
        return self.client

    async def __aexit__(self, *_: object) -> None:
        await self.client.close()

    def refused(self) -> str:
        return " ".join(str(error) for error in self.errors).lower()


async def prepare(server: NatsServer) -> None:
    operator = await server.connect()
    await ensure_node_streams(operator.jetstream(), GUYS)
    await operator.close()


async def stream_names(server: NatsServer) -> set[str]:
    operator = await server.connect()
    try:
        return {s.config.name for s in await operator.jetstream().streams_info()}
    finally:
        await operator.close()


def test_learning_creates_its_federation_and_partner_streams_and_no_other(server: NatsServer):
    learning = Learning(server)

    async def scenario() -> None:
        await prepare(server)
        async with learning as client:
            js = client.jetstream(timeout=1.5)
            await ensure_stream(js, GUYS.partner_stream_config("kings"))
            await ensure_stream(js, GUYS.partner_stream_config("kings"))  # an update too
            await ensure_stream(js, GUYS.federation_stream_config([]))
            assert (await js.stream_info(GUYS.partner_stream_name("kings"))).config.subjects is None
            # A partner the directory does not list, any other name, and deleting: refused.
            with pytest.raises(nats.errors.TimeoutError):
                await ensure_stream(js, GUYS.partner_stream_config("lewisham"))
            with pytest.raises(nats.errors.TimeoutError):
                await js.add_stream(StreamConfig(name="TAKEN", subjects=["_INBOX_learning.x"]))
            for name in (GUYS.partner_stream_name("kings"), GUYS.stream_name):
                with pytest.raises(nats.errors.TimeoutError):
                    await js.delete_stream(name)
            await client.flush()

    asyncio.run(scenario())
    assert asyncio.run(stream_names(server)) == {
        GUYS.stream_name,
        GUYS.public_stream_name,
        GUYS.federation_stream_name,
        GUYS.partner_stream_name("kings"),
    }
    refused = learning.refused()
    for subject in (
        f"$js.api.stream.create.{GUYS.partner_stream_name('lewisham')}",
        "$js.api.stream.create.taken",
        f"$js.api.stream.delete.{GUYS.partner_stream_name('kings')}",
        f"$js.api.stream.delete.{GUYS.stream_name}",
    ):
        assert f'permissions violation for publish to "{subject.lower()}"' in refused, refused


def test_the_node_reloads_its_users_when_the_directory_names_a_new_partner(
    tmp_path: Path, hub: Hub, settings: NodeSettings
):
    """`copnet up` follows the directory the learning service keeps: a node added to the
    region gets its partner stream once the directory names it, on the same connection."""
    write_directory(hub, settings)
    node = Node(settings)
    assert node.partners == region_partners(settings) == {"kings"}
    node.nats.start()
    try:
        learning = Learning(node.nats)

        async def scenario() -> None:
            await prepare(node.nats)
            async with learning as client:
                js = client.jetstream(timeout=1.5)
                await ensure_stream(js, GUYS.partner_stream_config("kings"))
                with pytest.raises(nats.errors.TimeoutError):
                    await ensure_stream(js, GUYS.partner_stream_config("lewisham"))
                hub.add_nodes([("lewisham", "Lewisham and Greenwich")])
                write_directory(hub, settings)
                node.follow_region_directory()
                assert node.partners == {"kings", "lewisham"}

                async def created() -> bool:
                    try:
                        await ensure_stream(js, GUYS.partner_stream_config("lewisham"))
                    except nats.errors.TimeoutError:
                        return False
                    return True

                assert await created() or await created()

        asyncio.run(scenario())
        assert GUYS.partner_stream_name("lewisham") in asyncio.run(stream_names(node.nats))
        # A directory that the hub did not sign names no partner.
        (settings.data_dir / "region-directory.json").write_text('{"document": "{}"}\n')
        eventually(lambda: region_partners(settings) == frozenset(), timeout=2)
    finally:
        node.nats.kill()


def test_a_partner_whose_stream_is_refused_leaves_the_others_linked(
    hub: Hub, settings: NodeSettings, server: NatsServer
):
    """A container deploy's NATS configuration predates a partner the hub added: the
    learning service links the partners it may, says which it may not, and stays well."""
    from services.common.federation import FederationLinks
    from services.common.natslink import NatsLink
    from services.common.signals import ChangeSignal

    hub.add_nodes([("lewisham", "Lewisham and Greenwich")])
    seed = NodeUsers(settings.data_dir).seed("learning")

    async def scenario() -> list[tuple[str, str | None]]:
        await prepare(server)
        link = NatsLink(server.url, "learning", seed=seed, inbox_prefix=inbox_prefix("learning"))
        stopping = asyncio.Event()
        running = asyncio.create_task(link.run(stopping))
        try:
            links = FederationLinks(GUYS, link, None, lambda: [], ChangeSignal())
            links.directory = {n: {"node_id": n} for n in ("guys", "kings", "lewisham")}
            await links.reconcile(await link.client())  # completes: no exception
            return links.applied_sources or []
        finally:
            stopping.set()
            await running

    assert asyncio.run(scenario()) == [("kings", None)]
    names = asyncio.run(stream_names(server))
    assert GUYS.partner_stream_name("kings") in names
    assert GUYS.partner_stream_name("lewisham") not in names
