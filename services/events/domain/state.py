"""What a `Convening` holds, as its events left it: the queries on it, the checks its
commands make, and the bookkeeping of its sign-ups (places taken, the waitlist).

`ConveningState` holds no `@event` method (those, and so every stored event class, are
`Convening`'s own): it is the read side of the aggregate, apart from the commands.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from services.common.aggregate import copy_containers
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.events.domain.parts import (
    UPCOMING,
    AttendanceFigures,
    ConveningDetails,
    Reschedule,
    SignUp,
)
from services.events.values import (
    Attendance,
    ConveningStatus,
    LearningOutcome,
    RegistrationWindow,
    SignUpStatus,
    TimeSlot,
    local_text,
)


def words(status: SignUpStatus) -> str:
    return {
        SignUpStatus.REGISTERED: "holds a place",
        SignUpStatus.WAITLISTED: "is on the waitlist",
        SignUpStatus.PENDING_APPROVAL: "awaits an organiser's approval",
        SignUpStatus.DECLINED: "was declined",
        SignUpStatus.CANCELLED: "cancelled",
    }[status]


class ConveningState:
    """The state of a convening (set by `Convening`'s `@event` methods), its queries and
    checks."""

    community_id: UUID
    plan_id: UUID | None
    details: ConveningDetails
    slot: TimeSlot
    planned_slot: TimeSlot
    capacity: int | None
    window: RegistrationWindow
    status: ConveningStatus
    sequence: int
    organiser_ids: list[UUID]
    reschedules: list[Reschedule]
    cancel_reason: str
    outcomes: list[LearningOutcome]
    attendee_count: int | None
    signups: dict[UUID, SignUp]
    places_taken: int
    waitlist: list[UUID]
    _next_seq: int
    recorded_figures: AttendanceFigures | None
    counts_for_cpd: bool
    cpd_minutes: int | None

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        """A copy for a command (the repository copies cached aggregates) in time linear in
        the sign-ups with a small constant: every value held is immutable (frozen dataclasses,
        enums, UUIDs, datetimes), so copying the containers makes the copy independent."""
        return copy_containers(self, memo)

    # Queries

    @property
    def is_upcoming(self) -> bool:
        return self.status in UPCOMING

    @property
    def registration_closes_at(self) -> datetime:
        return self.window.closes_for(self.slot)

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.places_taken, 0)

    @property
    def pending_approvals(self) -> int:
        return sum(1 for s in self.signups.values() if s.status is SignUpStatus.PENDING_APPROVAL)

    def count(self, attendance: Attendance) -> int:
        return sum(
            1
            for s in self.signups.values()
            if s.status is SignUpStatus.REGISTERED and s.attendance is attendance
        )

    @property
    def figures(self) -> AttendanceFigures:
        if self.recorded_figures is not None:
            return self.recorded_figures
        return AttendanceFigures(
            self.places_taken, self.count(Attendance.ATTENDED), self.count(Attendance.NO_SHOW)
        )

    def waitlist_position(self, member_id: UUID) -> int:
        """1 for the next to be promoted; 0 when not on the waitlist."""
        try:
            return self.waitlist.index(member_id) + 1
        except ValueError:
            return 0

    def sign_up_of(self, member_id: UUID) -> SignUp:
        sign_up = self.signups.get(member_id)
        if sign_up is None:
            raise NotFound(f"member {member_id} has not signed up to this convening")
        return sign_up

    @property
    def cpd_hours(self) -> float:
        """The CPD hours an attendee gets: as set by an organiser, else the duration
        (to the nearest quarter hour)."""
        if self.cpd_minutes is not None:
            return self.cpd_minutes / 60
        minutes = (self.slot.ends_at - self.slot.starts_at).total_seconds() / 60
        return round(minutes / 15) * 15 / 60

    def _when(self, instant: datetime) -> str:
        return f"{local_text(instant, self.slot.time_zone)} {self.slot.time_zone}"

    def _check_state(self, action: str, allowed: tuple[ConveningStatus, ...]) -> None:
        if self.status in allowed:
            return
        reasons = {
            ConveningStatus.CANCELLED: "is cancelled",
            ConveningStatus.HELD: "has been held",
            ConveningStatus.CLOSED: "is closed",
            ConveningStatus.SCHEDULED: "has not been held yet",
            ConveningStatus.RESCHEDULED: "has not been held yet",
        }
        raise FailedPrecondition(f"cannot {action}: the convening {reasons[self.status]}")

    def _check_before_start(self, action: str, now: datetime) -> None:
        self._check_state(action, UPCOMING)
        if now >= self.slot.starts_at:
            raise FailedPrecondition(
                f"cannot {action}: the convening started at {self._when(self.slot.starts_at)}"
            )

    def _check_started(self, action: str, now: datetime) -> None:
        if now < self.slot.starts_at:
            raise FailedPrecondition(
                f"cannot {action}: the convening starts at {self._when(self.slot.starts_at)}"
            )

    # Organisers' commands

    def _check_registration_open(self, now: datetime) -> None:
        self._check_state("sign up", UPCOMING)
        opens = self.window.opens_at
        if opens is not None and now < opens:
            raise FailedPrecondition(f"registration opens at {self._when(opens)}")
        if now >= self.registration_closes_at:
            raise FailedPrecondition(
                f"registration closed at {self._when(self.registration_closes_at)}"
            )

    def _check_awaiting_approval(self, action: str, member_id: UUID, now: datetime) -> None:
        self._check_before_start(action, now)
        sign_up = self.sign_up_of(member_id)
        if sign_up.status is not SignUpStatus.PENDING_APPROVAL:
            raise FailedPrecondition(
                f"there is no sign-up awaiting approval: member {member_id} {words(sign_up.status)}"
            )

    def _has_room(self) -> bool:
        return self.capacity is None or self.places_taken < self.capacity

    # Sign-up bookkeeping (called by the event methods)

    def _move(self, member_id: UUID, status: SignUpStatus, at: datetime, note: str = "") -> None:
        sign_up = self.signups[member_id]
        self._leave(member_id, sign_up.status)
        self.signups[member_id] = replace(sign_up, status=status, updated_at=at, note=note)
        self._enter(member_id, status)

    def _enter(self, member_id: UUID, status: SignUpStatus) -> None:
        if status is SignUpStatus.REGISTERED:
            self.places_taken += 1
        elif status is SignUpStatus.WAITLISTED:
            self.waitlist.append(member_id)

    def _leave(self, member_id: UUID, status: SignUpStatus) -> None:
        if status is SignUpStatus.REGISTERED:
            self.places_taken -= 1
        elif status is SignUpStatus.WAITLISTED:
            self.waitlist.remove(member_id)


def check_window(window: RegistrationWindow, slot: TimeSlot) -> None:
    """Registration closes by the end of the convening and opens before it closes."""
    if window.closes_at is not None and window.closes_at > slot.ends_at:
        raise InvalidArgument.single(
            "registration_closes", "must be no later than the end of the convening"
        )
    if window.opens_at is not None and window.opens_at >= window.closes_for(slot):
        raise InvalidArgument.single(
            "registration_opens", "must be before registration closes (by default, the start)"
        )
