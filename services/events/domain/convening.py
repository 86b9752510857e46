"""`Convening`: one meeting of a community, with its sign-ups inside it: one consistency
boundary for capacity and waitlist order, so a place is never given twice and the
waitlist is promoted strictly in order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
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
    Format,
    LearningOutcome,
    RegistrationWindow,
    SignUpStatus,
    TimeSlot,
    local_text,
)


def _words(status: SignUpStatus) -> str:
    return {
        SignUpStatus.REGISTERED: "holds a place",
        SignUpStatus.WAITLISTED: "is on the waitlist",
        SignUpStatus.PENDING_APPROVAL: "awaits an organiser's approval",
        SignUpStatus.DECLINED: "was declined",
        SignUpStatus.CANCELLED: "cancelled",
    }[status]


class Convening(TracedAggregate):
    """A meeting of a community: scheduled -> (rescheduled) -> held -> closed, or cancelled."""

    class Event(TracedAggregate.Event):
        community_id: UUID

    class Created(Event, TracedAggregate.Created):
        pass

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        # Every event names its community, so consumers need no other event to place it.
        kwargs.setdefault("community_id", self.community_id)
        super().trigger_event(event_class, **kwargs)

    def __deepcopy__(self, memo: dict[int, Any]) -> Convening:
        """A copy for a command (the repository copies cached aggregates) in time linear in
        the sign-ups with a small constant: every value held is immutable (frozen dataclasses,
        enums, UUIDs, datetimes), so copying the containers makes the copy independent."""
        copy = object.__new__(type(self))
        for name, value in self.__dict__.items():
            if isinstance(value, (list, dict, set)):
                value = type(value)(value)
            copy.__dict__[name] = value
        memo[id(self)] = copy
        return copy

    @classmethod
    def schedule(
        cls,
        community_id: UUID,
        details: ConveningDetails,
        slot: TimeSlot,
        capacity: int | None,
        window: RegistrationWindow,
        now: datetime,
        plan_id: UUID | None = None,
    ) -> Convening:
        details.check()
        if slot.starts_at <= now:
            raise InvalidArgument.single("start", "must be in the future")
        _check_window(window, slot)
        convening = cls(
            community_id=community_id,
            plan_id=plan_id,
            title=details.title,
            topic=details.topic,
            description=details.description,
            format=details.format.value,
            venue=details.venue,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            time_zone=slot.time_zone,
            capacity=capacity,
            registration_opens_at=window.opens_at,
            registration_closes_at=window.closes_at,
        )
        if details.join_link:
            # Join links travel in events of their own, published only on the node.
            convening._join_link_changed(join_link=details.join_link, initial=True)
        return convening

    @classmethod
    def from_records(
        cls,
        community_id: UUID,
        details: ConveningDetails,
        slot: TimeSlot,
        now: datetime,
        plan_id: UUID | None = None,
    ) -> Convening:
        """A convening that took place before its community used copnet, as its own records
        (a spreadsheet, a mailing list) tell it. Its venue or join link may be unknown."""
        if slot.ends_at > now:
            raise InvalidArgument.single(
                "end", "must be in the past: schedule convenings to come with ScheduleConvening"
            )
        return cls(
            community_id=community_id,
            plan_id=plan_id,
            title=details.title,
            topic=details.topic,
            description=details.description,
            format=details.format.value,
            venue=details.venue,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            time_zone=slot.time_zone,
            capacity=None,
            registration_opens_at=None,
            registration_closes_at=None,
        )

    @event("Scheduled")
    def __init__(
        self,
        community_id: UUID,
        plan_id: UUID | None,
        title: str,
        topic: str,
        description: str,
        format: str,
        venue: str,
        starts_at: datetime,
        ends_at: datetime,
        time_zone: str,
        capacity: int | None,
        registration_opens_at: datetime | None,
        registration_closes_at: datetime | None,
    ):
        self.community_id = community_id
        self.plan_id = plan_id
        self.details = ConveningDetails(title, topic, description, Format(format), venue, "")
        self.slot = TimeSlot(starts_at, ends_at, time_zone)
        self.planned_slot = self.slot
        self.capacity = capacity
        self.window = RegistrationWindow(registration_opens_at, registration_closes_at)
        self.status = ConveningStatus.SCHEDULED
        # RFC 5545 SEQUENCE: bumped by every change a calendar shows.
        self.sequence = 0
        self.organiser_ids: list[UUID] = []
        self.reschedules: list[Reschedule] = []
        self.cancel_reason = ""
        self.outcomes: list[LearningOutcome] = []
        self.attendee_count: int | None = None
        self.signups: dict[UUID, SignUp] = {}
        self.places_taken = 0
        self.waitlist: list[UUID] = []
        self._next_seq = 1
        # Set when it was closed with figures from the community's records, not sign-ups.
        self.recorded_figures: AttendanceFigures | None = None

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

    def sign_up_of(self, member_id: UUID) -> SignUp:
        sign_up = self.signups.get(member_id)
        if sign_up is None:
            raise NotFound(f"member {member_id} has not signed up to convening {self.id}")
        return sign_up

    def waitlist_position(self, member_id: UUID) -> int:
        """1 for the next to be promoted; 0 when not on the waitlist."""
        try:
            return self.waitlist.index(member_id) + 1
        except ValueError:
            return 0

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

    def change_details(self, details: ConveningDetails, now: datetime) -> None:
        """Title, topic and description may be corrected until closing; where and how
        people meet only before the start."""
        self._check_state("change the details", (*UPCOMING, ConveningStatus.HELD))
        current = self.details
        where = (details.format, details.venue, details.join_link)
        if where != (current.format, current.venue, current.join_link):
            self._check_before_start("change the format, venue or join link", now)
            details.check()
        if details.join_link != current.join_link:
            self._join_link_changed(join_link=details.join_link, initial=False)
        if replace(details, join_link=current.join_link) != current:
            self._details_changed(
                title=details.title,
                topic=details.topic,
                description=details.description,
                format=details.format.value,
                venue=details.venue,
            )

    def change_capacity(self, capacity: int | None, now: datetime) -> None:
        if capacity == self.capacity:
            return
        self._check_before_start("change the capacity", now)
        if capacity is not None and capacity < self.places_taken:
            raise FailedPrecondition(
                f"{self.places_taken} people hold places: the capacity cannot go below that"
            )
        self._capacity_changed(capacity=capacity)
        self._promote(now)

    def change_registration_window(self, window: RegistrationWindow, now: datetime) -> None:
        if window == self.window:
            return
        self._check_before_start("change the registration window", now)
        _check_window(window, self.slot)
        self._registration_window_changed(opens_at=window.opens_at, closes_at=window.closes_at)

    def set_organisers(self, organiser_ids: list[UUID]) -> None:
        """Who organises it (shown in calendars). Setting them right after scheduling is part
        of scheduling, not a change."""
        if list(organiser_ids) == self.organiser_ids:
            return
        self._check_state("change the organisers", (*UPCOMING, ConveningStatus.HELD))
        initial = any(isinstance(e, Convening.Scheduled) for e in self.pending_events)
        self._organisers_changed(organiser_ids=list(organiser_ids), initial=initial)

    def reschedule(self, slot: TimeSlot, reason: str, now: datetime) -> None:
        self._check_state("reschedule", UPCOMING)
        if slot == self.slot:
            raise FailedPrecondition("the convening is already at that time")
        if slot.starts_at <= now:
            raise InvalidArgument.single("start", "must be in the future")
        _check_window(self.window, slot)
        self._rescheduled(
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            time_zone=slot.time_zone,
            reason=reason,
            at=now,
        )

    def cancel(self, reason: str) -> None:
        self._check_state("cancel", UPCOMING)
        self._cancelled(reason=reason)

    def mark_held(self, now: datetime) -> None:
        self._check_state("mark the convening held", UPCOMING)
        self._check_started("mark the convening held", now)
        self._held()

    def record_attendance(self, entries: dict[UUID, Attendance], now: datetime) -> None:
        """Who attended and who did not come, for people who held a place; corrections allowed
        until the convening is closed."""
        self._check_state("record attendance", (*UPCOMING, ConveningStatus.HELD))
        self._check_started("record attendance", now)
        without_place = [
            str(member_id)
            for member_id in entries
            if member_id not in self.signups
            or self.signups[member_id].status is not SignUpStatus.REGISTERED
        ]
        if without_place:
            raise FailedPrecondition(
                "attendance is recorded only for people who held a place; "
                f"these members did not: {', '.join(without_place)}"
            )
        if self.is_upcoming:
            self._held()
        changes = [
            {"member_id": member_id, "attendance": attendance.value}
            for member_id, attendance in entries.items()
            if self.signups[member_id].attendance is not attendance
        ]
        if changes:
            self._attendance_recorded(entries=changes, at=now)

    def close(
        self, outcomes: list[LearningOutcome], attendee_count: int | None, now: datetime
    ) -> None:
        self._check_state("close", (*UPCOMING, ConveningStatus.HELD))
        self._check_started("close", now)
        attended = self.count(Attendance.ATTENDED)
        if attendee_count is None:
            attendee_count = attended
        elif attendee_count < attended:
            raise FailedPrecondition(
                f"{attended} people are recorded as attending: attendee_count cannot be lower"
            )
        if self.is_upcoming:
            self._held()
        self._closed(
            outcomes=[outcome.as_dict() for outcome in outcomes],
            attendee_count=attendee_count,
            signed_up=self.places_taken,
            attended=attended,
            no_shows=self.count(Attendance.NO_SHOW),
        )

    def close_from_records(
        self,
        signed_up: int,
        attended: int,
        attendee_count: int | None,
        outcomes: list[LearningOutcome],
        now: datetime,
    ) -> None:
        """Closes a convening whose sign-ups were kept outside copnet, with the counts the
        community recorded: everyone signed up who did not attend counts as not coming."""
        self._check_state("close", (*UPCOMING, ConveningStatus.HELD))
        self._check_started("close", now)
        if self.signups:
            raise FailedPrecondition(
                "the convening has sign-ups in copnet: record attendance and close it instead"
            )
        if attended > signed_up:
            raise InvalidArgument.single(
                "held.attended",
                "must be at most signed_up; count walk-ins in attendee_count",
            )
        if attendee_count is None:
            attendee_count = attended
        elif attendee_count < attended:
            raise InvalidArgument.single("held.attendee_count", "must be at least attended")
        if self.is_upcoming:
            self._held()
        self._closed_from_records(
            outcomes=[outcome.as_dict() for outcome in outcomes],
            attendee_count=attendee_count,
            signed_up=signed_up,
            attended=attended,
            no_shows=signed_up - attended,
        )

    # Sign-ups

    def sign_up(self, member_id: UUID, now: datetime, needs_approval: bool) -> SignUp:
        self._check_registration_open(now)
        existing = self.signups.get(member_id)
        if existing is not None and existing.is_active:
            raise AlreadyExists(f"member {member_id} already {_words(existing.status)}")
        if existing is not None and existing.status is SignUpStatus.DECLINED:
            raise FailedPrecondition(
                f"an organiser declined member {member_id}'s sign-up to this convening"
            )
        if needs_approval:
            status = SignUpStatus.PENDING_APPROVAL
        else:
            status = SignUpStatus.REGISTERED if self._has_room() else SignUpStatus.WAITLISTED
        self._signed_up(member_id=member_id, status=status.value, at=now)
        return self.signups[member_id]

    def cancel_sign_up(self, member_id: UUID, reason: str, now: datetime) -> None:
        self._check_before_start("cancel a sign-up", now)
        sign_up = self.sign_up_of(member_id)
        if not sign_up.is_active:
            raise FailedPrecondition(f"member {member_id}'s sign-up {_words(sign_up.status)}")
        self._sign_up_cancelled(member_id=member_id, reason=reason, at=now)
        self._promote(now)

    def approve(self, member_id: UUID, now: datetime) -> None:
        self._check_before_start("approve a sign-up", now)
        sign_up = self.sign_up_of(member_id)
        if sign_up.status is not SignUpStatus.PENDING_APPROVAL:
            raise FailedPrecondition(
                f"there is no sign-up awaiting approval: member {member_id} "
                f"{_words(sign_up.status)}"
            )
        status = SignUpStatus.REGISTERED if self._has_room() else SignUpStatus.WAITLISTED
        self._sign_up_approved(member_id=member_id, status=status.value, at=now)

    def decline(self, member_id: UUID, reason: str, now: datetime) -> None:
        self._check_before_start("decline a sign-up", now)
        sign_up = self.sign_up_of(member_id)
        if sign_up.status is not SignUpStatus.PENDING_APPROVAL:
            raise FailedPrecondition(
                f"there is no sign-up awaiting approval: member {member_id} "
                f"{_words(sign_up.status)}"
            )
        self._sign_up_declined(member_id=member_id, reason=reason, at=now)

    def give_feedback(self, member_id: UUID, rating: int, comment: str, now: datetime) -> None:
        self._check_state("give feedback", (ConveningStatus.HELD, ConveningStatus.CLOSED))
        sign_up = self.signups.get(member_id)
        if sign_up is None or sign_up.attendance is not Attendance.ATTENDED:
            raise FailedPrecondition("only people recorded as attending may give feedback")
        if sign_up.rating is not None:
            raise AlreadyExists("feedback on this convening was already given; it is given once")
        self._feedback_given(member_id=member_id, rating=rating, comment=comment, at=now)

    def _check_registration_open(self, now: datetime) -> None:
        self._check_state("sign up", UPCOMING)
        opens = self.window.opens_at
        if opens is not None and now < opens:
            raise FailedPrecondition(f"registration opens at {self._when(opens)}")
        if now >= self.registration_closes_at:
            raise FailedPrecondition(
                f"registration closed at {self._when(self.registration_closes_at)}"
            )

    def _has_room(self) -> bool:
        return self.capacity is None or self.places_taken < self.capacity

    def _promote(self, now: datetime) -> None:
        """Gives freed places to the waitlist, first come first served, until the end."""
        if not self.is_upcoming or now >= self.slot.ends_at:
            return
        while self.waitlist and self._has_room():
            self._promoted(member_id=self.waitlist[0], at=now)

    # Events

    @event("DetailsChanged")
    def _details_changed(
        self, title: str, topic: str, description: str, format: str, venue: str
    ) -> None:
        link = self.details.join_link
        self.details = ConveningDetails(title, topic, description, Format(format), venue, link)
        self.sequence += 1

    @event("JoinLinkChanged")
    def _join_link_changed(self, join_link: str, initial: bool) -> None:
        self.details = replace(self.details, join_link=join_link)
        if not initial:
            self.sequence += 1

    @event("CapacityChanged")
    def _capacity_changed(self, capacity: int | None) -> None:
        self.capacity = capacity

    @event("RegistrationWindowChanged")
    def _registration_window_changed(
        self, opens_at: datetime | None, closes_at: datetime | None
    ) -> None:
        self.window = RegistrationWindow(opens_at, closes_at)

    @event("OrganisersChanged")
    def _organisers_changed(self, organiser_ids: list[UUID], initial: bool) -> None:
        self.organiser_ids = list(organiser_ids)
        if not initial:
            self.sequence += 1

    @event("Rescheduled")
    def _rescheduled(
        self, starts_at: datetime, ends_at: datetime, time_zone: str, reason: str, at: datetime
    ) -> None:
        self.reschedules.append(Reschedule(self.slot, reason, at))
        self.slot = TimeSlot(starts_at, ends_at, time_zone)
        self.status = ConveningStatus.RESCHEDULED
        self.sequence += 1

    @event("Cancelled")
    def _cancelled(self, reason: str) -> None:
        self.status = ConveningStatus.CANCELLED
        self.cancel_reason = reason
        self.sequence += 1

    @event("Held")
    def _held(self) -> None:
        self.status = ConveningStatus.HELD

    @event("AttendanceRecorded")
    def _attendance_recorded(self, entries: list[dict[str, Any]], at: datetime) -> None:
        for entry in entries:
            member_id = entry["member_id"]
            self.signups[member_id] = replace(
                self.signups[member_id], attendance=Attendance(entry["attendance"]), updated_at=at
            )

    @event("Closed")
    def _closed(
        self,
        outcomes: list[dict[str, Any]],
        attendee_count: int,
        signed_up: int,
        attended: int,
        no_shows: int,
    ) -> None:
        self.status = ConveningStatus.CLOSED
        self.outcomes = [LearningOutcome.from_dict(o) for o in outcomes]
        self.attendee_count = attendee_count

    @event("ClosedFromRecords")
    def _closed_from_records(
        self,
        outcomes: list[dict[str, Any]],
        attendee_count: int,
        signed_up: int,
        attended: int,
        no_shows: int,
    ) -> None:
        self.status = ConveningStatus.CLOSED
        self.outcomes = [LearningOutcome.from_dict(o) for o in outcomes]
        self.attendee_count = attendee_count
        self.recorded_figures = AttendanceFigures(signed_up, attended, no_shows)

    @event("SignedUp")
    def _signed_up(self, member_id: UUID, status: str, at: datetime) -> None:
        self.signups[member_id] = SignUp(member_id, SignUpStatus(status), self._next_seq, at, at)
        self._next_seq += 1
        self._enter(member_id, SignUpStatus(status))

    @event("SignUpApproved")
    def _sign_up_approved(self, member_id: UUID, status: str, at: datetime) -> None:
        self._move(member_id, SignUpStatus(status), at)

    @event("SignUpDeclined")
    def _sign_up_declined(self, member_id: UUID, reason: str, at: datetime) -> None:
        self._move(member_id, SignUpStatus.DECLINED, at, note=reason)

    @event("SignUpCancelled")
    def _sign_up_cancelled(self, member_id: UUID, reason: str, at: datetime) -> None:
        self._move(member_id, SignUpStatus.CANCELLED, at, note=reason)

    @event("Promoted")
    def _promoted(self, member_id: UUID, at: datetime) -> None:
        self._move(member_id, SignUpStatus.REGISTERED, at)

    @event("FeedbackGiven")
    def _feedback_given(self, member_id: UUID, rating: int, comment: str, at: datetime) -> None:
        self.signups[member_id] = replace(
            self.signups[member_id], rating=rating, comment=comment, updated_at=at
        )

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


def _check_window(window: RegistrationWindow, slot: TimeSlot) -> None:
    """Registration closes by the end of the convening and opens before it closes."""
    if window.closes_at is not None and window.closes_at > slot.ends_at:
        raise InvalidArgument.single(
            "registration_closes", "must be no later than the end of the convening"
        )
    if window.opens_at is not None and window.opens_at >= window.closes_for(slot):
        raise InvalidArgument.single(
            "registration_opens", "must be before registration closes (by default, the start)"
        )
