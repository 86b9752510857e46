"""`TrackedConvening`: what notify knows of a convening (from the events service's
events): its details, who signed up, and who was told what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate, copy_containers
from services.notify.domain.values import Kind

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
        return copy_containers(self, memo)

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


def when_text(starts_at: datetime, ends_at: datetime, time_zone: str) -> str:
    """'Tuesday 18 June 2024, 19:00-20:30 (Europe/London)'."""
    zone = ZoneInfo(time_zone)
    start = starts_at.astimezone(zone)
    end = ends_at.astimezone(zone)
    day = f"{start:%A} {start.day} {start:%B %Y}"
    if end.date() == start.date():
        return f"{day}, {start:%H:%M}\u2013{end:%H:%M} ({time_zone})"
    return f"{day}, {start:%H:%M} \u2013 {end:%A} {end.day} {end:%B %Y}, {end:%H:%M} ({time_zone})"


def convening_subject(kind: Kind, title: str, when: str) -> str:
    prefix = {
        Kind.INVITATION: "Invitation",
        Kind.CONVENING_UPDATE: "Updated",
        Kind.CONVENING_CANCELLED: "Cancelled",
        Kind.REMINDER: "Reminder",
        Kind.PLACE_CONFIRMED: "You have a place",
    }[kind]
    return f"{prefix}: {title} \u2013 {when}"
