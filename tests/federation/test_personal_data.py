"""Members' personal data never reaches the regional hub's server.

A real hub and a real node server joined as a leaf with the configuration
`copnet up --hub` uses. From the hub side we listen to everything and try to
read or source the node-local stream; every attempt has a control that
proves the same route works for the node's public events.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from nats.js.api import ExternalStream, StreamConfig, StreamSource

from services.common.identity import Caller
from services.common.messaging import NodeIdentity
from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.node import node_nats_server
from services.registry.domain import JoiningPolicy, OrganisationKind, Profession
from services.registry.service import DEFINITION
from tests.support import natsauth
from tests.support.aio import LoopThread
from tests.support.ports import free_port
from tests.support.registry_load import command
from tests.support.streams import read_stream
from tests.support.waiting import eventually

SECRET_EMAIL = "pat.partner.private@example.org"
SECRET_NAME = "Patricia Partner-Private"


@pytest.fixture
def region(nats_factory, tmp_path: Path):
    hub = nats_factory("hub", jetstream_domain="hub", leaf_listen_port=free_port())
    settings = NodeSettings(
        node_id="testnode",
        region="test-region",
        data_dir=tmp_path / "node",
        nats_port=free_port(),
        hub_url=hub.leaf_url,
    )
    node_nats = node_nats_server(settings)
    natsauth.remember(node_nats.url, settings.data_dir)
    node_nats.start()
    settings = settings.with_overrides(nats_url=node_nats.url)
    yield hub, node_nats, settings
    node_nats.kill()


def test_member_data_stays_on_its_node(region, tmp_path: Path):
    hub, node_nats, settings = region
    identity = NodeIdentity(settings.node_id, settings.region)
    seen_on_hub: list[tuple[str, bytes]] = []
    loop = LoopThread()
    hub_client = loop.run(nats.connect(hub.url))

    async def spy(message) -> None:
        seen_on_hub.append((message.subject, message.data + repr(message.headers).encode()))

    loop.run(hub_client.subscribe(">", cb=spy))
    thread = ServiceThread(lambda: ServiceRuntime(DEFINITION, settings, roles=("worker",)))
    runtime = thread.start()
    try:
        app = runtime.app
        trust = app.create_organisation(
            command(), "Haringey GP Federation", OrganisationKind.GP_PRACTICE, "london", None
        ).entity_id
        member = app.register_member(
            command(), SECRET_NAME, Profession.PATIENT_PARTNER, trust, SECRET_EMAIL
        ).entity_id
        app.create_community(
            command(Caller.member(member)),
            "cancer-cop",
            "Cancer CoP",
            "cancer-care",
            "",
            "london",
            [],
            JoiningPolicy.OPEN,
        )
        eventually(lambda: runtime.relay.position == app.recorder.max_notification_id())

        # The link works: the node's public events are seen on the hub.
        eventually(lambda: any("community_created" in s for s, _ in seen_on_hub), timeout=30)

        # Attack: read, consume or source the node stream through the node's domain.
        node_js = hub_client.jetstream(domain="testnode", timeout=2)
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do; success is the leak
            loop.run(node_js.get_msg(identity.stream_name, 1))
        with pytest.raises(Exception):  # noqa: B017
            loop.run(node_js.stream_info(identity.stream_name))
        control = loop.run(node_js.get_msg(identity.public_stream_name, 1))
        assert control.subject.startswith("copnet.test-region.testnode.")

        # Attack: make the node itself copy its stream somewhere readable, or widen
        # what its public stream takes.
        with pytest.raises(Exception):  # noqa: B017
            loop.run(
                node_js.add_stream(
                    StreamConfig(name="EXFIL", sources=[StreamSource(name=identity.stream_name)])
                )
            )
        with pytest.raises(Exception):  # noqa: B017
            loop.run(
                node_js.update_stream(
                    StreamConfig(
                        name=identity.public_stream_name,
                        sources=[StreamSource(name=identity.stream_name)],
                    )
                )
            )
        # The hub's own JetStream (no domain) does not reach the node's streams either.
        with pytest.raises(Exception):  # noqa: B017
            loop.run(hub_client.jetstream(timeout=2).stream_info(identity.stream_name))

        hub_js = hub_client.jetstream(timeout=5)
        external = ExternalStream(api="$JS.testnode.API")
        for name, source in [
            ("PUBLIC", identity.public_stream_name),
            ("STOLEN", identity.stream_name),
        ]:
            loop.run(
                hub_js.add_stream(
                    StreamConfig(name=name, sources=[StreamSource(name=source, external=external)])
                )
            )

        def public_copied() -> bool:
            info = loop.run(hub_js.stream_info("PUBLIC"))
            expected = len(read_stream(node_nats.url, identity.public_stream_name))
            return expected > 0 and info.state.messages == expected

        eventually(public_copied, timeout=30)
        loop.run(asyncio.sleep(2))
        stolen = loop.run(hub_js.stream_info("STOLEN"))
        assert stolen.state.messages == 0

        # The data exists, on the node.
        everything = read_stream(node_nats.url, identity.stream_name)
        assert any(SECRET_EMAIL.encode() in m.envelope.SerializeToString() for m in everything)
    finally:
        thread.stop()
        loop.run(hub_client.close())
        loop.close()

    leaked = [
        s
        for s, data in seen_on_hub
        if SECRET_EMAIL.encode() in data or s.startswith("copnet-local")
    ]
    assert not leaked, leaked
    assert not any(SECRET_NAME.encode() in data for _, data in seen_on_hub)
    hub.stop()
    for path in hub.config.store_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert SECRET_EMAIL.encode() not in content, path
            assert SECRET_NAME.encode() not in content, path


def test_the_node_config_denies_local_subjects_on_the_leaf_link(tmp_path: Path):
    settings = NodeSettings(
        node_id="guys", region="sel", data_dir=tmp_path, hub_url="nats-leaf://h:7422"
    )
    rendered = node_nats_server(settings).config.render()
    assert '"deny_exports": ["copnet-local.>", "copnet-partners.>"]' in rendered
    assert "$JS.guys.API.STREAM.*.*.COPNET_GUYS" in rendered
    assert "$JS.guys.API.STREAM.UPDATE.>" in rendered
    assert '"sync_interval": "always"' in rendered


def test_a_node_without_a_hub_has_no_leaf_link(tmp_path: Path):
    settings = NodeSettings(node_id="guys", region="sel", data_dir=tmp_path)
    assert "leafnodes" not in node_nats_server(settings).config.render()
