"""RegistryService calls on memberships and roles."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from copnet.registry.v1 import registry_pb2 as pb
from services.common.errors import Violations
from services.common.grpc_server import current_caller
from services.common.idempotency import Command
from services.common.protoconv import date_text
from services.common.servicer import (
    Context,
    command,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    run,
)
from services.kernel.parsing import parse_optional_date, parse_text
from services.registry import codecs
from services.registry.grpc_api.base import Servicer
from services.registry.grpc_api.responses import membership_pb
from services.registry.views import MembershipRecord


class MembershipCalls(Servicer):
    def _membership_command(
        self, request: Any, name: str, v: Violations, with_member: bool
    ) -> tuple[Command, UUID, UUID | None]:
        cmd = command(request, name, v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        member_id = None
        if with_member:
            member_id = v.check("member_id", parse_uuid, request.member_id)
        return cmd, community_id, member_id

    def _subject_member(self, request: Any, v: Violations) -> UUID | None:
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

    async def JoinCommunity(
        self, request: pb.JoinCommunityRequest, context: Context
    ) -> pb.JoinCommunityResponse:
        v = Violations()
        cmd, community_id, _ = self._membership_command(request, "JoinCommunity", v, False)
        member_id = self._subject_member(request, v)
        v.raise_if_any()
        return await self._membership_answer(
            pb.JoinCommunityResponse, self.app.join, cmd, community_id, member_id
        )

    async def RequestMembership(
        self, request: pb.RequestMembershipRequest, context: Context
    ) -> pb.RequestMembershipResponse:
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

    async def ApproveMembershipRequest(
        self, request: pb.ApproveMembershipRequestRequest, context: Context
    ) -> pb.ApproveMembershipRequestResponse:
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

    async def RejectMembershipRequest(
        self, request: pb.RejectMembershipRequestRequest, context: Context
    ) -> pb.RejectMembershipRequestResponse:
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

    async def InviteMember(
        self, request: pb.InviteMemberRequest, context: Context
    ) -> pb.InviteMemberResponse:
        v = Violations()
        cmd, community_id, member_id = self._membership_command(request, "InviteMember", v, True)
        v.raise_if_any()
        return await self._membership_answer(
            pb.InviteMemberResponse, self.app.invite, cmd, community_id, member_id
        )

    async def AcceptInvitation(
        self, request: pb.AcceptInvitationRequest, context: Context
    ) -> pb.AcceptInvitationResponse:
        v = Violations()
        cmd, community_id, _ = self._membership_command(request, "AcceptInvitation", v, False)
        v.raise_if_any()
        return await self._membership_answer(
            pb.AcceptInvitationResponse, self.app.accept_invitation, cmd, community_id
        )

    async def DeclineInvitation(
        self, request: pb.DeclineInvitationRequest, context: Context
    ) -> pb.DeclineInvitationResponse:
        v = Violations()
        cmd, community_id, _ = self._membership_command(request, "DeclineInvitation", v, False)
        v.raise_if_any()
        return await self._membership_answer(
            pb.DeclineInvitationResponse, self.app.decline_invitation, cmd, community_id
        )

    async def LeaveCommunity(
        self, request: pb.LeaveCommunityRequest, context: Context
    ) -> pb.LeaveCommunityResponse:
        v = Violations()
        cmd, community_id, _ = self._membership_command(request, "LeaveCommunity", v, False)
        v.raise_if_any()
        return await self._membership_answer(
            pb.LeaveCommunityResponse, self.app.leave, cmd, community_id
        )

    async def RemoveMember(
        self, request: pb.RemoveMemberRequest, context: Context
    ) -> pb.RemoveMemberResponse:
        v = Violations()
        cmd, community_id, member_id = self._membership_command(request, "RemoveMember", v, True)
        reason = v.check("reason", parse_text, request.reason)
        v.raise_if_any()
        return await self._membership_answer(
            pb.RemoveMemberResponse, self.app.remove, cmd, community_id, member_id, reason
        )

    async def AssignRole(
        self, request: pb.AssignRoleRequest, context: Context
    ) -> pb.AssignRoleResponse:
        v = Violations()
        cmd, community_id, member_id = self._membership_command(request, "AssignRole", v, True)
        role = v.check("role", codecs.ROLE.to_domain, request.role)
        start = v.check("start_date", parse_optional_date, request.start_date)
        v.raise_if_any()
        return await self._membership_answer(
            pb.AssignRoleResponse, self.app.assign_role, cmd, community_id, member_id, role, start
        )

    async def EndRole(self, request: pb.EndRoleRequest, context: Context) -> pb.EndRoleResponse:
        v = Violations()
        cmd, community_id, member_id = self._membership_command(request, "EndRole", v, True)
        role = v.check("role", codecs.ROLE.to_domain, request.role)
        end = v.check("end_date", parse_optional_date, request.end_date)
        v.raise_if_any()
        return await self._membership_answer(
            pb.EndRoleResponse, self.app.end_role, cmd, community_id, member_id, role, end
        )

    async def GetMembership(
        self, request: pb.GetMembershipRequest, context: Context
    ) -> pb.GetMembershipResponse:
        v = Violations()
        community_id = v.check("community_id", parse_uuid, request.community_id)
        member_id = v.check("member_id", parse_uuid, request.member_id)
        v.raise_if_any()
        membership = await run(self.app.membership, community_id, member_id)
        return pb.GetMembershipResponse(membership=membership_pb(MembershipRecord.of(membership)))

    async def ListMemberships(
        self, request: pb.ListMembershipsRequest, context: Context
    ) -> pb.ListMembershipsResponse:
        v = Violations()
        community = v.check("community_id", parse_optional_uuid, request.community_id)
        member = v.check("member_id", parse_optional_uuid, request.member_id)
        status = v.check("status", codecs.MEMBERSHIP_STATUS.to_domain_or_none, request.status)
        role = v.check("role", codecs.ROLE.to_domain_or_none, request.role)
        as_of = v.check("as_of", parse_optional_date, request.as_of)
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
