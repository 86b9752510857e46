"""The events service's domain rules, on aggregates in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.events.application import Events
from services.events.domain import Convening, ConveningDetails, MeetingPlan, PlannedOccurrence
from services.events.recurrence import expand, parse_rule
from services.events.values import (
    Attendance,
    ConveningStatus,
    Format,
    LearningOutcome,
    OutcomeKind,
    RegistrationWindow,
    SignUpStatus,
    TimeSlot,
    local_text,
    parse_local_datetime,
    parse_time_zone,
    to_instant,
)
from services.kernel.parsing import parse_link

LONDON = "Europe/London"
NOW = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
START = datetime(2024, 2, 21, 12, 0)  # local, London (GMT in February)


def webinar(**changes) -> ConveningDetails:
    fields = dict(
        title="Enhanced Supportive Care",
        topic="Enhanced Supportive Care",
        description="Lunchtime webinar",
        format=Format.WEBINAR,
        venue="",
        join_link="https://meet.example.nhs.uk/esc",
    )
    fields.update(changes)
    return ConveningDetails(**fields)


def slot(start: datetime = START, hours: float = 1.0) -> TimeSlot:
    return TimeSlot.of_local(start, start + timedelta(hours=hours), LONDON)


def convening(capacity: int | None = None, window: RegistrationWindow | None = None) -> Convening:
    return Convening.schedule(
        uuid4(), webinar(), slot(), capacity, window or RegistrationWindow(), NOW
    )


STARTED = to_instant(START, LONDON) + timedelta(minutes=5)


def people(n: int) -> list[UUID]:
    return [uuid4() for _ in range(n)]


class TestValues:
    def test_local_times_become_utc_instants_in_their_zone(self):
        assert to_instant(datetime(2024, 6, 18, 19, 0), LONDON) == datetime(
            2024, 6, 18, 18, 0, tzinfo=UTC
        )
        assert to_instant(datetime(2024, 2, 21, 12, 0), LONDON) == datetime(
            2024, 2, 21, 12, 0, tzinfo=UTC
        )

    def test_a_time_skipped_by_the_clocks_going_forward_is_refused(self):
        with pytest.raises(ValueError, match="does not exist"):
            to_instant(datetime(2024, 3, 31, 1, 30), LONDON)

    def test_a_repeated_time_is_its_first_instance(self):
        assert to_instant(datetime(2024, 10, 27, 1, 30), LONDON) == datetime(
            2024, 10, 27, 0, 30, tzinfo=UTC
        )

    def test_local_datetimes_must_be_wall_clock_times(self):
        assert parse_local_datetime("2024-06-18T19:00") == datetime(2024, 6, 18, 19, 0)
        for bad in ["", "2024-06-18", "19:00", "2024-06-18T19:00+01:00", "tomorrow"]:
            with pytest.raises(ValueError):
                parse_local_datetime(bad)

    def test_time_zones_and_links(self):
        assert parse_time_zone("") == LONDON
        assert parse_time_zone("Europe/Belfast") == "Europe/Belfast"
        with pytest.raises(ValueError, match="IANA"):
            parse_time_zone("GMT+1 London")
        assert parse_link("") == ""
        for bad in ["meet.nhs.uk", "javascript:alert(1)", "ftp://x.org/a", "https://a b.org"]:
            with pytest.raises(ValueError):
                parse_link(bad)

    def test_slots_end_after_they_start_and_within_two_weeks(self):
        with pytest.raises(ValueError, match="after the start"):
            TimeSlot.of_local(START, START, LONDON)
        with pytest.raises(ValueError, match="14 days"):
            TimeSlot.of_local(START, START + timedelta(days=15), LONDON)


class TestRecurrence:
    def test_portadowns_five_a_year_is_the_last_tuesday_of_five_months(self):
        """The seed's year-2 plan: 24 Sep 2019, 26 Nov, 25 Feb 2020, 28 Apr, 30 Jun, 29 Sep."""
        rule = parse_rule("RRULE:FREQ=YEARLY;BYMONTH=2,4,6,9,11;BYDAY=-1TU;COUNT=6", LONDON)
        starts = expand(rule, datetime(2019, 9, 24, 19, 0))
        assert [s.date().isoformat() for s in starts] == [
            "2019-09-24",
            "2019-11-26",
            "2020-02-25",
            "2020-04-28",
            "2020-06-30",
            "2020-09-29",
        ]
        # Wall-clock 19:00 in every season; the UTC instants follow summer time.
        assert {s.time().isoformat() for s in starts} == {"19:00:00"}
        assert to_instant(starts[0], LONDON).hour == 18
        assert to_instant(starts[1], LONDON).hour == 19

    @pytest.mark.parametrize(
        "rule, message",
        [
            ("FREQ=MONTHLY", "must end"),
            ("FREQ=MONTHLY;COUNT=3;UNTIL=20250101", "must end"),
            ("FREQ=HOURLY;COUNT=3", "FREQ must be"),
            ("FREQ=MONTHLY;COUNT=3;BYSECOND=4", "not supported"),
            ("FREQ=MONTHLY;COUNT", "NAME=VALUE"),
            ("FREQ=MONTHLY;COUNT=3\nDTSTART:20240101T000000", "one RRULE"),
            ("", "required"),
        ],
    )
    def test_bad_rules_are_refused_with_a_reason(self, rule, message):
        with pytest.raises(ValueError, match=message):
            parse_rule(rule, LONDON)

    def test_a_utc_until_is_read_in_the_plans_zone(self):
        rule = parse_rule("FREQ=WEEKLY;UNTIL=20240710T180000Z", LONDON)
        assert "UNTIL=20240710T190000" in rule
        starts = expand(rule, datetime(2024, 6, 26, 19, 0))
        assert [s.day for s in starts] == [26, 3, 10]

    def test_expansions_are_bounded(self):
        with pytest.raises(ValueError, match="more than 60"):
            expand(parse_rule("FREQ=DAILY;COUNT=61", LONDON), datetime(2024, 1, 1, 9))
        with pytest.raises(ValueError, match="no occurrences"):
            expand(parse_rule("FREQ=DAILY;COUNT=0", LONDON), datetime(2024, 1, 1, 9))


