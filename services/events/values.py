"""Value types of the events service and the parsers that make them from user input.

Each parser returns the canonical value or raises ValueError with a
description the caller can act on (the servicer turns it into a field
violation). Times are kept as UTC instants plus the IANA zone they were given
in: a meeting at 19:00 in London stays at 19:00 local time across DST changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from uuid import UUID
from zoneinfo import ZoneInfo, available_timezones

from services.kernel.parsing import parse_line
from services.kernel.parsing import parse_local_datetime as parse_local_datetime

DEFAULT_TIME_ZONE = "Europe/London"
MAX_TITLE_LENGTH = 200
MAX_TOPIC_LENGTH = 200
MAX_VENUE_LENGTH = 500
MAX_OUTCOME_TEXT_LENGTH = 2000
MAX_COMMENT_LENGTH = 2000
MAX_LINKS_PER_OUTCOME = 10
MAX_OUTCOMES = 20
MAX_CAPACITY = 100_000
MAX_ORGANISERS = 50  # organisers named on one convening
MAX_DURATION = timedelta(days=14)


class Format(StrEnum):
    FACE_TO_FACE = "face_to_face"
    WEBINAR = "webinar"
    HYBRID = "hybrid"


class ConveningStatus(StrEnum):
    SCHEDULED = "scheduled"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    HELD = "held"
    CLOSED = "closed"


class SignUpStatus(StrEnum):
    # Holds a place.
    REGISTERED = "registered"
    # Waits for a place, in order.
    WAITLISTED = "waitlisted"
    # Waits for an organiser's decision (invite-only communities).
    PENDING_APPROVAL = "pending_approval"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class Attendance(StrEnum):
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class OutcomeKind(StrEnum):
    ONLINE_RESOURCE = "online_resource"
    SHADOWING_OPPORTUNITY = "shadowing_opportunity"
    QI_IDEA_STARTED = "qi_idea_started"
    REPLICABLE_MODEL = "replicable_model"
    OTHER = "other"


class Grouping(StrEnum):
    """How analytics group convenings."""

    COMMUNITY = "community"
    TOPIC = "topic"
    FORMAT = "format"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class JoiningPolicy(StrEnum):
    """The community's joining policy, as the registry publishes it."""

    OPEN = "open"
    APPROVAL = "approval"
    INVITE_ONLY = "invite_only"


class CommunityLifecycle(StrEnum):
    FORMING = "forming"
    ACTIVE = "active"
    DORMANT = "dormant"
    CLOSED = "closed"


class OrganiserRole(StrEnum):
    """Registry roles that may organise a community's convenings."""

    CO_LEAD = "co_lead"
    FACILITATOR = "facilitator"


# Text (the kernel's rules: services.kernel.parsing)


def parse_title(value: str) -> str:
    return parse_line(value, MAX_TITLE_LENGTH)


def parse_topic(value: str) -> str:
    return parse_line(value, MAX_TOPIC_LENGTH, required=False)


def parse_venue(value: str) -> str:
    return parse_line(value, MAX_VENUE_LENGTH, required=False)


def parse_capacity(value: int) -> int | None:
    """0 means no limit."""
    if value < 0:
        raise ValueError("must not be negative")
    if value > MAX_CAPACITY:
        raise ValueError(f"must be at most {MAX_CAPACITY}")
    return value or None


def parse_rating(value: int) -> int:
    if not 1 <= value <= 5:
        raise ValueError("must be from 1 to 5")
    return value


# Time


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_time_zone(value: str) -> str:
    """An IANA time zone name; Europe/London when empty."""
    name = value.strip() or DEFAULT_TIME_ZONE
    if name not in _zone_names():
        raise ValueError("must be an IANA time zone name such as 'Europe/London'")
    return name


def to_instant(local: datetime, time_zone: str) -> datetime:
    """The UTC instant of a wall-clock time in a zone.

    Raises ValueError for a time that does not exist there (skipped by a DST
    change). An ambiguous time (repeated by a DST change) is its first instance.
    """
    zone = ZoneInfo(time_zone)
    aware = local.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local:
        raise ValueError(f"{local.isoformat(timespec='minutes')} does not exist in {time_zone}")
    return instant


def local_time(instant: datetime, time_zone: str) -> datetime:
    """The wall-clock time (naive) of a UTC instant in a zone."""
    return instant.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)


def local_text(instant: datetime | None, time_zone: str) -> str:
    if instant is None:
        return ""
    return local_time(instant, time_zone).isoformat(timespec="minutes")


@dataclass(frozen=True)
class TimeSlot:
    """When a convening happens: UTC instants and the zone people meet in."""

    starts_at: datetime
    ends_at: datetime
    time_zone: str

    @classmethod
    def of_local(cls, start: datetime, end: datetime, time_zone: str) -> TimeSlot:
        """A checked slot from wall-clock times; ValueError names what is wrong with the end
        (a start that does not exist in the zone is reported by `to_instant`)."""
        slot = cls(to_instant(start, time_zone), to_instant(end, time_zone), time_zone)
        if slot.ends_at <= slot.starts_at:
            raise ValueError("must be after the start")
        if slot.ends_at - slot.starts_at > MAX_DURATION:
            raise ValueError(f"must be at most {MAX_DURATION.days} days after the start")
        return slot

    @property
    def local_start(self) -> datetime:
        return local_time(self.starts_at, self.time_zone)


@dataclass(frozen=True)
class RegistrationWindow:
    """When people may sign up. Unset ends: from scheduling, until the start."""

    opens_at: datetime | None = None
    closes_at: datetime | None = None

    def closes_for(self, slot: TimeSlot) -> datetime:
        return self.closes_at if self.closes_at is not None else slot.starts_at


@dataclass(frozen=True)
class LearningOutcome:
    kind: OutcomeKind
    text: str
    links: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind.value, "text": self.text, "links": list(self.links)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> LearningOutcome:
        links = data.get("links") or []
        assert isinstance(links, list)
        return cls(OutcomeKind(str(data["kind"])), str(data["text"]), tuple(map(str, links)))


@dataclass(frozen=True)
class Community:
    """What the events service knows of a community, from the registry's events."""

    community_id: UUID
    slug: str
    name: str
    joining_policy: JoiningPolicy
    lifecycle: CommunityLifecycle

    @property
    def is_closed(self) -> bool:
        return self.lifecycle is CommunityLifecycle.CLOSED

    @property
    def sign_ups_need_membership(self) -> bool:
        return self.joining_policy is not JoiningPolicy.OPEN

    @property
    def sign_ups_need_approval(self) -> bool:
        return self.joining_policy is JoiningPolicy.INVITE_ONLY
