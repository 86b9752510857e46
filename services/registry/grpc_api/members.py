"""RegistryService calls on members."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from copnet.registry.v1 import registry_pb2 as pb
from services.common.errors import Violations
from services.common.paging import MAX_PAGE_SIZE, Page
from services.common.servicer import (
    Context,
    command,
    member_export,
    optional,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    required_uuid,
    run,
)
from services.kernel.parsing import parse_name
from services.registry import codecs
from services.registry.domain import Member, parse_email
from services.registry.grpc_api.base import Servicer
from services.registry.grpc_api.responses import member_pb
from services.registry.views import MemberRecord


class MemberCalls(Servicer):
    async def RegisterMember(
        self, request: pb.RegisterMemberRequest, context: Context
    ) -> pb.RegisterMemberResponse:
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

    async def UpdateMember(
        self, request: pb.UpdateMemberRequest, context: Context
    ) -> pb.UpdateMemberResponse:
        v = Violations()
        cmd = command(request, "UpdateMember", v)
        member_id = v.check("member_id", parse_uuid, request.member_id)
        changes = {
            "display_name": optional(request, "display_name", v, parse_name),
            "profession": optional(request, "profession", v, codecs.PROFESSION.to_domain),
            "home_organisation_id": optional(request, "home_organisation_id", v, parse_uuid),
            "email": optional(request, "email", v, parse_email),
        }
        v.raise_if_any()
        record, position = await self._execute(
            self.app.update_member, cmd, member_id, request.expected_version, **changes
        )
        return pb.UpdateMemberResponse(member=member_pb(record), position=position)

    async def GetMember(
        self, request: pb.GetMemberRequest, context: Context
    ) -> pb.GetMemberResponse:
        member_id = required_uuid("member_id", request.member_id)
        member = await run(self.app.load, member_id, Member, "member")
        return pb.GetMemberResponse(member=member_pb(MemberRecord.of(member)))

    async def ListMembers(
        self, request: pb.ListMembersRequest, context: Context
    ) -> pb.ListMembersResponse:
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

    async def EraseMember(
        self, request: pb.EraseMemberRequest, context: Context
    ) -> pb.EraseMemberResponse:
        v = Violations()
        cmd = command(request, "EraseMember", v)
        member_id = v.check("member_id", parse_uuid, request.member_id)
        v.raise_if_any()
        outcome = await run(self.app.erase_member, cmd, member_id, request.confirm)
        return pb.EraseMemberResponse(member_id=str(member_id), position=outcome.position)

    async def ExportMemberData(
        self, request: pb.ExportMemberDataRequest, context: Context
    ) -> pb.ExportMemberDataResponse:
        document = await member_export(request.member_id, self._member_data)
        return pb.ExportMemberDataResponse(document_json=document)

    def _member_data(self, member_id: UUID) -> dict[str, Any]:
        document = self.app.member_export(member_id)
        memberships, _ = self.directory.list_memberships(
            Page(size=MAX_PAGE_SIZE, after=None, filters_digest=""), member_id=str(member_id)
        )
        document["memberships"] = [
            {
                "membership_id": str(m.membership_id),
                "community_id": str(m.community_id),
                "status": m.status,
                "roles": [
                    {
                        "role": t.role.value,
                        "start": t.start.isoformat(),
                        "end": t.end.isoformat() if t.end else None,
                    }
                    for t in m.role_terms
                ],
            }
            for m in memberships
        ]
        return document
