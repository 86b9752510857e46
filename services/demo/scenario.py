"""The demo region and the seed communities it replays, as data.

Everything here comes from `../shared/seeds/` (the file is named beside each
part) or says plainly that it is a demo assumption. Organisations other than
those the seeds name are invented; people are generated (see people.py).

- The Portadown CoP (seed 000_3214a145298a17aa.txt): a town-based CoP linking
  GPs, pharmacists, Trust colleagues, the voluntary sector and patients; a plan
  of twelve meetings from June 2018 to September 2020 with a topic each. The
  seed says it "has met 6 times 2018/2019"; for the later six it has no record,
  and neither does the demo.
- The London cancer CoP (seed 003_93604ed14e7c3cae.txt): seven events in 2023
  with format, signed-up and attended counts and learning; a mailing list of
  "over 150 members".
- The diabetes-in-pregnancy CoP (seed 001_5a4ef4b3c1e6f460.txt): "Four out of
  seven trusts in south London have adopted GDm-Health ... The remaining three
  trusts in progress." The trusts' names are invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from copnet.events.v1 import events_pb2 as epb
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.registry.v1 import registry_pb2 as rpb

REGION = "demo-region"
REGION_NAME = "copnet demo region"


@dataclass(frozen=True)
class Organisation:
    key: str
    name: str
    kind: rpb.OrganisationKind
    region: str
    # For generated e-mail addresses: <person>@<domain>.example.org
    domain: str


@dataclass(frozen=True)
class NodeSpec:
    node_id: str
    name: str
    # The organisations this node's registry holds; the first runs the node.
    organisations: tuple[Organisation, ...]


@dataclass(frozen=True)
class People:
    """`count` generated members of one organisation and profession, each holding `role`."""

    organisation: str
    profession: rpb.Profession
    count: int
    role: rpb.Role = rpb.ROLE_MEMBER


@dataclass(frozen=True)
class Community:
    key: str
    node_id: str
    slug: str
    name: str
    domain: str
    purpose: str
    region: str
    hosts: tuple[str, ...]
    # The first group's first person creates the community (and so becomes a co-lead).
    people: tuple[People, ...]
    joining_policy: rpb.JoiningPolicy = rpb.JOINING_POLICY_OPEN


@dataclass(frozen=True)
class PastMeeting:
    """A meeting from a seed's records: held (with figures when the seed gives them),
    or with no record of whether it took place (`held=False`)."""

    start: str
    end: str
    topic: str
    format: epb.ConveningFormat = epb.CONVENING_FORMAT_FACE_TO_FACE
    held: bool = True
    signed_up: int = 0
    attended: int = 0
    outcomes: tuple[tuple[epb.OutcomeKind, str], ...] = ()


@dataclass(frozen=True)
class HistoricPlan:
    key: str
    community: str
    title: str
    description: str
    venue: str
    meetings: tuple[PastMeeting, ...]


@dataclass(frozen=True)
class FuturePlan:
    """A plan of meetings to come, as an RFC 5545 rule starting next year (demo assumption)."""

    key: str
    community: str
    title: str
    venue: str
    # The rule, and the first start's month, day-of-month and time (its year is next year).
    rule: str
    first_start: str


@dataclass(frozen=True)
class Upcoming:
    """A convening to come, `days_ahead` from the day the demo runs (demo assumption)."""

    key: str
    community: str
    title: str
    topic: str
    format: epb.ConveningFormat
    days_ahead: int
    start_time: str
    end_time: str
    capacity: int
    # How many of the community's members sign up (beyond capacity: the waitlist).
    sign_ups: int
    venue: str = ""
    join_link: str = ""


@dataclass(frozen=True)
class Item:
    key: str
    node_id: str
    community: str
    organisation: str
    kind: lpb.ItemKind
    title: str
    summary: str
    body: str
    tags: tuple[str, ...]
    visibility: lpb.Visibility = lpb.VISIBILITY_REGION
    partner_nodes: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    # (historic plan key, index of the meeting) where it was presented.
    presented_at: tuple[str, int] | None = None


@dataclass(frozen=True)
class AdoptionSpec:
    item: str
    node_id: str
    organisation: str
    status: lpb.AdoptionStatus
    evidence: str
    effective_on: str


@dataclass(frozen=True)
class Scenario:
    nodes: tuple[NodeSpec, ...]
    communities: tuple[Community, ...]
    historic_plans: tuple[HistoricPlan, ...]
    cancer_events: tuple[PastMeeting, ...]
    cancer_community: str
    future_plans: tuple[FuturePlan, ...]
    upcoming: tuple[Upcoming, ...]
    items: tuple[Item, ...]
    adoptions: tuple[AdoptionSpec, ...]
    model_item: str
    newsletter: dict[str, str] = field(default_factory=dict)

    def node(self, node_id: str) -> NodeSpec:
        return next(n for n in self.nodes if n.node_id == node_id)

    def organisation(self, key: str) -> tuple[NodeSpec, Organisation]:
        for node in self.nodes:
            for organisation in node.organisations:
                if organisation.key == key:
                    return node, organisation
        raise KeyError(key)

    def community(self, key: str) -> Community:
        return next(c for c in self.communities if c.key == key)


K = rpb  # registry enums, for brevity below


def _org(key: str, name: str, kind: rpb.OrganisationKind, region: str, domain: str) -> Organisation:
    return Organisation(key, name, kind, region, domain)


NODES = (
    NodeSpec(
        "riverside",
        "Riverside University Hospitals NHS Trust",
        (
            _org(
                "riverside",
                "Riverside University Hospitals NHS Trust",
                K.ORGANISATION_KIND_NHS_TRUST,
                "south-london",
                "riverside-hospitals",
            ),
            _org(
                "lakeside",
                "Lakeside Women's and Children's NHS Trust",
                K.ORGANISATION_KIND_NHS_TRUST,
                "south-london",
                "lakeside-nhs",
            ),
        ),
    ),
    NodeSpec(
        "northbank",
        "Northbank Hospitals NHS Trust",
        (
            _org(
                "northbank",
                "Northbank Hospitals NHS Trust",
                K.ORGANISATION_KIND_NHS_TRUST,
                "south-london",
                "northbank-hospitals",
            ),
            _org(
                "thameside",
                "Thameside and District NHS Foundation Trust",
                K.ORGANISATION_KIND_NHS_TRUST,
                "south-london",
                "thameside-nhs",
            ),
        ),
    ),
    NodeSpec(
        "kingsmead",
        "Kingsmead Hospitals Group",
        (
            _org(
                "kingsmead",
                "Kingsmead University Hospital NHS Trust",
                K.ORGANISATION_KIND_NHS_TRUST,
                "south-london",
                "kingsmead-hospital",
            ),
            _org(
                "eastway",
                "Eastway Hospitals NHS Trust",
                K.ORGANISATION_KIND_NHS_TRUST,
                "south-london",
                "eastway-nhs",
            ),
            _org(
                "southfield",
                "Southfield Healthcare NHS Trust",
                K.ORGANISATION_KIND_NHS_TRUST,
                "south-london",
                "southfield-nhs",
            ),
        ),
    ),
    NodeSpec(
        "southbank-gps",
        "Southbank GP Federation",
        (
            _org(
                "gp-federation",
                "Southbank GP Federation",
                K.ORGANISATION_KIND_GP_PRACTICE,
                "london",
                "southbank-gps",
            ),
            _org(
                "cancer-team",
                "London Cancer Transformation Team",
                K.ORGANISATION_KIND_COMMISSIONER,
                "london",
                "cancer-transformation",
            ),
            _org(
                "london-acute",
                "Riverside University Hospitals NHS Trust (cancer services)",
                K.ORGANISATION_KIND_NHS_TRUST,
                "london",
                "riverside-cancer",
            ),
            _org(
                "community-nursing",
                "Southbank Community Health Services",
                K.ORGANISATION_KIND_NHS_TRUST,
                "london",
                "southbank-community",
            ),
            _org(
                "cancer-patients",
                "Living With Cancer Patient Forum",
                K.ORGANISATION_KIND_PATIENT_GROUP,
                "london",
                "living-with-cancer",
            ),
            _org(
                "hospice",
                "St Aidan's Hospice",
                K.ORGANISATION_KIND_VOLUNTARY_COMMUNITY_GROUP,
                "london",
                "st-aidans",
            ),
        ),
    ),
    NodeSpec(
        "bann-pharmacy",
        "Bann Valley Community Pharmacy Group",
        (
            _org(
                "bann-pharmacy",
                "Bann Valley Community Pharmacy Group",
                K.ORGANISATION_KIND_COMMUNITY_PHARMACY,
                "southern-ni",
                "bann-pharmacy",
            ),
            _org(
                "portadown-practice",
                "Portadown Town Medical Practice",
                K.ORGANISATION_KIND_GP_PRACTICE,
                "southern-ni",
                "portadown-practice",
            ),
            _org(
                "southern-trust",
                "Southern Health and Social Care Trust",
                K.ORGANISATION_KIND_NHS_TRUST,
                "southern-ni",
                "southern-trust",
            ),
            _org(
                "southern-icp",
                "Southern Area Integrated Care Partnership",
                K.ORGANISATION_KIND_INTEGRATED_CARE_SYSTEM,
                "southern-ni",
                "southern-icp",
            ),
            _org(
                "hscb",
                "Health and Social Care Board",
                K.ORGANISATION_KIND_COMMISSIONER,
                "southern-ni",
                "hscb",
            ),
            _org(
                "portadown-patients",
                "Portadown Patient Voice",
                K.ORGANISATION_KIND_PATIENT_GROUP,
                "southern-ni",
                "portadown-voice",
            ),
        ),
    ),
    NodeSpec(
        "neighbourhood-care",
        "Neighbourhood Care Voluntary Alliance",
        (
            _org(
                "voluntary-alliance",
                "Neighbourhood Care Voluntary Alliance",
                K.ORGANISATION_KIND_VOLUNTARY_COMMUNITY_GROUP,
                "southern-ni",
                "neighbourhood-care",
            ),
        ),
    ),
)

COMMUNITIES: tuple[Community, ...] = (
    Community(
        key="portadown",
        node_id="bann-pharmacy",
        slug="cop-portadown",
        name="Community of Practice Portadown",
        domain="neighbourhood-care",
        purpose=(
            "Bringing neighbourhood care together: GPs, pharmacists, Trust colleagues, the "
            "community and voluntary sector and patients, meeting as equals to improve care "
            "locally and meet the WHO challenge 'Medication without harm'."
        ),
        region="southern-ni",
        hosts=("southern-icp", "bann-pharmacy"),
        # The seed's core co-leadership team: a GP, the Trust's QI lead, a community
        # pharmacist and a practice-based pharmacist; patient partners joined in June 2019.
        people=(
            People("portadown-practice", K.PROFESSION_GP, 1, K.ROLE_CO_LEAD),
            People("southern-trust", K.PROFESSION_MANAGER, 1, K.ROLE_CO_LEAD),
            People("bann-pharmacy", K.PROFESSION_PHARMACIST, 1, K.ROLE_CO_LEAD),
            People("portadown-practice", K.PROFESSION_PHARMACIST, 1, K.ROLE_CO_LEAD),
            People("southern-icp", K.PROFESSION_MANAGER, 1, K.ROLE_FACILITATOR),
            People("portadown-practice", K.PROFESSION_GP, 3),
            People("portadown-practice", K.PROFESSION_NURSE, 2),
            People("bann-pharmacy", K.PROFESSION_PHARMACIST, 4),
            People("southern-trust", K.PROFESSION_NURSE, 3),
            People("southern-trust", K.PROFESSION_ALLIED_HEALTH_PROFESSIONAL, 2),
            People("hscb", K.PROFESSION_COMMISSIONER, 1),
            People("portadown-patients", K.PROFESSION_PATIENT_PARTNER, 2, K.ROLE_PATIENT_PARTNER),
        ),
    ),
    Community(
        key="cancer",
        node_id="southbank-gps",
        slug="london-cancer-cop",
        name="Cancer Community of Practice",
        domain="cancer-care",
        purpose=(
            "Improving cancer care through conversation, collaboration and innovation: peer "
            "learning for general practice nurses, community nurses and allied health "
            "professionals, with patient partners, across system boundaries."
        ),
        region="london",
        hosts=("cancer-team", "gp-federation"),
        # A steering group of patient partners, primary care and community nurses, AHPs and
        # cancer specialists; over 150 members on the mailing list.
        people=(
            People("cancer-team", K.PROFESSION_NURSE, 1, K.ROLE_CO_LEAD),
            People("london-acute", K.PROFESSION_NURSE, 1, K.ROLE_CO_LEAD),
            People("gp-federation", K.PROFESSION_GP, 1, K.ROLE_STEERING_GROUP),
            People("cancer-team", K.PROFESSION_MANAGER, 1, K.ROLE_FACILITATOR),
            People("community-nursing", K.PROFESSION_NURSE, 2, K.ROLE_STEERING_GROUP),
            People(
                "london-acute", K.PROFESSION_ALLIED_HEALTH_PROFESSIONAL, 1, K.ROLE_STEERING_GROUP
            ),
            People("cancer-patients", K.PROFESSION_PATIENT_PARTNER, 2, K.ROLE_PATIENT_PARTNER),
            People("gp-federation", K.PROFESSION_NURSE, 64),
            People("community-nursing", K.PROFESSION_NURSE, 38),
            People("london-acute", K.PROFESSION_ALLIED_HEALTH_PROFESSIONAL, 22),
            People("london-acute", K.PROFESSION_NURSE, 12),
            People("gp-federation", K.PROFESSION_GP, 6),
            People("gp-federation", K.PROFESSION_PHARMACIST, 4),
            People("hospice", K.PROFESSION_NURSE, 5),
            People("cancer-patients", K.PROFESSION_PATIENT_PARTNER, 3),
        ),
    ),
    Community(
        key="dip",
        node_id="riverside",
        slug="diabetes-in-pregnancy-cop",
        name="Diabetes in Pregnancy Community of Practice",
        domain="diabetes-in-pregnancy",
        purpose=(
            "A self-governing network across diabetes and maternity services, improving care "
            "for women and babies affected by diabetes in pregnancy."
        ),
        region="south-london",
        hosts=("riverside",),
        people=(
            People("riverside", K.PROFESSION_NURSE, 1, K.ROLE_CO_LEAD),
            People("riverside", K.PROFESSION_OTHER, 1, K.ROLE_CO_LEAD),
            People("lakeside", K.PROFESSION_NURSE, 1, K.ROLE_FACILITATOR),
            People("riverside", K.PROFESSION_NURSE, 6),
            People("riverside", K.PROFESSION_ALLIED_HEALTH_PROFESSIONAL, 3),
            People("lakeside", K.PROFESSION_NURSE, 4),
            People("riverside", K.PROFESSION_PATIENT_PARTNER, 2, K.ROLE_PATIENT_PARTNER),
        ),
    ),
)

COMMUNITIES += (
    Community(
        key="voluntary",
        node_id="neighbourhood-care",
        slug="neighbourhood-care-network",
        name="Neighbourhood Care Network",
        domain="social-prescribing",
        purpose=(
            "Voluntary and community groups, link workers and patient partners sharing what "
            "non-clinical support there is, and how neighbourhood teams can reach it."
        ),
        region="southern-ni",
        hosts=("voluntary-alliance",),
        people=(
            People("voluntary-alliance", K.PROFESSION_OTHER, 1, K.ROLE_CO_LEAD),
            People("voluntary-alliance", K.PROFESSION_OTHER, 5),
            People("voluntary-alliance", K.PROFESSION_PATIENT_PARTNER, 2, K.ROLE_PATIENT_PARTNER),
        ),
    ),
)

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

_L = lpb
ITEMS = (
    Item(
        key="gdm-health",
        node_id="riverside",
        community="dip",
        organisation="riverside",
        kind=_L.ITEM_KIND_REPLICABLE_MODEL,
        title="GDm-Health: remote management of gestational diabetes",
        summary=(
            "Women with gestational diabetes record their blood glucose on a smartphone app; "
            "the diabetes midwives review readings remotely and adjust care between visits."
        ),
        body=(
            "What we did, the pathway, the staffing, the information governance steps, and "
            "what other trusts need to replicate it."
        ),
        tags=("diabetes-in-pregnancy", "maternity", "digital-health"),
        links=(("Model overview (demo link)", "https://learning.example.org/gdm-health"),),
    ),
    Item(
        key="qi-in-practice",
        node_id="southbank-gps",
        community="cancer",
        organisation="cancer-team",
        kind=_L.ITEM_KIND_REPLICABLE_MODEL,
        title="Quality improvement in practice: replicable QI models for cancer care",
        summary="QI projects members shared at the October 2023 face-to-face workshop.",
        body="Each model with its aim, measures, change ideas and what to watch for.",
        tags=("cancer-care", "quality-improvement"),
    ),
    Item(
        key="esc-recording",
        node_id="southbank-gps",
        community="cancer",
        organisation="cancer-team",
        kind=_L.ITEM_KIND_WEBINAR_RECORDING,
        title="Enhanced Supportive Care (webinar recording)",
        summary="The May 2023 lunchtime webinar, with slides.",
        body="Recording and slides of the webinar; 57 attended live.",
        tags=("cancer-care", "supportive-care"),
    ),
    Item(
        key="shadowing",
        node_id="southbank-gps",
        community="cancer",
        organisation="gp-federation",
        kind=_L.ITEM_KIND_SHADOWING_OPPORTUNITY,
        title="Shadowing opportunities in cancer care for general practice nurses",
        summary="Members offer shadowing in their services; created at the in-person events.",
        body="How to arrange a shadowing day, and who offers them.",
        tags=("cancer-care", "workforce"),
    ),
    Item(
        key="steering-notes",
        node_id="southbank-gps",
        community="cancer",
        organisation="cancer-team",
        kind=_L.ITEM_KIND_RESOURCE,
        title="Steering group working notes",
        summary="Internal notes of the steering group: they stay on this node.",
        body="Planning notes for the 2024/25 programme.",
        tags=("cancer-care",),
        visibility=_L.VISIBILITY_NODE,
    ),
    Item(
        key="portadown-model",
        node_id="bann-pharmacy",
        community="portadown",
        organisation="southern-icp",
        kind=_L.ITEM_KIND_CASE_STUDY,
        title="Bringing neighbourhood care together: how a town-based CoP formed",
        summary=(
            "A year of forming a Community of Practice in Portadown: not starting with a "
            "pre-formed agenda, leaving hats at the door and meeting as equals."
        ),
        body="Shared at the Southern Trust annual QI event and regional sharing events.",
        tags=("neighbourhood-care", "communities-of-practice"),
        presented_at=("portadown-2018", 5),
    ),
    Item(
        key="bp-screening",
        node_id="bann-pharmacy",
        community="portadown",
        organisation="bann-pharmacy",
        kind=_L.ITEM_KIND_QUALITY_IMPROVEMENT_PROJECT,
        title="Screening and management of hypertension in community pharmacy",
        summary="A year-2 improvement idea: blood pressure checks in the pharmacy.",
        body="Aim, measures and the first PDSA cycle; shared with our partner nodes.",
        tags=("medication-safety", "hypertension", "community-pharmacy"),
        visibility=_L.VISIBILITY_PARTNERS,
        partner_nodes=("southbank-gps", "neighbourhood-care"),
    ),
    Item(
        key="signposting",
        node_id="neighbourhood-care",
        community="voluntary",
        organisation="voluntary-alliance",
        kind=_L.ITEM_KIND_RESOURCE,
        title="Social prescribing: a signposting directory for neighbourhood teams",
        summary="Non-clinical support in the community, by need, with how to refer.",
        body="Kept up to date by the voluntary alliance.",
        tags=("social-prescribing", "neighbourhood-care"),
    ),
)

_ADOPTED, _PILOTING, _EXPLORING = (
    _L.ADOPTION_STATUS_ADOPTED,
    _L.ADOPTION_STATUS_PILOTING,
    _L.ADOPTION_STATUS_EXPLORING,
)
# "Four out of seven trusts in south London have adopted GDm-Health ... The remaining
# three trusts in progress." Which trust is where, and the dates, are demo assumptions.
ADOPTIONS = (
    AdoptionSpec(
        "gdm-health",
        "riverside",
        "riverside",
        _ADOPTED,
        "Live on all antenatal diabetes clinics.",
        "2020-03-02",
    ),
    AdoptionSpec(
        "gdm-health",
        "northbank",
        "northbank",
        _ADOPTED,
        "Rolled out after a 3-month pilot.",
        "2020-09-14",
    ),
    AdoptionSpec(
        "gdm-health",
        "kingsmead",
        "kingsmead",
        _ADOPTED,
        "Business case approved; in routine use.",
        "2021-01-11",
    ),
    AdoptionSpec(
        "gdm-health",
        "kingsmead",
        "eastway",
        _ADOPTED,
        "In routine use at both sites.",
        "2021-05-04",
    ),
    AdoptionSpec(
        "gdm-health",
        "riverside",
        "lakeside",
        _PILOTING,
        "Pilot with one consultant team.",
        "2021-06-01",
    ),
    AdoptionSpec(
        "gdm-health",
        "northbank",
        "thameside",
        _PILOTING,
        "Pilot started; IG review done.",
        "2021-07-19",
    ),
    AdoptionSpec(
        "gdm-health",
        "kingsmead",
        "southfield",
        _EXPLORING,
        "Exploring; awaiting funding.",
        "2021-09-06",
    ),
    AdoptionSpec(
        "bp-screening",
        "southbank-gps",
        "gp-federation",
        _EXPLORING,
        "Two practices interested.",
        "2020-01-20",
    ),
)

NEWSLETTER = {
    "community": "cancer",
    "subject": "Cancer CoP newsletter: webinars, shadowing and QI",
    "body": (
        "Welcome to the newsletter of the Cancer Community of Practice.\n\n"
        "Our next lunchtime webinar is on living with and beyond cancer in primary care: "
        "sign up in copnet. The recording of the Enhanced Supportive Care webinar and the "
        "replicable QI models from our October workshop are in the learning exchange."
    ),
}

SCENARIO = Scenario(
    nodes=NODES,
    communities=COMMUNITIES,
    historic_plans=(PORTADOWN_PLAN,),
    cancer_events=CANCER_EVENTS_2023,
    cancer_community="cancer",
    future_plans=FUTURE_PLANS,
    upcoming=UPCOMING,
    items=ITEMS,
    adoptions=ADOPTIONS,
    model_item="gdm-health",
    newsletter=NEWSLETTER,
)
