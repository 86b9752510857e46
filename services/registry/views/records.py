"""What the registry's list calls answer with: a record per organisation, community,
member and membership (with its role terms).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.registry.domain import Community, Member, Membership, Organisation, RoleTerm


@dataclass(frozen=True)
class OrganisationRecord:
    organisation_id: UUID
    name: str
    kind: str
    region: str
    ods_code: str | None
    retired: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, o: Organisation) -> OrganisationRecord:
        return cls(
            o.id,
            o.name,
            o.kind.value,
            o.region,
            o.ods_code,
            o.retired,
            o.version,
            o.created_on,
            o.modified_on,
        )


@dataclass(frozen=True)
class CommunityRecord:
    community_id: UUID
    slug: str
    name: str
    domain: str
    purpose: str
    region: str
    host_organisation_ids: list[UUID]
    joining_policy: str
    lifecycle: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, c: Community) -> CommunityRecord:
        return cls(
            c.id,
            c.slug,
            c.name,
            c.domain,
            c.purpose,
            c.region,
            list(c.host_organisation_ids),
            c.joining_policy.value,
            c.lifecycle.value,
            c.version,
            c.created_on,
            c.modified_on,
        )


@dataclass(frozen=True)
class MemberRecord:
    member_id: UUID
    display_name: str
    profession: str
    home_organisation_id: UUID
    email: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, m: Member) -> MemberRecord:
        return cls(
            m.id,
            m.display_name,
            m.profession.value,
            m.home_organisation_id,
            m.email,
            m.version,
            m.created_on,
            m.modified_on,
        )


@dataclass(frozen=True)
class MembershipRecord:
    membership_id: UUID
    community_id: UUID
    member_id: UUID
    status: str
    role_terms: list[RoleTerm]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, m: Membership) -> MembershipRecord:
        status = m.status.value if m.status else ""
        return cls(
            m.id,
            m.community_id,
            m.member_id,
            status,
            list(m.terms),
            m.version,
            m.created_on,
            m.modified_on,
        )