class TestScheduling:
    def test_a_new_convening_is_scheduled_at_sequence_zero(self):
        c = convening(capacity=30)
        c.set_organisers([uuid4()])
        assert c.status is ConveningStatus.SCHEDULED
        assert c.sequence == 0
        assert c.details.join_link == "https://meet.example.nhs.uk/esc"
        assert c.registration_closes_at == c.slot.starts_at
        assert c.places_left == 30

    def test_the_past_and_missing_places_are_refused(self):
        with pytest.raises(InvalidArgument) as error:
            Convening.schedule(
                uuid4(), webinar(), slot(datetime(2023, 1, 1, 9)), None, RegistrationWindow(), NOW
            )
        assert error.value.violations[0].field == "start"
        with pytest.raises(InvalidArgument) as error:
            Convening.schedule(
                uuid4(),
                webinar(format=Format.FACE_TO_FACE),
                slot(),
                None,
                RegistrationWindow(),
                NOW,
            )
        assert error.value.violations[0].field == "venue"
        with pytest.raises(InvalidArgument) as error:
            Convening.schedule(
                uuid4(), webinar(join_link=""), slot(), None, RegistrationWindow(), NOW
            )
        assert error.value.violations[0].field == "join_link"

    def test_the_registration_window_must_fit(self):
        starts = to_instant(START, LONDON)
        with pytest.raises(InvalidArgument) as error:
            convening(window=RegistrationWindow(closes_at=starts + timedelta(hours=2)))
        assert error.value.violations[0].field == "registration_closes"
        with pytest.raises(InvalidArgument) as error:
            convening(window=RegistrationWindow(opens_at=starts))
        assert error.value.violations[0].field == "registration_opens"


