"""A partner node turned attacker: node lewisham's operator, in full control of lewisham's
own nats-server (and so of its leaf link and credentials), tries to forge, read, sabotage
and flood the rest of a region started as `copnet hub` and `copnet up --hub-credentials`
start it. After each attack, guys' genuine items still reach kings exactly once.

guys is the origin (a), kings the receiver (b), lewisham the attacker (c).
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator

import nats
import nats.errors
import pytest
from nats.js.api import StreamConfig

from copnet.learning.v1 import learning_pb2 as lpb
from services.common import messaging, signing
from services.common.inbox import Inbox
from services.common.messaging import NodeIdentity
from services.common.region import HubCredentials
from tests.support.region import REGION, Community, Region, item_envelope
from tests.support.waiting import eventually

NODES = ["guys", "kings", "lewisham"]
GUYS, KINGS, LEWISHAM = (NodeIdentity(n, REGION) for n in NODES)
# Small limits, so that flooding them takes a moment.
LIMITS = {
    "COPNET_FEDERATION_MAX_BYTES": str(512 * 1024),
    "COPNET_FEDERATION_MAX_MSG_SIZE": str(32 * 1024),
}


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    saved = {name: os.environ.get(name) for name in LIMITS}
    os.environ.update(LIMITS)
    region = Region(tmp_path_factory.mktemp("attacks"), NODES)
    try:
        region.subscribe("kings", "guys")
        region.subscribe("lewisham", "guys")
        region.subscribe("kings", "lewisham")
        yield region
    finally:
        region.close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def guys(region: Region) -> Community:
    return region.community("guys", "dip-cop")


def run(coroutine):
    return asyncio.run(coroutine)


def federation_inbox(region: Region, node: str) -> Inbox:
    return next(
        i for i in region[node].runtime("learning").inboxes if i.name.endswith("federation")
    )


def genuine_items_reach_kings_once(region: Region, guys: Community) -> None:
    tag = uuid.uuid4().hex[:8]
    public = region.publish(guys, f"Public {tag}")
    partner = region.publish(
        guys, f"For King's {tag}", visibility=lpb.VISIBILITY_PARTNERS, partners=["kings"]
    )
    eventually(lambda: {public.title, partner.title} <= region.titles("kings"), 60)
    counts = region.received("kings")
    assert counts[public.item_id] == 1 and counts[partner.item_id] == 1


def connect(region: Region, node: str):
    return region[node].nats.connect(connect_timeout=5)


async def refused(region: Region, subjects: list[str], body: bytes = b"{}") -> dict[str, str]:
    """What each request from lewisham's server got: "" when nothing answered."""
    client = await connect(region, "lewisham")
    answers = {}
    try:
        for subject in subjects:
            try:
                reply = await client.request(subject, body, timeout=1.0)
                answers[subject] = reply.data.decode(errors="replace")[:200]
            except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
                answers[subject] = ""
    finally:
        await client.close()
    return answers


def forged_snapshot(origin: str, position: int, title: str) -> bytes:
    return item_envelope(
        origin, origin, position, title, lpb.VISIBILITY_PARTNERS
    ).SerializeToString()


def headers_from(origin: str, position: int, msg_id: str) -> dict[str, str]:
    return {
        messaging.HEADER_MSG_ID: msg_id,
        messaging.HEADER_ORIGIN: origin,
        messaging.HEADER_REGION: REGION,
        messaging.HEADER_SERVICE: "learning",
        messaging.HEADER_POSITION: str(position),
        messaging.HEADER_EVENT_TYPE: "item_published",
    }


def signing_seed(region: Region, node: str) -> str:
    return HubCredentials.load(region.hub.settings.credentials_file(node)).signing_seed


def last_position(region: Region, node: str, route: str) -> int:
    handler = federation_inbox(region, node).handler
    return handler.last_position(route)  # type: ignore[attr-defined]


