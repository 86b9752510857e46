"""RegistryService calls on organisations, and every entity's history."""

from __future__ import annotations

from copnet.registry.v1 import registry_pb2 as pb
from services.common.errors import Violations
from services.common.grpc_server import current_caller
from services.common.servicer import (
    Context,
    command,
    optional,
    page,
    parse_uuid,
    read_your_writes,
    required_uuid,
    run,
)
from services.kernel.parsing import parse_name, parse_slug
from services.registry import codecs
from services.registry.domain import Organisation, parse_ods_code
from services.registry.grpc_api.base import Servicer
from services.registry.grpc_api.responses import history_entry, organisation_pb
from services.registry.views import OrganisationRecord


class OrganisationCalls(Servicer):
    async def CreateOrganisation(
        self, request: pb.CreateOrganisationRequest, context: Context
    ) -> pb.CreateOrganisationResponse:
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

    async def UpdateOrganisation(
        self, request: pb.UpdateOrganisationRequest, context: Context
    ) -> pb.UpdateOrganisationResponse:
        v = Violations()
        cmd = command(request, "UpdateOrganisation", v)
        organisation_id = v.check("organisation_id", parse_uuid, request.organisation_id)
        changes = {
            "name": optional(request, "name", v, parse_name),
            "kind": optional(request, "kind", v, codecs.ORGANISATION_KIND.to_domain),
            "region": optional(request, "region", v, parse_slug),
            "ods_code": optional(request, "ods_code", v, parse_ods_code),
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

    async def RetireOrganisation(
        self, request: pb.RetireOrganisationRequest, context: Context
    ) -> pb.RetireOrganisationResponse:
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

    async def GetOrganisation(
        self, request: pb.GetOrganisationRequest, context: Context
    ) -> pb.GetOrganisationResponse:
        organisation_id = required_uuid("organisation_id", request.organisation_id)
        organisation = await run(self.app.load, organisation_id, Organisation, "organisation")
        return pb.GetOrganisationResponse(
            organisation=organisation_pb(OrganisationRecord.of(organisation))
        )

    async def ListOrganisations(
        self, request: pb.ListOrganisationsRequest, context: Context
    ) -> pb.ListOrganisationsResponse:
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

    # History

    async def ListEntityHistory(
        self, request: pb.ListEntityHistoryRequest, context: Context
    ) -> pb.ListEntityHistoryResponse:
        v = Violations()
        entity_id = v.check("entity_id", parse_uuid, request.entity_id)
        page_ = page(request, {"entity": request.entity_id}, v)
        v.raise_if_any()
        after_version = int(page_.after[0]) if page_.after else 0
        events = await run(self.app.entity_history, entity_id, after_version, page_.size)
        caller = current_caller()
        show_email = caller.is_operator or caller.is_member(entity_id)
        entries = [history_entry(e, show_email) for e in events]
        token = page_.next_token(events, lambda e: (e.originator_version,))
        return pb.ListEntityHistoryResponse(entries=entries, next_page_token=token)
