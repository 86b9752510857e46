"""The demo's report: what a commissioner would read, asked of the nodes' APIs.

`gather` reads every figure from the running nodes (registry, events,
learning and notify services, as each node's operator); `render` only formats them.
Nothing here is copied from the scenario: the test compares the two.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from copnet.events.v1 import events_pb2 as epb
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.notify.v1 import notify_pb2 as npb
from copnet.registry.v1 import registry_pb2 as rpb
from services.common.protoconv import ProtoEnum, enum_value
from services.demo.client import NodeClient
from services.demo.loader.base import Loaded
from services.demo.scenario.model import FuturePlan, HistoricPlan, Scenario

IN_PROGRESS = ("exploring", "piloting")


def _label(enum: ProtoEnum, value: int) -> str:
    """PROFESSION_ALLIED_HEALTH_PROFESSIONAL -> 'allied health professional'."""
    return enum_value(enum, value).replace("_", " ")


@dataclass(frozen=True)
class MailFigures:
    """One node's e-mails as its notify service tells them: sent per kind, and waiting."""

    node_id: str
    sent: Counter[str]
    waiting: int
    outbox: str


@dataclass(frozen=True)
class CommunityFigures:
    key: str
    name: str
    node_id: str
    members: int
    held: int
    cancelled: int
    upcoming: int
    unrecorded: int


@dataclass(frozen=True)
class PlanFigures:
    community: str
    title: str
    first: str
    last: str
    planned: int
    held: int
    cancelled: int
    to_come: int
    unrecorded: int


@dataclass(frozen=True)
class Conversion:
    label: str
    held: int
    signed_up: int
    attended: int

    @property
    def rate(self) -> float:
        return self.attended / self.signed_up if self.signed_up else 0.0


@dataclass(frozen=True)
class ItemFigures:
    key: str
    title: str
    origin_node: str
    kind: str
    visibility: str
    received_on: tuple[str, ...]
    adoptions: dict[str, int]
    adopting_nodes: tuple[str, ...]

    @property
    def adopted(self) -> int:
        return self.adoptions.get("adopted", 0)

    @property
    def in_progress(self) -> int:
        return sum(self.adoptions.get(status, 0) for status in IN_PROGRESS)


@dataclass
class DemoReport:
    region: str
    nodes: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    communities: list[CommunityFigures] = field(default_factory=list)
    professions: Counter[str] = field(default_factory=Counter)
    organisation_kinds: Counter[str] = field(default_factory=Counter)
    plans: dict[str, PlanFigures] = field(default_factory=dict)
    cancer_by_format: list[Conversion] = field(default_factory=list)
    cancer_total: Conversion | None = None
    items: dict[str, ItemFigures] = field(default_factory=dict)
    model_item: str = ""
    token_help: list[str] = field(default_factory=list)
    mail: list[MailFigures] = field(default_factory=list)
    keeps: list[str] = field(default_factory=list)
    # The data protection step's lines (services.demo.erasure), when it ran.
    erasure: list[str] = field(default_factory=list)


def gather(
    scenario: Scenario, clients: dict[str, NodeClient], loaded: Loaded, region: str
) -> DemoReport:
    report = DemoReport(region=region, model_item=scenario.model_item)
    for node in scenario.nodes:
        client = clients[node.node_id]
        report.nodes.append((node.node_id, node.name, dict(client.access.addresses)))
        _people(client, report)
        if client.has("notify"):
            report.mail.append(_mail(client))
    for community in scenario.communities:
        report.communities.append(_community(clients[community.node_id], community, loaded))
    report.keeps = _keeps(clients[scenario.community(scenario.cancer_community).node_id], loaded)
    plans: list[HistoricPlan | FuturePlan] = [*scenario.historic_plans, *scenario.future_plans]
    for plan in plans:
        community = scenario.community(plan.community)
        report.plans[plan.key] = _plan(
            clients[community.node_id], community.name, loaded.plans[plan.key]
        )
    cancer = scenario.community(scenario.cancer_community)
    report.cancer_by_format, report.cancer_total = _conversion(
        clients[cancer.node_id], loaded.communities[cancer.key], scenario
    )
    for item in scenario.items:
        report.items[item.key] = _item(clients, item.node_id, loaded.items[item.key], scenario)
    return report


def _pages(call: Any, request: Any, field_name: str) -> list[Any]:
    results: list[Any] = []
    while True:
        reply = call(request)
        results.extend(getattr(reply, field_name))
        if not reply.next_page_token:
            return results
        request.page_token = reply.next_page_token