def test_a_forged_origin_is_refused_and_moves_no_high_water_mark(region, guys):
    genuine_items_reach_kings_once(region, guys)
    route = "guys.learning.for.kings"
    before = last_position(region, "kings", route)
    inbox = federation_inbox(region, "kings")
    refusals = inbox.stats.rejected
    guys_key = signing_seed(region, "guys")

    async def forge() -> None:
        # lewisham turns the stream it shares with kings into one that says "from guys".
        client = await connect(region, "lewisham")
        js = client.jetstream()
        stream = LEWISHAM.partner_stream_name("kings")
        await js.delete_stream(stream)
        await js.add_stream(StreamConfig(name=stream, subjects=["copnet-partners.guys.kings.>"]))
        subject = GUYS.partner_subject("kings", "learning", "item_published")
        position = 10**12
        data = forged_snapshot("guys", position, "Forged from guys")
        headers = headers_from("guys", position, f"forged-{position}")
        # Even a genuine-looking signature (guys' key is not lewisham's to have; this
        # stands for a signature copied from another of guys' messages) does not help.
        headers.update(signing.Signer(guys_key).message_headers(subject, headers, data))
        await js.publish(subject, data, headers=headers)
        await client.close()

    run(forge())
    eventually(lambda: inbox.stats.rejected > refusals, 30)
    assert "came from stream 'COPNET_LEWISHAM_FOR_KINGS'" in inbox.stats.refusals[-1][2]
    assert "Forged from guys" not in region.titles("kings")
    assert last_position(region, "kings", route) == before
    genuine_items_reach_kings_once(region, guys)


def guys_stream_publish(region: Region, subject: str, data: bytes, headers: dict[str, str]):
    async def publish() -> None:
        client = await connect(region, "guys")
        await client.jetstream().publish(subject, data, headers=headers)
        await client.close()

    run(publish())


def test_a_replayed_message_under_a_new_position_fails_its_signature(region, guys):
    """guys' genuine message, copied from what lewisham legitimately received, sent again
    by guys' own route with a new position: the signature no longer matches."""
    item = region.publish(guys, "Replay me")
    eventually(lambda: "Replay me" in region.titles("lewisham"), 60)

    async def copy_genuine():
        client = await connect(region, "lewisham")
        js = client.jetstream()
        stream = LEWISHAM.federation_stream_name
        info = await js.stream_info(stream)
        for sequence in range(info.state.last_seq, 0, -1):
            message = await js.get_msg(stream, sequence)
            if item.item_id.encode() in message.data:
                await client.close()
                return message
        raise AssertionError("guys' message is not in lewisham's federation stream")

    genuine = run(copy_genuine())
    headers = dict(genuine.headers or {})
    assert headers.get(signing.HEADER_SIGNATURE), "guys signs what it publishes"
    inbox = federation_inbox(region, "kings")
    refusals = inbox.stats.rejected
    from copnet.integration.v1 import envelope_pb2

    envelope = envelope_pb2.Envelope.FromString(genuine.data)
    envelope.position += 1000
    headers[messaging.HEADER_POSITION] = str(envelope.position)
    headers[messaging.HEADER_MSG_ID] = f"replay-{envelope.position}"
    headers.pop("Nats-Stream-Source", None)
    guys_stream_publish(region, genuine.subject, envelope.SerializeToString(), headers)
    eventually(lambda: inbox.stats.rejected > refusals, 30)
    assert "signature does not verify" in inbox.stats.refusals[-1][2]
    assert region.received("kings")[item.item_id] == 1
    genuine_items_reach_kings_once(region, guys)


def test_an_implausible_jump_in_position_is_refused(region, guys):
    """Even signed with guys' key (as if guys' services were compromised), a position far past
    the last one is refused, and does not become guys' high-water mark on kings."""
    genuine_items_reach_kings_once(region, guys)
    route = "guys.learning"
    before = last_position(region, "kings", route)
    inbox = federation_inbox(region, "kings")
    refusals = inbox.stats.rejected
    seed = signing_seed(region, "guys")
    position = before + 50_000_000
    subject = GUYS.federated_subject("learning", "item_published")
    data = forged_snapshot("guys", position, "Far ahead")
    headers = headers_from("guys", position, f"jump-{position}")
    headers.update(signing.Signer(seed).message_headers(subject, headers, data))
    guys_stream_publish(region, subject, data, headers)
    eventually(lambda: inbox.stats.rejected > refusals, 30)
    assert "jumps more than" in inbox.stats.refusals[-1][2]
    assert last_position(region, "kings", route) == before
    assert "Far ahead" not in region.titles("kings")
    genuine_items_reach_kings_once(region, guys)


