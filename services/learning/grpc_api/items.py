"""LearningService calls on learning items: drafts, publishing, revisions, the catalogue."""

from __future__ import annotations

from copnet.learning.v1 import learning_pb2 as pb
from services.common.errors import Violations
from services.common.servicer import (
    Context,
    command,
    member_export,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    run,
    uuid_list,
)
from services.kernel.parsing import parse_date
from services.learning import codecs
from services.learning.domain import (
    MAX_CONTRIBUTORS,
    MAX_SEARCH_TEXT,
    Content,
    Presentation,
    Visibility,
    parse_body,
    parse_node_id,
    parse_summary,
    parse_tags,
    parse_title,
)
from services.learning.grpc_api.base import Servicer
from services.learning.grpc_api.requests import content_changes, item_links, partner_nodes
from services.learning.snapshots import revision_pb
from services.learning.views import SearchFilters


class ItemCalls(Servicer):
    # Items

    async def CreateItem(
        self, request: pb.CreateItemRequest, context: Context
    ) -> pb.CreateItemResponse:
        v = Violations()
        cmd = command(request, "CreateItem", v)
        kind = v.check("kind", codecs.ITEM_KIND.to_domain, request.kind)
        content = Content.of(
            v.check("title", parse_title, request.title) or "",
            v.check("summary", parse_summary, request.summary) or "",
            v.check("body", parse_body, request.body) or "",
            item_links("links", request.links, v),
            v.check("domain_tags", parse_tags, list(request.domain_tags)) or [],
        )
        community_id = v.check("community_id", parse_uuid, request.community_id)
        organisation_id = v.check("organisation_id", parse_optional_uuid, request.organisation_id)
        contributors = uuid_list(
            "contributor_member_ids",
            request.contributor_member_ids,
            v,
            "must not name anyone twice",
            MAX_CONTRIBUTORS,
        )
        visibility = (
            v.check("visibility", codecs.VISIBILITY.to_domain, request.visibility)
            if request.visibility
            else Visibility.NODE
        )
        partners = partner_nodes(request, visibility, v)
        v.raise_if_any()
        return await self._item_answer(
            pb.CreateItemResponse,
            self.app.create_item,
            cmd,
            kind,
            content,
            community_id,
            organisation_id,
            contributors,
            visibility,
            partners,
        )

    async def UpdateDraft(
        self, request: pb.UpdateDraftRequest, context: Context
    ) -> pb.UpdateDraftResponse:
        v = Violations()
        cmd = command(request, "UpdateDraft", v)
        item_id = v.check("item_id", parse_uuid, request.item_id)
        changes = content_changes(request, v)
        v.raise_if_any()
        return await self._item_answer(
            pb.UpdateDraftResponse,
            self.app.update_draft,
            cmd,
            item_id,
            request.expected_version,
            changes,
        )

    async def PublishItem(
        self, request: pb.PublishItemRequest, context: Context
    ) -> pb.PublishItemResponse:
        v = Violations()
        cmd = command(request, "PublishItem", v)
        item_id = v.check("item_id", parse_uuid, request.item_id)
        v.raise_if_any()
        return await self._item_answer(
            pb.PublishItemResponse, self.app.publish_item, cmd, item_id, request.expected_version
        )

    async def ReviseItem(
        self, request: pb.ReviseItemRequest, context: Context
    ) -> pb.ReviseItemResponse:
        v = Violations()
        cmd = command(request, "ReviseItem", v)
        item_id = v.check("item_id", parse_uuid, request.item_id)
        changes = content_changes(request, v)
        note = v.check("note", parse_summary, request.note)
        v.raise_if_any()
        return await self._item_answer(
            pb.ReviseItemResponse,
            self.app.revise_item,
            cmd,
            item_id,
            request.expected_version,
            changes,
            note,
        )

    async def WithdrawItem(
        self, request: pb.WithdrawItemRequest, context: Context
    ) -> pb.WithdrawItemResponse:
        v = Violations()
        cmd = command(request, "WithdrawItem", v)
        item_id = v.check("item_id", parse_uuid, request.item_id)
        reason = v.check("reason", parse_summary, request.reason)
        v.raise_if_any()
        return await self._item_answer(
            pb.WithdrawItemResponse,
            self.app.withdraw_item,
            cmd,
            item_id,
            reason,
            request.expected_version,
        )

    async def ChangeVisibility(
        self, request: pb.ChangeVisibilityRequest, context: Context
    ) -> pb.ChangeVisibilityResponse:
        v = Violations()
        cmd = command(request, "ChangeVisibility", v)
        item_id = v.check("item_id", parse_uuid, request.item_id)
        visibility = v.check("visibility", codecs.VISIBILITY.to_domain, request.visibility)
        partners = partner_nodes(request, visibility, v)
        v.raise_if_any()
        return await self._item_answer(
            pb.ChangeVisibilityResponse,
            self.app.change_visibility,
            cmd,
            item_id,
            visibility,
            partners,
            request.expected_version,
        )

    async def RecordPresentation(
        self, request: pb.RecordPresentationRequest, context: Context
    ) -> pb.RecordPresentationResponse:
        v = Violations()
        cmd = command(request, "RecordPresentation", v)
        item_id = v.check("item_id", parse_uuid, request.item_id)
        convening = v.check("convening_id", parse_uuid, request.convening_id)
        title = v.check("title", parse_title, request.title)
        presented_on = v.check("presented_on", parse_date, request.presented_on)
        v.raise_if_any()
        presentation = Presentation(str(convening), title, presented_on)
        return await self._item_answer(
            pb.RecordPresentationResponse,
            self.app.record_presentation,
            cmd,
            item_id,
            presentation,
        )

    async def GetItem(self, request: pb.GetItemRequest, context: Context) -> pb.GetItemResponse:
        entry = await self._entry(request.item_id, request.min_position)
        return pb.GetItemResponse(item=self._item(entry))

    async def ListRevisions(
        self, request: pb.ListRevisionsRequest, context: Context
    ) -> pb.ListRevisionsResponse:
        entry = await self._entry(request.item_id, request.min_position)
        return pb.ListRevisionsResponse(
            revisions=[revision_pb(r) for r in entry.snapshot["revisions"]]
        )

    async def SearchCatalogue(
        self, request: pb.SearchCatalogueRequest, context: Context
    ) -> pb.SearchCatalogueResponse:
        v = Violations()
        kind = v.check("kind", codecs.ITEM_KIND.to_domain_or_none, request.kind)
        if request.origin_node:
            v.check("origin_node", parse_node_id, request.origin_node)
        organisation = v.check("organisation_id", parse_optional_uuid, request.organisation_id)
        if request.domain_tag:
            v.check("domain_tag", parse_tags, [request.domain_tag])
        if len(request.text) > MAX_SEARCH_TEXT:
            v.add("text", f"must be at most {MAX_SEARCH_TEXT} characters")
        dates = {}
        for field in ("published_from", "published_until"):
            value = getattr(request, field)
            parsed = v.check(field, parse_date, value) if value else None
            dates[field] = parsed.isoformat() if parsed else ""
        filters = SearchFilters(
            text=request.text,
            domain_tag=request.domain_tag,
            kind=kind or "",
            origin_node=request.origin_node,
            organisation_id=str(organisation or ""),
            include_withdrawn=request.include_withdrawn,
            **dates,
        )
        page_ = page(request, vars(filters), v)
        v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        entries, token = await run(self.catalogue.search, page_, filters)
        return pb.SearchCatalogueResponse(
            items=[self._item(e) for e in entries], next_page_token=token
        )

    async def ExportMemberData(
        self, request: pb.ExportMemberDataRequest, context: Context
    ) -> pb.ExportMemberDataResponse:
        document = await member_export(request.member_id, self.catalogue.member_data)
        return pb.ExportMemberDataResponse(document_json=document)
