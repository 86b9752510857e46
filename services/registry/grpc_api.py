"""RegistryService over gRPC: validation and translation only.

Rules live in the domain and the application; this module checks request
shapes (collecting every field violation), calls the application off the event
loop, and turns its answers into protobuf messages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import grpc

from copnet.registry.v1 import registry_pb2 as pb
from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
from services.common.application import Outcome
from services.common.errors import InvalidArgument, Violations
from services.common.grpc_server import current_caller
from services.common.projection import ProjectionFollower
from services.common.protoconv import date_text, timestamp
from services.common.servicer import (
    command,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    run,
)
from services.kernel.parsing import parse_date, parse_name, parse_slug, parse_text
from services.registry import codecs
from services.registry.application import KEEP, Registry
from services.registry.domain import (
    Community,
    Member,
    Membership,
    Organisation,
    parse_email,
    parse_ods_code,
)
from services.registry.views import (
    CommunityRecord,
    Directory,
    MemberRecord,
    MembershipRecord,
    OrganisationRecord,
)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RegistryService"].full_name


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
        status=codecs.MEMBERSHIP_STATUS.to_pb(r.status) if r.status else 0,
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


_RECORD_OF = {
    Organisation: OrganisationRecord.of,
    Community: CommunityRecord.of,
    Member: MemberRecord.of,
    Membership: MembershipRecord.of,
}


def _optional(request: Any, field: str, v: Violations, parse: Any) -> Any:
    """KEEP when the optional field is unset, else its parsed value."""
    if not request.HasField(field):
        return KEEP
    return v.check(field, parse, getattr(request, field))


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


class RegistryServicer(pb_grpc.RegistryServiceServicer):
    def __init__(self, app: Registry, directory: Directory, follower: ProjectionFollower):
        self.app = app
        self.directory = directory
        self.follower = follower

    async def _answer(self, outcome: Outcome) -> Any:
        entity = (
            outcome.entity if outcome.entity is not None else await run(self.app.entity_at, outcome)
        )
        return _RECORD_OF[type(entity)](entity)

    async def _execute(self, method: Any, *args: Any, **kwargs: Any) -> tuple[Any, int]:
        outcome = await run(method, *args, **kwargs)
        return await self._answer(outcome), outcome.position

    # Organisations

    async def CreateOrganisation(self, request, context):
        v = Violations()
        cmd = command(request, "CreateOrganisation", v)
        name = v.check("name", parse_name, request.name)
        kind = v.check("kind", codecs.ORGANISATION_KIND.to_domain, request.kind)
        region = v.check("region", parse_slug, request.region)
        ods_code = v.check("ods_code", parse_ods_code, request.ods_code)
        v.raise_if_any()
        record, position = await self._execute(
            self.app.create_organisation, cmd, name, kind, region, ods_code
        )
        return pb.CreateOrganisationResponse(
            organisation=organisation_pb(record), position=position
        )

    async def UpdateOrganisation(self, request, context):
        v = Violations()
        cmd = command(request, "UpdateOrganisation", v)
        organisation_id = v.check("organisation_id", parse_uuid, request.organisation_id)
        changes = {
            "name": _optional(request, "name", v, parse_name),
            "kind": _optional(request, "kind", v, codecs.ORGANISATION_KIND.to_domain),
            "region": _optional(request, "region", v, parse_slug),
            "ods_code": _optional(request, "ods_code", v, parse_ods_code),
        }
        v.raise_if_any()
        record, position = await self._execute(
            self.app.update_organisation,
            cmd,
            organisation_id,
            request.expected_version,
            **changes,
        )
        return pb.UpdateOrganisationResponse(
            organisation=organisation_pb(record), position=position
        )

    async def RetireOrganisation(self, request, context):
        v = Violations()
        cmd = command(request, "RetireOrganisation", v)
        organisation_id = v.check("organisation_id", parse_uuid, request.organisation_id)
        v.raise_if_any()
        record, position = await self._execute(
            self.app.retire_organisation, cmd, organisation_id, request.expected_version
        )
        return pb.RetireOrganisationResponse(
            organisation=organisation_pb(record), position=position
        )

    async def GetOrganisation(self, request, context):
        organisation_id = _required_uuid("organisation_id", request.organisation_id)
        organisation = await run(self.app.load, organisation_id, Organisation, "organisation")
        return pb.GetOrganisationResponse(
            organisation=organisation_pb(OrganisationRecord.of(organisation))
        )

    async def ListOrganisations(self, request, context):
        v = Violations()
        kind = v.check("kind", codecs.ORGANISATION_KIND.to_domain_or_none, request.kind)
        filters = {"region": request.region, "kind": kind or "", "retired": request.include_retired}
        page_ = page(request, filters, v)
        v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(
            self.directory.list_organisations,
            page_,
            request.region,
            kind or "",
            request.include_retired,
        )
        return pb.ListOrganisationsResponse(
            organisations=[organisation_pb(r) for r in records], next_page_token=token
        )

    # Communities

    async def CreateCommunity(self, request, context):
        v = Violations()
        cmd = command(request, "CreateCommunity", v)
        slug = v.check("slug", parse_slug, request.slug)
        name = v.check("name", parse_name, request.name)
        domain = v.check("domain", parse_slug, request.domain)
        purpose = v.check("purpose", parse_text, request.purpose)
        region = v.check("region", parse_slug, request.region)
        hosts = _uuid_list("host_organisation_ids", request.host_organisation_ids, v)
        policy = v.check("joining_policy", codecs.JOINING_POLICY.to_domain, request.joining_policy)
        v.raise_if_any()
        record, position = await self._execute(
            self.app.create_community, cmd, slug, name, domain, purpose, region, hosts, policy
        )
        return pb.CreateCommunityResponse(community=community_pb(record), position=position)

    async def UpdateCommunity(self, request, context):
        v = Violations()
        cmd = command(request, "UpdateCommunity", v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        changes = {
            "name": _optional(request, "name", v, parse_name),
            "domain": _optional(request, "domain", v, parse_slug),
            "purpose": _optional(request, "purpose", v, parse_text),
            "region": _optional(request, "region", v, parse_slug),
            "joining_policy": _optional(
                request, "joining_policy", v, codecs.JOINING_POLICY.to_domain
            ),
        }
        if request.replace_host_organisations:
            changes["host_organisation_ids"] = _uuid_list(
                "host_organisation_ids", request.host_organisation_ids, v
            )
        elif request.host_organisation_ids:
            v.add(
                "host_organisation_ids",
                "is only read when replace_host_organisations is true",
            )
        v.raise_if_any()
        record, position = await self._execute(
            self.app.update_community, cmd, community_id, request.expected_version, **changes
        )
        return pb.UpdateCommunityResponse(community=community_pb(record), position=position)

    async def ChangeCommunityLifecycle(self, request, context):
        v = Violations()
        cmd = command(request, "ChangeCommunityLifecycle", v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        lifecycle = v.check("lifecycle", codecs.LIFECYCLE.to_domain, request.lifecycle)
        reason = v.check("reason", parse_text, request.reason)
        v.raise_if_any()
        record, position = await self._execute(
            self.app.change_community_lifecycle,
            cmd,
            community_id,
            lifecycle,
            reason,
            request.expected_version,
        )
        return pb.ChangeCommunityLifecycleResponse(
            community=community_pb(record), position=position
        )

    async def GetCommunity(self, request, context):
        if bool(request.community_id) == bool(request.slug):
            raise InvalidArgument.single("community_id", "give exactly one of community_id, slug")
        if request.slug:
            community = await run(self.app.community_by_slug, request.slug)
        else:
            community_id = _required_uuid("community_id", request.community_id)
            community = await run(self.app.load, community_id, Community, "community")
        return pb.GetCommunityResponse(community=community_pb(CommunityRecord.of(community)))

    async def ListCommunities(self, request, context):
        v = Violations()
        lifecycle = v.check("lifecycle", codecs.LIFECYCLE.to_domain_or_none, request.lifecycle)
        organisation = v.check("organisation_id", parse_optional_uuid, request.organisation_id)
        filters = {
            "region": request.region,
            "domain": request.domain,
            "organisation": str(organisation or ""),
            "lifecycle": lifecycle or "",
        }
        page_ = page(request, filters, v)
        v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(
            self.directory.list_communities,
            page_,
            request.region,
            request.domain,
            str(organisation or ""),
            lifecycle or "",
        )
        return pb.ListCommunitiesResponse(
            communities=[community_pb(r) for r in records], next_page_token=token
        )

    # Members

    async def RegisterMember(self, request, context):
        v = Violations()
        cmd = command(request, "RegisterMember", v)
        name = v.check("display_name", parse_name, request.display_name)
        profession = v.check("profession", codecs.PROFESSION.to_domain, request.profession)
        home = v.check("home_organisation_id", parse_uuid, request.home_organisation_id)
        email = v.check("email", parse_email, request.email)
        v.raise_if_any()
        record, position = await self._execute(
            self.app.register_member, cmd, name, profession, home, email
        )
        return pb.RegisterMemberResponse(member=member_pb(record), position=position)

    async def UpdateMember(self, request, context):
        v = Violations()
        cmd = command(request, "UpdateMember", v)
        member_id = v.check("member_id", parse_uuid, request.member_id)
        changes = {
            "display_name": _optional(request, "display_name", v, parse_name),
            "profession": _optional(request, "profession", v, codecs.PROFESSION.to_domain),
            "home_organisation_id": _optional(request, "home_organisation_id", v, parse_uuid),
            "email": _optional(request, "email", v, parse_email),
        }
        v.raise_if_any()
        record, position = await self._execute(
            self.app.update_member, cmd, member_id, request.expected_version, **changes
        )
        return pb.UpdateMemberResponse(member=member_pb(record), position=position)

    async def GetMember(self, request, context):
        member_id = _required_uuid("member_id", request.member_id)
        member = await run(self.app.load, member_id, Member, "member")
        return pb.GetMemberResponse(member=member_pb(MemberRecord.of(member)))

    async def ListMembers(self, request, context):
        v = Violations()
        organisation = v.check("organisation_id", parse_optional_uuid, request.organisation_id)
        profession = v.check("profession", codecs.PROFESSION.to_domain_or_none, request.profession)
        filters = {"organisation": str(organisation or ""), "profession": profession or ""}
        page_ = page(request, filters, v)
        v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(
            self.directory.list_members, page_, str(organisation or ""), profession or ""
        )
        return pb.ListMembersResponse(
            members=[member_pb(r) for r in records], next_page_token=token
        )

    # Memberships

    def _membership_command(self, request: Any, name: str, v: Violations, with_member: bool):
        cmd = command(request, name, v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        member_id = None
        if with_member:
            member_id = v.check("member_id", parse_uuid, request.member_id)
        return cmd, community_id, member_id

    def _subject_member(self, request: Any, v: Violations):
        """member_id defaults to the caller (for join and request)."""
        if request.member_id:
            return v.check("member_id", parse_uuid, request.member_id)
        caller = current_caller()
        if caller.member_id is None:
            v.add("member_id", "is required when the caller is not a member")
        return caller.member_id

    async def _membership_answer(self, response_type: Any, method: Any, *args: Any) -> Any:
        record, position = await self._execute(method, *args)
        return response_type(membership=membership_pb(record), position=position)

    async def JoinCommunity(self, request, context):
        v = Violations()
        cmd, community_id, _ = self._membership_command(request, "JoinCommunity", v, False)
        member_id = self._subject_member(request, v)
        v.raise_if_any()
        return await self._membership_answer(
            pb.JoinCommunityResponse, self.app.join, cmd, community_id, member_id
        )

    async def RequestMembership(self, request, context):
        v = Violations()
        cmd, community_id, _ = self._membership_command(request, "RequestMembership", v, False)
        member_id = self._subject_member(request, v)
        message = v.check("message", parse_text, request.message)
        v.raise_if_any()
        return await self._membership_answer(
            pb.RequestMembershipResponse,
            self.app.request_membership,
            cmd,
            community_id,
            member_id,
            message,
        )

    async def ApproveMembershipRequest(self, request, context):
        v = Violations()
        cmd, community_id, member_id = self._membership_command(
            request, "ApproveMembershipRequest", v, True
        )
        v.raise_if_any()
        return await self._membership_answer(
            pb.ApproveMembershipRequestResponse,
            self.app.approve_request,
            cmd,
            community_id,
            member_id,
        )

    async def RejectMembershipRequest(self, request, context):
        v = Violations()
        cmd, community_id, member_id = self._membership_command(
            request, "RejectMembershipRequest", v, True
        )
        reason = v.check("reason", parse_text, request.reason)
        v.raise_if_any()
        return await self._membership_answer(
            pb.RejectMembershipRequestResponse,
            self.app.reject_request,
            cmd,
            community_id,
            member_id,
            reason,
        )

    async def InviteMember(self, request, context):
        v = Violations()
        cmd, community_id, member_id = self._membership_command(request, "InviteMember", v, True)
        v.raise_if_any()
        return await self._membership_answer(
            pb.InviteMemberResponse, self.app.invite, cmd, community_id, member_id
        )

    async def AcceptInvitation(self, request, context):
        v = Violations()
        cmd, community_id, _ = self._membership_command(request, "AcceptInvitation", v, False)
        v.raise_if_any()
        return await self._membership_answer(
            pb.AcceptInvitationResponse, self.app.accept_invitation, cmd, community_id
        )

    async def DeclineInvitation(self, request, context):
        v = Violations()
        cmd, community_id, _ = self._membership_command(request, "DeclineInvitation", v, False)
        v.raise_if_any()
        return await self._membership_answer(
            pb.DeclineInvitationResponse, self.app.decline_invitation, cmd, community_id
        )

    async def LeaveCommunity(self, request, context):
        v = Violations()
        cmd, community_id, _ = self._membership_command(request, "LeaveCommunity", v, False)
        v.raise_if_any()
        return await self._membership_answer(
            pb.LeaveCommunityResponse, self.app.leave, cmd, community_id
        )

    async def RemoveMember(self, request, context):
        v = Violations()
        cmd, community_id, member_id = self._membership_command(request, "RemoveMember", v, True)
        reason = v.check("reason", parse_text, request.reason)
        v.raise_if_any()
        return await self._membership_answer(
            pb.RemoveMemberResponse, self.app.remove, cmd, community_id, member_id, reason
        )

    async def AssignRole(self, request, context):
        v = Violations()
        cmd, community_id, member_id = self._membership_command(request, "AssignRole", v, True)
        role = v.check("role", codecs.ROLE.to_domain, request.role)
        start = _optional_date("start_date", request.start_date, v)
        v.raise_if_any()
        return await self._membership_answer(
            pb.AssignRoleResponse, self.app.assign_role, cmd, community_id, member_id, role, start
        )

    async def EndRole(self, request, context):
        v = Violations()
        cmd, community_id, member_id = self._membership_command(request, "EndRole", v, True)
        role = v.check("role", codecs.ROLE.to_domain, request.role)
        end = _optional_date("end_date", request.end_date, v)
        v.raise_if_any()
        return await self._membership_answer(
            pb.EndRoleResponse, self.app.end_role, cmd, community_id, member_id, role, end
        )

    async def GetMembership(self, request, context):
        v = Violations()
        community_id = v.check("community_id", parse_uuid, request.community_id)
        member_id = v.check("member_id", parse_uuid, request.member_id)
        v.raise_if_any()
        membership = await run(self.app.membership, community_id, member_id)
        return pb.GetMembershipResponse(membership=membership_pb(MembershipRecord.of(membership)))

    async def ListMemberships(self, request, context):
        v = Violations()
        community = v.check("community_id", parse_optional_uuid, request.community_id)
        member = v.check("member_id", parse_optional_uuid, request.member_id)
        status = v.check("status", codecs.MEMBERSHIP_STATUS.to_domain_or_none, request.status)
        role = v.check("role", codecs.ROLE.to_domain_or_none, request.role)
        as_of = _optional_date("as_of", request.as_of, v)
        if as_of and not role:
            v.add("as_of", "is only read together with role")
        filters = {
            "community": str(community or ""),
            "member": str(member or ""),
            "status": status or "",
            "role": role or "",
            "as_of": date_text(as_of),
        }
        page_ = page(request, filters, v)
        v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(
            self.directory.list_memberships,
            page_,
            str(community or ""),
            str(member or ""),
            status or "",
            role or "",
            as_of or self.app.clock.today(),
        )
        return pb.ListMembershipsResponse(
            memberships=[membership_pb(r) for r in records], next_page_token=token
        )

    # History

    async def ListEntityHistory(self, request, context):
        v = Violations()
        entity_id = v.check("entity_id", parse_uuid, request.entity_id)
        page_ = page(request, {"entity": request.entity_id}, v)
        v.raise_if_any()
        after_version = int(page_.after[0]) if page_.after else 0
        events = await run(self.app.entity_history, entity_id, after_version, page_.size)
        caller = current_caller()
        show_email = caller.is_operator or caller.is_member(entity_id)
        entries = [_history_entry(e, show_email) for e in events]
        token = page_.next_token(events, lambda e: (e.originator_version,))
        return pb.ListEntityHistoryResponse(entries=entries, next_page_token=token)


_HIDDEN_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "trace_context",
    "actor",
    "community_id",
    "member_id",
}


def _history_entry(event: Any, show_email: bool) -> pb.HistoryEntry:
    changes = {}
    for name, value in vars(event).items():
        if name in _HIDDEN_FIELDS:
            continue
        if name == "email" and not show_email:
            value = "(hidden)"
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        changes[name] = "" if value is None else str(value)
    return pb.HistoryEntry(
        version=event.originator_version,
        event_type="_".join(_snake(part) for part in type(event).__qualname__.split(".")),
        occurred_at=timestamp(event.timestamp),
        actor=getattr(event, "actor", "system"),
        changes=changes,
    )


def _required_uuid(field: str, value: str):
    v = Violations()
    parsed = v.check(field, parse_uuid, value)
    v.raise_if_any()
    return parsed


def _uuid_list(field: str, values: Any, v: Violations) -> list:
    parsed = []
    for index, value in enumerate(values):
        item = v.check(f"{field}[{index}]", parse_uuid, value)
        if item is not None:
            parsed.append(item)
    if len(set(parsed)) != len(parsed):
        v.add(field, "must not repeat an organisation")
    return parsed


def _optional_date(field: str, value: str, v: Violations) -> date | None:
    if not value:
        return None
    return v.check(field, parse_date, value)


def register(server: grpc.aio.Server, servicer: RegistryServicer) -> None:
    pb_grpc.add_RegistryServiceServicer_to_server(servicer, server)
