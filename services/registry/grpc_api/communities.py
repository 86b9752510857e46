"""RegistryService calls on communities."""

from __future__ import annotations

from copnet.registry.v1 import registry_pb2 as pb
from services.common.errors import InvalidArgument, Violations
from services.common.servicer import (
    Context,
    command,
    optional,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    required_uuid,
    run,
)
from services.kernel.parsing import parse_name, parse_slug, parse_text
from services.registry import codecs
from services.registry.domain import Community
from services.registry.grpc_api.base import Servicer
from services.registry.grpc_api.requests import host_organisation_ids
from services.registry.grpc_api.responses import community_pb
from services.registry.views import CommunityRecord


class CommunityCalls(Servicer):
    async def CreateCommunity(
        self, request: pb.CreateCommunityRequest, context: Context
    ) -> pb.CreateCommunityResponse:
        v = Violations()
        cmd = command(request, "CreateCommunity", v)
        slug = v.check("slug", parse_slug, request.slug)
        name = v.check("name", parse_name, request.name)
        domain = v.check("domain", parse_slug, request.domain)
        purpose = v.check("purpose", parse_text, request.purpose)
        region = v.check("region", parse_slug, request.region)
        hosts = host_organisation_ids(request.host_organisation_ids, v)
        policy = v.check("joining_policy", codecs.JOINING_POLICY.to_domain, request.joining_policy)
        v.raise_if_any()
        record, position = await self._execute(
            self.app.create_community, cmd, slug, name, domain, purpose, region, hosts, policy
        )
        return pb.CreateCommunityResponse(community=community_pb(record), position=position)

    async def UpdateCommunity(
        self, request: pb.UpdateCommunityRequest, context: Context
    ) -> pb.UpdateCommunityResponse:
        v = Violations()
        cmd = command(request, "UpdateCommunity", v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        changes = {
            "name": optional(request, "name", v, parse_name),
            "domain": optional(request, "domain", v, parse_slug),
            "purpose": optional(request, "purpose", v, parse_text),
            "region": optional(request, "region", v, parse_slug),
            "joining_policy": optional(
                request, "joining_policy", v, codecs.JOINING_POLICY.to_domain
            ),
        }
        if request.replace_host_organisations:
            changes["host_organisation_ids"] = host_organisation_ids(
                request.host_organisation_ids, v
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

    async def ChangeCommunityLifecycle(
        self, request: pb.ChangeCommunityLifecycleRequest, context: Context
    ) -> pb.ChangeCommunityLifecycleResponse:
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

    async def GetCommunity(
        self, request: pb.GetCommunityRequest, context: Context
    ) -> pb.GetCommunityResponse:
        if bool(request.community_id) == bool(request.slug):
            raise InvalidArgument.single("community_id", "give exactly one of community_id, slug")
        if request.slug:
            community = await run(self.app.community_by_slug, request.slug)
        else:
            community_id = required_uuid("community_id", request.community_id)
            community = await run(self.app.load, community_id, Community, "community")
        return pb.GetCommunityResponse(community=community_pb(CommunityRecord.of(community)))

    async def ListCommunities(
        self, request: pb.ListCommunitiesRequest, context: Context
    ) -> pb.ListCommunitiesResponse:
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
