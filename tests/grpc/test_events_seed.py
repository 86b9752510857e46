"""The London cancer CoP's 2023 events (seed 003_93604ed14e7c3cae.txt), loaded through the API.

The seed's table has seven events with format, topic, signed-up and attended
counts and a learning outcome each. It prints "360 +" as the attended total,
which is the sum of the first six rows; all seven add up to 392. The people
here are generated ("Member 17"): no real person's details.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