class TestLifecycle:
    def test_rescheduling_keeps_the_history_and_bumps_the_sequence(self):
        c = convening()
        first = c.slot
        later = slot(datetime(2024, 3, 6, 12, 0))
        c.reschedule(later, "speaker unwell", NOW)
        assert c.status is ConveningStatus.RESCHEDULED
        assert c.slot == later and c.planned_slot == first
        assert [(r.previous, r.reason) for r in c.reschedules] == [(first, "speaker unwell")]
        assert c.sequence == 1
        with pytest.raises(FailedPrecondition, match="already at that time"):
            c.reschedule(later, "again", NOW)
        with pytest.raises(InvalidArgument):
            c.reschedule(slot(datetime(2023, 6, 1, 12)), "back in time", NOW)

    def test_a_cancelled_convening_takes_nothing_more(self):
        c = convening()
        c.cancel("venue flooded")
        assert (c.status, c.cancel_reason) == (ConveningStatus.CANCELLED, "venue flooded")
        assert c.sequence == 1
        with pytest.raises(FailedPrecondition, match="is cancelled"):
            c.sign_up(uuid4(), NOW, False)
        for attempt in (
            lambda: c.cancel("twice"),
            lambda: c.reschedule(slot(datetime(2024, 3, 1, 12)), "", NOW),
            lambda: c.mark_held(STARTED),
            lambda: c.close([], None, STARTED),
            lambda: c.record_attendance({}, STARTED),
        ):
            with pytest.raises(FailedPrecondition, match="is cancelled"):
                attempt()

    def test_held_only_after_the_start_then_closed_once(self):
        c = convening()
        with pytest.raises(FailedPrecondition, match="starts at 2024-02-21T12:00 Europe/London"):
            c.mark_held(NOW)
        with pytest.raises(FailedPrecondition, match="starts at"):
            c.close([], None, NOW)
        c.mark_held(STARTED)
        assert c.status is ConveningStatus.HELD
        with pytest.raises(FailedPrecondition, match="has been held"):
            c.mark_held(STARTED)
        with pytest.raises(FailedPrecondition, match="has been held"):
            c.cancel("too late")
        with pytest.raises(FailedPrecondition, match="has been held"):
            c.reschedule(slot(datetime(2024, 3, 1, 12)), "", STARTED)
        outcome = LearningOutcome(OutcomeKind.ONLINE_RESOURCE, "Slides", ("https://x.nhs.uk/s",))
        c.close([outcome], 40, STARTED)
        assert (c.status, c.outcomes, c.attendee_count) == (ConveningStatus.CLOSED, [outcome], 40)
        with pytest.raises(FailedPrecondition, match="is closed"):
            c.close([], None, STARTED)
        with pytest.raises(FailedPrecondition, match="is closed"):
            c.record_attendance({}, STARTED)

    def test_closing_after_the_start_also_marks_it_held(self):
        c = convening()
        c.close([], None, STARTED)
        assert [type(e).__name__ for e in c.collect_events()][-2:] == ["Held", "Closed"]

    def test_where_and_how_change_only_before_the_start_but_titles_until_closing(self):
        c = convening()
        c.change_details(webinar(join_link="https://meet.example.nhs.uk/new"), NOW)
        assert c.sequence == 1
        c.mark_held(STARTED)
        c.change_details(
            webinar(topic="Supportive care", join_link="https://meet.example.nhs.uk/new"), STARTED
        )
        assert c.details.topic == "Supportive care"
        with pytest.raises(FailedPrecondition, match="has been held"):
            c.change_details(webinar(format=Format.HYBRID, venue="Guy's"), STARTED)

    def test_capacity_and_window_changes_are_not_calendar_changes(self):
        c = convening(capacity=10)
        c.change_capacity(20, NOW)
        c.change_registration_window(RegistrationWindow(opens_at=NOW + timedelta(days=1)), NOW)
        assert c.sequence == 0


