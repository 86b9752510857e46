"""RegistryService answers: protobuf messages from the directory's records, and an
entity's history from its stored events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from copnet.registry.v1 import registry_pb2 as pb
from services.common.grpc_server import current_caller
from services.common.protoconv import date_text, timestamp
from services.registry import codecs
from services.registry.domain import Community, Member, Membership, Organisation
from services.registry.views import (
    CommunityRecord,
    MemberRecord,
    MembershipRecord,
    OrganisationRecord,
)


def organisation_pb(r: OrganisationRecord) -> pb.Organisation:
    return pb.Organisation(
        organisation_id=str(r.organisation_id),
        name=r.name,
        kind=codecs.ORGANISATION_KIND.to_pb(r.kind),
        region=r.region,
        ods_code=r.ods_code or "",
        retired=r.retired,
        version=r.version,
        created_at=timestamp(r.created_at),
        updated_at=timestamp(r.updated_at),
    )


def community_pb(r: CommunityRecord) -> pb.Community:
    return pb.Community(
        community_id=str(r.community_id),
        slug=r.slug,
        name=r.name,
        domain=r.domain,
        purpose=r.purpose,
        region=r.region,
        host_organisation_ids=[str(h) for h in r.host_organisation_ids],
        joining_policy=codecs.JOINING_POLICY.to_pb(r.joining_policy),
        lifecycle=codecs.LIFECYCLE.to_pb(r.lifecycle),
        version=r.version,
        created_at=timestamp(r.created_at),
        updated_at=timestamp(r.updated_at),
    )


def member_pb(r: MemberRecord) -> pb.Member:
    caller = current_caller()
    may_see_email = caller.is_operator or caller.is_member(r.member_id)
    return pb.Member(
        member_id=str(r.member_id),
        display_name=r.display_name,
        profession=codecs.PROFESSION.to_pb(r.profession),
        home_organisation_id=str(r.home_organisation_id),
        email=r.email if may_see_email else "",
        version=r.version,
        created_at=timestamp(r.created_at),
        updated_at=timestamp(r.updated_at),
    )


def membership_pb(r: MembershipRecord) -> pb.Membership:
    return pb.Membership(
        membership_id=str(r.membership_id),
        community_id=str(r.community_id),
        member_id=str(r.member_id),
        status=codecs.MEMBERSHIP_STATUS.to_pb(r.status)
        if r.status
        else pb.MEMBERSHIP_STATUS_UNSPECIFIED,
        role_terms=[
            pb.RoleTerm(
                role=codecs.ROLE.to_pb(t.role),
                start_date=date_text(t.start),
                end_date=date_text(t.end),
            )
            for t in r.role_terms
        ],
        version=r.version,
        created_at=timestamp(r.created_at),
        updated_at=timestamp(r.updated_at),
    )


# Each aggregate class with the record that answers for it.
RECORD_OF: dict[type, Callable[[Any], Any]] = {
    Organisation: OrganisationRecord.of,
    Community: CommunityRecord.of,
    Member: MemberRecord.of,
    Membership: MembershipRecord.of,
}


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


HIDDEN_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "trace_context",
    "actor",
    "community_id",
    "member_id",
}


def history_entry(event: Any, show_email: bool) -> pb.HistoryEntry:
    changes = {}
    for name, value in vars(event).items():
        if name in HIDDEN_FIELDS:
            continue
        if name == "email" and not show_email:
            value = "(hidden)"
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        changes[name] = "" if value is None else str(value)
    return pb.HistoryEntry(
        version=event.originator_version,
        event_type="_".join(snake(part) for part in type(event).__qualname__.split(".")),
        occurred_at=timestamp(event.timestamp),
        actor=getattr(event, "actor", "system"),
        changes=changes,
    )