def _mail(client: NodeClient) -> MailFigures:
    def listed(status: npb.DeliveryStatus) -> list[Any]:
        return _pages(
            lambda request: client.call("notify", "ListNotifications", request),
            npb.ListNotificationsRequest(
                page_size=100, status=status, min_position=client.positions.get("notify", 0)
            ),
            "notifications",
        )

    sent = Counter(_label(npb.NotificationKind, n.kind) for n in listed(npb.DELIVERY_STATUS_SENT))
    # With no SMTP server configured, a node's notify service writes its mail as files here.
    outbox = client.access.data_dir / "notify" / "outbox"
    return MailFigures(
        node_id=client.node_id,
        sent=sent,
        waiting=len(listed(npb.DELIVERY_STATUS_PENDING)),
        outbox=str(outbox) if outbox.exists() else "",
    )


def _people(client: NodeClient, report: DemoReport) -> None:
    position = client.positions.get("registry", 0)
    organisations = _pages(
        lambda r: client.call("registry", "ListOrganisations", r),
        rpb.ListOrganisationsRequest(page_size=500, min_position=position),
        "organisations",
    )
    kinds = {o.organisation_id: o.kind for o in organisations}
    members = _pages(
        lambda r: client.call("registry", "ListMembers", r),
        rpb.ListMembersRequest(page_size=500, min_position=position),
        "members",
    )
    for member in members:
        report.professions[_label(rpb.Profession, member.profession)] += 1
        kind = kinds.get(member.home_organisation_id, rpb.ORGANISATION_KIND_OTHER)
        report.organisation_kinds[_label(rpb.OrganisationKind, kind)] += 1


def _community(client: NodeClient, community: Any, loaded: Loaded) -> CommunityFigures:
    community_id = loaded.communities[community.key]
    memberships = _pages(
        lambda r: client.call("registry", "ListMemberships", r),
        rpb.ListMembershipsRequest(
            community_id=community_id,
            status=rpb.MEMBERSHIP_STATUS_ACTIVE,
            page_size=500,
            min_position=client.positions.get("registry", 0),
        ),
        "memberships",
    )
    totals = client.call(
        "events",
        "GetAnalytics",
        epb.GetAnalyticsRequest(
            group_by=epb.ANALYTICS_GROUPING_COMMUNITY,
            community_id=community_id,
            min_position=client.positions.get("events", 0),
        ),
    ).totals
    return CommunityFigures(
        key=community.key,
        name=community.name,
        node_id=community.node_id,
        members=len(memberships),
        held=totals.convenings_held,
        cancelled=totals.convenings_cancelled,
        upcoming=totals.convenings_upcoming,
        unrecorded=totals.convenings_unrecorded,
    )


def _plan(client: NodeClient, community_name: str, plan_id: str) -> PlanFigures:
    position = client.positions.get("events", 0)
    plan = client.call("events", "GetMeetingPlan", epb.GetMeetingPlanRequest(plan_id=plan_id)).plan
    adherence = client.call(
        "events",
        "GetPlanAdherence",
        epb.GetPlanAdherenceRequest(plan_id=plan_id, min_position=position),
    )
    starts = [o.start for o in plan.occurrences]
    return PlanFigures(
        community=community_name,
        title=plan.title,
        first=min(starts)[:10] if starts else "",
        last=max(starts)[:10] if starts else "",
        planned=adherence.planned,
        held=adherence.held,
        cancelled=adherence.cancelled,
        to_come=adherence.to_come,
        unrecorded=adherence.unrecorded,
    )


def _conversion(
    client: NodeClient, community_id: str, scenario: Scenario
) -> tuple[list[Conversion], Conversion]:
    years = sorted({m.start[:4] for m in scenario.cancer_events})
    reply = client.call(
        "events",
        "GetAnalytics",
        epb.GetAnalyticsRequest(
            group_by=epb.ANALYTICS_GROUPING_FORMAT,
            community_id=community_id,
            from_date=f"{years[0]}-01-01",
            before_date=f"{int(years[-1]) + 1}-01-01",
            min_position=client.positions.get("events", 0),
        ),
    )

    def conversion(label: str, m: Any) -> Conversion:
        return Conversion(label, m.convenings_held, m.signed_up, m.attended)

    by_format = [conversion(g.label.replace("_", "-"), g) for g in reply.groups]
    return by_format, conversion(f"all, {'-'.join(dict.fromkeys(years))}", reply.totals)


def _item(
    clients: dict[str, NodeClient], origin: str, item_id: str, scenario: Scenario
) -> ItemFigures:
    client = clients[origin]
    item = client.call(
        "learning",
        "GetItem",
        lpb.GetItemRequest(item_id=item_id, min_position=client.positions.get("learning", 0)),
    ).item
    received_on = tuple(
        node.node_id
        for node in scenario.nodes
        if node.node_id != origin and _has_item(clients[node.node_id], origin, item_id)
    )
    adoptions = Counter(_label(lpb.AdoptionStatus, a.status) for a in item.adoptions)
    key = next(i.key for i in scenario.items if i.node_id == origin and i.title == item.title)
    return ItemFigures(
        key=key,
        title=item.title,
        origin_node=origin,
        kind=_label(lpb.ItemKind, item.kind),
        visibility=_label(lpb.Visibility, item.visibility),
        received_on=received_on,
        adoptions=dict(adoptions),
        adopting_nodes=tuple(sorted({a.node_id for a in item.adoptions})),
    )


