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
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.events.domain.parts import (
    UPCOMING,
    AttendanceFigures,
    ConveningDetails,
    Reschedule,
    SignUp,
)
from services.events.domain.state import ConveningState, check_window, words
from services.events.values import (
    Attendance,
    ConveningStatus,
    Format,
    LearningOutcome,
    RegistrationWindow,
    SignUpStatus,
    TimeSlot,
)
from services.kernel.parsing import listing


class Convening(ConveningState, TracedAggregate):
    """A meeting of a community: scheduled -> (rescheduled) -> held -> closed, or cancelled."""

    class Event(TracedAggregate.Event):
        community_id: UUID

    class Created(Event, TracedAggregate.Created):
        pass

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        # Every event names its community, so consumers need no other event to place it.
        kwargs.setdefault("community_id", self.community_id)
        super().trigger_event(event_class, **kwargs)

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
        check_window(window, slot)
        convening = cls._created(community_id, plan_id, details, slot, capacity, window)
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
        return cls._created(community_id, plan_id, details, slot, None, RegistrationWindow())

    @classmethod
    def _created(
        cls,
        community_id: UUID,
        plan_id: UUID | None,
        details: ConveningDetails,
        slot: TimeSlot,
        capacity: int | None,
        window: RegistrationWindow,
    ) -> Convening:
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
            capacity=capacity,
            registration_opens_at=window.opens_at,
            registration_closes_at=window.closes_at,
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
        # CPD: whether it counts, and its hours in minutes when an organiser set them.
        self.counts_for_cpd = True
        self.cpd_minutes: int | None = None

    # Organisers' commands (queries and checks are ConveningState's)

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
        check_window(window, self.slot)
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
        check_window(self.window, slot)
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
                f"these members did not: {listing(without_place)}"
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

    def set_cpd_credit(self, counts_for_cpd: bool, cpd_minutes: int | None) -> None:
        """Whether it counts for CPD and for how long (None: its duration); at any time."""
        if (counts_for_cpd, cpd_minutes) != (self.counts_for_cpd, self.cpd_minutes):
            self._cpd_credit_set(counts_for_cpd=counts_for_cpd, cpd_minutes=cpd_minutes)

    # Sign-ups

    def sign_up(self, member_id: UUID, now: datetime, needs_approval: bool) -> SignUp:
        self._check_registration_open(now)
        existing = self.signups.get(member_id)
        if existing is not None and existing.is_active:
            raise AlreadyExists(f"member {member_id} already {words(existing.status)}")
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
            raise FailedPrecondition(f"member {member_id}'s sign-up {words(sign_up.status)}")
        self._sign_up_cancelled(member_id=member_id, reason=reason, at=now)
        self._promote(now)

    def approve(self, member_id: UUID, now: datetime) -> None:
        self._check_awaiting_approval("approve a sign-up", member_id, now)
        status = SignUpStatus.REGISTERED if self._has_room() else SignUpStatus.WAITLISTED
        self._sign_up_approved(member_id=member_id, status=status.value, at=now)

    def decline(self, member_id: UUID, reason: str, now: datetime) -> None:
        self._check_awaiting_approval("decline a sign-up", member_id, now)
        self._sign_up_declined(member_id=member_id, reason=reason, at=now)

    def give_feedback(self, member_id: UUID, rating: int, comment: str, now: datetime) -> None:
        self._check_state("give feedback", (ConveningStatus.HELD, ConveningStatus.CLOSED))
        sign_up = self.signups.get(member_id)
        if sign_up is None or sign_up.attendance is not Attendance.ATTENDED:
            raise FailedPrecondition("only people recorded as attending may give feedback")
        if sign_up.rating is not None:
            raise AlreadyExists("feedback on this convening was already given; it is given once")
        self._feedback_given(member_id=member_id, rating=rating, comment=comment, at=now)

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
                self.signups[member_id],
                attendance=Attendance(entry["attendance"]),
                # The version this event gives the convening (applied before it is set).
                attendance_version=self.version + 1,
                updated_at=at,
            )

    @event("CpdCreditSet")
    def _cpd_credit_set(self, counts_for_cpd: bool, cpd_minutes: int | None) -> None:
        self.counts_for_cpd = counts_for_cpd
        self.cpd_minutes = cpd_minutes

    @event("Closed")
    def _closed(
        self,
        outcomes: list[dict[str, Any]],
        attendee_count: int,
        signed_up: int,
        attended: int,
        no_shows: int,
    ) -> None:
        self._set_closed(outcomes, attendee_count)

    @event("ClosedFromRecords")
    def _closed_from_records(
        self,
        outcomes: list[dict[str, Any]],
        attendee_count: int,
        signed_up: int,
        attended: int,
        no_shows: int,
    ) -> None:
        self._set_closed(outcomes, attendee_count)
        self.recorded_figures = AttendanceFigures(signed_up, attended, no_shows)

    def _set_closed(self, outcomes: list[dict[str, Any]], attendee_count: int) -> None:
        self.status = ConveningStatus.CLOSED
        self.outcomes = [LearningOutcome.from_dict(o) for o in outcomes]
        self.attendee_count = attendee_count

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
