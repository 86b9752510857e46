"""The relay: from a service's event store to NATS JetStream.

It follows the application's notification log from its tracked position,
publishes each published event with `Nats-Msg-Id = <node>.<service>.<position>`
(a batch's messages are sent back to back and their PubAcks awaited together,
in order), and only once every PubAck of a batch is in may the position pass
it. The position is written at most every `record_interval` seconds (and on
stopping); a crash re-sends what followed the last written position, which
the duplicate window drops. So:
- an event for partner nodes is published once per partner (and once locally);
  the position is recorded only when every copy is acknowledged,
- a crash before the PubAck republishes (first stored copy),
- a crash after the PubAck but before the position is saved republishes, and
  JetStream drops the duplicate within its duplicate window (10 minutes); past
  that window, consumers drop it by the `copnet-position` header,
- whatever fails (NATS, the store, anything) is retried with a capped back-off
  and reported (`progress`); it never skips ahead.

The node stream is the only copy of what the node published for its own
services and its partners. The relay remembers which stream it published to
(its creation time and the last sequence it was given, see `StreamGuard`); if
that stream disappears, is recreated, or goes back, the relay stops and raises
an alarm instead of publishing into a fresh, empty stream as if nothing had
happened. `copnet republish` (a request in the relay's store) tells it to
republish the whole log from the store; consumers drop what they had by their
tracking.

Each publish continues the trace stored on the event, as a PRODUCER span that ends
with the PubAck (in error without one), and carries the new span's `traceparent` in
the message headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import StreamInfo
from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from services.common import messaging
from services.common.application import CopnetApplication
from services.common.health import Backoff, Progress, describe_error
from services.common.integration import IntegrationMap, Publication
from services.common.messaging import NodeIdentity
from services.common.natslink import NatsLink
from services.common.signing import Signer
from services.common.sqlstore import SqlStore
from services.common.stateafter import StatesAfter
from services.common.streamguard import StreamGuard, StreamLost
from services.common.unsampled import carried, unsampled

log = logging.getLogger(__name__)
tracer = trace.get_tracer("copnet.relay")
meter = metrics.get_meter("copnet.relay")
STREAM_ALARMS = meter.create_counter(
    "copnet.relay.stream_alarms",
    description="Times a relay stopped because the node stream was lost, recreated or reset",
)

# How often an idle relay checks that its stream is still the one it published to,
# and how often a stopped relay looks for an operator's republish request.
STREAM_CHECK_INTERVAL = 5.0
REQUEST_CHECK_INTERVAL = 1.0


@dataclass
class RelayStats:
    published: int = 0
    duplicates: int = 0
    skipped: int = 0
    failures: int = 0
    # Seconds from the event being recorded to its PubAck, for the most recent events.
    recent_lags: deque[float] = field(default_factory=lambda: deque(maxlen=1000))


class Relay:
    def __init__(
        self,
        app: CopnetApplication,
        integration: IntegrationMap,
        tracking: SqlStore,
        identity: NodeIdentity,
        link: NatsLink,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        publish_timeout: float = 5.0,
        record_interval: float = 0.2,
        signer: Signer | None = None,
    ) -> None:
        """`signer`: the node's key; every message that may leave the node is signed with it."""
        self.signer = signer
        self.app = app
        self.integration = integration
        self.tracking = tracking
        self.identity = identity
        self.link = link
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.publish_timeout = publish_timeout
        self.record_interval = record_interval
        self.stats = RelayStats()
        self.progress = Progress(f"relay of {integration.service}")
        STREAM_ALARMS.add(0, {"copnet.service": integration.service})  # shown from the start
        self.guard = StreamGuard(tracking, identity.stream_name)
        # Everything up to `position` is acknowledged by JetStream; up to
        # `recorded_position` that fact is also in the tracking store.
        self.position = 0
        self.recorded_position = 0
        # 0 until the node is restored from a back-up (`StreamGuard.start_new_epoch`).
        self.epoch = 0
        self._recorded_at = 0.0
        self._checked_at = 0.0

    async def run(self, stopping: asyncio.Event) -> None:
        client = await self.link.client()
        js = client.jetstream(timeout=self.publish_timeout)
        backoff = Backoff(base=0.2, cap=5.0)
        prepared = False
        try:
            while not stopping.is_set():
                try:
                    if not prepared:
                        await self._prepare(js)
                        prepared = True
                    if await self._relay_batch(js):
                        await self._record(force=False)
                    else:
                        await self._record(force=True)
                        await self._check_stream_now_and_then(js)
                        await self.app.changes.wait_async(self.position, self.poll_interval)
                    self.progress.ok()
                    backoff.reset()
                except StreamLost as lost:
                    prepared = False
                    STREAM_ALARMS.add(1, {"copnet.service": self.integration.service})
                    self.progress.alarm(str(lost))
                    await self._wait_for_republish(js, stopping)
                except Exception as error:
                    prepared = False
                    self.stats.failures += 1
                    delay = backoff.next_delay()
                    self.progress.failing(
                        f"cannot publish from position {self.position}: "
                        f"{type(error).__name__}: {error}",
                        delay,
                    )
                    await backoff.wait(stopping, delay)
        finally:
            try:
                await self._record(force=True)
            except Exception as error:
                log.warning("relay could not record position %d: %s", self.position, error)

    async def _prepare(self, js: JetStreamContext) -> None:
        """(Re)starts from the recorded position, on the stream it published to."""
        await asyncio.to_thread(self.guard.reload)
        self.epoch = await asyncio.to_thread(self.guard.epoch)
        self.position = await asyncio.to_thread(self.tracking.max_tracking_id, self.app.name)
        self.recorded_position = self.position
        if await asyncio.to_thread(self.guard.republish_requested):
            await self._start_republishing(js)
        info = await self._stream_info(js)
        if self.guard.check(info, self.position):
            await messaging.ensure_node_streams(js, self.identity)
            info = await self._stream_info(js)
            assert info is not None
            await asyncio.to_thread(self.guard.adopt, info)
        else:
            await messaging.ensure_node_streams(js, self.identity)  # config, public stream
            if self.guard.known is None and info is not None:
                await asyncio.to_thread(self.guard.adopt, info)  # a node from before the guard
        self.progress.clear_alarm()
        self._checked_at = time.monotonic()
        log.info(
            "relay of %s starts after position %d%s",
            self.app.name,
            self.position,
            f" (epoch {self.epoch})" if self.epoch else "",
        )

    async def _start_republishing(self, js: JetStreamContext) -> None:
        await messaging.ensure_node_streams(js, self.identity)
        info = await self._stream_info(js)
        assert info is not None
        await asyncio.to_thread(self.guard.start_republishing, self.app.name, info)
        log.warning(
            "relay of %s: republishing the whole log from the store, on the operator's request "
            "(consumers drop what they already have)",
            self.app.name,
        )
        self.position = self.recorded_position = 0

    async def _wait_for_republish(self, js: JetStreamContext, stopping: asyncio.Event) -> None:
        """Stopped: waits for `copnet republish`, or for the stream it knew to be back (a
        server that answered too early after a restart)."""
        rounds = 0
        while not stopping.is_set():
            rounds += 1
            try:
                if await asyncio.to_thread(self.guard.republish_requested):
                    return
                if rounds % 5 == 0:
                    self.guard.check(await self._stream_info(js), self.position)
                    return
            except StreamLost:
                pass
            except Exception as error:
                log.warning("relay of %s cannot check yet: %s", self.integration.service, error)
            self.progress.beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), REQUEST_CHECK_INTERVAL)

    async def _stream_info(self, js: JetStreamContext) -> StreamInfo | None:
        try:
            return await js.stream_info(self.identity.stream_name)
        except nats.js.errors.NotFoundError:
            return None

    async def _check_stream_now_and_then(self, js: JetStreamContext) -> None:
        """An idle relay notices a lost stream too, not only at its next publish."""
        if time.monotonic() - self._checked_at < STREAM_CHECK_INTERVAL:
            return
        self._checked_at = time.monotonic()
        self.guard.check(await self._stream_info(js), self.position)

    async def _record(self, force: bool) -> None:
        if self.position == self.recorded_position:
            return
        if not force and time.monotonic() - self._recorded_at < self.record_interval:
            return
        position = self.position
        await asyncio.to_thread(self.guard.record, self.app.name, position)
        self.recorded_position = position
        self._recorded_at = time.monotonic()

    async def _relay_batch(self, js: JetStreamContext) -> bool:
        notifications = await asyncio.to_thread(
            self.app.recorder.select_notifications,
            start=self.position,
            limit=self.batch_size,
            inclusive_of_start=False,
        )
        if not notifications:
            return False
        pending: list[tuple[asyncio.Future[Any], Any]] = []
        acks: list[Any] = []
        # Aggregates as they were after each event, built up along the batch.
        states = StatesAfter(self._state_after, reuse=not self.app.personal_data)
        try:
            for notification in notifications:
                domain_event = self.app.mapper.to_domain_event(notification)
                publications = self.integration.publications(
                    domain_event, notification.id, self.identity, states, self.epoch
                )
                if not publications:
                    self.stats.skipped += 1
                for publication in publications:
                    if publication.erases:
                        # What came before is stored first, then the member's personal
                        # messages go, then the erasure itself is published.
                        states.forget()
                        acks += await self._acks(pending[len(acks) :])
                        await self._erase_personal(js, publication.erases)
                    pending.append((await self._send(js, publication, domain_event), domain_event))
            acks += await self._acks(pending[len(acks) :])
        except BaseException:
            for future, _ in pending:
                future.cancel()
            raise
        for ack, (_, domain_event) in zip(acks, pending, strict=True):
            self.guard.acknowledged(ack.stream, ack.seq, bool(ack.duplicate))
            if ack.duplicate:
                self.stats.duplicates += 1
            else:
                self.stats.published += 1
            self.stats.recent_lags.append(time.time() - domain_event.timestamp.timestamp())
        self.position = notifications[-1].id
        self._checked_at = time.monotonic()
        return True

    async def _acks(self, pending: list[tuple[asyncio.Future[Any], Any]]) -> list[Any]:
        return list(
            await asyncio.wait_for(
                asyncio.gather(*(future for future, _ in pending)), self.publish_timeout
            )
        )

    async def _erase_personal(self, js: JetStreamContext, member: str) -> None:
        erased = await messaging.erase_personal_messages(js, self.identity, member)
        log.info(
            "relay of %s: erased %d message(s) with personal data of member %s from %s",
            self.app.name,
            erased,
            member,
            self.identity.stream_name,
        )

    def _state_after(self, domain_event: Any) -> Any:
        return self.app.repository.get(
            domain_event.originator_id, version=domain_event.originator_version
        )

    async def _send(
        self, js: JetStreamContext, publication: Publication, domain_event: Any
    ) -> asyncio.Future[Any]:
        """Sends one message; the returned future resolves to its PubAck. Its PRODUCER
        span (continuing the event's trace) ends with the PubAck, in error without one;
        an event whose trace is not sampled gets no span (it would record nothing) and
        its message carries the event's trace context as stored (`unsampled`)."""
        stored = getattr(domain_event, "trace_context", None) or {}
        if unsampled(stored):
            headers = self._headers(publication)
            headers.update(carried(stored))
            return await self._publish(js, publication, headers)
        parent = propagate.extract(stored)
        span = tracer.start_span(
            f"publish {publication.subject}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes=messaging.span_attributes(
                "send",
                publication.subject,
                publication.headers[messaging.HEADER_MSG_ID],
                self.link.url,
                **{"copnet.event_type": publication.envelope.event_type},
            ),
        )
        try:
            with trace.use_span(span, end_on_exit=False):
                headers = self._headers(publication)
                propagate.inject(headers)
                span.set_attribute("messaging.message.body.size", len(publication.data))
                future = await self._publish(js, publication, headers)
        except BaseException as error:
            _acknowledged(span, None, error)
            raise
        future.add_done_callback(functools.partial(_settle_span, span))
        return future

    def _headers(self, publication: Publication) -> dict[str, str]:
        """The message's headers, signed if it may leave the node."""
        headers = dict(publication.headers)
        if self.signer is not None and messaging.leaves_node(publication.subject):
            headers.update(
                self.signer.message_headers(publication.subject, headers, publication.data)
            )
        return headers

    async def _publish(
        self, js: JetStreamContext, publication: Publication, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        return await js.publish_async(
            publication.subject,
            publication.data,
            headers=headers,
            wait_stall=self.publish_timeout,
        )


def _settle_span(span: Span, future: asyncio.Future[Any]) -> None:
    if future.cancelled():
        _acknowledged(span, None, TimeoutError("no PubAck in time"))
    else:
        error = future.exception()
        _acknowledged(span, None if error else future.result(), error)


def _acknowledged(span: Span, ack: Any, error: BaseException | None) -> None:
    """Ends a publish span: with the PubAck's stream and sequence, or in error."""
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"not acknowledged: {describe_error(error)}"))
    elif ack is not None:
        span.set_attribute("copnet.stream", ack.stream)
        span.set_attribute("copnet.stream.sequence", ack.seq)
        span.set_attribute("copnet.duplicate", bool(ack.duplicate))
    span.end()
