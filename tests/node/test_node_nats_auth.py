"""A node's own nats-server admits only its services and its operator, each to its allow-list."""

from __future__ import annotations

import asyncio
import re
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import pytest

from services.common import signing
from services.common.messaging import NodeIdentity, ensure_node_streams
from services.common.natslink import NatsLink, client_tls
from services.common.natsserver import NatsServer
from services.common.nodeauth import NodeUsers, inbox_prefix
from services.common.pki import RegionPki
from services.common.settings import NodeSettings
from services.node import node_nats_server
from tests.support.ports import free_port

NODE = NodeIdentity("guys", "test-region")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NatsServer]:
    settings = NodeSettings(
        node_id=NODE.node_id, region=NODE.region, data_dir=tmp_path, nats_port=free_port()
    )
    server = node_nats_server(settings)
    server.start()
    try:
        yield server
    finally:
        server.kill()


async def as_service(server: NatsServer, service: str, errors: list[Exception]) -> nats.NATS:
    async def on_error(error: Exception) -> None:
        errors.append(error)

    seed = NodeUsers(server.config.store_dir.parents[1]).seed(service)
    return await nats.connect(
        server.url,
        nkeys_seed_str=seed,
        inbox_prefix=inbox_prefix(service),
        error_cb=on_error,
        allow_reconnect=False,
    )


async def count(server: NatsServer) -> int:
    client = await server.connect()
    try:
        return (await client.jetstream().stream_info(NODE.stream_name)).state.messages
    finally:
        await client.close()


def test_strangers_are_refused_and_the_keys_stay_private(server: NatsServer, tmp_path: Path):
    async def attempt(**options: object) -> None:
        client = await nats.connect(
            server.url, allow_reconnect=False, max_reconnect_attempts=0, **options
        )
        await client.close()

    for options in ({}, {"nkeys_seed_str": signing.new_seed()}):
        with pytest.raises((nats.errors.Error, nats.errors.NoServersError)):
            asyncio.run(attempt(**options))
    config = server.config_file.read_text()
    assert "authorization" in config
    assert re.findall(r"\bS[A-Z][A-Z2-7]{56}\b", config) == []  # no seed of any kind
    for seed_file in (tmp_path / "secrets" / "nats").iterdir():
        assert stat.S_IMODE(seed_file.stat().st_mode) == 0o600, seed_file
        assert seed_file.read_text().strip() not in config  # public keys only


def test_a_service_publishes_only_its_own_events_and_reads_only_its_replies(
    server: NatsServer,
):
    async def scenario() -> tuple[int, int, list[Exception]]:
        operator = await server.connect()
        await ensure_node_streams(operator.jetstream(), NODE)
        await operator.close()
        errors: list[Exception] = []
        registry = await as_service(server, "registry", errors)
        js = registry.jetstream(timeout=2)
        # Its own events: stored.
        await js.publish(NODE.local_subject("registry", "member_registered"), b"ok")
        before = await count(server)
        # Another service's subjects, and a consumer that is not its own: refused.
        for subject in (
            NODE.local_subject("notify", "preference_changed"),
            NODE.federated_subject("learning", "item_published"),
        ):
            with pytest.raises(nats.errors.TimeoutError):
                await js.publish(subject, b"forged")
        with pytest.raises(nats.errors.TimeoutError):
            await registry.request(
                f"$JS.API.CONSUMER.DURABLE.CREATE.{NODE.stream_name}.stolen", b"{}", timeout=1
            )
        with pytest.raises(nats.errors.TimeoutError):
            await registry.request(f"$JS.API.STREAM.DELETE.{NODE.stream_name}", b"", timeout=1)
        # Others' replies and events are not its to read.
        await registry.subscribe("_INBOX.>")
        await registry.subscribe("copnet-local.>")
        await registry.flush()
        await asyncio.sleep(0.5)
        await registry.close()
        return before, await count(server), errors

    before, after, errors = asyncio.run(scenario())
    assert before == after == 1
    violations = " ".join(str(error) for error in errors).lower()
    for refused in (
        'publish to "copnet-local.guys.notify.preference_changed"',
        'publish to "copnet.test-region.guys.learning.item_published"',
        'publish to "$js.api.consumer.durable.create.copnet_guys.stolen"',
        'publish to "$js.api.stream.delete.copnet_guys"',
        'subscription to "_inbox.>"',
        'subscription to "copnet-local.>"',
    ):
        assert f"permissions violation for {refused}" in violations, violations


def test_with_a_certificate_the_client_port_speaks_tls_only(tmp_path: Path):
    issued = RegionPki(tmp_path / "pki").server_cert("node", ["127.0.0.1", "localhost"])
    settings = NodeSettings(
        node_id=NODE.node_id,
        region=NODE.region,
        data_dir=tmp_path / "data",
        nats_port=free_port(),
        tls_cert=issued.cert_file,
        tls_key=issued.key_file,
        tls_ca=issued.ca_file,
    )
    server = node_nats_server(settings)
    server.start()
    try:

        async def scenario() -> None:
            seed = server.config.client_seed
            # In clear, even with the operator's key: refused.
            with pytest.raises((nats.errors.Error, nats.errors.NoServersError, OSError)):
                await nats.connect(
                    server.url, nkeys_seed_str=seed, allow_reconnect=False, connect_timeout=2
                )
            # Over TLS trusting another CA: refused.
            other = RegionPki(tmp_path / "other")
            other.ca()  # another region's CA, created
            stranger = ssl.create_default_context(cafile=str(other.ca_file))
            with pytest.raises((nats.errors.Error, nats.errors.NoServersError, ssl.SSLError)):
                await nats.connect(
                    server.url,
                    nkeys_seed_str=seed,
                    tls=stranger,
                    allow_reconnect=False,
                    connect_timeout=2,
                )
            # A service, as the runtime connects it (its key, TLS with the node's CA).
            link = NatsLink(
                server.url,
                "registry-test",
                seed=NodeUsers(settings.data_dir).seed("registry"),
                inbox_prefix=inbox_prefix("registry"),
                tls=client_tls(settings),
            )
            stopping = asyncio.Event()
            running = asyncio.create_task(link.run(stopping))
            client = await asyncio.wait_for(link.client(), 10)
            await client.flush(timeout=2)
            assert client.connected_url is not None and client.is_connected
            stopping.set()
            await running
            await link.close()
            # The operator's tools (NatsServer.connect): TLS with the node's CA.
            operator = await server.connect()
            await operator.flush(timeout=2)
            await operator.close()

        asyncio.run(scenario())
        assert '"cert_file"' in server.config_file.read_text().split("tls:", 1)[1]
    finally:
        server.kill()
