"""EventsService end to end, continued from test_events_grpc.py: calendars, meeting plans and
the integration events it publishes, over real gRPC and a real nats-server."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from icalendar import Calendar

from copnet.events.v1 import events_events_pb2 as integration
from copnet.events.v1 import events_pb2 as pb
from tests.support.events_node import DURING, Api, Cop, GrpcNode, rid
from tests.support.events_world import MovableClock
from tests.support.streams import read_stream
from tests.support.waiting import eventually


class TestCalendars:
    def test_a_convening_and_a_community_feed_read_back(self, api: Api, clock: MovableClock):
        cop = Cop(api)
        kept = cop.schedule(start="2024-06-18T19:00", end="2024-06-18T20:30", topic="QI")
        moved = cop.schedule(start="2024-07-02T19:00", end="2024-07-02T20:30", topic="Rehab")
        dropped = cop.schedule(start="2024-07-16T19:00", end="2024-07-16T20:30", topic="Frailty")
        api.events(
            "RescheduleConvening",
            pb.RescheduleConveningRequest(
                request_id=rid(),
                convening_id=moved.convening_id,
                start="2024-07-09T19:00",
                end="2024-07-09T20:30",
            ),
        )
        last = api.events(
            "CancelConvening",
            pb.CancelConveningRequest(
                request_id=rid(), convening_id=dropped.convening_id, reason="room closed"
            ),
        )
        cop.sign_up(kept.convening_id, cop.member)
        single = api.events(
            "GetConveningCalendar",
            pb.GetConveningCalendarRequest(convening_id=kept.convening_id),
            cop.member,
        )
        assert single.content_type.startswith("text/calendar")
        (event,) = Calendar.from_ical(single.ics).events
        assert str(event.uid) == f"{kept.convening_id}@copnet"
        assert event.start == datetime(2024, 6, 18, 18, tzinfo=UTC)
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert str(event["URL"]) == "https://meet.example.nhs.uk/cop"
        assert event["ORGANIZER"].params["CN"] == "Lead"
        outsider_view = api.events(
            "GetConveningCalendar",
            pb.GetConveningCalendarRequest(convening_id=kept.convening_id),
            cop.outsider,
        )
        assert "meet.example.nhs.uk" not in outsider_view.ics

        feed = api.events(
            "GetCommunityCalendar",
            pb.GetCommunityCalendarRequest(
                community_id=cop.community_id, min_position=last.position
            ),
            cop.outsider,
        )
        calendar = Calendar.from_ical(feed.ics)
        by_uid = {str(e.uid): e for e in calendar.events}
        assert set(by_uid) == {f"{c.convening_id}@copnet" for c in (kept, moved, dropped)}
        assert by_uid[f"{moved.convening_id}@copnet"].sequence == 1
        assert by_uid[f"{moved.convening_id}@copnet"].start.date().isoformat() == "2024-07-09"
        cancelled = by_uid[f"{dropped.convening_id}@copnet"]
        assert (cancelled["STATUS"], cancelled.sequence) == ("CANCELLED", 1)
        assert by_uid[f"{kept.convening_id}@copnet"]["STATUS"] == "CONFIRMED"
        assert str(calendar["X-WR-CALNAME"]) == "Cancer Community of Practice"
        assert "meet.example.nhs.uk" not in feed.ics


class TestMeetingPlansOverGrpc:
    def test_a_recurring_plan_and_its_adherence(self, api: Api, clock: MovableClock):
        clock.set(datetime(2019, 7, 1, tzinfo=UTC))
        cop = Cop(api)
        bad = api.fails(
            "CreateMeetingPlan",
            pb.CreateMeetingPlanRequest(
                request_id=rid(),
                community_id=cop.community_id,
                title="CoP Portadown",
                format=pb.CONVENING_FORMAT_FACE_TO_FACE,
                venue="Portadown",
                recurrence=pb.Recurrence(rule="FREQ=MONTHLY", first_start="2019-09-24T19:00"),
            ),
        )
        assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and "recurrence.rule" in bad.violations
        created = api.events(
            "CreateMeetingPlan",
            pb.CreateMeetingPlanRequest(
                request_id=rid(),
                community_id=cop.community_id,
                title="CoP Portadown",
                format=pb.CONVENING_FORMAT_FACE_TO_FACE,
                venue="Portadown Health and Care Centre",
                duration_minutes=120,
                recurrence=pb.Recurrence(
                    rule="FREQ=YEARLY;BYMONTH=2,4,6,9,11;BYDAY=-1TU;COUNT=6",
                    first_start="2019-09-24T19:00",
                ),
            ),
            cop.facilitator,
        )
        assert [o.start for o in created.plan.occurrences] == [
            "2019-09-24T19:00",
            "2019-11-26T19:00",
            "2020-02-25T19:00",
            "2020-04-28T19:00",
            "2020-06-30T19:00",
            "2020-09-29T19:00",
        ]
        ids = list(created.convening_ids)
        clock.set(datetime(2020, 3, 1, tzinfo=UTC))
        for held in ids[:2]:
            api.events(
                "MarkConveningHeld",
                pb.MarkConveningHeldRequest(request_id=rid(), convening_id=held),
            )
        last = api.events(
            "CancelConvening",
            pb.CancelConveningRequest(request_id=rid(), convening_id=ids[2], reason="COVID-19"),
        )
        adherence = api.events(
            "GetPlanAdherence",
            pb.GetPlanAdherenceRequest(plan_id=created.plan.plan_id, min_position=last.position),
        )
        assert (
            adherence.planned,
            adherence.held,
            adherence.cancelled,
            adherence.to_come,
            adherence.unrecorded,
        ) == (6, 2, 1, 3, 0)
        assert adherence.adherence_rate == pytest.approx(2 / 3)
        listed = api.events(
            "ListConvenings",
            pb.ListConveningsRequest(plan_id=created.plan.plan_id, min_position=last.position),
        ).convenings
        assert [c.convening_id for c in listed] == ids


def test_integration_events_are_published_and_people_stay_on_the_node(
    api: Api, node: GrpcNode, clock: MovableClock
):
    cop = Cop(api, members=2)
    convening = cop.schedule(capacity=1)
    cid = convening.convening_id
    for member in cop.members:
        cop.sign_up(cid, member)
    api.events(
        "CancelSignUp", pb.CancelSignUpRequest(request_id=rid(), convening_id=cid), cop.members[0]
    )
    clock.set(DURING)
    api.events(
        "RecordAttendance",
        pb.RecordAttendanceRequest(
            request_id=rid(),
            convening_id=cid,
            entries=[
                pb.AttendanceEntry(member_id=cop.members[1], attendance=pb.ATTENDANCE_ATTENDED)
            ],
        ),
    )
    api.events(
        "CloseConvening",
        pb.CloseConveningRequest(
            request_id=rid(),
            convening_id=cid,
            outcomes=[pb.LearningOutcome(kind=pb.OUTCOME_KIND_ONLINE_RESOURCE, text="Slides")],
        ),
    )
    runtime = node.runtime("events")
    eventually(lambda: runtime.relay.position == runtime.app.recorder.max_notification_id())
    messages = [
        m
        for m in read_stream(node.nats.url, "COPNET_TESTNODE")  # type: ignore[attr-defined]
        if m.envelope.service == "events" and m.envelope.aggregate_id == cid
    ]
    subjects = [m.subject for m in messages]
    expected = [
        "copnet.test-region.testnode.events.convening_scheduled",
        "copnet-local.testnode.events.convening_join_link_changed",
        "copnet-local.testnode.events.convening_organisers_changed",
        "copnet-local.testnode.events.signed_up",
        "copnet-local.testnode.events.signed_up",
        # The cancellation's reason is the member's: on their personal subject.
        f"copnet-local.testnode.events.member.{cop.members[0]}.sign_up_cancelled",
        "copnet-local.testnode.events.sign_up_promoted",
        "copnet.test-region.testnode.events.convening_held",
        "copnet-local.testnode.events.attendance_recorded",
        "copnet.test-region.testnode.events.convening_closed",
    ]
    assert subjects == expected
    people = [*cop.members, cop.lead, "meet.example.nhs.uk"]
    for m in messages:
        if m.subject.startswith("copnet."):
            assert not any(p.encode() in m.envelope.payload.value for p in people), m.subject
    closed = integration.ConveningClosed()
    assert messages[-1].envelope.payload.Unpack(closed)
    assert (closed.signed_up, closed.attended, closed.attendee_count) == (1, 1, 1)
    promoted = integration.SignUpChanged()
    assert messages[6].envelope.payload.Unpack(promoted)
    assert (promoted.member_id, promoted.status) == (
        cop.members[1],
        pb.SIGN_UP_STATUS_REGISTERED,
    )
