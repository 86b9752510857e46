"""Consuming integration events from a real nats-server into a read model, exactly once."""

from __future__ import annotations

import asyncio
import threading
import time

import nats
import pytest
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.wrappers_pb2 import StringValue

from copnet.integration.v1 import envelope_pb2
from copnet.registry.v1 import registry_events_pb2
from services.common.inbox import (
    ACK_WAIT,
    BATCH_SIZE,
    Inbox,
    RejectedMessage,
    read_message,
)
from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.common.sqlstore import SqlStore
from services.registry.service import DEFINITION
from tests.support.aio import LoopThread
from tests.support.ledger import IDENTITY, EventLedger, ledger_inbox
from tests.support.registry_load import RegistryLoad
from tests.support.streams import read_stream
from tests.support.waiting import eventually


class RunningInbox:
    """An inbox and the NATS connection it uses, on a loop of their own."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.loop = LoopThread()
        self.stopping = asyncio.Event()
        self.task = asyncio.run_coroutine_threadsafe(self._run(), self.loop.loop)

    async def _run(self) -> None:
        self.stopping = asyncio.Event()
        try:
            await asyncio.gather(self.inbox.link.run(self.stopping), self.inbox.run(self.stopping))
        finally:
            await self.inbox.link.close()

    def stop(self) -> None:
        self.loop.loop.call_soon_threadsafe(self.stopping.set)
        self.task.result(20)
        self.loop.close()


@pytest.fixture
def node(node_settings: NodeSettings, nats_server):
    settings = node_settings.with_overrides(nats_url=nats_server.url)
    thread = ServiceThread(lambda: ServiceRuntime(DEFINITION, settings, roles=("worker",)))
    runtime = thread.start()
    yield runtime, settings
    thread.stop()


def ledger(settings: NodeSettings) -> EventLedger:
    settings.stores.prepare("tests")
    return EventLedger(SqlStore("tests_ledger", settings.stores.tracking_env("tests", "ledger")))


def start_inbox(view: EventLedger, nats_url: str, batch_size: int = BATCH_SIZE) -> RunningInbox:
    return RunningInbox(ledger_inbox(view, nats_url, batch_size))


def relayed_ids(nats_url: str) -> list[str]:
    return [m.envelope.event_id for m in read_stream(nats_url, IDENTITY.stream_name)]


@pytest.mark.both_stores
def test_every_event_applied_once_in_order_across_restarts_and_replays(node, nats_server):
    runtime, settings = node
    load = RegistryLoad(runtime.app)
    for _ in range(4):
        load.step()
    view = ledger(settings)
    running = start_inbox(view, nats_server.url)
    try:
        eventually(lambda: set(view.counts()) == set(relayed_ids(nats_server.url)))
        assert view.order == sorted(view.order)
    finally:
        running.stop()

    # More events while the consumer is down; it catches up after.
    for _ in range(3):
        load.step()
    eventually(lambda: runtime.relay.position == runtime.app.recorder.max_notification_id())

    # Someone re-publishes every event under new message ids (past the duplicate window).
    originals = read_stream(nats_server.url, IDENTITY.stream_name)

    async def republish() -> None:
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        for stored in originals:
            headers = {**stored.headers, "Nats-Msg-Id": stored.headers["Nats-Msg-Id"] + ".again"}
            await js.publish(stored.subject, stored.envelope.SerializeToString(), headers=headers)
        await nc.close()

    asyncio.run(republish())
    running = start_inbox(view, nats_server.url)
    try:
        eventually(
            lambda: running.inbox.stats.duplicates >= 7 * 2 and running.inbox.stats.pending == 0
        )
        counts = view.counts()
        assert set(counts) == {m.split(".again")[0] for m in relayed_ids(nats_server.url)}
        assert set(counts.values()) == {1}, "an event took effect twice"
        assert running.inbox.stats.batches >= 1, "the copies came as one fetch: one batch"
    finally:
        running.stop()


def test_a_message_refused_inside_a_batch_leaves_the_others_applied(node, nats_server):
    runtime, settings = node
    load = RegistryLoad(runtime.app)
    for _ in range(3):
        load.step()
    eventually(lambda: runtime.relay.position == runtime.app.recorder.max_notification_id())
    stream = [m.envelope for m in read_stream(nats_server.url, IDENTITY.stream_name)]
    poison = stream[len(stream) // 2]
    view = ledger(settings)
    view.refuse = {poison.position}
    running = start_inbox(view, nats_server.url)
    try:
        eventually(lambda: running.inbox.stats.rejected == 1 and running.inbox.stats.pending == 0)
        eventually(lambda: len(view.counts()) == len(stream) - 1)
        assert poison.event_id not in view.counts()
        assert view.applied_order() == [e.position for e in stream if e != poison]
        assert set(view.counts().values()) == {1}
    finally:
        running.stop()


@pytest.mark.both_stores
def test_a_rebuilt_view_consumes_from_the_start(node, nats_server):
    runtime, settings = node
    load = RegistryLoad(runtime.app)
    for _ in range(3):
        load.step()
    # Everything stored is on the stream before the view is compared with the stream.
    eventually(lambda: runtime.relay.position == runtime.app.recorder.max_notification_id())
    view = ledger(settings)
    running = start_inbox(view, nats_server.url)
    eventually(lambda: len(view.counts()) == len(relayed_ids(nats_server.url)))
    running.stop()
    before = view.counts()
    view.reset()
    assert view.is_empty() and view.counts() == {}
    running = start_inbox(view, nats_server.url)
    try:
        eventually(lambda: view.counts() == before)
    finally:
        running.stop()


def test_a_failing_handler_parks_the_inbox_on_that_message(node, nats_server):
    runtime, settings = node
    load = RegistryLoad(runtime.app)
    for _ in range(2):
        load.step()
    view = ledger(settings)
    # The inbox may try the messages as one batch first (one failure), then one at a time.
    view.fail_next = 3
    running = start_inbox(view, nats_server.url)
    try:
        eventually(lambda: running.inbox.stats.failures == 2)
        assert view.counts() == {}, "nothing after the failing message was applied"
        eventually(lambda: len(view.counts()) == len(relayed_ids(nats_server.url)), timeout=30)
        assert view.order == sorted(view.order)
        assert running.inbox.stats.parked_on == ""
    finally:
        running.stop()


def test_a_consumer_killed_in_the_middle_of_a_message_hands_it_over_within_the_ack_wait(
    node, nats_server
):
    runtime, settings = node
    RegistryLoad(runtime.app)
    eventually(lambda: len(relayed_ids(nats_server.url)) == 1)
    view = ledger(settings)
    release = threading.Event()
    view.hold = release
    first = start_inbox(view, nats_server.url)
    eventually(view.holding.is_set)
    time.sleep(3)  # longer than a progress acknowledgement's interval: it keeps the message
    assert view.counts() == {}
    # The process dies: its connection goes, nothing is acknowledged.
    asyncio.run_coroutine_threadsafe(first.inbox.link.close(), first.loop.loop).result(10)
    killed = time.monotonic()
    release.set()
    second = start_inbox(view, nats_server.url)
    try:
        eventually(lambda: len(view.counts()) == 1, timeout=30)
        handed_over = time.monotonic() - killed
        assert handed_over < ACK_WAIT + 3, f"redelivered after {handed_over:.1f}s"
        assert set(view.counts().values()) == {1}
    finally:
        second.stop()
        first.stop()


@pytest.mark.both_stores
def test_the_store_away_keeps_the_message_until_it_can_be_applied(node, nats_server):
    runtime, settings = node
    load = RegistryLoad(runtime.app)
    for _ in range(2):
        load.step()
    view = ledger(settings)
    # Four failed attempts: back-offs of 0.2, 0.4, 0.8 and 1.6 s before the fifth applies.
    view.unavailable_next = 4
    running = start_inbox(view, nats_server.url)
    try:
        eventually(lambda: not running.inbox.progress.healthy)
        eventually(lambda: len(view.counts()) == len(relayed_ids(nats_server.url)), timeout=60)
        eventually(lambda: running.inbox.progress.healthy)
        assert view.order == sorted(view.order)
        assert running.inbox.stats.parked_on == "", "an outage is not a poison message"
        assert set(view.counts().values()) == {1}
    finally:
        running.stop()


def test_spoofed_and_unknown_messages(node, nats_server):
    runtime, settings = node
    RegistryLoad(runtime.app)  # one organisation_registered event
    eventually(lambda: len(relayed_ids(nats_server.url)) == 1)
    genuine = read_stream(nats_server.url, IDENTITY.stream_name)[0]

    async def publish_forgeries() -> None:
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        forged = envelope_pb2.Envelope()
        forged.CopyFrom(genuine.envelope)
        forged.origin_node = "othernode"
        forged.position = 9000
        headers = {**genuine.headers, "copnet-position": "9000", "Nats-Msg-Id": "forged-1"}
        await js.publish(genuine.subject, forged.SerializeToString(), headers=headers)
        await js.publish(genuine.subject, b"\xff\xff not protobuf", headers={"Nats-Msg-Id": "junk"})
        newer = envelope_pb2.Envelope()
        newer.CopyFrom(genuine.envelope)
        newer.position, newer.event_type = 9001, "organisation_twinned"
        newer.payload.Pack(StringValue(value="from a newer schema"))
        newer.payload.type_url = "type.googleapis.com/copnet.registry.v2.OrganisationTwinned"
        subject = genuine.subject.replace("organisation_registered", "organisation_twinned")
        headers = {
            **genuine.headers,
            "copnet-position": "9001",
            "Nats-Msg-Id": "newer",
            "copnet-event-type": "organisation_twinned",
        }
        await js.publish(subject, newer.SerializeToString(), headers=headers)
        await nc.close()

    asyncio.run(publish_forgeries())
    view = ledger(settings)
    running = start_inbox(view, nats_server.url)
    try:
        eventually(lambda: running.inbox.stats.rejected == 2 and running.inbox.stats.applied == 2)
        assert list(view.counts()) == [genuine.envelope.event_id]
        assert view.store.max_tracking_id("testnode.registry") == 9001
    finally:
        running.stop()


class TestReadMessage:
    def envelope(self, **changes) -> envelope_pb2.Envelope:
        payload = AnyMessage()
        payload.Pack(registry_events_pb2.OrganisationRetired(organisation_id="x"))
        fields = dict(
            event_id="guys.registry.7",
            origin_region="sel",
            origin_node="guys",
            service="registry",
            position=7,
            event_type="organisation_retired",
            payload=payload,
        )
        fields.update(changes)
        return envelope_pb2.Envelope(**fields)

    headers = {"copnet-origin": "guys", "copnet-service": "registry", "copnet-position": "7"}
    subject = "copnet.sel.guys.registry.organisation_retired"

    def test_a_consistent_message_is_read_with_its_payload(self):
        message = read_message(self.subject, self.headers, self.envelope().SerializeToString())
        assert message.tracking.application_name == "guys.registry"
        assert message.tracking.notification_id == 7
        assert message.payload.organisation_id == "x"

    @pytest.mark.parametrize(
        "subject, headers, envelope_changes, reason",
        [
            ("copnet.sel.kings.registry.organisation_retired", None, {}, "origin"),
            (None, {"copnet-origin": "kings"}, {}, "origin"),
            (None, None, {"origin_node": "kings"}, "origin"),
            (None, None, {"origin_region": "nel"}, "region"),
            (None, None, {"service": "events"}, "service"),
            (None, {"copnet-position": "8"}, {}, "position"),
            (None, None, {"event_type": "organisation_renamed"}, "event type"),
            ("copnet.sel.guys.registry", None, {}, "not a copnet"),
            ("other.sel.guys.registry.x", None, {}, "not a copnet"),
        ],
    )
    def test_disagreeing_statements_are_rejected(self, subject, headers, envelope_changes, reason):
        with pytest.raises(RejectedMessage, match=reason):
            read_message(
                subject or self.subject,
                {**self.headers, **(headers or {})},
                self.envelope(**envelope_changes).SerializeToString(),
            )

    def test_copies_addressed_to_a_partner(self):
        subject = "copnet-partners.guys.kings.registry.organisation_retired"
        data = self.envelope().SerializeToString()
        message = read_message(subject, self.headers, data, recipient="kings")
        assert message.addressed_to == "kings"
        assert message.tracking.application_name == "guys.registry.for.kings"
        with pytest.raises(RejectedMessage, match="addressed to 'kings', not 'lewisham'"):
            read_message(subject, self.headers, data, recipient="lewisham")

    def test_local_subjects_carry_no_region(self):
        message = read_message(
            "copnet-local.guys.registry.organisation_retired",
            self.headers,
            self.envelope().SerializeToString(),
        )
        assert message.origin == "guys.registry"