def test_other_nodes_streams_cannot_be_read_consumed_or_managed(region, guys):
    genuine_items_reach_kings_once(region, guys)
    a, b = "$JS.guys.API", "$JS.kings.API"
    for_kings = GUYS.partner_stream_name("kings")
    federation = KINGS.federation_stream_name
    attempts = [
        f"{a}.STREAM.MSG.GET.{for_kings}",
        f"{a}.DIRECT.GET.{for_kings}",
        f"{a}.DIRECT.GET.{for_kings}.{GUYS.partner_subject('kings', 'learning', 'item_published')}",
        f"{a}.CONSUMER.CREATE.{for_kings}",
        f"{a}.CONSUMER.CREATE.{for_kings}.stolen.>",
        f"{a}.CONSUMER.DURABLE.CREATE.{for_kings}.stolen",
        f"{a}.STREAM.INFO.{for_kings}",
        f"{a}.STREAM.INFO.{GUYS.stream_name}",
        f"{a}.STREAM.MSG.GET.{GUYS.stream_name}",
        f"{a}.STREAM.NAMES",
        f"{a}.STREAM.UPDATE.{GUYS.public_stream_name}",
        f"{a}.STREAM.PURGE.{GUYS.public_stream_name}",
        f"{a}.CONSUMER.LIST.{GUYS.public_stream_name}",
        f"{b}.STREAM.MSG.GET.{federation}",
        f"{b}.DIRECT.GET.{federation}",
        f"{b}.CONSUMER.CREATE.{federation}",
        f"{b}.CONSUMER.DURABLE.CREATE.{federation}.stolen",
        f"{b}.STREAM.INFO.{federation}",
        f"{b}.STREAM.LIST",
        # The hub's own JetStream: the directory, and room for streams.
        "$JS.hub.API.STREAM.PURGE.COPNET_REGION",
        "$JS.hub.API.STREAM.DELETE.COPNET_REGION",
        "$JS.hub.API.STREAM.MSG.DELETE.COPNET_REGION",
        "$JS.hub.API.STREAM.CREATE.ROGUE",
        "$JS.hub.API.INFO",
    ]
    answers = run(refused(region, attempts))
    assert {subject: answer for subject, answer in answers.items() if answer} == {}
    # What lewisham is granted does answer (so the refusals above are the hub's doing).
    allowed = [
        f"{a}.STREAM.INFO.{GUYS.public_stream_name}",
        f"{a}.STREAM.INFO.{GUYS.partner_stream_name('lewisham')}",
    ]
    assert all(run(refused(region, allowed)).values())
    genuine_items_reach_kings_once(region, guys)


def foreign_delivery(subject: str) -> bool:
    """A delivery between two other nodes (`copnet-deliver.<reader>.<origin>.…`)."""
    tokens = subject.split(".")
    return tokens[0] == messaging.DELIVER_ROOT and "lewisham" not in tokens[1:3]


def test_a_node_cannot_watch_other_nodes_traffic(region, guys):
    seen: list[tuple[str, bytes]] = []
    marker = f"Confidential {uuid.uuid4().hex[:8]}"

    async def watch() -> None:
        client = await connect(region, "lewisham")

        async def keep(message) -> None:
            seen.append((message.subject, message.data))

        for subject in (">", "_INBOX.>", "$JS.>"):
            await client.subscribe(subject, cb=keep)
        await client.flush()
        await asyncio.to_thread(
            region.publish,
            guys,
            marker,
            visibility=lpb.VISIBILITY_PARTNERS,
            partners=["kings"],
        )
        await asyncio.to_thread(eventually, lambda: marker in region.titles("kings"), 60)
        await asyncio.sleep(2)
        await client.close()

    run(watch())
    assert seen, "lewisham's own traffic is visible to it"
    foreign = [
        subject
        for subject, data in seen
        if marker.encode() in data
        or "COPNET_GUYS_FOR_KINGS" in subject
        or foreign_delivery(subject)
        or "KINGS_FEDERATION" in subject
        or subject.startswith("copnet-partners.guys.kings")
    ]
    assert foreign == []


