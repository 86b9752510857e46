"""The dispatcher: sends due notifications, at most once each, and records what happened.

For each due notification (from the mailbox view; the notification itself is
re-read and re-checked) it:
1. prepares the message, or skips or postpones the notification (`Composer`);
2. claims an attempt in the event store (`AttemptStarted`, with the message's
   Message-ID). The claim is an optimistic-concurrency write: of two dispatchers,
   or a dispatcher and a trigger cancelling the notification, one wins;
3. hands the message to the transport;
4. records the outcome: delivered, a temporary failure (retried with exponential
   backoff, then given up), a permanent failure, or in doubt.

An attempt found open when the dispatcher starts was interrupted (the process
died between claiming and recording). If the transport can tell (the file
outbox), it is resolved; otherwise it is marked IN DOUBT and never sent again by
itself: the operator can resend it (`ResendNotification`). Nothing else starts
an attempt on a notification that is not pending, so no message is sent twice
because of redelivered events, restarts or crashes: delivery is at most once,
and exactly once unless a crash (or a broken connection) falls inside one SMTP
transaction, which then shows as in doubt.

Due times are read from the application's clock, so tests move time instead of
sleeping. Run one dispatcher per node (the worker role).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from opentelemetry import metrics, propagate, trace
from opentelemetry.metrics import CallbackOptions, Observation

from services.common.errors import CopnetError
from services.common.health import Backoff, Progress
from services.common.projection import ProjectionFollower
from services.notify.application import Notify
from services.notify.delivery.compose import Composer, Postpone, Ready, Skip
from services.notify.delivery.transport import Delivery, Outcome, Transport
from services.notify.domain import Notification, Status
from services.notify.settings import NotifySettings
from services.notify.views import Mailbox

log = logging.getLogger(__name__)
tracer = trace.get_tracer("copnet.notify.dispatcher")
_dispatchers: weakref.WeakSet[Dispatcher] = weakref.WeakSet()
# DispatchStats field: the `outcome` of `copnet.notify.emails`.
_OUTCOMES = {
    "delivered": "sent",
    "temporary_failures": "failed_temporarily",
    "permanent_failures": "failed",
    "in_doubt": "in_doubt",
}


def _emails(_options: CallbackOptions) -> Iterable[Observation]:
    for dispatcher in list(_dispatchers):
        for name, outcome in _OUTCOMES.items():
            value = getattr(dispatcher.stats, name)
            yield Observation(value, {**dispatcher.labels, "outcome": outcome})


def _queue(_options: CallbackOptions) -> Iterable[Observation]:
    for dispatcher in list(_dispatchers):
        try:
            queue = dispatcher.mailbox.queue()
        except Exception as error:  # the store away: no figure this time
            log.debug("cannot count the e-mail queue: %s", error)
            continue
        for status, count in queue.items():
            yield Observation(count, {**dispatcher.labels, "status": status})


_meter = metrics.get_meter("copnet.notify")
_meter.create_observable_counter(
    "copnet.notify.emails", [_emails], "{email}", "E-mails by outcome: sent, failed, in doubt"
)
_meter.create_observable_gauge(
    "copnet.notify.queue", [_queue], "{email}", "Notifications waiting (pending) or sending"
)

BATCH = 200
FOLLOW_TIMEOUT = 5.0
CATCH_UP_WAIT = 0.2


class _Carry:
    """A lane's last outcome, applied to its notification but not saved yet."""

    def __init__(self) -> None:
        self._held: tuple[UUID, Any, Notification] | None = None

    def hold(self, notification_id: UUID, change: Any, notification: Notification) -> None:
        assert self._held is None
        self._held = (notification_id, change, notification)

    def take(self) -> tuple[UUID, Any, Notification] | None:
        held, self._held = self._held, None
        return held


@dataclass
class DispatchStats:
    delivered: int = 0
    temporary_failures: int = 0
    permanent_failures: int = 0
    in_doubt: int = 0
    skipped: int = 0
    postponed: int = 0
    lost_claims: int = 0
    errors: int = 0


