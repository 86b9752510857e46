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
- while NATS is down it retries with backoff and never skips ahead.

Each publish continues the trace stored on the event, as a PRODUCER span, and
carries the new span's `traceparent` in the message headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import nats.errors
import nats.js.errors
from eventsourcing.persistence import Tracking
from nats.aio.client import Client as NATS
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from services.common import messaging
from services.common.application import CopnetApplication
from services.common.integration import IntegrationMap, Publication
from services.common.messaging import NodeIdentity
from services.common.sqlstore import SqlStore

log = logging.getLogger(__name__)
tracer = trace.get_tracer("copnet.relay")

PUBLISH_ERRORS = (
    nats.errors.Error,
    nats.js.errors.Error,
    asyncio.TimeoutError,
    ConnectionError,
    OSError,
)


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
        nats_url: str,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        publish_timeout: float = 5.0,
        record_interval: float = 0.2,
    ) -> None:
        self.app = app
        self.integration = integration
        self.tracking = tracking
        self.identity = identity
        self.nats_url = nats_url
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.publish_timeout = publish_timeout
        self.record_interval = record_interval
        self.stats = RelayStats()
        # Everything up to `position` is acknowledged by JetStream; up to
        # `recorded_position` that fact is also in the tracking store.
        self.position = 0
        self.recorded_position = 0
        self._recorded_at = 0.0
        self._nc: NATS | None = None

    async def run(self, stopping: asyncio.Event) -> None:
        self.position = await asyncio.to_thread(self.tracking.max_tracking_id, self.app.name)
        self.recorded_position = self.position
        log.info("relay of %s starts after position %d", self.app.name, self.position)
        self._nc = await messaging.connect(
            self.nats_url,
            f"copnet-{self.integration.service}-relay-{self.identity.node_id}",
            stopping,
        )
        js = self._nc.jetstream(timeout=self.publish_timeout)
        streams_ready = False
        failures = 0
        try:
            while not stopping.is_set():
                try:
                    if not streams_ready:
                        await messaging.ensure_node_streams(js, self.identity)
                        streams_ready = True
                    if await self._relay_batch(js):
                        await self._record(force=False)
                    else:
                        await self._record(force=True)
                        await self.app.changes.wait_async(self.position, self.poll_interval)
                    failures = 0
                except PUBLISH_ERRORS as error:
                    failures += 1
                    self.stats.failures += 1
                    streams_ready = False
                    delay = min(0.1 * 2**failures, 5.0)
                    log.warning(
                        "relay could not publish (%s: %s); retrying in %.1fs from position %d",
                        type(error).__name__,
                        error,
                        delay,
                        self.position,
                    )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stopping.wait(), delay)
        finally:
            with contextlib.suppress(Exception):
                await self._record(force=True)
            await self._close()

    async def _record(self, force: bool) -> None:
        if self.position == self.recorded_position:
            return
        if not force and time.monotonic() - self._recorded_at < self.record_interval:
            return
        position = self.position
        await asyncio.to_thread(
            self.tracking.recorder.insert_tracking, Tracking(self.app.name, position)
        )
        self.recorded_position = position
        self._recorded_at = time.monotonic()

    async def _relay_batch(self, js) -> bool:
        notifications = await asyncio.to_thread(
            self.app.recorder.select_notifications,
            start=self.position,
            limit=self.batch_size,
            inclusive_of_start=False,
        )
        if not notifications:
            return False
        pending: list[tuple[asyncio.Future, Any]] = []
        try:
            for notification in notifications:
                domain_event = self.app.mapper.to_domain_event(notification)
                publications = self.integration.publications(
                    domain_event, notification.id, self.identity, self._state_after
                )
                if not publications:
                    self.stats.skipped += 1
                for publication in publications:
                    pending.append((await self._send(js, publication, domain_event), domain_event))
            acks = await asyncio.wait_for(
                asyncio.gather(*(future for future, _ in pending)), self.publish_timeout
            )
        except BaseException:
            for future, _ in pending:
                future.cancel()
            raise
        for ack, (_, domain_event) in zip(acks, pending, strict=True):
            if ack.duplicate:
                self.stats.duplicates += 1
            else:
                self.stats.published += 1
            self.stats.recent_lags.append(time.time() - domain_event.timestamp.timestamp())
        self.position = notifications[-1].id
        return True

    def _state_after(self, domain_event: Any) -> Any:
        return self.app.repository.get(
            domain_event.originator_id, version=domain_event.originator_version
        )

    async def _send(self, js, publication: Publication, domain_event: Any) -> asyncio.Future:
        """Sends one message; the returned future resolves to its PubAck."""
        parent = propagate.extract(getattr(domain_event, "trace_context", {}) or {})
        with tracer.start_as_current_span(
            f"publish {publication.subject}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",
                "messaging.destination.name": publication.subject,
                "messaging.message.id": publication.headers[messaging.HEADER_MSG_ID],
                "copnet.event_type": publication.envelope.event_type,
            },
        ):
            headers = dict(publication.headers)
            propagate.inject(headers)
            return await js.publish_async(
                publication.subject,
                publication.envelope.SerializeToString(),
                headers=headers,
                wait_stall=self.publish_timeout,
            )

    async def _close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            try:
                await self._nc.close()
            except Exception:  # closing a broken connection must not mask the real error
                log.debug("error closing NATS connection", exc_info=True)
