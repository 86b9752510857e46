"""Reads the report's figures from a node's APIs (registry, events, learning), as its
operator, then keeps what the viewer's scope allows.

A node's page shows its own communities and its catalogue (what its learning service
holds: its own items and those other nodes sent it). The region's page reads every node
and keeps only items whose visibility is `region`: an item kept home (`node`) or sent to
named partners never appears on it, nor on any page of another node.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from copnet.events.v1 import events_pb2 as epb
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.registry.v1 import registry_pb2 as rpb
from services.common.protoconv import ProtoEnum, enum_value
from services.report.figures import (
    AdoptionFigure,
    CommunityFigures,
    Filters,
    ItemFigures,
    Metrics,
    PlanFigures,
    Report,
    SpreadStep,
)
from services.report.source import NodeSource

PAGE = 500


def label(enum: ProtoEnum, value: int) -> str:
    """PROFESSION_ALLIED_HEALTH_PROFESSIONAL -> 'allied health professional'."""
    return enum_value(enum, value).replace("_", " ")


def now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def gather_node(
    source: NodeSource,
    filters: Filters,
    communities: set[str] | None,
    viewer: str,
    region: str = "",
    with_items: bool = True,
) -> Report:
    """A node's page. `communities`: the ids the viewer may see (None: all of the node's)."""
    report = Report(
        scope="node",
        name=source.endpoint.name,
        region=region,
        viewer=viewer,
        filters=filters,
        generated_at=now(),
        nodes=[(source.node_id, source.endpoint.name)],
    )
    listed = _communities(source, communities)
    report.community_choices = [(c.community_id, c.name) for c in listed]
    people = _people(source)
    for community in listed:
        if filters.community and community.community_id != filters.community:
            continue
        if filters.topic and community.domain.lower() != filters.topic:
            continue
        report.communities.append(_community(source, community, people, filters))
    items = _catalogue(source) if with_items else []
    visible = [i for i in items if _may_show_on(i, source.node_id, communities)]
    report.topic_choices = sorted(
        {c.domain.lower() for c in listed if c.domain}
        | {tag for i in visible for tag in i.domain_tags}
    )
    for item in visible:
        if _selected(item, filters):
            report.items.append(_item(source, item))
    return report


def gather_region(sources: list[NodeSource], filters: Filters, viewer: str, region: str) -> Report:
    """The region's page: every node's communities, and items every node may receive,
    each read from its origin node, with the nodes whose catalogues hold it."""
    report = Report(
        scope="region",
        name=region,
        region=region,
        viewer=viewer,
        filters=filters,
        generated_at=now(),
        nodes=[(s.node_id, s.endpoint.name) for s in sources],
    )
    catalogues: dict[str, list[Any]] = {}
    topics: set[str] = set()
    for source in sources:
        node = gather_node(source, filters, None, viewer, region, with_items=False)
        report.communities.extend(node.communities)
        report.community_choices.extend(node.community_choices)
        topics.update(c.domain.lower() for c in node.communities if c.domain)
        catalogues[source.node_id] = _catalogue(source)
    for source in sources:
        for item in catalogues[source.node_id]:
            if not item.local or item.visibility != lpb.VISIBILITY_REGION:
                continue
            topics.update(item.domain_tags)
            if not _selected(item, filters):
                continue
            figures = _item(source, item)
            figures.received_on = tuple(
                node
                for node, held in catalogues.items()
                if node != source.node_id and any(i.item_id == item.item_id for i in held)
            )
            report.items.append(figures)
    report.topic_choices = sorted(topics)
    return report


def _may_show_on(item: Any, node_id: str, communities: set[str] | None) -> bool:
    """An item kept home shows only on its own node; a co-lead sees their communities'."""
    if item.visibility == lpb.VISIBILITY_NODE and item.origin_node != node_id:
        return False
    return communities is None or item.community_id in communities


def _selected(item: Any, filters: Filters) -> bool:
    if filters.community and item.community_id != filters.community:
        return False
    if filters.topic and filters.topic not in item.domain_tags:
        return False
    return filters.in_period(_published(item))


def _published(item: Any) -> str:
    if not item.HasField("published_at"):
        return ""
    return str(item.published_at.ToDatetime().date().isoformat())


def _communities(source: NodeSource, allowed: set[str] | None) -> list[Any]:
    listed = source.pages(
        "registry",
        "ListCommunities",
        rpb.ListCommunitiesRequest(page_size=PAGE),
        "communities",
    )
    return [c for c in listed if allowed is None or c.community_id in allowed]


class _People:
    def __init__(self, members: Iterable[Any], kinds: dict[str, int]) -> None:
        self.profession = {m.member_id: label(rpb.Profession, m.profession) for m in members}
        self.homes = {m.member_id: m.home_organisation_id for m in members}
        self.kinds = kinds

    def kind(self, member_id: str) -> str:
        kind = self.kinds.get(self.homes.get(member_id, ""), rpb.ORGANISATION_KIND_OTHER)
        return label(rpb.OrganisationKind, kind)


def _people(source: NodeSource) -> _People:
    organisations = source.pages(
        "registry",
        "ListOrganisations",
        rpb.ListOrganisationsRequest(page_size=PAGE, include_retired=True),
        "organisations",
    )
    members = source.pages(
        "registry", "ListMembers", rpb.ListMembersRequest(page_size=PAGE), "members"
    )
    return _People(members, {o.organisation_id: o.kind for o in organisations})


