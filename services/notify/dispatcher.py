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

Due notifications go out in groups of `concurrency`: a group's claims are saved in
one transaction (with the previous group's outcomes and any skips), its messages
are sent at once over the transport's pooled connections, and while they are on
the wire the next group is prepared. So at most `concurrency` messages are ever
between a saved claim and a saved outcome (as when each of `concurrency` lanes sent
one at a time), and the store sees one write per group instead of one per message.

Due times are read from the application's clock, so tests move time instead of
sleeping. Run one dispatcher per node (the worker role).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import weakref
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
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
from services.notify.delivery.compose import Composer, Ready, Skip
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
SWITCH_INTERVAL = 0.0005
FOLLOW_TIMEOUT = 5.0
CATCH_UP_WAIT = 0.2


@dataclass
class _Claim:
    """A notification prepared for sending: its attempt started (not saved yet), its span."""

    notification: Notification
    prepared: Ready
    span: trace.Span


# An outcome applied to its notification, saved with the next group's claims:
# (notification id, the change, the notification holding it).
_Held = tuple[UUID, Any, Notification]


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
        # The send threads wait on the mail server four times per message, and each reply
        # then waits for the GIL: at most this long (Python's default is 5 ms) while the
        # dispatcher, the views and the relay keep it busy preparing the next ones.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
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
        size = self.settings.concurrency
        sending: list[Future[_Held | None]] = []
        try:
            for start in range(0, len(due), size):
                self.progress.beat()
                changed, claims = self._prepare(due[start : start + size])
                held = self._sent(sending)
                sending = []
                for claim in self._save(held, changed, claims):
                    sending.append(self._pool.submit(self._send, claim))
        finally:
            self._save_outcomes(self._sent(sending))
        return len(due)

    def _prepare(self, group: list[UUID]) -> tuple[list[Notification], list[_Claim]]:
        """The group's notifications still due, re-read: (skipped or postponed, claims)."""
        changed: list[Notification] = []
        claims: list[_Claim] = []
        now = self.app.clock.now()
        for notification_id in group:
            notification = self.app.notification(notification_id)
            if notification is None or not notification.is_due(now):
                continue
            span = tracer.start_span(
                "notify deliver",
                # In the trace of what caused the e-mail (stored with its creation).
                context=propagate.extract(self.app.trace_of(notification_id)),
                attributes={
                    "copnet.notification.id": str(notification_id),
                    "copnet.notification.kind": notification.kind.value,
                },
            )
            with trace.use_span(span, end_on_exit=False):
                try:
                    prepared = self.composer.prepare(notification, now)
                except CopnetError as error:
                    prepared = Skip(f"could not be composed: {error}")
                except Exception:
                    span.end()
                    self._count("errors")
                    log.exception("could not prepare notification %s", notification_id)
                    continue
            if isinstance(prepared, Ready):
                notification.start_attempt(now, prepared.message_id, prepared.subject)
                claims.append(_Claim(notification, prepared, span))
                continue
            if isinstance(prepared, Skip):
                notification.skip(prepared.reason)
            else:
                notification.postpone(prepared.until, prepared.reason)
            span.set_attribute("copnet.delivery.outcome", type(prepared).__name__.lower())
            span.end()
            changed.append(notification)
        return changed, claims

    def _save(
        self, held: list[_Held], changed: list[Notification], claims: list[_Claim]
    ) -> list[_Claim]:
        """Saves the previous group's outcomes, this group's skips and claims, in one
        transaction; the claims that stand (none, if anything in it changed elsewhere: the
        outcomes are then recorded one by one, the rest is found again by the next pass)."""
        notifications = [h[2] for h in held] + changed + [c.notification for c in claims]
        try:
            if notifications:
                self.app.save_delivery(*notifications)
        except IntegrityError:
            # A notification changed since it was read (a trigger cancelled it, another
            # dispatcher took it). The failed save took the outcomes' pending events off
            # the held notifications: each is applied again to the notification as stored.
            self._save_outcomes(held, one_by_one=True)
            self._count("lost_claims")
            self._end(claims, "changed elsewhere")
            return []
        except Exception:
            self._save_outcomes(held, one_by_one=True)
            self._end(claims, "not claimed")
            raise
        for n in changed:
            self._count("skipped" if n.status is Status.SKIPPED else "postponed")
        return claims

    def _send(self, claim: _Claim) -> _Held | None:
        """One claimed message to the transport (on a thread of the pool); its outcome,
        applied to the notification, to be saved with the next group."""
        notification, prepared, span = claim.notification, claim.prepared, claim.span
        try:
            with trace.use_span(span, end_on_exit=False):
                started = time.perf_counter()
                delivery = self.transport.send(
                    prepared.data,
                    prepared.message_id,
                    self.composer.envelope_sender,
                    prepared.recipient,
                )
                change = self._outcome(delivery)
                span.set_attribute("copnet.delivery.outcome", delivery.outcome.value)
                if delivery.outcome is not Outcome.DELIVERED:
                    span.set_status(
                        trace.Status(trace.StatusCode.ERROR, str(delivery.detail)[:200])
                    )
                change(notification, self.app.clock.now())
                log.info(
                    "notification %s (%s): %s in %.0f ms",
                    notification.id,
                    notification.kind.value,
                    delivery.outcome.value,
                    (time.perf_counter() - started) * 1000,
                )
                return (notification.id, change, notification)
        except Exception:
            # Its attempt stays open: in doubt after a restart, never sent twice.
            self._count("errors")
            log.exception("could not deliver notification %s", notification.id)
            return None
        finally:
            span.end()

    def _sent(self, sending: list[Future[_Held | None]]) -> list[_Held]:
        """The outcomes of a group's sends, once they are all done."""
        outcomes = [future.result() for future in sending]
        return [held for held in outcomes if held is not None]

    def _save_outcomes(self, held: list[_Held], one_by_one: bool = False) -> None:
        if not held:
            return
        if not one_by_one:
            try:
                self.app.save_delivery(*(h[2] for h in held))
                return
            except Exception as error:
                log.warning("could not record %d outcomes together: %s", len(held), error)
        for notification_id, change, _ in held:
            self._record(notification_id, change, None)

    @staticmethod
    def _end(claims: list[_Claim], why: str) -> None:
        for claim in claims:
            claim.span.set_attribute("copnet.delivery.outcome", why)
            claim.span.end()

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
