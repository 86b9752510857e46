"""What the events service's use cases take besides a `Command`: the community
directory they authorise against, and the values of meeting plans and imported
convenings. (`services.common.application.KEEP` stands for an optional field the caller
did not set.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from services.events.values import Community, Format, LearningOutcome, OrganiserRole

ORGANISER_ROLES = (OrganiserRole.CO_LEAD, OrganiserRole.FACILITATOR)


class CommunityDirectory(Protocol):
    """What the events service knows of communities and people, from the registry's events."""

    def community(self, community_id: UUID) -> Community | None: ...

    def is_known_member(self, member_id: UUID) -> bool: ...

    def is_active_member(self, community_id: UUID, member_id: UUID) -> bool: ...

    def holds_role(
        self, community_id: UUID, member_id: UUID, roles: Iterable[OrganiserRole], day: date
    ) -> bool: ...

    def registry_position(self) -> int: ...


@dataclass(frozen=True)
class PlanEntry:
    """One meeting a plan asks for, in the plan's wall-clock time."""

    start: datetime
    topic: str = ""
    title: str = ""
    # The request field it came from, to name in errors.
    field: str = "occurrences"


@dataclass(frozen=True)
class HeldRecord:
    """A past convening's figures as its community recorded them."""

    signed_up: int
    attended: int
    attendee_count: int | None
    outcomes: list[LearningOutcome]


@dataclass(frozen=True)
class CancelledRecord:
    reason: str


@dataclass(frozen=True)
class PlanDefaults:
    """What every meeting of a plan has unless an occurrence says otherwise."""

    title: str
    description: str
    format: Format
    venue: str
    join_link: str
    capacity: int | None
    duration_minutes: int
