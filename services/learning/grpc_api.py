"""LearningService over gRPC: validation and translation only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import grpc
from nats.aio.client import Client as NATS

from copnet.learning.v1 import learning_pb2 as pb
from copnet.learning.v1 import learning_pb2_grpc as pb_grpc
from services.common.errors import NotFound, Unavailable, Violations
from services.common.federation import link_states, read_directory
from services.common.grpc_server import current_caller
from services.common.messaging import NodeIdentity
from services.common.natslink import NatsLink
from services.common.projection import ProjectionFollower
from services.common.protoconv import timestamp
from services.common.servicer import (
    Context,
    command,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    run,
)
from services.kernel.parsing import parse_date, parse_name
from services.learning import codecs
from services.learning.application import KEEP, ContentChanges, Learning
from services.learning.domain import (
    MAX_LINKS,
    Adoption,
    Content,
    LearningItem,
    Presentation,
    Visibility,
    parse_body,
    parse_node_id,
    parse_summary,
    parse_tags,
    parse_title,
    parse_url,
)
from services.learning.snapshots import item_pb, revision_pb
from services.learning.views import Catalogue, CatalogueEntry, SearchFilters

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["LearningService"].full_name


def _links(field: str, links: Any, v: Violations) -> list[list[str]]:
    parsed = []
    if len(links) > MAX_LINKS:
        v.add(field, f"at most {MAX_LINKS} links")
    for index, link in enumerate(links):
        title = v.check(f"{field}[{index}].title", parse_name, link.title or link.url)
        url = v.check(f"{field}[{index}].url", parse_url, link.url)
        if title and url:
            parsed.append([title, url])
    return parsed


def _content_changes(request: Any, v: Violations) -> ContentChanges:
    def optional(field: str, parse: Any) -> Any:
        return v.check(field, parse, getattr(request, field)) if request.HasField(field) else KEEP

    return ContentChanges(
        title=optional("title", parse_title),
        summary=optional("summary", parse_summary),
        body=optional("body", parse_body),
        links=_links("links", request.links, v) if request.replace_links else KEEP,
        domain_tags=(
            v.check("domain_tags", parse_tags, list(request.domain_tags))
            if request.replace_domain_tags
            else KEEP
        ),
    )


def _partners(request: Any, visibility: Visibility | None, v: Violations) -> list[str]:
    partners = []
    for index, node in enumerate(request.partner_nodes):
        parsed = v.check(f"partner_nodes[{index}]", parse_node_id, node)
        if parsed:
            partners.append(parsed)
    if visibility is Visibility.PARTNERS and not request.partner_nodes:
        v.add("partner_nodes", "name at least one partner node for VISIBILITY_PARTNERS")
    if visibility is not Visibility.PARTNERS and request.partner_nodes:
        v.add("partner_nodes", "is only read with VISIBILITY_PARTNERS")
    return partners


# How long a call waits for the service's NATS connection before answering UNAVAILABLE.
NATS_WAIT = 2.0


class LearningServicer(pb_grpc.LearningServiceServicer):
    def __init__(
        self,
        app: Learning,
        catalogue: Catalogue,
        follower: ProjectionFollower,
        identity: NodeIdentity,
        nats: NatsLink,
        joins_hub: bool = True,
    ) -> None:
        self.app = app
        self.catalogue = catalogue
        self.follower = follower
        self.identity = identity
        self.nats = nats
        self.joins_hub = joins_hub

    def add_to_server(self, server: grpc.aio.Server) -> None:
        pb_grpc.add_LearningServiceServicer_to_server(self, server)

    async def _item_answer(self, response_type: Any, method: Any, *args: Any) -> Any:
        outcome = await run(method, *args)
        await read_your_writes(self.follower, outcome.position)
        entry = await run(self.catalogue.entry, str(outcome.entity_id))
        assert entry is not None, "the catalogue caught up with the command"
        return response_type(item=self._item(entry), position=outcome.position)

    @staticmethod
    def _item(entry: CatalogueEntry) -> pb.LearningItem:
        return item_pb(entry.snapshot, entry.local, entry.received_at)

    async def _entry(self, item_id_text: str, min_position: int) -> CatalogueEntry:
        v = Violations()
        item_id = v.check("item_id", parse_uuid, item_id_text)
        v.raise_if_any()
        await read_your_writes(self.follower, min_position)
        entry = await run(self.catalogue.entry, str(item_id))
        if entry is None or entry.retracted:
            raise NotFound(f"learning item {item_id} is not known on this node")
        if entry.snapshot["status"] == "draft":
            item = await run(self.app.load, item_id, LearningItem, "learning item")
            if not self.app.may_edit(current_caller(), item):
                raise NotFound(f"learning item {item_id} is not known on this node")
        return entry

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
            _links("links", request.links, v),
            v.check("domain_tags", parse_tags, list(request.domain_tags)) or [],
        )
        community_id = v.check("community_id", parse_uuid, request.community_id)
        organisation_id = v.check("organisation_id", parse_optional_uuid, request.organisation_id)
        contributors = []
        for index, member in enumerate(request.contributor_member_ids):
            parsed = v.check(f"contributor_member_ids[{index}]", parse_uuid, member)
            if parsed:
                contributors.append(parsed)
        visibility = (
            v.check("visibility", codecs.VISIBILITY.to_domain, request.visibility)
            if request.visibility
            else Visibility.NODE
        )
        partners = _partners(request, visibility, v)
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
        changes = _content_changes(request, v)
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
        changes = _content_changes(request, v)
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
        partners = _partners(request, visibility, v)
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
        dates = {}
        for field in ("published_from", "published_until"):
            value = getattr(request, field)
            dates[field] = v.check(field, parse_date, value).isoformat() if value else ""
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

    # Adoption and spread

    async def DeclareAdoption(
        self, request: pb.DeclareAdoptionRequest, context: Context
    ) -> pb.DeclareAdoptionResponse:
        v = Violations()
        cmd = command(request, "DeclareAdoption", v)
        entry = await self._entry(request.item_id, 0) if request.item_id else None
        if entry is None:
            v.add("item_id", "is required")
        organisation = v.check("organisation_id", parse_optional_uuid, request.organisation_id)
        status = v.check("status", codecs.ADOPTION_STATUS.to_domain, request.status)
        evidence = v.check("evidence", parse_summary, request.evidence)
        effective_on = (
            v.check("effective_on", parse_date, request.effective_on)
            if request.effective_on
            else None
        )
        v.raise_if_any()
        assert entry is not None
        outcome = await run(
            self.app.declare_adoption,
            cmd,
            parse_uuid(request.item_id),
            entry.snapshot["origin_node"],
            organisation,
            status,
            evidence,
            effective_on,
        )
        adoption = outcome.entity or await run(self.app.entity_at, outcome)
        assert isinstance(adoption, Adoption)
        report = adoption.report()
        return pb.DeclareAdoptionResponse(
            adoption=pb.Adoption(
                node_id=report.node_id,
                organisation_id=report.organisation_id,
                organisation_name=report.organisation_name,
                status=codecs.ADOPTION_STATUS.to_pb(report.status),
                evidence=report.evidence,
                effective_on=report.effective_on.isoformat(),
                reported_at=timestamp(report.reported_at),
            ),
            position=outcome.position,
        )

    async def GetAdoptionSummary(
        self, request: pb.GetAdoptionSummaryRequest, context: Context
    ) -> pb.GetAdoptionSummaryResponse:
        if request.domain_tag:
            v = Violations()
            v.check("domain_tag", parse_tags, [request.domain_tag])
            v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        rows = await run(self.catalogue.adoption_summary, request.domain_tag)
        return pb.GetAdoptionSummaryResponse(
            items=[
                pb.AdoptionCount(
                    item_id=r["item_id"],
                    origin_node=r["origin_node"],
                    title=r["title"],
                    exploring=r["exploring"],
                    piloting=r["piloting"],
                    adopted=r["adopted"],
                    abandoned=r["abandoned"],
                )
                for r in rows
            ]
        )

    async def GetSpread(
        self, request: pb.GetSpreadRequest, context: Context
    ) -> pb.GetSpreadResponse:
        entry = await self._entry(request.item_id, request.min_position)
        return pb.GetSpreadResponse(steps=_spread(entry))

    # Subscriptions

    async def Subscribe(
        self, request: pb.SubscribeRequest, context: Context
    ) -> pb.SubscribeResponse:
        v = Violations()
        cmd = command(request, "Subscribe", v)
        node = v.check("node_id", parse_node_id, request.node_id)
        tags = v.check("domain_tags", parse_tags, list(request.domain_tags))
        v.raise_if_any()
        outcome = await run(self.app.subscribe, cmd, node, tags)
        return pb.SubscribeResponse(
            subscription=await self._subscription(node, outcome.position),
            position=outcome.position,
        )

    async def Unsubscribe(
        self, request: pb.UnsubscribeRequest, context: Context
    ) -> pb.UnsubscribeResponse:
        v = Violations()
        cmd = command(request, "Unsubscribe", v)
        node = v.check("node_id", parse_node_id, request.node_id)
        v.raise_if_any()
        outcome = await run(self.app.unsubscribe, cmd, node)
        return pb.UnsubscribeResponse(
            subscription=await self._subscription(node, outcome.position),
            position=outcome.position,
        )

    async def _nats(self) -> NATS:
        try:
            return await asyncio.wait_for(self.nats.client(), NATS_WAIT)
        except TimeoutError:
            raise Unavailable("this node's NATS server is not reachable now") from None

    async def _subscription(self, node: str, position: int) -> pb.Subscription:
        await read_your_writes(self.follower, position)
        rows = await run(self.catalogue.subscriptions)
        return next(s for s in self._subscriptions(rows, {}) if s.node_id == node)

    async def ListSubscriptions(
        self, request: pb.ListSubscriptionsRequest, context: Context
    ) -> pb.ListSubscriptionsResponse:
        rows = await run(self.catalogue.subscriptions)
        states = await link_states(await self._nats(), self.identity)
        return pb.ListSubscriptionsResponse(subscriptions=self._subscriptions(rows, states))

    def _subscriptions(
        self, rows: list[dict[str, Any]], states: dict[str, Any]
    ) -> list[pb.Subscription]:
        subscriptions = []
        for row in rows:
            source = NodeIdentity(row["node_id"], self.identity.region).public_stream_name
            state = states.get(source, {})
            last = row["last_received_at"]
            subscriptions.append(
                pb.Subscription(
                    node_id=row["node_id"],
                    domain_tags=row["domain_tags"],
                    active=row["active"],
                    since=timestamp(datetime.fromisoformat(row["since"])),
                    last_received_at=timestamp(datetime.fromisoformat(last)) if last else None,
                    lag=state.get("lag", -1),
                    connected=state.get("connected", False),
                )
            )
        return subscriptions

    async def ListRegionNodes(
        self, request: pb.ListRegionNodesRequest, context: Context
    ) -> pb.ListRegionNodesResponse:
        directory: dict[str, dict[str, str]] = {}
        if self.joins_hub:
            found = await read_directory(await self._nats())
            if found is None:
                raise Unavailable("the region's directory cannot be read now; retry shortly")
            directory = found
        return pb.ListRegionNodesResponse(
            region=self.identity.region,
            nodes=[
                pb.RegionNode(node_id=n, name=e.get("name", n))
                for n, e in sorted(directory.items())
            ],
        )


def _spread(entry: CatalogueEntry) -> list[pb.SpreadStep]:
    s = entry.snapshot
    origin = s["origin_node"]
    steps: list[tuple[str, pb.SpreadStep]] = []

    def add(at: str, **fields: Any) -> None:
        if at:
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            steps.append((moment.isoformat(), pb.SpreadStep(at=timestamp(moment), **fields)))

    for revision in s["revisions"]:
        kind = "published" if revision["revision"] == 1 else "revised"
        add(
            revision["revised_at"],
            kind=kind,
            node_id=origin,
            revision=revision["revision"],
            detail=revision["note"],
        )
    for presentation in s["presentations"]:
        add(
            presentation["presented_on"],
            kind="presented",
            node_id=origin,
            detail=presentation["title"],
        )
    for reception in s["receptions"]:
        add(reception["received_at"], kind="received", node_id=reception["node_id"])
    for adoption in s["adoption_history"]:
        add(
            adoption["reported_at"],
            kind="adoption",
            node_id=adoption["node_id"],
            organisation_id=adoption["organisation_id"],
            organisation_name=adoption["organisation_name"],
            adoption_status=codecs.ADOPTION_STATUS.to_pb(adoption["status"]),
            detail=adoption["evidence"],
        )
    if s["status"] == "withdrawn":
        add(s["updated_at"], kind="withdrawn", node_id=origin, detail=s["withdrawn_reason"])
    return [step for _, step in sorted(steps, key=lambda pair: pair[0])]