class Dispatcher:
    def __init__(
        self,
        app: Notify,
        mailbox: Mailbox,
        follower: ProjectionFollower,
        composer: Composer,
        transport: Transport,
        settings: NotifySettings,
    ) -> None:
        self.app = app
        self.mailbox = mailbox
        self.follower = follower
        self.composer = composer
        self.transport = transport
        self.settings = settings
        self.stats = DispatchStats()
        self.progress = Progress("notify dispatcher")
        self.labels = {
            "copnet.node": app.env.get("COPNET_NODE_ID") or "",
            "copnet.service": "notify",
        }
        _dispatchers.add(self)
        self._pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="notify-send")
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    async def run(self, stopping: asyncio.Event) -> None:
        backoff = Backoff(base=0.5, cap=10.0)
        recovered = False
        seen = 0
        try:
            while not stopping.is_set():
                try:
                    if not recovered:
                        await asyncio.to_thread(self.recover)
                        recovered = True
                    seen = self.app.changes.latest
                    worked = await asyncio.to_thread(self.dispatch_due)
                    await asyncio.to_thread(self.sweep_erased)
                    self.progress.ok()
                    backoff.reset()
                except Exception as error:
                    self.stats.errors += 1
                    delay = backoff.next_delay()
                    self.progress.failing(error, delay)
                    await backoff.wait(stopping, delay)
                    continue
                if not worked and not stopping.is_set():
                    # Idle: SMTP connections unused for a while are closed.
                    await asyncio.to_thread(self.transport.close_idle)
                    await self.app.changes.wait_async(seen, self.settings.poll_interval)
        finally:
            self._stopping.set()
            await asyncio.to_thread(self._pool.shutdown, True)
            await asyncio.to_thread(self.transport.close)

    def _catch_up(self, timeout: float) -> bool:
        """Waits (up to `timeout`) for the mailbox to show everything recorded so far."""
        position = self.app.recorder.max_notification_id() or 0
        return self.follower.wait_for(position, timeout)

    # Start-up: attempts left open by a dispatcher that died

    def recover(self) -> int:
        # Every open attempt must be found: wait for the mailbox to show them all.
        while not self._catch_up(FOLLOW_TIMEOUT):
            log.warning("waiting for the mailbox to catch up before recovering")
            if self._stopping.is_set():
                return 0
        resolved = 0
        for notification_id in self.mailbox.sending():
            notification = self.app.notification(notification_id)
            if notification is None or notification.status is not Status.SENDING:
                continue
            attempt = notification.open_attempt
            assert attempt is not None
            sent = self.transport.was_sent(attempt.message_id)
            if sent is True:
                change, what = (
                    lambda n, at: n.delivered(at, "found in the outbox after a restart"),
                    "delivered",
                )
            elif sent is False:
                change, what = (
                    lambda n, at: n.not_sent(at, "interrupted before it was written; sent again"),
                    "not sent",
                )
            else:
                change, what = (
                    lambda n, at: n.in_doubt(
                        at,
                        "the dispatcher stopped during this attempt: the message may or may "
                        "not have reached the mail server, so it is not sent again "
                        "automatically",
                    ),
                    "in doubt",
                )
            self.app.record(notification_id, change)
            log.warning("notification %s was interrupted while sending: %s", notification_id, what)
            resolved += 1
        return resolved

    # Erasure

    def sweep_erased(self) -> int:
        """Removes the outbox files of messages to members erased since the last pass (their
        pending messages are skipped by the composer). The number of files removed."""
        directory = self.composer.directory
        removed = 0
        for member_id in directory.erased_unswept():
            for notification_id in self.mailbox.notification_ids_of(member_id):
                notification = self.app.notification(notification_id)
                if notification is None:
                    continue
                for attempt in notification.attempts:
                    removed += self.transport.forget(attempt.message_id)
            directory.mark_swept(member_id)
            log.info("erased member %s: %d outbox file(s) removed", member_id, removed)
        return removed

    # Sending

    def dispatch_due(self) -> int:
        """Sends what is due now; the number of notifications handled. What the mailbox does
        not show yet (it follows the store) is found by a later pass."""
        self._catch_up(CATCH_UP_WAIT)
        due = self.mailbox.due(self.app.clock.now(), BATCH)
        if not due:
            return 0
        lanes = self.settings.concurrency
        list(self._pool.map(self._work, [due[lane::lanes] for lane in range(lanes)]))
        return len(due)

    def _work(self, notification_ids: list[UUID]) -> None:
        """One lane: its notifications one after another. Each outcome is saved with the
        next claim, in one transaction, halving the writes; at most one message per lane is
        ever between its claim and its recorded outcome, as with saving each at once."""
        carry = _Carry()
        try:
            for notification_id in notification_ids:
                self.progress.beat()
                try:
                    self.deliver(notification_id, carry)
                except Exception:
                    self._count("errors")
                    log.exception("could not deliver notification %s", notification_id)
        finally:
            self._flush(carry)

    def deliver(self, notification_id: UUID, carry: _Carry | None = None) -> str:
        """One due notification: sent, skipped, postponed, or left to whoever got it first.
        Its outcome is saved at once, or left in `carry` to be saved with the next write."""
        lane = carry or _Carry()
        try:
            return self._deliver(notification_id, lane)
        finally:
            if carry is None:
                self._flush(lane)

    def _deliver(self, notification_id: UUID, carry: _Carry) -> str:
        now = self.app.clock.now()
        notification = self.app.notification(notification_id)
        if notification is None or not notification.is_due(now):
            return "not due"
        with tracer.start_as_current_span(
            "notify deliver",
            # In the trace of what caused the e-mail (stored with the notification's creation).
            context=propagate.extract(self.app.trace_of(notification_id)),
            attributes={
                "copnet.notification.id": str(notification_id),
                "copnet.notification.kind": notification.kind.value,
            },
        ):
            try:
                prepared = self.composer.prepare(notification, now)
            except CopnetError as error:
                prepared = Skip(f"could not be composed: {error}")
            if isinstance(prepared, Skip):
                notification.skip(prepared.reason)
                return self._settle(carry, notification, "skipped")
            if isinstance(prepared, Postpone):
                notification.postpone(prepared.until, prepared.reason)
                return self._settle(carry, notification, "postponed")
            assert isinstance(prepared, Ready)
            notification.start_attempt(
                now, self.composer.message_id(notification), prepared.subject
            )
            claimed = self._settle(carry, notification, "claimed")
            if claimed != "claimed":
                return claimed
            started = time.perf_counter()
            delivery = self.transport.send(
                prepared.data,
                prepared.message_id,
                self.composer.envelope_sender,
                prepared.recipient,
            )
            change = self._outcome(delivery)
            span = trace.get_current_span()
            span.set_attribute("copnet.delivery.outcome", delivery.outcome.value)
            if delivery.outcome is not Outcome.DELIVERED:
                span.set_status(trace.Status(trace.StatusCode.ERROR, str(delivery.detail)[:200]))
            change(notification, self.app.clock.now())
            carry.hold(notification_id, change, notification)
            log.info(
                "notification %s (%s): %s in %.0f ms",
                notification_id,
                notification.kind.value,
                delivery.outcome.value,
                (time.perf_counter() - started) * 1000,
            )
            return delivery.outcome.value

    def _settle(self, carry: _Carry, notification: Notification, what: str) -> str:
        """Saves a change of `notification` (with the lane's previous outcome, if any)."""
        held = carry.take()
        try:
            self.app.save_delivery(*([held[2]] if held else []), notification)
        except IntegrityError:
            # The notification changed since it was read (a trigger cancelled it, another
            # dispatcher took it): record the previous outcome alone, leave this one. The
            # failed save took the outcome's pending event off the held notification: it is
            # applied again to the notification as stored.
            if held:
                self._record(held[0], held[1], None)
            self._count("lost_claims")
            return "changed elsewhere"
        except Exception:
            if held:
                self._record(held[0], held[1], None)
            raise
        if what != "claimed":
            self._count(what)
        return what

    def _flush(self, carry: _Carry) -> None:
        held = carry.take()
        if held:
            self._record(*held)

    def _outcome(self, delivery: Delivery) -> Any:
        s = self.settings
        if delivery.outcome is Outcome.DELIVERED:
            self._count("delivered")
            return lambda n, at: n.delivered(at, delivery.detail)
        if delivery.outcome is Outcome.TEMPORARY:
            self._count("temporary_failures")
            return lambda n, at: n.failed_temporarily(
                at, delivery.detail, s.max_attempts, s.retry_base, s.retry_cap
            )
        if delivery.outcome is Outcome.PERMANENT:
            self._count("permanent_failures")
            return lambda n, at: n.failed_permanently(at, delivery.detail)
        self._count("in_doubt")
        return lambda n, at: n.in_doubt(at, delivery.detail)

    def _record(self, notification_id: UUID, change: Any, current: Notification | None) -> None:
        """Saves an outcome, which is already true: the message is out (or not). While the
        store is away, keeps trying; only stopping gives up, which leaves the attempt open
        (in doubt after the restart)."""
        delay = 0.2
        while True:
            try:
                if current is not None:
                    self.app.save_delivery(current)
                else:
                    self.app.record(notification_id, change)
                return
            except (IntegrityError, CopnetError) as error:
                log.error("could not record the outcome of %s: %s", notification_id, error)
                return
            except Exception as error:
                if self._stopping.is_set():
                    log.error("stopping before the outcome of %s was recorded", notification_id)
                    return
                log.warning("could not record %s yet (%s); retrying", notification_id, error)
                self._stopping.wait(delay)
                current = None  # it holds the unsaved change: start again from the store
                delay = min(delay * 2, 10.0)

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self.stats, what, getattr(self.stats, what) + 1)
