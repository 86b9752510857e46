"""The seed communities' meetings: the Portadown plan, the London cancer CoP's 2023
events, plans and convenings to come."""

from __future__ import annotations

from copnet.events.v1 import events_pb2 as epb
from services.demo.scenario.model import FuturePlan, HistoricPlan, PastMeeting, Upcoming

_PORTADOWN_TOPICS = (
    ("2018-06-18", "Do we want to work together? Forming a CoP?"),
    ("2018-09-18", "What's your business? In your shoes..."),
    ("2018-11-13", "Hearing other success stories? Motivation to collaborate..."),
    ("2019-02-05", "Who do we need to help us?"),
    ("2019-04-30", "Welcome Trust colleague... How can we work together?"),
    ("2019-06-18", "It's a party, 1 year old... reflection... What about year 2?"),
    ("2019-09-24", "Year 2: what's our first project?"),
    ("2019-11-26", "2nd meeting year 2: building the spec for our project"),
    ("2020-02-25", "3rd meeting year 2: directed by the community"),
    ("2020-04-28", "4th meeting year 2: directed by the community"),
    ("2020-06-30", "5th meeting year 2: celebrate achievements of another year"),
    ("2020-09-29", "Continue our plan to meet 5x per year, each year"),
)
# "The community has met 6 times 2018/2019": the first six; the seed has no record of the
# rest. Meeting times are not in the seed: 13:00-15:00 is a demo assumption.
PORTADOWN_PLAN = HistoricPlan(
    key="portadown-2018",
    community="portadown",
    title="CoP Portadown meeting",
    description="Five meetings a year, each with a topic the community chose.",
    venue="Portadown (venue on the invitation)",
    meetings=tuple(
        PastMeeting(f"{day}T13:00", f"{day}T15:00", topic, held=index < 6)
        for index, (day, topic) in enumerate(_PORTADOWN_TOPICS)
    ),
)

_F2F, _WEBINAR = epb.CONVENING_FORMAT_FACE_TO_FACE, epb.CONVENING_FORMAT_WEBINAR
_SHADOW = (epb.OUTCOME_KIND_SHADOWING_OPPORTUNITY, "Shadowing opportunities offered by members")
_RESOURCE = (epb.OUTCOME_KIND_ONLINE_RESOURCE, "Slides and recording shared as an online resource")
_QI = (epb.OUTCOME_KIND_QI_IDEA_STARTED, "Quality-improvement ideas started")
_MODEL = (epb.OUTCOME_KIND_REPLICABLE_MODEL, "Replicable QI models and shared learning")


def _cancer(
    day: str,
    fmt: epb.ConveningFormat,
    topic: str,
    signed: int,
    came: int,
    *outcomes: tuple[epb.OutcomeKind, str],
) -> PastMeeting:
    start, end = ("12:30", "13:30") if fmt == _WEBINAR else ("10:00", "15:00")
    return PastMeeting(
        f"2023-{day}T{start}", f"2023-{day}T{end}", topic, fmt, True, signed, came, outcomes
    )


# The seed's table (its "360 +" attended total is the first six rows; all seven make 392).
CANCER_EVENTS_2023 = (
    _cancer("02-21", _F2F, "Launch Cancer Community of Practice", 37, 17, _SHADOW),
    _cancer("04-12", _WEBINAR, "Clinical Leadership", 97, 73, _RESOURCE),
    _cancer("05-03", _WEBINAR, "Enhanced Supportive Care", 83, 57, _RESOURCE),
    _cancer("06-21", _F2F, "Quality Improvement (QI)", 57, 39, _QI),
    _cancer("07-12", _WEBINAR, "Cancer Rehab & Lymphoedema", 92, 69, _SHADOW, _RESOURCE),
    _cancer("09-18", _WEBINAR, "Cognitive impairment, Dementia and Delirium", 230, 105, _RESOURCE),
    _cancer("10-18", _F2F, "Quality Improvement in practice", 51, 32, _MODEL),
)

FUTURE_PLANS = (
    # "Continue our plan to meet 5x per year, each year": the last Tuesday of February,
    # April, June, September and November, next year.
    FuturePlan(
        key="portadown-next",
        community="portadown",
        title="CoP Portadown meeting",
        venue="Portadown (venue on the invitation)",
        rule="FREQ=YEARLY;BYMONTH=2,4,6,9,11;BYDAY=-1TU;COUNT=5",
        first_start="02-23T13:00",
    ),
)

UPCOMING = (
    Upcoming(
        key="cancer-webinar",
        community="cancer",
        title="Cancer CoP lunchtime webinar",
        topic="Living with and beyond cancer in primary care",
        format=_WEBINAR,
        days_ahead=21,
        start_time="12:30",
        end_time="13:30",
        capacity=40,
        sign_ups=48,
        join_link="https://meet.example.org/cancer-cop-webinar",
    ),
    Upcoming(
        key="dip-network",
        community="dip",
        title="Diabetes in Pregnancy network meeting",
        topic="Spreading GDm-Health: what the adopting trusts learned",
        format=epb.CONVENING_FORMAT_HYBRID,
        days_ahead=35,
        start_time="14:00",
        end_time="16:00",
        capacity=30,
        sign_ups=12,
        venue="Riverside University Hospital, education centre",
        join_link="https://meet.example.org/dip-network",
    ),
)
