"""The notify service's domain.

- `MemberPreferences`: what a member wants to hear about, and how often.
- `Notification`: one message to one member (an invitation, a reminder, a
  digest...), with its due time and every delivery attempt. Its id derives from
  what caused it and who it is for, so the same cause can never create a second
  one; its state machine lets at most one attempt be open and never starts an
  attempt after one whose outcome is unknown.
- `TrackedConvening`: what notify knows of a convening (from the events
  service's events): its details, who signed up, and who was told what.
- `LearningNotice`: a learning item notify has announced, and its latest state.
- `Newsletter`: a community's newsletter, drafted then sent once.

Public methods check the rules and raise; `@event` methods only record.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.kernel.parsing import parse_name, parse_slug, parse_text


class Topic(StrEnum):
    # Invitations to, and changes of, the convenings of one's communities.
    INVITATIONS = "invitations"
    # Reminders, place offers and changes for convenings one signed up to.
    MY_SIGN_UPS = "my_sign_ups"
    LEARNING = "learning"
    NEWSLETTERS = "newsletters"


class Frequency(StrEnum):
    IMMEDIATELY = "immediately"
    DAILY_DIGEST = "daily_digest"
    WEEKLY_DIGEST = "weekly_digest"
    NEVER = "never"

    @property
    def is_digest(self) -> bool:
        return self in (Frequency.DAILY_DIGEST, Frequency.WEEKLY_DIGEST)


class Kind(StrEnum):
    INVITATION = "invitation"
    CONVENING_UPDATE = "convening_update"
    CONVENING_CANCELLED = "convening_cancelled"
    REMINDER = "reminder"
    PLACE_CONFIRMED = "place_confirmed"
    LEARNING = "learning"
    DIGEST = "digest"
    NEWSLETTER = "newsletter"

    @property
    def is_about_a_convening(self) -> bool:
        return self in CONVENING_KINDS


CONVENING_KINDS = frozenset(
    {
        Kind.INVITATION,
        Kind.CONVENING_UPDATE,
        Kind.CONVENING_CANCELLED,
        Kind.REMINDER,
        Kind.PLACE_CONFIRMED,
    }
)


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class AttemptOutcome(StrEnum):
    OPEN = "open"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary_failure"
    PERMANENT_FAILURE = "permanent_failure"
    IN_DOUBT = "in_doubt"


# Preferences

MAX_LIST = 50
MAX_REMINDER_HOURS = 24 * 14
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def parse_domains(values: list[str]) -> tuple[str, ...]:
    tags: list[str] = []
    for value in values:
        tag = parse_slug(value)
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_LIST:
        raise ValueError(f"at most {MAX_LIST} domain tags")
    return tuple(tags)


def parse_community_ids(values: list[str]) -> tuple[str, ...]:
    ids: list[str] = []
    for value in values:
        try:
            text = str(UUID(value.strip()))
        except ValueError:
            raise ValueError(f"{value!r} is not a community id (a UUID)") from None
        if text not in ids:
            ids.append(text)
    if len(ids) > MAX_LIST:
        raise ValueError(f"at most {MAX_LIST} communities")
    return tuple(ids)


def parse_reminder_hours(value: int) -> int:
    if value < 0 or value > MAX_REMINDER_HOURS:
        raise ValueError(f"must be between 0 (the node's default) and {MAX_REMINDER_HOURS}")
    return value


@dataclass(frozen=True)
class PreferenceSettings:
    """A member's choices. The defaults: invitations, sign-up notices and newsletters
    as they happen; learning from one's own communities in a weekly digest."""

    invitations: Frequency = Frequency.IMMEDIATELY
    my_sign_ups: Frequency = Frequency.IMMEDIATELY
    learning: Frequency = Frequency.WEEKLY_DIGEST
    newsletters: Frequency = Frequency.IMMEDIATELY
    learning_domains: tuple[str, ...] = ()
    learning_communities: tuple[str, ...] = ()
    learning_from_my_communities: bool = True
    newsletter_opt_outs: tuple[str, ...] = ()
    # 0: the node's default.
    reminder_hours_before: int = 0

    def __post_init__(self) -> None:
        if self.my_sign_ups.is_digest:
            raise ValueError(
                "my_sign_ups can only be IMMEDIATELY or NEVER: a reminder or a place offer "
                "in a later digest would come too late"
            )

    def frequency(self, topic: Topic) -> Frequency:
        return getattr(self, topic.value)

    def wants_newsletter_of(self, community_id: Any) -> bool:
        return (
            self.newsletters is not Frequency.NEVER
            and str(community_id) not in self.newsletter_opt_outs
        )

    def reminder_lead(self, default_hours: int) -> timedelta:
        return timedelta(hours=self.reminder_hours_before or default_hours)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("invitations", "my_sign_ups", "learning", "newsletters"):
            data[name] = data[name].value
        for name in ("learning_domains", "learning_communities", "newsletter_opt_outs"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreferenceSettings:
        return cls(
            invitations=Frequency(data["invitations"]),
            my_sign_ups=Frequency(data["my_sign_ups"]),
            learning=Frequency(data["learning"]),
            newsletters=Frequency(data["newsletters"]),
            learning_domains=tuple(data["learning_domains"]),
            learning_communities=tuple(data["learning_communities"]),
            learning_from_my_communities=bool(data["learning_from_my_communities"]),
            newsletter_opt_outs=tuple(data["newsletter_opt_outs"]),
            reminder_hours_before=int(data["reminder_hours_before"]),
        )


DEFAULT_PREFERENCES = PreferenceSettings()


class MemberPreferences(TracedAggregate):
    @staticmethod
    def create_id(member_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:notify:preferences:{member_id}")

    @event("Created")
    def __init__(self, member_id: UUID):
        self.member_id = member_id
        self.settings = DEFAULT_PREFERENCES

    def change(self, settings: PreferenceSettings, via: str) -> bool:
        """False when nothing changes (no event)."""
        if settings == self.settings:
            return False
        self._changed(settings=settings.as_dict(), via=via)
        return True

    @event("Changed")
    def _changed(self, settings: dict[str, Any], via: str) -> None:
        self.settings = PreferenceSettings.from_dict(settings)


# Unsubscribing: what one link turns off.


class UnsubscribeScope(StrEnum):
    TOPIC = "topic"
    NEWSLETTER = "newsletter"
    DIGEST = "digest"


@dataclass(frozen=True)
class Unsubscription:
    member_id: UUID
    scope: UnsubscribeScope
    # The topic (TOPIC), the community id (NEWSLETTER) or the frequency (DIGEST).
    target: str

    def applied_to(self, settings: PreferenceSettings) -> PreferenceSettings:
        if self.scope is UnsubscribeScope.TOPIC:
            return _replace(settings, **{Topic(self.target).value: Frequency.NEVER})
        if self.scope is UnsubscribeScope.NEWSLETTER:
            opt_outs = settings.newsletter_opt_outs
            if self.target in opt_outs:
                return settings
            return _replace(settings, newsletter_opt_outs=(*opt_outs, self.target))
        frequency = Frequency(self.target)
        changes = {
            topic.value: Frequency.NEVER
            for topic in Topic
            if settings.frequency(topic) is frequency
        }
        return _replace(settings, **changes)


def _replace(settings: PreferenceSettings, **changes: Any) -> PreferenceSettings:
    return PreferenceSettings(**{**settings.__dict__, **changes})


# Time


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

    def _finish(self, outcome: AttemptOutcome, at: datetime, detail: str, status: Status):
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


# Convenings as notify knows them

# Sign-up statuses that keep a member informed of a convening's changes.
FOLLOWING = ("registered", "waitlisted", "pending_approval")


@dataclass(frozen=True)
class Told:
    """The last convening mail decided for a member: at which SEQUENCE, of which kind, and
    whether an earlier mail about the convening may have reached them."""

    sequence: int
    kind: Kind
    heard_before: bool = False


def convening_mail_key(convening_id: UUID, sequence: int) -> str:
    """One convening mail per member per calendar version of the convening."""
    return f"convening:{convening_id}:{sequence}"


def reminder_key(convening_id: UUID, starts_at: datetime) -> str:
    """One reminder per member per start time: a new time gets a new reminder."""
    return f"reminder:{convening_id}:{starts_at.astimezone(UTC).isoformat()}"


class TrackedConvening(TracedAggregate):
    @staticmethod
    def create_id(convening_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:notify:convening:{convening_id}")

    @event("Scheduled")
    def __init__(
        self,
        convening_id: UUID,
        community_id: UUID,
        details: dict[str, str],
        starts_at: datetime,
        ends_at: datetime,
        time_zone: str,
        sequence: int,
        at: datetime,
    ):
        self.convening_id = convening_id
        self.community_id = community_id
        self.details = dict(details)
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.time_zone = time_zone
        self.sequence = sequence
        self.join_link = ""
        self.organiser_ids: list[UUID] = []
        self.status = "scheduled"
        self.cancel_reason = ""
        self.created_at = at
        self.updated_at = at
        self.signups: dict[UUID, str] = {}
        self.told: dict[UUID, Told] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> TrackedConvening:
        """Every value held is immutable; copying the containers is enough (and fast for
        a community of thousands)."""
        copy = object.__new__(type(self))
        for name, value in self.__dict__.items():
            if isinstance(value, (list, dict, set)):
                value = type(value)(value)
            copy.__dict__[name] = value
        memo[id(self)] = copy
        return copy

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def is_upcoming(self) -> bool:
        return self.status in ("scheduled", "rescheduled")

    def has_started(self, now: datetime) -> bool:
        return now >= self.starts_at

    def holds_place(self, member_id: UUID) -> bool:
        return self.signups.get(member_id) == "registered"

    def following(self) -> list[UUID]:
        """Members with a place, on the waitlist, or awaiting approval."""
        return [m for m, status in self.signups.items() if status in FOLLOWING]

    def place_holders(self) -> list[UUID]:
        return [m for m, status in self.signups.items() if status == "registered"]

    def snapshot(self) -> dict[str, Any]:
        """The convening as rendering needs it."""
        return {
            "convening_id": str(self.convening_id),
            "community_id": str(self.community_id),
            **self.details,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "time_zone": self.time_zone,
            "sequence": self.sequence,
            "status": self.status,
            "cancel_reason": self.cancel_reason,
        }

    # What happened (all idempotent: an older sequence than the one known changes nothing)

    def change_details(self, details: dict[str, str], sequence: int, at: datetime) -> bool:
        if details == self.details and sequence <= self.sequence:
            return False
        self._details_changed(details=details, sequence=max(sequence, self.sequence), at=at)
        return True

    def change_join_link(self, join_link: str, sequence: int, at: datetime) -> bool:
        if join_link == self.join_link:
            return False
        self._join_link_changed(join_link=join_link, sequence=max(sequence, self.sequence), at=at)
        return True

    def change_organisers(self, organiser_ids: list[UUID], sequence: int, at: datetime) -> bool:
        if organiser_ids == self.organiser_ids:
            return False
        self._organisers_changed(
            organiser_ids=organiser_ids, sequence=max(sequence, self.sequence), at=at
        )
        return True

    def reschedule(
        self,
        starts_at: datetime,
        ends_at: datetime,
        time_zone: str,
        reason: str,
        sequence: int,
        at: datetime,
    ) -> bool:
        if (starts_at, ends_at, time_zone) == (self.starts_at, self.ends_at, self.time_zone):
            return False
        self._rescheduled(
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=time_zone,
            reason=reason,
            previous_starts_at=self.starts_at,
            sequence=max(sequence, self.sequence),
            at=at,
        )
        return True

    def cancel(self, reason: str, sequence: int, at: datetime) -> bool:
        if self.is_cancelled:
            return False
        self._cancelled(reason=reason, sequence=max(sequence, self.sequence), at=at)
        return True

    def end(self, status: str, at: datetime) -> bool:
        if self.status == status or self.is_cancelled:
            return False
        self._ended(status=status, at=at)
        return True

    def sign_up_changed(self, member_id: UUID, status: str) -> bool:
        if self.signups.get(member_id) == status:
            return False
        self._sign_up_changed(member_id=member_id, status=status)
        return True

    def record_told(self, member_ids: list[UUID], kind: Kind, heard_before: list[UUID]) -> None:
        """Members told (at this SEQUENCE); those of them an earlier mail may have reached."""
        if member_ids:
            self._told(
                member_ids=member_ids,
                sequence=self.sequence,
                kind=kind.value,
                heard_before=heard_before,
            )

    # Events

    @event("DetailsChanged")
    def _details_changed(self, details: dict[str, str], sequence: int, at: datetime) -> None:
        self.details = dict(details)
        self.sequence = sequence
        self.updated_at = at

    @event("JoinLinkChanged")
    def _join_link_changed(self, join_link: str, sequence: int, at: datetime) -> None:
        self.join_link = join_link
        self.sequence = sequence
        self.updated_at = at

    @event("OrganisersChanged")
    def _organisers_changed(self, organiser_ids: list[UUID], sequence: int, at: datetime) -> None:
        self.organiser_ids = list(organiser_ids)
        self.sequence = sequence
        self.updated_at = at

    @event("Rescheduled")
    def _rescheduled(
        self,
        starts_at: datetime,
        ends_at: datetime,
        time_zone: str,
        reason: str,
        previous_starts_at: datetime,
        sequence: int,
        at: datetime,
    ) -> None:
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.time_zone = time_zone
        self.status = "rescheduled"
        self.sequence = sequence
        self.updated_at = at

    @event("Cancelled")
    def _cancelled(self, reason: str, sequence: int, at: datetime) -> None:
        self.status = "cancelled"
        self.cancel_reason = reason
        self.sequence = sequence
        self.updated_at = at

    @event("Ended")
    def _ended(self, status: str, at: datetime) -> None:
        self.status = status
        self.updated_at = at

    @event("SignUpChanged")
    def _sign_up_changed(self, member_id: UUID, status: str) -> None:
        self.signups[member_id] = status

    @event("Told")
    def _told(
        self, member_ids: list[UUID], sequence: int, kind: str, heard_before: list[UUID]
    ) -> None:
        heard = set(heard_before)
        told, told_again = Told(sequence, Kind(kind)), Told(sequence, Kind(kind), True)
        for member_id in member_ids:
            self.told[member_id] = told_again if member_id in heard else told


# Learning


@dataclass(frozen=True)
class LearningSummary:
    """What notify needs of a learning item (from its snapshot)."""

    origin_node: str
    item_id: str
    revision: int
    status: str
    kind: str
    title: str
    summary: str
    domain_tags: tuple[str, ...]
    community_id: str
    community_name: str
    organisation_name: str
    links: tuple[tuple[str, str], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["domain_tags"] = list(self.domain_tags)
        data["links"] = [list(link) for link in self.links]
        return data


class LearningNotice(TracedAggregate):
    """A learning item as notify last saw it, and the latest revision it announced."""

    @staticmethod
    def create_id(item_id: str) -> UUID:
        # Item ids are UUIDs made by their origin node: unique across the region.
        return uuid5(NAMESPACE_URL, f"copnet:notify:learning:{item_id}")

    @event("Seen")
    def __init__(self, origin_node: str, item_id: str, summary: dict[str, Any]):
        self.origin_node = origin_node
        self.item_id = item_id
        self.summary = dict(summary)
        self.announced_revision = 0
        self.withdrawn = False

    def see(self, summary: LearningSummary) -> bool:
        """Takes a newer state of the item; False when it is not newer."""
        data = summary.as_dict()
        if data == self.summary and not self.withdrawn:
            return False
        if summary.revision < int(self.summary.get("revision", 0)):
            return False
        self._seen(summary=data)
        return True

    def should_announce(self) -> bool:
        """A published revision not announced yet."""
        revision = int(self.summary.get("revision", 0))
        return (
            not self.withdrawn
            and self.summary.get("status") == "published"
            and revision > self.announced_revision
        )

    def announce(self) -> None:
        self._announced(revision=int(self.summary["revision"]))

    def withdraw(self) -> bool:
        if self.withdrawn:
            return False
        self._withdrawn()
        return True

    @event("Updated")
    def _seen(self, summary: dict[str, Any]) -> None:
        self.summary = dict(summary)
        self.withdrawn = summary.get("status") == "withdrawn"

    @event("Announced")
    def _announced(self, revision: int) -> None:
        self.announced_revision = revision

    @event("Withdrawn")
    def _withdrawn(self) -> None:
        self.withdrawn = True


# Newsletters

MAX_NEWSLETTER_BODY = 50_000


def parse_subject(value: str) -> str:
    return parse_name(value)


def parse_newsletter_body(value: str) -> str:
    body = parse_text(value.replace("\r\n", "\n"), MAX_NEWSLETTER_BODY)
    if not body:
        raise ValueError("is required")
    return body


class NewsletterStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"


class Newsletter(TracedAggregate):
    @event("Composed")
    def __init__(
        self,
        community_id: UUID,
        community_name: str,
        subject: str,
        body: str,
        author_member_id: UUID | None,
        at: datetime,
    ):
        self.community_id = community_id
        self.community_name = community_name
        self.subject = subject
        self.body = body
        self.author_member_id = author_member_id
        self.status = NewsletterStatus.DRAFT
        self.recipients = 0
        self.created_at = at
        self.sent_at: datetime | None = None

    def send(self, at: datetime, recipients: int) -> None:
        if self.status is not NewsletterStatus.DRAFT:
            raise FailedPrecondition("the newsletter was already sent")
        self._sent(at=at, recipients=recipients)

    @event("Sent")
    def _sent(self, at: datetime, recipients: int) -> None:
        self.status = NewsletterStatus.SENT
        self.sent_at = at
        self.recipients = recipients
