"""EventsService end to end: real gRPC on loopback, a real nats-server carrying the registry's
events into the events service, on SQLite files (PostgreSQL: tests/app, test_events_seed)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from copnet.events.v1 import events_pb2 as pb
from copnet.registry.v1 import registry_pb2 as rpb
from tests.support.events_node import DURING, Api, Cop, rid
from tests.support.events_world import MovableClock
from tests.support.waiting import eventually


class TestServing:
    def test_health_and_reflection(self, api: Api):
        health = health_pb2_grpc.HealthStub(api.events_channel)

        # Ready once its registry mirror has what the node stream holds (at once, here).
        def serving(name: str) -> bool:
            request = health_pb2.HealthCheckRequest(service=name)
            return health.Check(request, timeout=5).status == health_pb2.HealthCheckResponse.SERVING

        for name in ["", "copnet.events.v1.EventsService"]:
            eventually(lambda name=name: serving(name), 20)
        stub = reflection_pb2_grpc.ServerReflectionStub(api.events_channel)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        names = {s.name for r in replies for s in r.list_services_response.service}
        assert "copnet.events.v1.EventsService" in names

    def test_calls_need_a_token(self, api: Api):
        with pytest.raises(grpc.RpcError) as raised:
            api.events_stub.ListConvenings(pb.ListConveningsRequest(), timeout=5)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


class TestStatuses:
    def test_invalid_argument_lists_every_bad_field(self, api: Api):
        failure = api.fails(
            "ScheduleConvening",
            pb.ScheduleConveningRequest(
                community_id="cop",
                title=" ",
                format=9,
                join_link="meet.nhs.uk",
                start="2024-02-21",
                end="2024-02-21T13:00",
                time_zone="London",
                registration_opens="soon",
                organiser_ids=["x"],
            ),
        )
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
        assert set(failure.violations) == {
            "request_id",
            "community_id",
            "title",
            "format",
            "join_link",
            "start",
            "time_zone",
            "registration_opens",
            "organiser_ids[0]",
        }
        assert "CONVENING_FORMAT_WEBINAR" in failure.violations["format"]

    def test_the_rules_answer_with_their_own_statuses(self, api: Api, clock: MovableClock):
        cop = Cop(api, members=2)
        member, other = cop.members
        unknown = api.fails("GetConvening", pb.GetConveningRequest(convening_id=str(uuid.uuid4())))
        assert unknown.code == grpc.StatusCode.NOT_FOUND
        denied = api.fails(
            "ScheduleConvening",
            pb.ScheduleConveningRequest(
                request_id=rid(),
                community_id=cop.community_id,
                title="Mine",
                format=pb.CONVENING_FORMAT_WEBINAR,
                join_link="https://x.nhs.uk/a",
                start="2024-02-21T12:00",
                end="2024-02-21T13:00",
            ),
            member,
        )
        assert denied.code == grpc.StatusCode.PERMISSION_DENIED
        assert "co-leads and facilitators" in denied.message
        unknown_community = api.fails(
            "ScheduleConvening",
            pb.ScheduleConveningRequest(
                request_id=rid(),
                community_id=str(uuid.uuid4()),
                title="Lost",
                format=pb.CONVENING_FORMAT_WEBINAR,
                join_link="https://x.nhs.uk/a",
                start="2024-02-21T12:00",
                end="2024-02-21T13:00",
            ),
        )
        assert unknown_community.code == grpc.StatusCode.NOT_FOUND
        assert "not known to the events service" in unknown_community.message

        convening = cop.schedule()
        cop.sign_up(convening.convening_id, member)
        again = api.fails(
            "SignUp",
            pb.SignUpRequest(request_id=rid(), convening_id=convening.convening_id),
            member,
        )
        assert again.code == grpc.StatusCode.ALREADY_EXISTS
        stale = api.fails(
            "CancelConvening",
            pb.CancelConveningRequest(
                request_id=rid(),
                convening_id=convening.convening_id,
                reason="storm",
                expected_version=1,
            ),
        )
        assert stale.code == grpc.StatusCode.ABORTED
        early = api.fails(
            "MarkConveningHeld",
            pb.MarkConveningHeldRequest(request_id=rid(), convening_id=convening.convening_id),
        )
        assert early.code == grpc.StatusCode.FAILED_PRECONDITION and "starts at" in early.message
        api.events(
            "CancelConvening",
            pb.CancelConveningRequest(
                request_id=rid(), convening_id=convening.convening_id, reason="storm"
            ),
            cop.facilitator,
        )
        late = api.fails(
            "SignUp", pb.SignUpRequest(request_id=rid(), convening_id=convening.convening_id), other
        )
        assert late.code == grpc.StatusCode.FAILED_PRECONDITION
        assert "cancelled" in late.message
        clock.set(DURING)
        close = api.fails(
            "CloseConvening",
            pb.CloseConveningRequest(request_id=rid(), convening_id=convening.convening_id),
        )
        assert close.code == grpc.StatusCode.FAILED_PRECONDITION

    def test_a_retry_returns_the_first_response(self, api: Api):
        cop = Cop(api)
        convening = cop.schedule(capacity=1)
        same = rid()
        request = pb.SignUpRequest(request_id=same, convening_id=convening.convening_id)
        first = api.events("SignUp", request, cop.member)
        second = api.events("SignUp", request, cop.member)
        assert first.sign_up == second.sign_up
        reused = api.fails(
            "SignUp",
            pb.SignUpRequest(request_id=same, convening_id=cop.schedule().convening_id),
            cop.member,
        )
        assert reused.code == grpc.StatusCode.INVALID_ARGUMENT and "request_id" in reused.violations

    def test_no_request_shape_causes_an_internal_error(self, api: Api):
        """Every RPC, with an empty request and with junk in every string field."""
        service = pb.DESCRIPTOR.services_by_name["EventsService"]
        for method in service.methods:
            request_class = getattr(pb, method.input_type.name)
            junk = request_class()
            for field in request_class.DESCRIPTOR.fields:
                if field.type == field.TYPE_STRING and not field.is_repeated:
                    setattr(junk, field.name, "\x00junk' OR 1=1 --" * 50)
            for request in (request_class(), junk):
                try:
                    api.events(method.name, request)
                except grpc.RpcError as error:
                    assert error.code() not in (
                        grpc.StatusCode.INTERNAL,
                        grpc.StatusCode.UNKNOWN,
                    ), (method.name, error.details())


def test_fifty_concurrent_sign_ups_for_ten_places(api: Api):
    cop = Cop(api, members=50)
    convening = cop.schedule(capacity=10)
    futures = [
        api.events_future(
            "SignUp",
            pb.SignUpRequest(request_id=rid(), convening_id=convening.convening_id),
            member,
        )
        for member in cop.members
    ]
    sign_ups = [f.result().sign_up for f in futures]
    assert Counter(s.status for s in sign_ups) == {
        pb.SIGN_UP_STATUS_REGISTERED: 10,
        pb.SIGN_UP_STATUS_WAITLISTED: 40,
    }
    assert sorted(s.waitlist_position for s in sign_ups if s.waitlist_position) == list(
        range(1, 41)
    )
    now = api.events(
        "GetConvening", pb.GetConveningRequest(convening_id=convening.convening_id)
    ).convening
    assert (now.places_taken, now.places_left, now.waitlist_length) == (10, 0, 40)

    # Two places come free: the first two on the waitlist get them, in order.
    by_position = {s.waitlist_position: s.member_id for s in sign_ups if s.waitlist_position}
    holders = [s.member_id for s in sign_ups if s.status == pb.SIGN_UP_STATUS_REGISTERED]
    for holder in holders[:2]:
        api.events(
            "CancelSignUp",
            pb.CancelSignUpRequest(request_id=rid(), convening_id=convening.convening_id),
            holder,
        )

    def status_of(member: str) -> pb.SignUp:
        return api.events(
            "GetSignUp", pb.GetSignUpRequest(convening_id=convening.convening_id), member
        ).sign_up

    assert status_of(by_position[1]).status == pb.SIGN_UP_STATUS_REGISTERED
    assert status_of(by_position[2]).status == pb.SIGN_UP_STATUS_REGISTERED
    third = status_of(by_position[3])
    assert (third.status, third.waitlist_position) == (pb.SIGN_UP_STATUS_WAITLISTED, 1)
    # Capacity grows by 3: the next three, in order.
    reply = api.events(
        "UpdateConvening",
        pb.UpdateConveningRequest(
            request_id=rid(), convening_id=convening.convening_id, capacity=13
        ),
    )
    assert (reply.convening.places_taken, reply.convening.waitlist_length) == (13, 35)
    assert [status_of(by_position[p]).status for p in (3, 4, 5, 6)] == [
        pb.SIGN_UP_STATUS_REGISTERED,
        pb.SIGN_UP_STATUS_REGISTERED,
        pb.SIGN_UP_STATUS_REGISTERED,
        pb.SIGN_UP_STATUS_WAITLISTED,
    ]
    shrink = api.fails(
        "UpdateConvening",
        pb.UpdateConveningRequest(
            request_id=rid(), convening_id=convening.convening_id, capacity=5
        ),
    )
    assert shrink.code == grpc.StatusCode.FAILED_PRECONDITION and "13 people" in shrink.message


class TestConveningLifeOverGrpc:
    def test_from_scheduling_to_feedback(self, api: Api, clock: MovableClock):
        cop = Cop(api, members=3)
        a, b, c = cop.members
        convening = cop.schedule(fmt=pb.CONVENING_FORMAT_HYBRID, capacity=2)
        cid = convening.convening_id
        assert (convening.status, convening.start, convening.time_zone) == (
            pb.CONVENING_STATUS_SCHEDULED,
            "2024-02-21T12:00",
            "Europe/London",
        )
        assert convening.organiser_ids == [cop.lead] and convening.sequence == 0
        moved = api.events(
            "RescheduleConvening",
            pb.RescheduleConveningRequest(
                request_id=rid(),
                convening_id=cid,
                start="2024-02-21T12:30",
                end="2024-02-21T13:30",
                reason="theatre list overran",
            ),
            cop.facilitator,
        ).convening
        assert moved.status == pb.CONVENING_STATUS_RESCHEDULED and moved.sequence == 1
        assert [(r.previous_start, r.reason) for r in moved.reschedules] == [
            ("2024-02-21T12:00", "theatre list overran")
        ]
        for member in (a, b, c):
            cop.sign_up(cid, member)

        def seen_by(who: str) -> pb.Convening:
            return api.events(
                "GetConvening", pb.GetConveningRequest(convening_id=cid), who
            ).convening

        assert seen_by(a).join_link == "https://meet.example.nhs.uk/cop"
        assert seen_by(c).join_link == "" and seen_by(c).join_link_hidden
        assert seen_by(cop.outsider).join_link == ""
        assert seen_by(cop.facilitator).join_link

        # Sign-ups are for organisers and each member's own.
        refused = api.fails("ListSignUps", pb.ListSignUpsRequest(convening_id=cid), a)
        assert refused.code == grpc.StatusCode.PERMISSION_DENIED
        # The list follows the log: wait for the sign-up to reach it.
        mine = eventually(
            lambda: api.events("ListSignUps", pb.ListSignUpsRequest(member_id=c), c).sign_ups
        )
        assert [(s.convening_id, s.waitlist_position) for s in mine] == [(cid, 1)]

        clock.set(datetime(2024, 2, 21, 12, 45, tzinfo=UTC))
        attendance = api.events(
            "RecordAttendance",
            pb.RecordAttendanceRequest(
                request_id=rid(),
                convening_id=cid,
                entries=[
                    pb.AttendanceEntry(member_id=a, attendance=pb.ATTENDANCE_ATTENDED),
                    pb.AttendanceEntry(member_id=b, attendance=pb.ATTENDANCE_NO_SHOW),
                ],
            ),
        ).convening
        assert attendance.status == pb.CONVENING_STATUS_HELD
        assert (attendance.attended, attendance.no_shows) == (1, 1)
        waitlisted = api.fails(
            "RecordAttendance",
            pb.RecordAttendanceRequest(
                request_id=rid(),
                convening_id=cid,
                entries=[pb.AttendanceEntry(member_id=c, attendance=pb.ATTENDANCE_ATTENDED)],
            ),
        )
        assert waitlisted.code == grpc.StatusCode.FAILED_PRECONDITION and c in waitlisted.message
        closed = api.events(
            "CloseConvening",
            pb.CloseConveningRequest(
                request_id=rid(),
                convening_id=cid,
                outcomes=[
                    pb.LearningOutcome(
                        kind=pb.OUTCOME_KIND_REPLICABLE_MODEL,
                        text="A replicable QI model for lymphoedema referral",
                        links=["https://example.nhs.uk/qi-model"],
                    )
                ],
                attendee_count=3,
            ),
            cop.lead,
        )
        assert closed.convening.status == pb.CONVENING_STATUS_CLOSED
        assert closed.convening.attendee_count == 3
        assert [o.kind for o in closed.convening.outcomes] == [pb.OUTCOME_KIND_REPLICABLE_MODEL]
        feedback = pb.GiveFeedbackRequest(
            request_id=rid(), convening_id=cid, rating=5, comment="Practical and friendly"
        )
        given = api.events("GiveFeedback", feedback, a)
        twice = api.fails(
            "GiveFeedback",
            pb.GiveFeedbackRequest(request_id=rid(), convening_id=cid, rating=4),
            a,
        )
        assert twice.code == grpc.StatusCode.ALREADY_EXISTS
        absent = api.fails(
            "GiveFeedback", pb.GiveFeedbackRequest(request_id=rid(), convening_id=cid, rating=1), b
        )
        assert absent.code == grpc.StatusCode.FAILED_PRECONDITION
        listed = api.events(
            "ListFeedback",
            pb.ListFeedbackRequest(convening_id=cid, min_position=given.position),
            cop.facilitator,
        )
        assert [(f.rating, f.comment) for f in listed.feedback] == [(5, "Practical and friendly")]
        final = api.events(
            "ListConvenings",
            pb.ListConveningsRequest(community_id=cop.community_id, min_position=given.position),
        ).convenings
        assert [(x.convening_id, x.status, x.feedback_average) for x in final] == [
            (cid, pb.CONVENING_STATUS_CLOSED, 5.0)
        ]

    def test_lists_page_by_start(self, api: Api):
        cop = Cop(api)
        for day in (5, 3, 9, 1, 7):
            cop.schedule(start=f"2024-03-0{day}T10:00", end=f"2024-03-0{day}T11:00")
        starts, token = [], ""
        while True:
            reply = api.events(
                "ListConvenings",
                pb.ListConveningsRequest(
                    community_id=cop.community_id,
                    page_size=2,
                    page_token=token,
                    min_position=cop.position,
                ),
            )
            starts += [c.start for c in reply.convenings]
            token = reply.next_page_token
            if not token:
                break
        assert starts == [f"2024-03-0{d}T10:00" for d in (1, 3, 5, 7, 9)]
        forged = api.fails(
            "ListConvenings", pb.ListConveningsRequest(page_token=reply.next_page_token or "x")
        )
        assert forged.code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in forged.violations


class TestPoliciesOverGrpc:
    def test_invite_only_sign_ups_wait_for_approval(self, api: Api):
        cop = Cop(api, policy=rpb.JOINING_POLICY_INVITE_ONLY, members=2)
        convening = cop.schedule(capacity=1)
        cid = convening.convening_id
        outsider = api.fails(
            "SignUp", pb.SignUpRequest(request_id=rid(), convening_id=cid), cop.outsider
        )
        assert (
            outsider.code == grpc.StatusCode.PERMISSION_DENIED and "invite-only" in outsider.message
        )
        first = cop.sign_up(cid, cop.members[0])
        assert first.status == pb.SIGN_UP_STATUS_PENDING_APPROVAL
        approved = api.events(
            "ApproveSignUp",
            pb.ApproveSignUpRequest(request_id=rid(), convening_id=cid, member_id=cop.members[0]),
            cop.facilitator,
        ).sign_up
        assert approved.status == pb.SIGN_UP_STATUS_REGISTERED
        cop.sign_up(cid, cop.members[1])
        declined = api.events(
            "DeclineSignUp",
            pb.DeclineSignUpRequest(
                request_id=rid(), convening_id=cid, member_id=cop.members[1], reason="full"
            ),
            cop.lead,
        ).sign_up
        assert declined.status == pb.SIGN_UP_STATUS_DECLINED
        view = api.events(
            "GetCommunity", pb.GetCommunityRequest(community_id=cop.community_id), cop.facilitator
        )
        assert view.community.joining_policy == rpb.JOINING_POLICY_INVITE_ONLY
        assert view.community.caller_may_organise and view.registry_position > 0
        assert set(view.community.organiser_ids) == {cop.lead, cop.facilitator}
