"""What the registry publishes: each domain event as a copnet.registry.v1 message.

Organisations and communities may be federated. Members and memberships are
about people: they are published only on node-local subjects; the events with a
member's name, address or notes about them on that member's personal subjects
(erased with them, kept for the node's personal-data retention only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from copnet.registry.v1 import registry_events_pb2 as events
from services.common.integration import IntegrationMap
from services.common.protoconv import date_text
from services.registry import codecs
from services.registry.domain import (
    Community,
    Member,
    Membership,
    MembershipStatus,
    Organisation,
)

REGISTRY = IntegrationMap("registry")


@REGISTRY.publishes(Organisation.Registered, "organisation_registered")
def _(e: Any) -> events.OrganisationRegistered:
    return events.OrganisationRegistered(
        organisation_id=str(e.originator_id),
        name=e.name,
        kind=codecs.ORGANISATION_KIND.to_pb(e.kind),
        region=e.region,
        ods_code=e.ods_code or "",
    )


@REGISTRY.publishes(Organisation.Renamed, "organisation_renamed")
def _(e: Any) -> events.OrganisationRenamed:
    return events.OrganisationRenamed(organisation_id=str(e.originator_id), name=e.name)


@REGISTRY.publishes(Organisation.KindChanged, "organisation_kind_changed")
def _(e: Any) -> events.OrganisationKindChanged:
    return events.OrganisationKindChanged(
        organisation_id=str(e.originator_id), kind=codecs.ORGANISATION_KIND.to_pb(e.kind)
    )


@REGISTRY.publishes(Organisation.RegionChanged, "organisation_region_changed")
def _(e: Any) -> events.OrganisationRegionChanged:
    return events.OrganisationRegionChanged(organisation_id=str(e.originator_id), region=e.region)


@REGISTRY.publishes(Organisation.OdsCodeChanged, "organisation_ods_code_changed")
def _(e: Any) -> events.OrganisationOdsCodeChanged:
    return events.OrganisationOdsCodeChanged(
        organisation_id=str(e.originator_id), ods_code=e.ods_code or ""
    )


@REGISTRY.publishes(Organisation.Retired, "organisation_retired")
def _(e: Any) -> events.OrganisationRetired:
    return events.OrganisationRetired(organisation_id=str(e.originator_id))


@REGISTRY.publishes(Community.Created, "community_created")
def _(e: Any) -> events.CommunityCreated:
    return events.CommunityCreated(
        community_id=str(e.originator_id),
        slug=e.slug,
        name=e.name,
        domain=e.domain,
        purpose=e.purpose,
        region=e.region,
        host_organisation_ids=[str(h) for h in e.host_organisation_ids],
        joining_policy=codecs.JOINING_POLICY.to_pb(e.joining_policy),
    )


@REGISTRY.publishes(Community.DetailsChanged, "community_details_changed")
def _(e: Any) -> events.CommunityDetailsChanged:
    return events.CommunityDetailsChanged(
        community_id=str(e.originator_id),
        name=e.name,
        domain=e.domain,
        purpose=e.purpose,
        region=e.region,
    )


@REGISTRY.publishes(Community.HostsChanged, "community_hosts_changed")
def _(e: Any) -> events.CommunityHostsChanged:
    return events.CommunityHostsChanged(
        community_id=str(e.originator_id),
        host_organisation_ids=[str(h) for h in e.host_organisation_ids],
    )


@REGISTRY.publishes(Community.JoiningPolicyChanged, "community_joining_policy_changed")
def _(e: Any) -> events.CommunityJoiningPolicyChanged:
    return events.CommunityJoiningPolicyChanged(
        community_id=str(e.originator_id),
        joining_policy=codecs.JOINING_POLICY.to_pb(e.joining_policy),
    )


@REGISTRY.publishes(Community.LifecycleChanged, "community_lifecycle_changed")
def _(e: Any) -> events.CommunityLifecycleChanged:
    return events.CommunityLifecycleChanged(
        community_id=str(e.originator_id),
        lifecycle=codecs.LIFECYCLE.to_pb(e.lifecycle),
        reason=e.reason,
    )


def _member(e: Any) -> Any:
    return e.originator_id


def _membership_member(e: Any) -> Any:
    return e.member_id


@REGISTRY.publishes(Member.Registered, "member_registered", local=True, personal=_member)
def _(e: Any) -> events.MemberRegistered:
    return events.MemberRegistered(
        member_id=str(e.originator_id),
        display_name=e.display_name,
        profession=codecs.PROFESSION.to_pb(e.profession),
        home_organisation_id=str(e.home_organisation_id),
        email=e.email,
    )


@REGISTRY.publishes(Member.DetailsChanged, "member_details_changed", local=True, personal=_member)
def _(e: Any) -> events.MemberDetailsChanged:
    return events.MemberDetailsChanged(
        member_id=str(e.originator_id),
        display_name=e.display_name,
        profession=codecs.PROFESSION.to_pb(e.profession),
    )


@REGISTRY.publishes(Member.EmailChanged, "member_email_changed", local=True, personal=_member)
def _(e: Any) -> events.MemberEmailChanged:
    return events.MemberEmailChanged(member_id=str(e.originator_id), email=e.email)


@REGISTRY.publishes(Member.HomeOrganisationChanged, "member_home_organisation_changed", local=True)
def _(e: Any) -> events.MemberHomeOrganisationChanged:
    return events.MemberHomeOrganisationChanged(
        member_id=str(e.originator_id), home_organisation_id=str(e.home_organisation_id)
    )


@REGISTRY.publishes(Member.Erased, "member_erased", local=True, erases=_member)
def _(e: Any) -> events.MemberErased:
    return events.MemberErased(member_id=str(e.originator_id))


def _status_change(
    status: MembershipStatus, note_field: str = "", date_field: str = ""
) -> Callable[[Any], events.MembershipStatusChanged]:
    def build(e: Any) -> events.MembershipStatusChanged:
        return events.MembershipStatusChanged(
            membership_id=str(e.originator_id),
            community_id=str(e.community_id),
            member_id=str(e.member_id),
            status=codecs.MEMBERSHIP_STATUS.to_pb(status),
            effective_date=date_text(getattr(e, date_field, None)) if date_field else "",
            note=getattr(e, note_field, "") if note_field else "",
        )

    return build


for event_class, event_type, status, note, day in [
    (Membership.Requested, "membership_requested", MembershipStatus.REQUESTED, "message", ""),
    (Membership.RequestApproved, "membership_request_approved", MembershipStatus.ACTIVE, "", "on"),
    (
        Membership.RequestRejected,
        "membership_request_rejected",
        MembershipStatus.REJECTED,
        "reason",
        "",
    ),
    (Membership.Invited, "member_invited", MembershipStatus.INVITED, "", ""),
    (Membership.InvitationAccepted, "invitation_accepted", MembershipStatus.ACTIVE, "", "on"),
    (Membership.InvitationDeclined, "invitation_declined", MembershipStatus.DECLINED, "", ""),
    (Membership.Joined, "member_joined", MembershipStatus.ACTIVE, "", "on"),
    (Membership.Left, "member_left", MembershipStatus.LEFT, "", "on"),
    (Membership.Removed, "member_removed", MembershipStatus.REMOVED, "reason", "on"),
]:
    # A membership's notes (a request's message, a rejection's or removal's reason) are
    # about the member: on their personal subjects.
    REGISTRY.publishes(
        event_class, event_type, local=True, personal=_membership_member if note else None
    )(_status_change(status, note, day))


@REGISTRY.publishes(Membership.RoleAssigned, "role_assigned", local=True)
def _(e: Any) -> events.RoleAssigned:
    return events.RoleAssigned(
        membership_id=str(e.originator_id),
        community_id=str(e.community_id),
        member_id=str(e.member_id),
        role=codecs.ROLE.to_pb(e.role),
        start_date=date_text(e.start_date),
    )


@REGISTRY.publishes(Membership.RoleEnded, "role_ended", local=True)
def _(e: Any) -> events.RoleEnded:
    return events.RoleEnded(
        membership_id=str(e.originator_id),
        community_id=str(e.community_id),
        member_id=str(e.member_id),
        role=codecs.ROLE.to_pb(e.role),
        end_date=date_text(e.end_date),
    )
