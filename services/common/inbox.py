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
  refused: terminated (it stays in the stream), counted, logged with the
  reason, never applied, and it moves no high-water mark;
- a federation inbox (`trust` given) first checks that the message came by its
  origin's route and carries its origin's signature (`services.common.trust`),
  and refuses a position that jumps implausibly far past the origin's last;
- its consumer is checked every few seconds: deleted, changed or paused by
  anyone else, it is put back (and the event logged);
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
from eventsourcing.persistence import IntegrityError
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.common.envelopes import IntegrationMessage, RejectedMessage, read_message
from services.common.health import Backoff, Progress, describe_error
from services.common.messaging import span_attributes
from services.common.natslink import NatsLink
from services.common.projection import Projection
from services.common.sqlstore import SqlTx
from services.common.stores import store_outages
from services.common.trust import NotYetTrusted, RegionTrust, Untrusted

log = logging.getLogger(__name__)
tracer = trace.get_tracer("copnet.inbox")

FETCH_TIMEOUT = 1.0
MAX_RETRY_DELAY = 60.0
# Seconds JetStream waits for an ack before redelivering (kept alive while working).
ACK_WAIT = 5.0
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
    # (stream sequence, subject, reason) of the last refusals.
    refusals: list[tuple[int, str, str]] = field(default_factory=list)
    consumer_repairs: int = 0


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
                if time.monotonic() - idle_since > CONSUMER_CHECK_INTERVAL:
                    await self._check_consumer(js)
                    idle_since = time.monotonic()
                try:
                    messages = await subscription.fetch(1, timeout=FETCH_TIMEOUT)
                except nats.errors.TimeoutError:
                    self._caught_up()
                    self.progress.beat()
                    continue
                for message in messages:
                    await self._process(message, stopping)
                    if raw_pending(message) == 0:
                        self._caught_up()
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
        empty = is_empty is not None and await asyncio.to_thread(is_empty)
        if empty:
            # Nothing applied yet (a new or rebuilt view): consume from the start.
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_consumer(self.stream, self.name)
        try:
            info = await js.add_consumer(self.stream, self.consumer_config)
        except nats.js.errors.BadRequestError:
            # An incompatible older definition: recreate it. Tracking absorbs the replay.
            await js.delete_consumer(self.stream, self.name)
            info = await js.add_consumer(self.stream, self.consumer_config)
        if not info.num_pending and not info.num_ack_pending:
            self._caught_up()  # nothing to fill a new view with
        return await js.pull_subscribe_bind(durable=self.name, stream=self.stream)

    def _caught_up(self) -> None:
        """A view rebuilding from the stream is ready once nothing is left to receive."""
        if getattr(self.handler, "rebuilding", False):
            self.handler.rebuilding = False  # type: ignore[attr-defined]  # an InboxView
        self.progress.release()

    async def _check_consumer(self, js: JetStreamContext) -> None:
        """Puts the consumer back as this inbox defines it if someone deleted, changed or
        paused it (NotFound from here rebinds, which recreates it)."""
        info = await js.consumer_info(self.stream, self.name)
        wanted = self.consumer_config
        config = info.config
        changed = [
            name
            for name in ("filter_subjects", "ack_policy", "max_ack_pending", "max_deliver")
            if getattr(config, name) != getattr(wanted, name)
        ]
        if config.ack_wait is not None and abs(config.ack_wait - self.ack_wait) > 0.001:
            changed.append("ack_wait")
        if changed:
            self.stats.consumer_repairs += 1
            log.warning(
                "inbox %s: consumer %s was changed (%s); restoring it",
                self.name,
                self.name,
                ", ".join(changed),
            )
            try:
                await js.add_consumer(self.stream, wanted)
            except nats.js.errors.BadRequestError:
                await js.delete_consumer(self.stream, self.name)  # rebinding recreates it
        if info.paused:
            self.stats.consumer_repairs += 1
            log.warning(
                "inbox %s: consumer %s was paused (%s left); resuming it",
                self.name,
                self.name,
                info.pause_remaining,
            )
            await js.resume_consumer(self.stream, self.name)

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

    async def _vouch(self, raw: Msg) -> bool:
        """For a federation inbox: whether the message came from its origin (refused if
        not; put back for later if the origin's keys are not known yet)."""
        if not self.federated:
            return True
        try:
            if self.trust is None:
                raise Untrusted("this node has no hub credentials to check messages with")
            self.trust.check(raw.subject, raw.headers)
            self.trust.verify(raw.subject, raw.headers, raw.data)
        except Untrusted as error:
            await self._reject(raw, error)
            return False
        except NotYetTrusted as error:
            self.progress.failing(f"waiting for the region directory: {error}", 1.0)
            await raw.nak(delay=1.0)
            return False
        return True

    async def _implausible(self, message: IntegrationMessage) -> str:
        last_position = getattr(self.handler, "last_position", None)
        if not self.federated or last_position is None:
            return ""
        last = await asyncio.to_thread(last_position, message.origin)
        if message.envelope.epoch:  # a restored origin's new epoch: against its first one
            last = max(last, await asyncio.to_thread(last_position, message.base_origin))
        if message.envelope.position > last + MAX_POSITION_JUMP:
            return (
                f"position {message.envelope.position} of {message.origin} jumps more than "
                f"{MAX_POSITION_JUMP} past the last one applied ({last})"
            )
        return ""

    async def _process(self, raw: Msg, stopping: asyncio.Event) -> None:
        if not await self._vouch(raw):
            return
        try:
            message = read_message(raw.subject, raw.headers, raw.data, self.recipient)
            jump = await self._implausible(message)
            if jump:
                raise RejectedMessage(jump)
        except RejectedMessage as error:
            await self._reject(raw, error)
            return
        context = propagate.extract(raw.headers or {})
        with tracer.start_as_current_span(
            f"process {raw.subject}",
            context=context,
            kind=SpanKind.CONSUMER,
            attributes=span_attributes(
                "process",
                raw.subject,
                message.envelope.event_id,
                self.link.url,
                **{"messaging.consumer.group.name": self.name, **_jetstream(raw)},
            ),
            set_status_on_exception=False,
        ) as span:
            keep = asyncio.create_task(self._keep_in_progress(raw))
            try:
                applied = await self._apply(message, stopping)
            except RejectedMessage as error:
                span.set_status(Status(StatusCode.ERROR, f"refused: {error}"[:200]))
                await self._reject(raw, error)
                return
            except Exception as error:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"parked: {describe_error(error)}"))
                await self._park(raw, message, error)
                return
            finally:
                keep.cancel()
            span.set_attribute("copnet.applied", bool(applied))
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
            except store_outages() as error:
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