def _metrics(label_text: str, m: Any) -> Metrics:
    return Metrics(
        label=label_text,
        held=m.convenings_held,
        cancelled=m.convenings_cancelled,
        upcoming=m.convenings_upcoming,
        unrecorded=m.convenings_unrecorded,
        signed_up=m.signed_up,
        attended=m.attended,
        feedback_count=m.feedback_count,
        feedback_average=round(m.feedback_average, 2),
        planned=m.planned,
        planned_held=m.planned_held,
        planned_cancelled=m.planned_cancelled,
    )


def analytics(
    source: NodeSource, community_id: str, grouping: int, filters: Filters
) -> tuple[list[Metrics], Metrics]:
    groups: list[Any] = []
    request = epb.GetAnalyticsRequest(
        group_by=grouping,  # type: ignore[arg-type]  # an AnalyticsGrouping value
        community_id=community_id,
        from_date=filters.from_date,
        before_date=filters.before_date,
        page_size=PAGE,
    )
    while True:
        reply = source.call("events", "GetAnalytics", request)
        groups.extend(reply.groups)
        if not reply.next_page_token:
            break
        request.page_token = reply.next_page_token
    return (
        [_metrics(g.label.replace("_", "-"), g) for g in groups],
        _metrics("all", reply.totals),
    )


def _community(
    source: NodeSource, community: Any, people: _People, filters: Filters
) -> CommunityFigures:
    memberships = source.pages(
        "registry",
        "ListMemberships",
        rpb.ListMembershipsRequest(
            community_id=community.community_id,
            status=rpb.MEMBERSHIP_STATUS_ACTIVE,
            page_size=PAGE,
        ),
        "memberships",
    )
    members = [m.member_id for m in memberships]
    by_format, totals = analytics(
        source, community.community_id, epb.ANALYTICS_GROUPING_FORMAT, filters
    )
    by_period, _ = analytics(
        source, community.community_id, epb.ANALYTICS_GROUPING_QUARTER, filters
    )
    return CommunityFigures(
        community_id=community.community_id,
        slug=community.slug,
        name=community.name,
        domain=community.domain,
        node_id=source.node_id,
        members=len(members),
        professions=Counter(people.profession.get(m, "other") for m in members),
        organisation_kinds=Counter(people.kind(m) for m in members),
        totals=totals,
        by_format=by_format,
        by_period=by_period,
        plans=_plans(source, community.community_id, filters),
    )


def _plans(source: NodeSource, community_id: str, filters: Filters) -> list[PlanFigures]:
    plans = source.pages(
        "events",
        "ListMeetingPlans",
        epb.ListMeetingPlansRequest(community_id=community_id, page_size=PAGE),
        "plans",
    )
    figures = []
    for listed in plans:
        plan = source.call(
            "events", "GetMeetingPlan", epb.GetMeetingPlanRequest(plan_id=listed.plan_id)
        ).plan
        adherence = source.call(
            "events",
            "GetPlanAdherence",
            epb.GetPlanAdherenceRequest(
                plan_id=plan.plan_id,
                planned_from=filters.from_date,
                planned_before=filters.before_date,
            ),
        )
        if not adherence.planned:
            continue
        starts = [o.start[:10] for o in plan.occurrences if filters.in_period(o.start)]
        figures.append(
            PlanFigures(
                plan_id=plan.plan_id,
                title=plan.title,
                first=min(starts) if starts else "",
                last=max(starts) if starts else "",
                planned=adherence.planned,
                held=adherence.held,
                cancelled=adherence.cancelled,
                to_come=adherence.to_come,
                unrecorded=adherence.unrecorded,
            )
        )
    return figures


def _catalogue(source: NodeSource) -> list[Any]:
    return source.pages(
        "learning", "SearchCatalogue", lpb.SearchCatalogueRequest(page_size=100), "items"
    )


def _item(source: NodeSource, item: Any) -> ItemFigures:
    steps = source.call("learning", "GetSpread", lpb.GetSpreadRequest(item_id=item.item_id)).steps
    return ItemFigures(
        item_id=item.item_id,
        title=item.title,
        origin_node=item.origin_node,
        kind=label(lpb.ItemKind, item.kind),
        visibility=label(lpb.Visibility, item.visibility),
        community_id=item.community_id,
        community=item.community_name,
        tags=tuple(item.domain_tags),
        published=_published(item),
        adoptions=[
            AdoptionFigure(
                node_id=a.node_id,
                organisation=a.organisation_name,
                status=label(lpb.AdoptionStatus, a.status),
                effective_on=a.effective_on,
            )
            for a in item.adoptions
        ],
        received_on=tuple(sorted({s.node_id for s in steps if s.kind == "received" and s.node_id})),
        steps=[
            SpreadStep(
                day=s.at.ToDatetime().date().isoformat(),
                kind=s.kind,
                node_id=s.node_id,
                organisation=s.organisation_name,
                status=label(lpb.AdoptionStatus, s.adoption_status) if s.adoption_status else "",
            )
            for s in steps
        ],
    )
