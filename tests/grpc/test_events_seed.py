"""The London cancer CoP's 2023 events (seed 003_93604ed14e7c3cae.txt), loaded through the API.

The seed's table has seven events with format, topic, signed-up and attended
counts and a learning outcome each. It prints "360 +" as the attended total,
which is the sum of the first six rows; all seven add up to 392. The people
here are generated ("Member 17"): no real person's details.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from copnet.events.v1 import events_pb2 as pb
from tests.conftest import STORE_KINDS
from tests.support.events_node import Api, Cop, module_node, rid
from tests.support.events_world import MovableClock

F2F, WEBINAR = pb.CONVENING_FORMAT_FACE_TO_FACE, pb.CONVENING_FORMAT_WEBINAR
RESOURCE, SHADOWING = pb.OUTCOME_KIND_ONLINE_RESOURCE, pb.OUTCOME_KIND_SHADOWING_OPPORTUNITY
QI, MODEL = pb.OUTCOME_KIND_QI_IDEA_STARTED, pb.OUTCOME_KIND_REPLICABLE_MODEL

# (day, format, topic, signed up, attended, learning outcomes), as the seed's table has them.
LONDON_CANCER_COP_2023 = [
    ("02-21", F2F, "Launch Cancer Community of Practice", 37, 17, [SHADOWING]),
    ("04-12", WEBINAR, "Clinical Leadership", 97, 73, [RESOURCE]),
    ("05-03", WEBINAR, "Enhanced Supportive Care", 83, 57, [RESOURCE]),
    ("06-21", F2F, "Quality Improvement (QI)", 57, 39, [QI]),
    ("07-12", WEBINAR, "Cancer Rehab & Lymphoedema", 92, 69, [SHADOWING, RESOURCE]),
    ("09-18", WEBINAR, "Cognitive impairment, Dementia and Delirium", 230, 105, [RESOURCE]),
    ("10-18", F2F, "Quality Improvement in practice", 51, 32, [MODEL, RESOURCE]),
]


@pytest.fixture(scope="module")
def clock() -> MovableClock:
    return MovableClock(datetime(2023, 1, 2, 9, tzinfo=UTC))


@pytest.fixture(scope="module", params=STORE_KINDS)
def node(request, tmp_path_factory, clock):
    yield from module_node(request, tmp_path_factory, clock)


def load_the_seed(api: Api, clock: MovableClock) -> tuple[Cop, int]:
    clock.set(datetime(2023, 1, 2, 9, tzinfo=UTC))
    cop = Cop(api, members=max(row[3] for row in LONDON_CANCER_COP_2023))
    convenings = []
    for day, fmt, topic, *_ in LONDON_CANCER_COP_2023:
        lunchtime = fmt == WEBINAR
        convenings.append(
            cop.schedule(
                who=cop.facilitator,
                start=f"2023-{day}T{'12:30' if lunchtime else '10:00'}",
                end=f"2023-{day}T{'13:30' if lunchtime else '16:00'}",
                fmt=fmt,
                topic=topic,
            )
        )
    for convening, (_, _, _, signed_up, _, _) in zip(
        convenings, LONDON_CANCER_COP_2023, strict=True
    ):
        futures = [
            api.events_future(
                "SignUp", pb.SignUpRequest(request_id=rid(), convening_id=convening.convening_id), m
            )
            for m in cop.members[:signed_up]
        ]
        for future in futures:
            assert future.result().sign_up.status == pb.SIGN_UP_STATUS_REGISTERED
    position = 0
    for convening, (_, _, _, signed_up, attended, outcomes) in zip(
        convenings, LONDON_CANCER_COP_2023, strict=True
    ):
        clock.set(convening.ends_at.ToDatetime(UTC) + timedelta(hours=1))
        came = cop.members[:signed_up]
        api.events(
            "RecordAttendance",
            pb.RecordAttendanceRequest(
                request_id=rid(),
                convening_id=convening.convening_id,
                entries=[
                    pb.AttendanceEntry(
                        member_id=m,
                        attendance=pb.ATTENDANCE_ATTENDED
                        if i < attended
                        else pb.ATTENDANCE_NO_SHOW,
                    )
                    for i, m in enumerate(came)
                ],
            ),
            cop.facilitator,
        )
        position = api.events(
            "CloseConvening",
            pb.CloseConveningRequest(
                request_id=rid(),
                convening_id=convening.convening_id,
                outcomes=[
                    pb.LearningOutcome(kind=kind, text=f"{convening.topic}: learning")
                    for kind in outcomes
                ],
            ),
            cop.lead,
        ).position
    return cop, position


def test_the_seeds_figures_come_out_of_the_analytics(node, clock: MovableClock):
    api = node.api
    cop, position = load_the_seed(api, clock)

    def analytics(group_by: int, **filters) -> pb.GetAnalyticsResponse:
        return api.events(
            "GetAnalytics",
            pb.GetAnalyticsRequest(
                group_by=group_by,
                community_id=cop.community_id,
                min_position=position,
                **filters,
            ),
            cop.member,
        )

    by_format = analytics(pb.ANALYTICS_GROUPING_FORMAT)
    totals = by_format.totals
    assert (totals.signed_up, totals.attended, totals.no_shows) == (647, 392, 255)
    assert totals.convenings_held == 7 and totals.attendance_unrecorded == 0
    assert totals.conversion_rate == pytest.approx(392 / 647)
    formats = {g.key: g for g in by_format.groups}
    assert set(formats) == {"face_to_face", "webinar"}
    assert (formats["face_to_face"].signed_up, formats["face_to_face"].attended) == (145, 88)
    assert (formats["webinar"].signed_up, formats["webinar"].attended) == (502, 304)
    assert formats["face_to_face"].conversion_rate == pytest.approx(88 / 145)
    assert formats["webinar"].conversion_rate == pytest.approx(304 / 502)

    # The seed's "360 +" is its first six rows.
    first_six = analytics(pb.ANALYTICS_GROUPING_YEAR, before_date="2023-10-01").totals
    assert (first_six.signed_up, first_six.attended) == (596, 360)

    quarters = {
        g.key: (g.signed_up, g.attended) for g in analytics(pb.ANALYTICS_GROUPING_QUARTER).groups
    }
    assert quarters == {
        "2023-Q1": (37, 17),
        "2023-Q2": (237, 169),
        "2023-Q3": (322, 174),
        "2023-Q4": (51, 32),
    }
    topics = {
        g.label: (g.signed_up, g.attended) for g in analytics(pb.ANALYTICS_GROUPING_TOPIC).groups
    }
    assert topics == {row[2]: (row[3], row[4]) for row in LONDON_CANCER_COP_2023}

    (only,) = analytics(pb.ANALYTICS_GROUPING_COMMUNITY).groups
    assert (only.key, only.label, only.signed_up) == (cop.community_id, cop.name, 647)

    pages, token = [], ""
    while True:
        reply = api.events(
            "GetAnalytics",
            pb.GetAnalyticsRequest(
                group_by=pb.ANALYTICS_GROUPING_MONTH,
                community_id=cop.community_id,
                page_size=3,
                page_token=token,
            ),
        )
        pages.append([g.key for g in reply.groups])
        token = reply.next_page_token
        if not token:
            break
    assert pages == [
        ["2023-02", "2023-04", "2023-05"],
        ["2023-06", "2023-07", "2023-09"],
        ["2023-10"],
    ]

    closed = api.events(
        "ListConvenings",
        pb.ListConveningsRequest(community_id=cop.community_id, min_position=position),
    ).convenings
    assert [len(c.outcomes) for c in closed] == [len(row[5]) for row in LONDON_CANCER_COP_2023]
    assert sum(c.attendee_count for c in closed) == 392


def import_the_seed(api: Api, cop: Cop) -> int:
    """The table as a community moving from spreadsheets would bring it: figures, no names."""
    position = 0
    for day, fmt, topic, signed_up, attended, outcomes in LONDON_CANCER_COP_2023:
        lunchtime = fmt == WEBINAR
        position = api.events(
            "ImportConvening",
            pb.ImportConveningRequest(
                request_id=rid(),
                community_id=cop.community_id,
                title=topic,
                topic=topic,
                format=fmt,
                start=f"2023-{day}T{'12:30' if lunchtime else '10:00'}",
                end=f"2023-{day}T{'13:30' if lunchtime else '16:00'}",
                held=pb.PastConvening(
                    signed_up=signed_up,
                    attended=attended,
                    outcomes=[
                        pb.LearningOutcome(kind=kind, text=f"{topic}: learning")
                        for kind in outcomes
                    ],
                ),
            ),
            cop.lead,
        ).position
    return position


def test_the_seeds_table_imported_from_records_gives_the_same_figures(node, clock: MovableClock):
    api = node.api
    clock.set(datetime(2024, 1, 8, 9, tzinfo=UTC))
    cop = Cop(api, members=1, name="Cancer CoP (imported)")
    position = import_the_seed(api, cop)
    totals = api.events(
        "GetAnalytics",
        pb.GetAnalyticsRequest(
            group_by=pb.ANALYTICS_GROUPING_FORMAT,
            community_id=cop.community_id,
            min_position=position,
        ),
        cop.member,
    )
    assert (totals.totals.signed_up, totals.totals.attended, totals.totals.no_shows) == (
        647,
        392,
        255,
    )
    assert totals.totals.convenings_held == 7
    formats = {g.key: (g.signed_up, g.attended) for g in totals.groups}
    assert formats == {"face_to_face": (145, 88), "webinar": (502, 304)}
    listed = api.events(
        "ListConvenings",
        pb.ListConveningsRequest(community_id=cop.community_id, min_position=position),
    ).convenings
    assert all(c.from_records and c.status == pb.CONVENING_STATUS_CLOSED for c in listed)
    assert [(c.places_taken, c.attended) for c in listed] == [
        (row[3], row[4]) for row in LONDON_CANCER_COP_2023
    ]
    # Figures, not people: there is no one to list, and nobody can sign up any more.
    assert not api.events(
        "ListSignUps", pb.ListSignUpsRequest(convening_id=listed[0].convening_id)
    ).sign_ups
    late = api.fails(
        "SignUp",
        pb.SignUpRequest(request_id=rid(), convening_id=listed[0].convening_id),
        cop.member,
    )
    assert late.code == grpc.StatusCode.FAILED_PRECONDITION


def test_a_plans_history_is_imported_into_an_empty_plan(node, clock: MovableClock):
    """The Portadown CoP's plan (seed 000): meetings on record held, one cancelled, one with no
    record, and meetings still to come added as usual."""
    api = node.api
    clock.set(datetime(2020, 5, 1, 9, tzinfo=UTC))
    cop = Cop(api, members=1, name="CoP Portadown")
    plan = api.events(
        "CreateMeetingPlan",
        pb.CreateMeetingPlanRequest(
            request_id=rid(),
            community_id=cop.community_id,
            title="CoP Portadown",
            format=pb.CONVENING_FORMAT_FACE_TO_FACE,
            venue="Portadown",
        ),
        cop.lead,
    ).plan
    assert plan.occurrence_count == 0

    def imported(start: str, topic: str, **result) -> pb.ImportConveningResponse:
        return api.events(
            "ImportConvening",
            pb.ImportConveningRequest(
                request_id=rid(),
                community_id=cop.community_id,
                plan_id=plan.plan_id,
                title="CoP Portadown",
                topic=topic,
                format=pb.CONVENING_FORMAT_FACE_TO_FACE,
                start=start,
                end=start.replace("T19:00", "T21:00"),
                **result,
            ),
            cop.lead,
        )

    imported("2018-06-18T19:00", "Do we want to work together?", held=pb.PastConvening())
    imported("2018-09-18T19:00", "What's your business?", held=pb.PastConvening())
    imported("2020-02-25T19:00", "Directed by the community")
    last = imported("2020-04-28T19:00", "Directed by the community", cancelled_reason="COVID-19")
    again = api.fails(
        "ImportConvening",
        pb.ImportConveningRequest(
            request_id=rid(),
            community_id=cop.community_id,
            plan_id=plan.plan_id,
            title="CoP Portadown",
            topic="The same evening twice",
            format=pb.CONVENING_FORMAT_FACE_TO_FACE,
            start="2018-06-18T19:00",
            end="2018-06-18T21:00",
        ),
        cop.lead,
    )
    assert again.code == grpc.StatusCode.FAILED_PRECONDITION
    to_come = api.events(
        "AddPlanOccurrences",
        pb.AddPlanOccurrencesRequest(
            request_id=rid(),
            plan_id=plan.plan_id,
            occurrences=[pb.PlanOccurrence(start="2020-06-30T19:00", topic="Celebrate")],
        ),
        cop.lead,
    )
    adherence = api.events(
        "GetPlanAdherence",
        pb.GetPlanAdherenceRequest(plan_id=plan.plan_id, min_position=to_come.position),
    )
    assert (
        adherence.planned,
        adherence.held,
        adherence.cancelled,
        adherence.to_come,
        adherence.unrecorded,
    ) == (5, 2, 1, 1, 1)
    assert last.convening.status == pb.CONVENING_STATUS_CANCELLED
    whole = api.events("GetMeetingPlan", pb.GetMeetingPlanRequest(plan_id=plan.plan_id))
    assert [o.start for o in whole.plan.occurrences] == [
        "2018-06-18T19:00",
        "2018-09-18T19:00",
        "2020-02-25T19:00",
        "2020-04-28T19:00",
        "2020-06-30T19:00",
    ]


def test_importing_refuses_what_records_cannot_say(node, clock: MovableClock):
    api = node.api
    clock.set(datetime(2024, 1, 8, 9, tzinfo=UTC))
    cop = Cop(api, members=1, name="Cancer CoP (refusals)")
    other = Cop(api, members=0, name="Another CoP")
    foreign_plan = api.events(
        "CreateMeetingPlan",
        pb.CreateMeetingPlanRequest(
            request_id=rid(),
            community_id=other.community_id,
            title="Theirs",
            format=pb.CONVENING_FORMAT_WEBINAR,
            join_link="https://meet.example.org/theirs",
        ),
        other.lead,
    ).plan

    def request(**fields) -> pb.ImportConveningRequest:
        base = dict(
            request_id=rid(),
            community_id=cop.community_id,
            title="Launch",
            topic="Launch",
            format=pb.CONVENING_FORMAT_FACE_TO_FACE,
            start="2023-02-21T10:00",
            end="2023-02-21T16:00",
        )
        base.update(fields)
        return pb.ImportConveningRequest(**base)

    future = api.fails("ImportConvening", request(start="2024-02-21T10:00", end="2024-02-21T16:00"))
    assert future.code == grpc.StatusCode.INVALID_ARGUMENT and "end" in future.violations
    too_many = api.fails(
        "ImportConvening", request(held=pb.PastConvening(signed_up=10, attended=11))
    )
    assert "held.attended" in too_many.violations
    walk_ins = api.fails(
        "ImportConvening",
        request(held=pb.PastConvening(signed_up=10, attended=8, attendee_count=5)),
    )
    assert "held.attendee_count" in walk_ins.violations
    no_reason = api.fails("ImportConvening", request(cancelled_reason=""))
    assert "cancelled_reason" in no_reason.violations
    bad_outcome = api.fails(
        "ImportConvening", request(held=pb.PastConvening(outcomes=[pb.LearningOutcome()]))
    )
    assert "held.outcomes[0].kind" in bad_outcome.violations
    elsewhere = api.fails("ImportConvening", request(plan_id=foreign_plan.plan_id))
    assert elsewhere.code == grpc.StatusCode.FAILED_PRECONDITION
    assert api.fails("ImportConvening", request(), cop.member).code == (
        grpc.StatusCode.PERMISSION_DENIED
    )

    once = request(held=pb.PastConvening(signed_up=37, attended=17, attendee_count=20))
    first = api.events("ImportConvening", once, cop.lead)
    retried = api.events("ImportConvening", once, cop.lead)
    assert retried.convening.convening_id == first.convening.convening_id
    assert (first.convening.attended, first.convening.attendee_count) == (17, 20)
    listed = api.events(
        "ListConvenings",
        pb.ListConveningsRequest(community_id=cop.community_id, min_position=retried.position),
    ).convenings
    assert len(listed) == 1
