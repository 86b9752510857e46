"""Consuming integration events from JetStream, exactly once in effect.

An `Inbox` is a durable pull consumer on one stream. It hands each message,
checked and decoded, to a handler that writes its effects and the tracking
record `(<origin node>.<service>, position)` in one transaction, then acks
with `ack_sync` (the server confirms). So:
- redelivery after a crash, a republished copy past the duplicate window, or a
  copy that arrived by two routes is recognised by its tracking and only acked;
- messages are processed strictly one at a time in stream order
  (`max_ack_pending=1`), which high-water-mark tracking requires: a lower
  position arriving after a higher one would otherwise be taken for a duplicate;
- a message whose origin headers, subject and envelope disagree (spoofing), or
  that cannot be decoded, or that its handler refuses (`RejectedMessage`), is
  terminated and reported, never applied;
- while the store is unavailable the message is kept (progress acknowledgements
  stop JetStream from redelivering it) and applied again after a capped
  back-off; any other handler failure is retried with growing delays: the
  consumer parks on that message (and reports it) rather than skip it;
- the ack wait is short (5 s): a consumer killed in the middle of a message
  holds it up for seconds, not half a minute; a slow handler keeps its message
  by acknowledging progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import nats.errors
import nats.js.errors
from eventsourcing.persistence import IntegrityError, Tracking
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from copnet.integration.v1 import envelope_pb2
from services.common import messaging
from services.common.health import Backoff, Progress, describe_error
from services.common.natslink import NatsLink
from services.common.projection import Projection
from services.common.sqlstore import SqlTx
from services.common.stores import STORE_OUTAGES

log = logging.getLogger(__name__)
tracer = trace.get_tracer("copnet.inbox")

FETCH_TIMEOUT = 1.0
MAX_RETRY_DELAY = 60.0
# Seconds JetStream waits for an ack before redelivering (kept alive while working).
ACK_WAIT = 5.0
# How long an inbox waits quietly for its stream to be created (a node's first start).
STREAM_GRACE = 15.0
# How often an idle inbox checks that its consumer still exists.
CONSUMER_CHECK_INTERVAL = 10.0


class RejectedMessage(Exception):
    """A message that must never be applied: spoofed, inconsistent or undecodable."""


@dataclass(frozen=True)
class IntegrationMessage:
    subject: str
    envelope: envelope_pb2.Envelope
    # None when this consumer does not know the payload's type (a newer producer).
    payload: Message | None
    # The partner node a copy was addressed to; "" for region-wide and local events.
    addressed_to: str = ""

    @property
    def origin(self) -> str:
        """Whose log the event comes from, and by which route: one ordered sequence each.

        Region-wide and local events of a node reach a consumer through one
        stream in log order; copies addressed to a partner come through another
        route, which may interleave with the first in any order.
        """
        base = f"{self.envelope.origin_node}.{self.envelope.service}"
        return f"{base}.for.{self.addressed_to}" if self.addressed_to else base

    @property
    def tracking(self) -> Tracking:
        return Tracking(self.origin, self.envelope.position)

    @property
    def event_type(self) -> str:
        return self.envelope.event_type


def _payload_class(type_url: str) -> type[Message] | None:
    name = type_url.rsplit("/", 1)[-1]
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(name)
    except KeyError:
        return None
    return message_factory.GetMessageClass(descriptor)


def read_message(
    subject: str, headers: dict[str, str] | None, data: bytes, recipient: str | None = None
) -> IntegrationMessage:
    """Decodes a message and checks that every statement of its origin agrees.

    `recipient` is the consuming node: a copy addressed to another node is refused.
    """
    headers = headers or {}
    tokens = subject.split(".")
    addressed_to = ""
    if tokens[0] == messaging.FEDERATED_ROOT and len(tokens) == 5:
        region, node, service, event_type = tokens[1:]
    elif tokens[0] == messaging.PARTNERS_ROOT and len(tokens) == 5:
        region, (node, addressed_to, service, event_type) = None, tokens[1:]
        if recipient is not None and addressed_to != recipient:
            raise RejectedMessage(f"{subject} is addressed to {addressed_to!r}, not {recipient!r}")
    elif tokens[0] == messaging.LOCAL_ROOT and len(tokens) == 4:
        region, (node, service, event_type) = None, tokens[1:]
    else:
        raise RejectedMessage(f"{subject} is not a copnet integration subject")
    try:
        envelope = envelope_pb2.Envelope.FromString(data)
    except DecodeError as error:
        raise RejectedMessage(f"undecodable envelope on {subject}: {error}") from None
    claims = {
        "origin header": headers.get(messaging.HEADER_ORIGIN),
        "envelope origin": envelope.origin_node,
    }
    if any(claim != node for claim in claims.values()):
        raise RejectedMessage(f"{subject} claims origin {claims}, but its subject says {node!r}")
    if envelope.service != service or headers.get(messaging.HEADER_SERVICE) != service:
        raise RejectedMessage(f"{subject}: service {envelope.service!r} does not match")
    if region is not None and envelope.origin_region != region:
        raise RejectedMessage(f"{subject}: region {envelope.origin_region!r} does not match")
    if envelope.event_type != event_type:
        raise RejectedMessage(f"{subject}: event type {envelope.event_type!r} does not match")
    if headers.get(messaging.HEADER_POSITION) != str(envelope.position) or not envelope.position:
        raise RejectedMessage(f"{subject}: position header does not match the envelope")
    payload_class = _payload_class(envelope.payload.type_url)
    payload = None
    if payload_class is not None:
        payload = payload_class()
        if not envelope.payload.Unpack(payload):
            raise RejectedMessage(f"{subject}: payload is not a {envelope.payload.type_url}")
    return IntegrationMessage(subject, envelope, payload, addressed_to)


class IntegrationHandler(Protocol):
    def handle(self, message: IntegrationMessage) -> bool:
        """Applies the message with its tracking; False if it was applied before."""


class InboxView(Projection):
    """A read model fed by integration events (possibly from several origins)."""

    upstream = ""

    def handle(self, message: IntegrationMessage) -> bool:
        try:
            with self.store.transaction() as tx:
                tx.track(message.tracking)
                if message.payload is not None:
                    self.apply(message, tx)
        except IntegrityError:
            return False
        return True

    def apply(self, message: IntegrationMessage, tx: SqlTx) -> None:
        raise NotImplementedError

    def is_empty(self) -> bool:
        with self.store.read() as tx:
            return tx.one(f"SELECT 1 AS found FROM {self.store.tracking_table} LIMIT 1") is None


@dataclass
class InboxStats:
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    failures: int = 0
    pending: int = 0
    parked_on: str = ""
    rejected_subjects: list[str] = field(default_factory=list)


class Inbox:
    def __init__(
        self,
        name: str,
        stream: str,
        subjects: Sequence[str],
        handler: IntegrationHandler,
        link: NatsLink,
        ack_wait: float = ACK_WAIT,
        recipient: str | None = None,
    ) -> None:
        self.name = name
        self.stream = stream
        self.subjects = list(subjects)
        self.handler = handler
        self.link = link
        self.ack_wait = ack_wait
        self.recipient = recipient
        self.stats = InboxStats()
        self.progress = Progress(f"inbox {name}")

    @property
    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            filter_subjects=self.subjects,
            max_ack_pending=1,
            ack_wait=self.ack_wait,
            max_deliver=-1,
        )

    async def run(self, stopping: asyncio.Event) -> None:
        js = (await self.link.client()).jetstream()
        subscription = None
        backoff = Backoff(base=0.2, cap=5.0)
        idle_since = time.monotonic()
        started = time.monotonic()
        while not stopping.is_set():
            try:
                if subscription is None:
                    try:
                        subscription = await self._bind(js)
                    except nats.js.errors.NotFoundError:
                        if time.monotonic() - started > STREAM_GRACE:
                            raise
                        # At a node's first start its streams are being created right now.
                        log.info("inbox %s: waiting for stream %s", self.name, self.stream)
                        self.progress.beat()
                        await backoff.wait(stopping, 0.5)
                        continue
                    self.progress.ok()
                    idle_since = time.monotonic()
                try:
                    messages = await subscription.fetch(1, timeout=FETCH_TIMEOUT)
                except nats.errors.TimeoutError:
                    if time.monotonic() - idle_since > CONSUMER_CHECK_INTERVAL:
                        await js.consumer_info(self.stream, self.name)  # still there?
                        idle_since = time.monotonic()
                    self.progress.beat()
                    continue
                for message in messages:
                    await self._process(message, stopping)
                idle_since = time.monotonic()
                backoff.reset()
            except Exception as error:
                await _drop(subscription)
                subscription = None
                delay = backoff.next_delay()
                self.stats.failures += 1
                self.progress.failing(
                    f"cannot consume {self.stream}: {describe_error(error)}", delay
                )
                await backoff.wait(stopping, delay)
        await _drop(subscription)

    async def _bind(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        """Creates (or brings up to date) the durable consumer, then binds to it."""
        is_empty = getattr(self.handler, "is_empty", None)
        if is_empty is not None and await asyncio.to_thread(is_empty):
            # Nothing applied yet (a new or rebuilt view): consume from the start.
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_consumer(self.stream, self.name)
        try:
            await js.add_consumer(self.stream, self.consumer_config)
        except nats.js.errors.BadRequestError:
            # An incompatible older definition: recreate it. Tracking absorbs the replay.
            await js.delete_consumer(self.stream, self.name)
            await js.add_consumer(self.stream, self.consumer_config)
        return await js.pull_subscribe_bind(durable=self.name, stream=self.stream)

    async def _reject(self, raw: Msg, error: RejectedMessage) -> None:
        """Never applied, never retried: terminated and reported."""
        self.stats.rejected += 1
        self.stats.rejected_subjects.append(raw.subject)
        log.error("inbox %s rejected a message and will not apply it: %s", self.name, error)
        await raw.term()

    async def _process(self, raw: Msg, stopping: asyncio.Event) -> None:
        try:
            message = read_message(raw.subject, raw.headers, raw.data, self.recipient)
        except RejectedMessage as error:
            await self._reject(raw, error)
            return
        context = propagate.extract(raw.headers or {})
        with tracer.start_as_current_span(
            f"process {raw.subject}",
            context=context,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": raw.subject,
                "messaging.consumer.group.name": self.name,
                "messaging.message.id": message.envelope.event_id,
            },
        ):
            keep = asyncio.create_task(self._keep_in_progress(raw))
            try:
                applied = await self._apply(message, stopping)
            except RejectedMessage as error:
                await self._reject(raw, error)
                return
            except Exception as error:
                await self._park(raw, message, error)
                return
            finally:
                keep.cancel()
        if applied is None:
            return  # stopping while the store was away: redelivered after the restart
        self.stats.parked_on = ""
        if applied:
            self.stats.applied += 1
        else:
            self.stats.duplicates += 1
        if raw.metadata:
            self.stats.pending = raw.metadata.num_pending
        await raw.ack_sync()
        self.progress.ok()

    async def _apply(self, message: IntegrationMessage, stopping: asyncio.Event) -> bool | None:
        """Applies the message; while the store is away, keeps it and tries again."""
        backoff = Backoff(base=0.2, cap=5.0)
        while True:
            try:
                return await asyncio.to_thread(self.handler.handle, message)
            except STORE_OUTAGES as error:
                delay = backoff.next_delay()
                self.progress.failing(
                    f"cannot apply {message.envelope.event_id}: store unavailable "
                    f"({describe_error(error)})",
                    delay,
                )
                await backoff.wait(stopping, delay)
                if stopping.is_set():
                    return None

    async def _keep_in_progress(self, raw: Msg) -> None:
        """Tells JetStream the message is still being worked on, so it is not redelivered."""
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.ack_wait / 3)
                await raw.in_progress()

    async def _park(self, raw: Msg, message: IntegrationMessage, error: Exception) -> None:
        """A handler failure that is not an outage: retried later, with growing delays."""
        self.stats.failures += 1
        self.stats.parked_on = message.envelope.event_id
        delivered = raw.metadata.num_delivered if raw.metadata else 1
        delay = min(0.5 * 2 ** min(delivered, 10), MAX_RETRY_DELAY)
        self.progress.failing(error, delay)
        log.error(
            "inbox %s is parked on %s (delivery %d): it could not be applied",
            self.name,
            message.envelope.event_id,
            delivered,
        )
        await raw.nak(delay=delay)


async def _drop(subscription: JetStreamContext.PullSubscription | None) -> None:
    if subscription is not None:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
