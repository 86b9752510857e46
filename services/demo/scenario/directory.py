"""The demo region's nodes, their organisations, and the communities with their people
(the registry's content). People are generated (see ../people.py)."""

from __future__ import annotations

from copnet.registry.v1 import registry_pb2 as rpb
from services.demo.scenario.model import Community, NodeSpec, Organisation, People

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
