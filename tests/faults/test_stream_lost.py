"""A node stream deleted behind the node's back: the relays stop and say so instead of
publishing into a fresh, empty stream; `copnet republish` publishes the whole log again, and
consumers apply nothing twice."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import nats
import pytest

from services.common.settings import available_services
from tests.support import natsauth
from tests.support.node_process import COPNET, NOT_SERVING, NodeClient, RunningNode
from tests.support.streams import read_stream
from tests.support.waiting import eventually

pytestmark = pytest.mark.faults

STREAM = "COPNET_GUYS"


@pytest.fixture
def node(tmp_path: Path):
    running = RunningNode(tmp_path / "data")
    yield running
    running.kill_everything()


def delete_stream(url: str, stream: str) -> None:
    async def delete() -> None:
        client = await natsauth.connect(url)
        try:
            await client.jetstream().delete_stream(stream)
        finally:
            await client.close()

    asyncio.run(delete())


def stream_exists(url: str, stream: str) -> bool:
    async def exists() -> bool:
        client = await natsauth.connect(url)
        try:
            await client.jetstream().stream_info(stream)
        except nats.js.errors.NotFoundError:
            return False
        finally:
            await client.close()
        return True

    return asyncio.run(exists())


def positions(url: str, service: str) -> list[int]:
    return [m.envelope.position for m in read_stream(url, STREAM) if m.envelope.service == service]


def test_a_deleted_node_stream_stops_the_relays_until_the_operator_republishes(node: RunningNode):
    node.start()
    eventually(node.all_serving, 30)
    client = NodeClient(node)
    organisation = client.organisation()
    lead = client.member(organisation, "Lead")
    community = client.community(lead, "cancer-cop")
    convening = client.convening_once_known(community, lead, "Launch")
    members = [client.member(organisation, f"Early {i}") for i in range(5)]
    for member in members:
        client.join(community, member)
    eventually(lambda: len(positions(node.nats_url, "registry")) >= 13, 30)
    before = positions(node.nats_url, "registry")

    delete_stream(node.nats_url, STREAM)
    deleted = time.monotonic()
    # Alerted within seconds, even with nothing new to publish ...
    eventually(lambda: node.log_text().count("STOPPED: the node stream COPNET_GUYS") >= 4, 20)
    eventually(lambda: all(node.health(s) == NOT_SERVING for s in available_services()), 10)
    alerted = time.monotonic() - deleted
    # ... and new commands still succeed (they are in the store) but nothing recreates the stream.
    late = client.member(organisation, "During the alarm")
    client.join(community, late)
    time.sleep(3)
    assert not stream_exists(node.nats_url, STREAM), "a relay recreated the stream silently"

    result = subprocess.run(
        [*COPNET, "republish", "--data-dir", str(node.data_dir)],
        capture_output=True,
        text=True,
        env=node.environment(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    eventually(node.all_serving, 30)
    eventually(lambda: len(positions(node.nats_url, "registry")) >= len(before) + 2, 30)
    after = positions(node.nats_url, "registry")
    assert after == sorted(set(after)), "the whole log again, in order, each event once"
    assert set(before) < set(after)

    # Consumers applied nothing twice and missed nothing: every member can sign up, once.
    for member in [*members, late]:
        eventually(lambda m=member: _signs_up(client, convening, m), 60, interval=0.2)
    invitations = client.invitations(lead)
    assert [n.convening_id for n in invitations] == [convening], "one invitation, not two"
    print(f"alarm raised {alerted:.1f}s after the stream was deleted")
    assert node.stop() == 0


def _signs_up(client: NodeClient, convening: str, member: str) -> bool:
    import grpc

    try:
        client.sign_up(convening, member, 5)
    except grpc.RpcError as error:
        assert error.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAVAILABLE)
        return False
    return True