def _has_item(client: NodeClient, origin: str, item_id: str) -> bool:
    items = _pages(
        lambda r: client.call("learning", "SearchCatalogue", r),
        lpb.SearchCatalogueRequest(origin_node=origin, page_size=100),
        "items",
    )
    return any(i.item_id == item_id for i in items)


def _keeps(client: NodeClient, loaded: Loaded) -> list[str]:
    """One member's CPD record, certificate and calendar feed, as the node gives them."""
    keeps = loaded.keeps
    if not keeps.member_id:
        return []
    record = client.call(
        "events",
        "GetCpdRecord",
        epb.GetCpdRecordRequest(
            member_id=keeps.member_id, min_position=client.positions.get("events", 0)
        ),
    )
    attended = "; ".join(f"{a.date} {a.title} ({a.hours:g} h)" for a in record.activities)
    n = len(record.activities)
    return [
        f"  {record.member_name}'s CPD record: {n} activit{'y' if n == 1 else 'ies'}, "
        f"{record.total_hours:g} h: {attended}",
        f"  certificate: {keeps.certificate}",
        f"  verify it at {keeps.verification_url}",
        f"  their calendar feed (subscribe in Outlook or Google Calendar): {keeps.feed_url}",
    ]


# Rendering


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counter.most_common())


def render(report: DemoReport) -> str:
    lines = [f"copnet demo: {len(report.nodes)} organisations' nodes in region {report.region}"]
    lines.append("")
    lines.append("Communities of practice")
    for c in report.communities:
        lines.append(
            f"  {c.name} (node {c.node_id}): {c.members} members; convenings held {c.held}, "
            f"cancelled {c.cancelled}, to come {c.upcoming}, without a record {c.unrecorded}"
        )
    total = sum(report.professions.values())
    lines.append(f"Members ({total}) by profession: {_counts(report.professions)}")
    lines.append(f"  by organisation type: {_counts(report.organisation_kinds)}")
    lines.append("")
    lines.append("Meeting plans: planned vs held")
    for plan in report.plans.values():
        lines.append(
            f"  {plan.community}, {plan.first} to {plan.last}: {plan.planned} planned, "
            f"{plan.held} held, {plan.cancelled} cancelled, {plan.to_come} to come, "
            f"{plan.unrecorded} without a record"
        )
    lines.append("")
    lines.append("Sign-up to attendance, cancer CoP events")
    for conversion in [*report.cancer_by_format, report.cancer_total]:
        if conversion is None:
            continue
        lines.append(
            f"  {conversion.label:<16} {conversion.held} events, {conversion.signed_up} signed "
            f"up, {conversion.attended} attended ({conversion.rate:.0%})"
        )
    lines.append("")
    lines.append("Learning across nodes")
    for item in report.items.values():
        reach = f"received by {len(item.received_on)} nodes" if item.received_on else "stays home"
        adoption = ""
        if item.adoptions:
            nodes = len(item.adopting_nodes)
            adoption = (
                f"; {item.adopted} organisations adopted it, {item.in_progress} in progress "
                f"(on {nodes} node{'s' if nodes != 1 else ''})"
            )
        lines.append(
            f"  {item.title} [{item.kind}, {item.visibility}, from {item.origin_node}]: "
            f"{reach}{adoption}"
        )
    if report.mail:
        lines.append("")
        lines.append("E-mails sent (per node; waiting: reminders and digests not due yet)")
        for mail in report.mail:
            kinds = f" ({_counts(mail.sent)})" if mail.sent else ""
            where = f"; as files in {mail.outbox}" if mail.outbox else ""
            lines.append(
                f"  {mail.node_id}: {sum(mail.sent.values())} sent{kinds}, "
                f"{mail.waiting} waiting{where}"
            )
    if report.keeps:
        lines.append("")
        lines.append("What a member keeps (calendar feed, CPD evidence)")
        lines.extend(report.keeps)
    lines.extend(report.erasure)
    lines.append("")
    lines.append("Call any node's gRPC API (reflection is on; the .proto files are in protos/):")
    for node_id, name, addresses in report.nodes:
        services = ", ".join(f"{s} {a}" for s, a in addresses.items())
        lines.append(f"  {node_id} ({name}): {services}")
    lines.extend(report.token_help)
    return "\n".join(lines)
