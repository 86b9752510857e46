"""The registry's enumerations and the parsers of its own values."""

from __future__ import annotations

import re
from enum import StrEnum


class OrganisationKind(StrEnum):
    NHS_TRUST = "nhs_trust"
    GP_PRACTICE = "gp_practice"
    COMMUNITY_PHARMACY = "community_pharmacy"
    INTEGRATED_CARE_SYSTEM = "integrated_care_system"
    COMMISSIONER = "commissioner"
    VOLUNTARY_COMMUNITY_GROUP = "voluntary_community_group"
    PATIENT_GROUP = "patient_group"
    UNIVERSITY = "university"
    OTHER = "other"


class JoiningPolicy(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"
    INVITE_ONLY = "invite_only"


class Lifecycle(StrEnum):
    FORMING = "forming"
    ACTIVE = "active"
    DORMANT = "dormant"
    CLOSED = "closed"


class Profession(StrEnum):
    GP = "gp"
    PHARMACIST = "pharmacist"
    NURSE = "nurse"
    ALLIED_HEALTH_PROFESSIONAL = "allied_health_professional"
    MANAGER = "manager"
    COMMISSIONER = "commissioner"
    PATIENT_PARTNER = "patient_partner"
    OTHER = "other"


class MembershipStatus(StrEnum):
    REQUESTED = "requested"
    INVITED = "invited"
    ACTIVE = "active"
    REJECTED = "rejected"
    DECLINED = "declined"
    LEFT = "left"
    REMOVED = "removed"


class Role(StrEnum):
    MEMBER = "member"
    CO_LEAD = "co_lead"
    STEERING_GROUP = "steering_group"
    FACILITATOR = "facilitator"
    PATIENT_PARTNER = "patient_partner"


# Value parsing of the registry's own values (names, text, slugs and dates follow the
# kernel's rules: services.kernel.parsing). Each parser returns the canonical value or
# raises ValueError with a description the caller can act on.

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")


def parse_email(value: str) -> str:
    email = value.strip().lower()
    if not email:
        raise ValueError("is required")
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("must be an e-mail address such as 'name@nhs.net'")
    return email


def parse_ods_code(value: str) -> str | None:
    code = value.strip().upper()
    if not code:
        return None
    if not _ODS_CODE.match(code):
        raise ValueError("must be an ODS code: 3 to 10 letters and digits (e.g. 'RJ1')")
    return code


def parse_enum(enum_type: type[StrEnum], value: str) -> StrEnum:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise ValueError(f"must be one of: {allowed}") from None
