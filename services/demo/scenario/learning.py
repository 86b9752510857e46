"""The learning items the demo publishes and the adoptions declared of them."""

from __future__ import annotations

from copnet.learning.v1 import learning_pb2 as lpb
from services.demo.scenario.model import AdoptionSpec, Item

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
