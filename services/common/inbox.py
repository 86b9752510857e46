"""Consuming integration events from JetStream, exactly once in effect.

An `Inbox` is a durable pull consumer on one stream. It fetches up to
`batch_size` messages at a time, checks and decodes each, and hands them in
stream order to its handler, which writes their effects and tracking records
`(<origin node>.<service>, position)` in one transaction (`handle_batch`, when
the handler has one; otherwise one transaction per message), then acknowledges
them (each ack sent, the last one confirmed by the server). So:
- redelivery after a crash, a republished copy past the duplicate window, or a
  copy that arrived by two routes is recognised by its tracking and only acked;
- messages are applied strictly in stream order, which high-water-mark
  tracking requires (a lower position applied after a higher one would be taken
  for a duplicate): a batch is applied in order or not at all, nothing newer is
  fetched while a message of a batch waits, and a consumer left with
  unacknowledged messages (its inbox died) is started again after its ack
  floor (`services.common.consumer`);
- a message whose origin headers, subject and envelope disagree (spoofing), or
  that cannot be decoded, or that its handler refuses (`RejectedMessage`), is
  refused: terminated (it stays in the stream), counted, logged with the
  reason, never applied, and it moves no high-water mark;
- a federation inbox (`trust` given) first checks that the message came by its
  origin's route and carries its origin's signature (`services.common.trust`),
  and refuses a position that jumps implausibly far past the origin's last;
- its consumer is checked every few seconds: deleted, changed or paused by
  anyone else, it is put back (and the event logged);
- while the store is unavailable the batch is kept (progress acknowledgements
  stop JetStream from redelivering it) and applied again after a capped
  back-off; a batch its handler fails on is applied again one message at a
  time, and a message that still fails parks the inbox on it (retried with
  growing delays, never skipped, nothing after it applied);
- the ack wait is short (5 s): a consumer killed in the middle of a batch
  holds it up for seconds, not half a minute; a slow handler keeps its
  messages by acknowledging progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig
from nats.js.client import JetStreamContext
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context

from services.common import consumer
from services.common.envelopes import IntegrationMessage, RejectedMessage, read_message
from services.common.health import Backoff, Progress, describe_error
from services.common.inboxview import (
    BatchHandler,
    InboxStats,
    InboxView,
    IntegrationHandler,
)
from services.common.messaging import span_attributes
from services.common.natslink import NatsLink
from services.common.stores import store_outages
from services.common.trust import NotYetTrusted, RegionTrust, Untrusted
from services.common.unsampled import unsampled

__all__ = [
    "Inbox",
    "InboxStats",
    "InboxView",
    "IntegrationHandler",
    "IntegrationMessage",
    "RejectedMessage",
    "read_message",
]

T = TypeVar("T")
log = logging.getLogger(__name__)
tracer = trace.get_tracer("copnet.inbox")

FETCH_TIMEOUT = 1.0
MAX_RETRY_DELAY = 60.0
# Seconds JetStream waits for an ack before redelivering (kept alive while working).
ACK_WAIT = 5.0
# How many messages an inbox takes at a time (its consumer's `max_ack_pending`).
BATCH_SIZE = 200
# How long an inbox waits quietly for its stream to be created (a node's first start).
STREAM_GRACE = 15.0
# How often an inbox checks that its consumer still exists, unchanged and not paused.
CONSUMER_CHECK_INTERVAL = 5.0
# A federated position further than this past the origin's last one is not plausible.
MAX_POSITION_JUMP = 1_000_000
# How many refusals an inbox remembers (for `stats`; the log has all).
REFUSALS_KEPT = 100

refusals = metrics.get_meter("copnet.inbox").create_counter(
    "copnet.inbox.refused", description="integration messages refused, never applied"
)


class _Stopping(Exception):
    """The inbox is stopping with messages of its batch unapplied (redelivered later)."""


@dataclass
class _Received:
    raw: Msg
    message: IntegrationMessage
    context: Context


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
        federated: bool = False,
        trust: RegionTrust | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        """`federated`: the stream holds other nodes' messages, each checked with `trust`
        (without it, every such message is refused: nothing vouches for it)."""
        self.federated = federated
        self.trust = trust
        self.name = name
        self.stream = stream
        self.subjects = list(subjects)
        self.handler = handler
        self.link = link
        self.ack_wait = ack_wait
        self.batch_size = batch_size
        self.recipient = recipient
        self.stats = InboxStats()
        self.progress = Progress(f"inbox {name}")
        is_empty = getattr(handler, "is_empty", None)
        if getattr(handler, "rebuilding", False) or (is_empty is not None and is_empty()):
            # A view new or rebuilding: not ready until it has what the stream holds (from
            # the start, so readiness never flaps; released by `_caught_up`).
            self.progress.hold(f"filling {getattr(handler, 'name', '')} from {stream}")
        refusals.add(0, {"copnet.inbox": name})  # shown from the start

    @property
    def consumer_config(self) -> ConsumerConfig:
        return consumer.consumer_config(self.name, self.subjects, self.ack_wait, self.batch_size)

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
                if time.monotonic() - idle_since > CONSUMER_CHECK_INTERVAL:
                    self.stats.consumer_repairs += len(
                        await consumer.repair(js, self.stream, self.consumer_config)
                    )
                    idle_since = time.monotonic()
                try:
                    messages = await subscription.fetch(self.batch_size, timeout=FETCH_TIMEOUT)
                except (TimeoutError, nats.errors.TimeoutError):
                    self._caught_up()
                    self.progress.beat()
                    continue
                if not messages:
                    self.progress.beat()
                    continue
                await self._consume(messages, stopping)
                if raw_pending(messages[-1]) == 0:
                    self._caught_up()
                backoff.reset()
            except _Stopping:
                break
            except Exception as error:
                log.debug("inbox %s: consuming failed", self.name, exc_info=True)
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
        # Nothing applied yet (a new or rebuilt view): consume from the start.
        empty = is_empty is not None and await asyncio.to_thread(is_empty)
        info, restarted = await consumer.ensure(js, self.stream, self.consumer_config, empty)
        self.stats.consumer_restarts += int(restarted)
        if not info.num_pending and not info.num_ack_pending:
            self._caught_up()  # nothing to fill a new view with
        return await js.pull_subscribe_bind(durable=self.name, stream=self.stream)

    def _caught_up(self) -> None:
        """A view rebuilding from the stream is ready once nothing is left to receive."""
        if getattr(self.handler, "rebuilding", False):
            self.handler.rebuilding = False  # type: ignore[attr-defined]  # an InboxView
        self.progress.release()

    # A batch

    async def _consume(self, raws: list[Msg], stopping: asyncio.Event) -> None:
        """Applies a fetched batch in order, then acknowledges it; returns only when every
        message is applied or refused (raises `_Stopping` if the inbox stops first)."""
        unacked = list(raws)
        keep = asyncio.create_task(self._keep_in_progress(unacked))
        try:
            received = await self._screen(raws, stopping)
            batched = isinstance(self.handler, BatchHandler) and len(received) > 1
            if not (batched and await self._apply_batch(received, stopping)):
                for item in received:
                    await self._apply_one(item, stopping)
            await _acknowledge([r.raw for r in received])
        finally:
            keep.cancel()
        if received and received[-1].raw.metadata:
            self.stats.pending = received[-1].raw.metadata.num_pending
        self.stats.parked_on = ""
        self.progress.ok()

    async def _screen(self, raws: list[Msg], stopping: asyncio.Event) -> list[_Received]:
        """The batch's messages that may be applied, in order; the others are refused."""
        received = []
        last_positions: dict[str, int] = {}
        for raw in raws:
            if not await self._vouch(raw, stopping):
                continue
            try:
                message = read_message(raw.subject, raw.headers, raw.data, self.recipient)
                jump = await self._implausible(message, last_positions)
                if jump:
                    raise RejectedMessage(jump)
            except RejectedMessage as error:
                await self._reject(raw, error)
                continue
            received.append(_Received(raw, message, propagate.extract(raw.headers or {})))
        return received

    async def _apply_batch(self, received: list[_Received], stopping: asyncio.Event) -> bool:
        """All in one transaction; False if the handler failed (nothing applied then)."""
        handler = self.handler
        assert isinstance(handler, BatchHandler)
        # A message whose trace is not sampled gets no span (it would record nothing): its
        # work continues the trace it came with, as it is (`unsampled`).
        spans = [None if unsampled(r.raw.headers) else self._span(r) for r in received]
        contexts = [
            r.context if span is None else set_span_in_context(span)
            for r, span in zip(received, spans, strict=True)
        ]
        try:
            outcomes = await self._store_retrying(
                lambda: handler.handle_batch([r.message for r in received], contexts),
                f"a batch of {len(received)}",
                stopping,
            )
        except _Stopping:
            _end(spans)
            raise
        except Exception as error:
            log.info("inbox %s: a batch failed (%s); one at a time", self.name, error)
            _end(spans)
            return False
        for span, applied in zip(spans, outcomes, strict=True):
            if span is not None:
                span.set_attribute("copnet.applied", applied)
                span.end()
        self._count(outcomes)
        self.stats.batches += 1
        self.stats.batched += len(received)
        return True

    async def _apply_one(self, item: _Received, stopping: asyncio.Event) -> None:
        """Applies one message, in a span of its trace; a failure parks the inbox on it."""
        parked = Backoff(base=1.0, cap=MAX_RETRY_DELAY)
        while True:
            with tracer.start_as_current_span(
                **self._span_arguments(item), set_status_on_exception=False
            ) as span:
                try:
                    applied = await self._store_retrying(
                        lambda: self.handler.handle(item.message),
                        item.message.envelope.event_id,
                        stopping,
                    )
                except RejectedMessage as error:
                    span.set_status(Status(StatusCode.ERROR, f"refused: {error}"[:200]))
                    await self._reject(item.raw, error)
                    return
                except _Stopping:
                    raise
                except Exception as error:
                    span.record_exception(error)
                    span.set_status(Status(StatusCode.ERROR, f"parked: {describe_error(error)}"))
                    await self._park(item.message, error, parked, stopping)
                    continue
                span.set_attribute("copnet.applied", applied)
            self._count([applied])
            return

    def _count(self, outcomes: Sequence[bool]) -> None:
        applied = sum(outcomes)
        self.stats.applied += applied
        self.stats.duplicates += len(outcomes) - applied

    async def _store_retrying(self, work: Callable[[], T], what: str, stopping: asyncio.Event) -> T:
        """Runs `work` on a thread; while the store is away, keeps the batch and tries again."""
        backoff = Backoff(base=0.2, cap=5.0)
        while True:
            try:
                return await asyncio.to_thread(work)
            except store_outages() as error:
                delay = backoff.next_delay()
                self.progress.failing(
                    f"cannot apply {what}: store unavailable ({describe_error(error)})", delay
                )
                await backoff.wait(stopping, delay)
                if stopping.is_set():
                    raise _Stopping() from None

    async def _park(
        self,
        message: IntegrationMessage,
        error: Exception,
        backoff: Backoff,
        stopping: asyncio.Event,
    ) -> None:
        """A handler failure that is not an outage: tried again later, with growing delays,
        holding the batch (nothing after it is applied meanwhile)."""
        self.stats.failures += 1
        self.stats.parked_on = message.envelope.event_id
        delay = backoff.next_delay()
        self.progress.failing(error, delay)
        log.error(
            "inbox %s is parked on %s (attempt %d): it could not be applied",
            self.name,
            message.envelope.event_id,
            backoff.attempts,
        )
        await backoff.wait(stopping, delay)
        if stopping.is_set():
            raise _Stopping()

    def _span_arguments(self, item: _Received) -> dict[str, Any]:
        raw = item.raw
        return {
            "name": f"process {raw.subject}",
            "context": item.context,
            "kind": SpanKind.CONSUMER,
            "attributes": span_attributes(
                "process",
                raw.subject,
                item.message.envelope.event_id,
                self.link.url,
                **{"messaging.consumer.group.name": self.name, **_jetstream(raw)},
            ),
        }

    def _span(self, item: _Received) -> Span:
        """The message's span in its own trace, for a batch (ended once the batch is in)."""
        return tracer.start_span(**self._span_arguments(item))

    # Refusals and trust

    async def _reject(self, raw: Msg, error: Exception) -> None:
        """Never applied, never retried: terminated (kept in the stream), counted, reported."""
        sequence = raw.metadata.sequence.stream if raw.metadata else 0
        self.stats.rejected += 1
        self.stats.rejected_subjects.append(raw.subject)
        self.stats.refusals = [*self.stats.refusals, (sequence, raw.subject, str(error))][
            -REFUSALS_KEPT:
        ]
        refusals.add(1, {"copnet.inbox": self.name, "copnet.reason": type(error).__name__})
        log.error(
            "inbox %s refused message %d of %s and will not apply it: %s",
            self.name,
            sequence,
            self.stream,
            error,
        )
        await raw.term()

    async def _vouch(self, raw: Msg, stopping: asyncio.Event) -> bool:
        """For a federation inbox: whether the message came from its origin (refused if
        not; waited for while the origin's keys are not known yet)."""
        if not self.federated:
            return True
        waiting = Backoff(base=1.0, cap=1.0)  # the directory is asked for again each second
        while True:
            try:
                if self.trust is None:
                    raise Untrusted("this node has no hub credentials to check messages with")
                self.trust.check(raw.subject, raw.headers)
                self.trust.verify(raw.subject, raw.headers, raw.data)
                return True
            except Untrusted as error:
                await self._reject(raw, error)
                return False
            except NotYetTrusted as error:
                self.progress.failing(f"waiting for the region directory: {error}", 1.0)
                await waiting.wait(stopping)
                if stopping.is_set():
                    raise _Stopping() from None

    async def _implausible(self, message: IntegrationMessage, last: dict[str, int]) -> str:
        """Why the message's position is implausible ("" if it is not); `last` remembers
        each origin's last position within the batch."""
        last_position = getattr(self.handler, "last_position", None)
        if not self.federated or last_position is None:
            return ""
        origins = [message.origin]
        if message.envelope.epoch:  # a restored origin's new epoch: against its first one
            origins.append(message.base_origin)
        for origin in origins:
            if origin not in last:
                last[origin] = await asyncio.to_thread(last_position, origin)
        known = max(last[o] for o in origins)
        if message.envelope.position > known + MAX_POSITION_JUMP:
            return (
                f"position {message.envelope.position} of {message.origin} jumps more than "
                f"{MAX_POSITION_JUMP} past the last one applied ({known})"
            )
        last[message.origin] = max(last[message.origin], message.envelope.position)
        return ""

    async def _keep_in_progress(self, raws: list[Msg]) -> None:
        """Tells JetStream the batch is still being worked on, so it is not redelivered."""
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.ack_wait / 3)
                for raw in raws:
                    if not raw._ackd:
                        await raw.in_progress()


def _end(spans: Sequence[Span | None]) -> None:
    for span in spans:
        if span is not None:
            span.end()


async def _acknowledge(raws: list[Msg]) -> None:
    """Acks each message; the server confirms the last, so all are in once it returns."""
    if not raws:
        return
    for raw in raws[:-1]:
        await raw.ack()
    await raws[-1].ack_sync()


def raw_pending(raw: Msg) -> int | None:
    """How many messages the consumer has left after this one (None if unknown)."""
    try:
        return raw.metadata.num_pending
    except nats.errors.Error:
        return None


def _jetstream(raw: Msg) -> dict[str, str | int]:
    """What JetStream says of a delivered message, for its span."""
    try:
        meta = raw.metadata
    except nats.errors.Error:  # not a JetStream message
        return {}
    return {
        "copnet.stream": meta.stream,
        "copnet.stream.sequence": meta.sequence.stream,
        "copnet.consumer.sequence": meta.sequence.consumer,
        "copnet.delivery_count": meta.num_delivered,
        "copnet.pending": meta.num_pending,
        "copnet.stored_at": meta.timestamp.isoformat(),
    }


async def _drop(subscription: JetStreamContext.PullSubscription | None) -> None:
    if subscription is not None:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
