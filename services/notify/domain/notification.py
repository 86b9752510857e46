"""`Notification`: one message to one member (an invitation, a reminder, a digest...),
with its due time and every delivery attempt. Its id derives from what caused it and
who it is for, so the same cause can never create a second one; its state machine
lets at most one attempt be open and never starts an attempt after one whose outcome
is unknown. Digests collect entries for a period (`digest_period`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.notify.domain.values import AttemptOutcome, Frequency, Kind, Status, Topic


def backoff(attempt: int, base: timedelta, cap: timedelta) -> timedelta:
    """The wait after the `attempt`-th temporary failure: base, 2 base, 4 base... up to cap."""
    return min(base * 2 ** max(attempt - 1, 0), cap)


@dataclass(frozen=True)
class DigestPeriod:
    frequency: Frequency
    # "2024-06-18" (the day a daily digest goes out) or "2024-W25" (the week of a weekly one).
    key: str
    due_at: datetime


def digest_period(frequency: Frequency, now: datetime, zone: ZoneInfo, hour: int) -> DigestPeriod:
    """The digest that collects what happens at `now`: it goes out at the next `hour`:00
    (daily) or the next Monday `hour`:00 (weekly), wall-clock time in `zone`, after `now`."""
    assert frequency.is_digest
    local = now.astimezone(zone)
    day = local.date()
    while True:
        if frequency is Frequency.DAILY_DIGEST or day.weekday() == 0:
            due = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
            if due > local:
                break
        day += timedelta(days=1)
    if frequency is Frequency.DAILY_DIGEST:
        key = day.isoformat()
    else:
        year, week, _ = day.isocalendar()
        key = f"{year}-W{week:02d}"
    return DigestPeriod(frequency, key, due.astimezone(UTC))


# Notifications


@dataclass(frozen=True)
class Attempt:
    number: int
    started_at: datetime
    message_id: str
    outcome: AttemptOutcome = AttemptOutcome.OPEN
    finished_at: datetime | None = None
    detail: str = ""


def notification_id(key: str, member_id: UUID) -> UUID:
    """The one notification that `key` (what caused it) can create for a member."""
    return uuid5(NAMESPACE_URL, f"copnet:notify:notification:{key}:{member_id}")


class Notification(TracedAggregate):
    """One message to one member, due at a time, with its delivery history.

    pending --start_attempt--> sending --delivered--> sent
       ^                          |----temporary failure (retry at)--> pending (or failed)
       |                          |----permanent failure--> failed
       |                          `----in doubt (interrupted after the data may have gone)
       |                                 --> in_doubt (never retried automatically)
       `--resend (operator)-- failed, in_doubt
    pending --cancel--> cancelled (not needed any more) --reinstate--> pending
    pending --skip--> skipped (due, but deliberately not sent)
    A digest collects entries while pending and before its first attempt.
    """

    @staticmethod
    def create_id(key: str, member_id: UUID) -> UUID:
        return notification_id(key, member_id)

    @event("Created")
    def __init__(
        self,
        member_id: UUID,
        kind: str,
        topic: str,
        key: str,
        due_at: datetime,
        subject: str,
        refs: dict[str, Any],
        context: dict[str, Any],
        digest: dict[str, Any] | None,
    ):
        self.member_id = member_id
        self.kind = Kind(kind)
        self.topic = Topic(topic) if topic else None
        self.key = key
        self.due_at = due_at
        self.subject = subject
        self.refs = dict(refs)
        self.context = dict(context)
        self.digest = dict(digest) if digest else None
        self.entries: list[dict[str, Any]] = []
        self.status = Status.PENDING
        self.status_reason = ""
        self.retry_at: datetime | None = None
        self.attempts: list[Attempt] = []

    @classmethod
    def create(
        cls,
        key: str,
        member_id: UUID,
        kind: Kind,
        topic: Topic | None,
        due_at: datetime,
        subject: str,
        refs: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        digest: DigestPeriod | None = None,
    ) -> Notification:
        return cls(
            member_id=member_id,
            kind=kind.value,
            topic=topic.value if topic else "",
            key=key,
            due_at=due_at,
            subject=subject,
            refs=refs or {},
            context=context or {},
            digest=(
                {"frequency": digest.frequency.value, "period": digest.key} if digest else None
            ),
        )

    # What it is

    @property
    def next_due(self) -> datetime:
        """When the next attempt may start."""
        return self.retry_at or self.due_at

    @property
    def message_number(self) -> int:
        return len(self.attempts) + 1

    @property
    def open_attempt(self) -> Attempt | None:
        if self.attempts and self.attempts[-1].outcome is AttemptOutcome.OPEN:
            return self.attempts[-1]
        return None

    @property
    def is_collecting(self) -> bool:
        """A digest takes entries until its first attempt starts."""
        return self.kind is Kind.DIGEST and self.status is Status.PENDING and not self.attempts

    def is_due(self, now: datetime) -> bool:
        return self.status is Status.PENDING and self.next_due <= now

    # Commands

    def add_entry(self, entry: dict[str, Any]) -> None:
        if not self.is_collecting:
            raise FailedPrecondition("this digest is no longer collecting")
        self._entry_added(entry=entry)

    def start_attempt(self, at: datetime, message_id: str, subject: str) -> Attempt:
        """Claims the next attempt. Only a pending notification can start one, so an
        attempt whose outcome is unknown (sending, in_doubt) blocks any other."""
        if self.status is not Status.PENDING:
            raise FailedPrecondition(f"the notification is {self.status.value}")
        self._attempt_started(
            number=self.message_number, at=at, message_id=message_id, subject=subject
        )
        return self.attempts[-1]

    def delivered(self, at: datetime, detail: str) -> None:
        self._require_open()
        self._delivered(at=at, detail=detail)

    def failed_temporarily(
        self, at: datetime, detail: str, max_attempts: int, base: timedelta, cap: timedelta
    ) -> None:
        """Retries later with exponential backoff, or gives up after max_attempts."""
        attempt = self._require_open()
        if attempt.number >= max_attempts:
            self._failed(
                at=at,
                detail=f"{detail} (gave up after {attempt.number} attempts)",
                outcome=AttemptOutcome.TEMPORARY_FAILURE.value,
            )
            return
        self._attempt_failed(at=at, detail=detail, retry_at=at + backoff(attempt.number, base, cap))

    def failed_permanently(self, at: datetime, detail: str) -> None:
        self._require_open()
        self._failed(at=at, detail=detail, outcome=AttemptOutcome.PERMANENT_FAILURE.value)

    def in_doubt(self, at: datetime, detail: str) -> None:
        self._require_open()
        self._went_in_doubt(at=at, detail=detail)

    def not_sent(self, at: datetime, detail: str) -> None:
        """The open attempt is known not to have sent anything: it may run again now."""
        self._require_open()
        self._attempt_failed(at=at, detail=detail, retry_at=at)

    def cancel(self, reason: str) -> bool:
        """Drops a notification that is no longer needed; False when it is past that."""
        if self.status is not Status.PENDING:
            return False
        self._closed(status=Status.CANCELLED.value, reason=reason)
        return True

    def skip(self, reason: str) -> None:
        if self.status is not Status.PENDING:
            raise FailedPrecondition(f"the notification is {self.status.value}")
        self._closed(status=Status.SKIPPED.value, reason=reason)

    def postpone(self, until: datetime, reason: str) -> None:
        """Waits (without an attempt) for something the message needs, e.g. the address."""
        if self.status is not Status.PENDING:
            raise FailedPrecondition(f"the notification is {self.status.value}")
        self._postponed(until=until, reason=reason)

    def reinstate(self, due_at: datetime) -> bool:
        """Brings back a cancelled notification (e.g. the member signed up again)."""
        if self.status is not Status.CANCELLED:
            return False
        self._reinstated(due_at=due_at)
        return True

    def resend(self, at: datetime) -> None:
        if self.status not in (Status.FAILED, Status.IN_DOUBT):
            raise FailedPrecondition(
                f"only a failed notification or one in doubt can be resent (this one is "
                f"{self.status.value})"
            )
        self._resent(at=at)

    def _require_open(self) -> Attempt:
        attempt = self.open_attempt
        if attempt is None:
            raise FailedPrecondition("no attempt is under way")
        return attempt

    # Events

    @event("EntryAdded")
    def _entry_added(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)

    @event("AttemptStarted")
    def _attempt_started(self, number: int, at: datetime, message_id: str, subject: str) -> None:
        self.attempts.append(Attempt(number, at, message_id))
        self.subject = subject
        self.status = Status.SENDING
        self.retry_at = None

    def _finish(self, outcome: AttemptOutcome, at: datetime, detail: str, status: Status) -> None:
        last = self.attempts[-1]
        self.attempts[-1] = Attempt(
            last.number, last.started_at, last.message_id, outcome, at, detail
        )
        self.status = status
        self.status_reason = "" if status is Status.SENT else detail

    @event("Delivered")
    def _delivered(self, at: datetime, detail: str) -> None:
        self._finish(AttemptOutcome.DELIVERED, at, detail, Status.SENT)
        self.retry_at = None

    @event("AttemptFailed")
    def _attempt_failed(self, at: datetime, detail: str, retry_at: datetime) -> None:
        self._finish(AttemptOutcome.TEMPORARY_FAILURE, at, detail, Status.PENDING)
        self.retry_at = retry_at

    @event("Failed")
    def _failed(self, at: datetime, detail: str, outcome: str) -> None:
        self._finish(AttemptOutcome(outcome), at, detail, Status.FAILED)
        self.retry_at = None

    @event("WentInDoubt")
    def _went_in_doubt(self, at: datetime, detail: str) -> None:
        self._finish(AttemptOutcome.IN_DOUBT, at, detail, Status.IN_DOUBT)
        self.retry_at = None

    @event("Closed")
    def _closed(self, status: str, reason: str) -> None:
        self.status = Status(status)
        self.status_reason = reason

    @event("Postponed")
    def _postponed(self, until: datetime, reason: str) -> None:
        self.retry_at = until
        self.status_reason = reason

    @event("Reinstated")
    def _reinstated(self, due_at: datetime) -> None:
        self.status = Status.PENDING
        self.status_reason = ""
        self.due_at = due_at

    @event("Resent")
    def _resent(self, at: datetime) -> None:
        self.status = Status.PENDING
        self.status_reason = "resent by the operator"
        self.retry_at = at
