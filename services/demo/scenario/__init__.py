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

The package: `model` (the shapes), `directory` (nodes, organisations, communities),
`meetings` (plans and convenings), `learning` (items and adoptions); `SCENARIO` puts
them together.
"""

from __future__ import annotations

from services.demo.scenario.directory import COMMUNITIES, NODES
from services.demo.scenario.learning import ADOPTIONS, ITEMS
from services.demo.scenario.meetings import (
    CANCER_EVENTS_2023,
    FUTURE_PLANS,
    PORTADOWN_PLAN,
    UPCOMING,
)
from services.demo.scenario.model import Scenario

REGION = "demo-region"
REGION_NAME = "copnet demo region"

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