def test_another_nodes_consumer_cannot_be_touched_and_a_changed_one_is_restored(region, guys):
    consumer = "learning-federation"
    stream = KINGS.federation_stream_name
    api = "$JS.kings.API.CONSUMER"
    answers = run(
        refused(
            region,
            [
                f"{api}.PAUSE.{stream}.{consumer}",
                f"{api}.DELETE.{stream}.{consumer}",
                f"{api}.CREATE.{stream}.{consumer}",
                f"{api}.INFO.{stream}.{consumer}",
            ],
            b'{"pause_until": "2036-01-01T00:00:00Z"}',
        )
    )
    assert {subject: answer for subject, answer in answers.items() if answer} == {}

    # On kings itself (an operator's slip, or a local intruder): paused for ten years,
    # its filter changed, deleted: the inbox puts it back each time and carries on.
    inbox = federation_inbox(region, "kings")

    async def on_kings(action: str) -> None:
        client = await connect(region, "kings")
        js = client.jetstream()
        if action == "pause":
            await js.pause_consumer(stream, consumer, "2036-01-01T00:00:00Z")
        elif action == "change":
            info = await js.consumer_info(stream, consumer)
            config = info.config
            config.filter_subjects = ["copnet-partners.nobody.>"]
            await js.add_consumer(stream, config)
        else:
            await js.delete_consumer(stream, consumer)
        await client.close()

    async def paused() -> bool:
        client = await connect(region, "kings")
        try:
            info = await client.jetstream().consumer_info(stream, consumer)
            return bool(info.paused) or info.config.filter_subjects != inbox.subjects
        except nats.js.errors.NotFoundError:
            return True
        finally:
            await client.close()

    for action in ("pause", "change", "delete"):
        repairs = inbox.stats.consumer_repairs
        run(on_kings(action))
        eventually(lambda: not run(paused()), 30)
        if action != "delete":
            assert inbox.stats.consumer_repairs > repairs
        genuine_items_reach_kings_once(region, guys)


def test_node_credentials_work_only_as_a_leaf_link(region):
    credentials = HubCredentials.load(region.hub.settings.credentials_file("lewisham"))
    with pytest.raises(Exception):  # noqa: B017 - refused with an authorization error
        run(
            nats.connect(
                region.hub.admin_url,
                nkeys_seed_str=credentials.leaf_seed,
                connect_timeout=2,
                max_reconnect_attempts=0,
                allow_reconnect=False,
            )
        )
    config = region.hub.server.config_file.read_text()
    assert oct(region.hub.server.config_file.stat().st_mode & 0o777) == "0o600"
    assert credentials.leaf_seed not in config
    assert re.findall(r"\bS[A-Z][A-Z2-7]{56}\b", config) == []  # no nkey seed of any kind
    assert signing.public_key(credentials.leaf_seed) in config


def test_flooding_stops_at_the_limits(region, guys):
    junk = os.urandom(16 * 1024)

    async def flood() -> None:
        # lewisham fills its region-wide stream, which kings subscribes to, with junk.
        client = await connect(region, "lewisham")
        js = client.jetstream()
        subject = LEWISHAM.federated_subject("learning", "junk")
        for i in range(64):  # 1 MiB: twice what kings keeps
            await js.publish(subject, junk, headers={messaging.HEADER_MSG_ID: f"junk-{i}"})
        # One message bigger than kings takes from anyone (it holds up only lewisham's link).
        await js.publish(subject, os.urandom(64 * 1024), headers={"Nats-Msg-Id": "huge"})
        await client.close()

    async def federation_info():
        client = await connect(region, "kings")
        try:
            return await client.jetstream().stream_info(KINGS.federation_stream_name)
        finally:
            await client.close()

    run(flood())
    eventually(lambda: run(federation_info()).state.bytes > 384 * 1024, 60)
    info = run(federation_info())
    assert info.config.max_bytes == 512 * 1024
    assert info.config.max_age and info.config.max_age >= 7 * 86400
    assert info.config.max_msg_size and info.config.max_msg_size <= 64 * 1024
    genuine_items_reach_kings_once(region, guys)
    info = run(federation_info())
    assert info.state.bytes <= 512 * 1024
