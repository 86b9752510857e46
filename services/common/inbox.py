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
- a handler failure is retried with growing delays: the consumer parks on that
  message (and reports it) rather than skip it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import nats.errors
import nats.js.errors
from eventsourcing.persistence import IntegrityError, Tracking
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from copnet.integration.v1 import envelope_pb2
from services.common import messaging
from services.common.projection import Projection
from services.common.sqlstore import SqlTx

log = logging.getLogger(__name__)
tracer = trace.get_tracer("copnet.inbox")

FETCH_TIMEOUT = 1.0
MAX_RETRY_DELAY = 60.0


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

    def apply(self, message: Any, tx: SqlTx) -> None:
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
        nats_url: str,
        ack_wait: float = 30.0,
        recipient: str | None = None,
    ) -> None:
        self.name = name
        self.stream = stream
        self.subjects = list(subjects)
        self.handler = handler
        self.nats_url = nats_url
        self.ack_wait = ack_wait
        self.recipient = recipient
        self.stats = InboxStats()

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
        nc = await messaging.connect(self.nats_url, f"copnet-inbox-{self.name}", stopping)
        js = nc.jetstream()
        subscription = None
        failures = 0
        try:
            while not stopping.is_set():
                try:
                    if subscription is None:
                        subscription = await self._bind(js)
                    try:
                        messages = await subscription.fetch(1, timeout=FETCH_TIMEOUT)
                    except nats.errors.TimeoutError:
                        continue
                    for message in messages:
                        await self._process(message)
                    failures = 0
                except (nats.errors.Error, nats.js.errors.Error, OSError) as error:
                    failures += 1
                    subscription = None
                    delay = min(0.2 * 2**failures, 5.0)
                    log.warning("inbox %s: %s; rebinding in %.1fs", self.name, error, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stopping.wait(), delay)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    async def _bind(self, js: Any) -> Any:
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

    async def _process(self, raw: Msg) -> None:
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
            try:
                applied = await asyncio.to_thread(self.handler.handle, message)
            except RejectedMessage as error:
                await self._reject(raw, error)
                return
            except Exception:
                self.stats.failures += 1
                self.stats.parked_on = message.envelope.event_id
                delivered = raw.metadata.num_delivered if raw.metadata else 1
                delay = min(0.5 * 2 ** min(delivered, 10), MAX_RETRY_DELAY)
                log.exception(
                    "inbox %s could not apply %s (delivery %d); retrying in %.1fs",
                    self.name,
                    message.envelope.event_id,
                    delivered,
                    delay,
                )
                await raw.nak(delay=delay)
                return
        self.stats.parked_on = ""
        if applied:
            self.stats.applied += 1
        else:
            self.stats.duplicates += 1
        if raw.metadata:
            self.stats.pending = raw.metadata.num_pending
        await raw.ack_sync()