class TestSignUps:
    def test_places_then_the_waitlist_in_order_of_signing_up(self):
        c = convening(capacity=2)
        a, b, d, e = people(4)
        assert [c.sign_up(m, NOW, False).status for m in (a, b, d, e)] == [
            SignUpStatus.REGISTERED,
            SignUpStatus.REGISTERED,
            SignUpStatus.WAITLISTED,
            SignUpStatus.WAITLISTED,
        ]
        assert (c.places_taken, c.places_left, c.waitlist) == (2, 0, [d, e])
        assert (c.waitlist_position(d), c.waitlist_position(e), c.waitlist_position(a)) == (1, 2, 0)

    def test_a_freed_place_goes_to_the_first_on_the_waitlist(self):
        c = convening(capacity=2)
        a, b, d, e = people(4)
        for m in (a, b, d, e):
            c.sign_up(m, NOW, False)
        c.cancel_sign_up(b, "clinic overran", NOW)
        assert c.signups[d].status is SignUpStatus.REGISTERED
        assert c.signups[e].status is SignUpStatus.WAITLISTED and c.waitlist == [e]
        # A waitlisted person leaving frees no place.
        c.cancel_sign_up(e, "", NOW)
        assert (c.places_taken, c.waitlist) == (2, [])

    def test_more_capacity_promotes_in_order_and_less_than_taken_is_refused(self):
        c = convening(capacity=1)
        members = people(5)
        for m in members:
            c.sign_up(m, NOW, False)
        c.change_capacity(3, NOW)
        assert [c.signups[m].status for m in members] == [SignUpStatus.REGISTERED] * 3 + [
            SignUpStatus.WAITLISTED
        ] * 2
        with pytest.raises(FailedPrecondition, match="3 people hold places"):
            c.change_capacity(2, NOW)
        c.change_capacity(None, NOW)
        assert c.waitlist == [] and c.places_taken == 5

    def test_signing_up_twice_and_again_after_cancelling(self):
        c = convening(capacity=1)
        a, b = people(2)
        c.sign_up(a, NOW, False)
        c.sign_up(b, NOW, False)
        with pytest.raises(AlreadyExists, match="holds a place"):
            c.sign_up(a, NOW, False)
        with pytest.raises(AlreadyExists, match="waitlist"):
            c.sign_up(b, NOW, False)
        c.cancel_sign_up(a, "", NOW)
        # a's place went to b; a comes back at the end of the waitlist.
        assert c.sign_up(a, NOW, False).status is SignUpStatus.WAITLISTED
        c.cancel_sign_up(a, "", NOW)
        with pytest.raises(FailedPrecondition, match="cancelled"):
            c.cancel_sign_up(a, "", NOW)
        with pytest.raises(NotFound):
            c.cancel_sign_up(uuid4(), "", NOW)

    def test_the_registration_window(self):
        opens = NOW + timedelta(days=2)
        c = convening(window=RegistrationWindow(opens_at=opens))
        with pytest.raises(FailedPrecondition, match="registration opens at 2024-01-12T09:00"):
            c.sign_up(uuid4(), NOW, False)
        assert c.sign_up(uuid4(), opens, False).status is SignUpStatus.REGISTERED
        with pytest.raises(FailedPrecondition, match="registration closed at 2024-02-21T12:00"):
            c.sign_up(uuid4(), STARTED, False)

    def test_organiser_approval(self):
        c = convening(capacity=1)
        a, b, d = people(3)
        for m in (a, b, d):
            assert c.sign_up(m, NOW, True).status is SignUpStatus.PENDING_APPROVAL
        assert (c.places_taken, c.pending_approvals) == (0, 3)
        c.approve(b, NOW)
        c.approve(a, NOW)
        assert (c.signups[b].status, c.signups[a].status) == (
            SignUpStatus.REGISTERED,
            SignUpStatus.WAITLISTED,
        )
        c.decline(d, "for GPNs only", NOW)
        with pytest.raises(FailedPrecondition, match="no sign-up awaiting approval"):
            c.approve(d, NOW)
        with pytest.raises(FailedPrecondition, match="declined"):
            c.sign_up(d, NOW, True)

    def test_attendance_in_bulk_for_people_with_places_and_corrections(self):
        c = convening(capacity=2)
        a, b, d = people(3)
        for m in (a, b, d):
            c.sign_up(m, NOW, False)
        with pytest.raises(FailedPrecondition, match="starts at"):
            c.record_attendance({a: Attendance.ATTENDED}, NOW)
        with pytest.raises(FailedPrecondition, match=str(d)):
            c.record_attendance({a: Attendance.ATTENDED, d: Attendance.ATTENDED}, STARTED)
        assert c.status is ConveningStatus.SCHEDULED, "a refused command changes nothing"
        c.record_attendance({a: Attendance.ATTENDED, b: Attendance.ATTENDED}, STARTED)
        assert c.status is ConveningStatus.HELD
        c.record_attendance({b: Attendance.NO_SHOW}, STARTED)
        assert (c.count(Attendance.ATTENDED), c.count(Attendance.NO_SHOW)) == (1, 1)
        with pytest.raises(FailedPrecondition, match="cannot be lower"):
            c.close([], 0, STARTED)

    def test_feedback_from_attendees_once(self):
        c = convening()
        a, b = people(2)
        c.sign_up(a, NOW, False)
        c.sign_up(b, NOW, False)
        with pytest.raises(FailedPrecondition, match="has not been held"):
            c.give_feedback(a, 5, "", NOW)
        c.record_attendance({a: Attendance.ATTENDED, b: Attendance.NO_SHOW}, STARTED)
        c.give_feedback(a, 4, "Useful links to the lymphoedema service", STARTED)
        with pytest.raises(AlreadyExists, match="given once"):
            c.give_feedback(a, 5, "", STARTED)
        with pytest.raises(FailedPrecondition, match="attending"):
            c.give_feedback(b, 1, "", STARTED)
        assert c.signups[a].rating == 4

    def test_history_replays_to_the_same_state(self):
        app = Events(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        c = convening(capacity=2)
        members = people(4)
        for m in members:
            c.sign_up(m, NOW, False)
        c.cancel_sign_up(members[0], "", NOW)
        c.record_attendance({members[1]: Attendance.ATTENDED}, STARTED)
        app.save(c)
        again = app.repository.get(c.id)
        assert again.signups == c.signups
        assert (again.waitlist, again.places_taken, again.status) == (
            c.waitlist,
            c.places_taken,
            c.status,
        )


class TestMeetingPlan:
    def test_occurrences_are_kept_in_order_and_never_twice(self):
        plan = MeetingPlan(
            community_id=uuid4(),
            title="CoP Portadown",
            description="",
            time_zone=LONDON,
            rule="",
            format=Format.FACE_TO_FACE.value,
            venue="Portadown Health Centre",
            join_link="",
            capacity=None,
            duration_minutes=90,
        )
        later, earlier = (
            PlannedOccurrence(uuid4(), to_instant(datetime(2019, 11, 26, 19), LONDON), "Spec"),
            PlannedOccurrence(uuid4(), to_instant(datetime(2019, 9, 24, 19), LONDON), "Project"),
        )
        plan.add_occurrences([later, earlier])
        assert [o.topic for o in plan.occurrences] == ["Project", "Spec"]
        with pytest.raises(FailedPrecondition, match="2019-11-26T19:00"):
            plan.add_occurrences([later])
        plan.end("moved online", [])
        with pytest.raises(FailedPrecondition, match="has ended"):
            plan.add_occurrences([])
        assert local_text(plan.occurrences[0].starts_at, LONDON) == "2019-09-24T19:00"


class TestCopies:
    def test_a_copy_for_a_command_is_independent_of_the_cached_original(self):
        """The repository hands each command a copy of a cached convening; the copy holds
        only immutable values, so changing it in every way leaves the original as it was."""
        import copy

        original = convening(capacity=2)
        members = people(4)
        for m in members[:3]:
            original.sign_up(m, NOW, False)
        original.collect_events()
        before = {name: copy.copy(value) for name, value in vars(original).items()}
        snapshot = dict(original.signups), list(original.waitlist)

        changed = copy.deepcopy(original)
        assert changed is not original
        for name, value in vars(changed).items():
            if isinstance(value, (list, dict, set)):
                assert value is not vars(original)[name], name
        changed.sign_up(members[3], NOW, False)
        changed.cancel_sign_up(members[0], "", NOW)
        changed.reschedule(slot(datetime(2024, 3, 6, 12)), "moved", NOW)
        changed.record_attendance({members[1]: Attendance.ATTENDED}, STARTED + timedelta(weeks=2))
        changed.give_feedback(members[1], 5, "", STARTED + timedelta(weeks=2))

        assert (dict(original.signups), list(original.waitlist)) == snapshot
        assert vars(original).keys() == before.keys()
        for name, value in vars(original).items():
            assert value == before[name], name
        assert original.version == 5 and not original.pending_events
