"""The report's charts: Vega-Lite specifications built with altair, rendered on the
server to SVG by vl-convert (no JavaScript in the page, nothing fetched by the browser).

Each `Chart` carries its text alternative (`description`, also the SVG's aria-label)
and the numbers behind it as a table, which the page prints under the picture.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import altair as alt
import vl_convert

from services.report.figures import STAGES, CommunityFigures, ItemFigures

STAGE_COLOURS = ("#9ecae1", "#4292c6", "#238b45", "#bdbdbd")
STATUS_ORDER = ("held", "cancelled", "to come", "without a record")
STATUS_COLOURS = ("#238b45", "#d94801", "#6baed6", "#bdbdbd")
WIDTH = 420
_convert_lock = threading.Lock()


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    svg: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _svg(chart: alt.Chart | alt.LayerChart, description: str) -> str:
    styled = chart.configure_axis(labelFontSize=12, titleFontSize=12).configure_legend(
        labelFontSize=12, titleFontSize=12
    )
    spec: dict[str, Any] = styled.to_dict()
    spec["description"] = description
    svg = _convert(json.dumps(spec, sort_keys=True))
    # The picture is described by its figure caption and table: name it for screen readers.
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(description)}" ', 1)


@functools.lru_cache(maxsize=256)
def _convert(spec: str) -> str:
    """The SVG of a Vega-Lite spec (the same figures draw the same picture: kept)."""
    with _convert_lock:  # one conversion at a time: the converter's JS engine is shared
        return str(vl_convert.vegalite_to_svg(json.loads(spec)))


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _bars(values: list[dict[str, Any]], field: str, title: str) -> alt.Chart:
    data = alt.Data(values=values)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("n:Q", title="members"),
            y=alt.Y(f"{field}:N", sort="-x", title=None),
            tooltip=[f"{field}:N", "n:Q"],
        )
        .properties(width=WIDTH)
    )


def counts_chart(key: str, title: str, counter: Counter[str], what: str) -> Chart:
    rows = counter.most_common()
    values = [{what: name, "n": n} for name, n in rows]
    total = sum(counter.values())
    described = ", ".join(f"{name} {n}" for name, n in rows) or "none"
    description = f"{title}: {total} in all; {described}."
    return Chart(
        key=key,
        title=title,
        description=description,
        svg=_svg(_bars(values, what, title), description),
        columns=(what, "members"),
        rows=tuple((name, str(n)) for name, n in rows),
    )


def attendance_chart(community: CommunityFigures) -> Chart:
    """Signed up vs attended, by format."""
    values = []
    for m in community.by_format:
        values.append({"format": m.label, "what": "signed up", "n": m.signed_up})
        values.append({"format": m.label, "what": "attended", "n": m.attended})
    title = f"{community.name}: signed up and attended, by format"
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            y=alt.Y("what:N", title=None, sort=["signed up", "attended"]),
            x=alt.X("n:Q", title="people"),
            color=alt.Color(
                "what:N",
                title=None,
                scale=alt.Scale(domain=["signed up", "attended"], range=["#9ecae1", "#08519c"]),
            ),
            row=alt.Row("format:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
        )
        .properties(width=WIDTH - 80)
    )
    parts = [
        f"{m.label}: {m.held} held, {m.signed_up} signed up, {m.attended} attended ({m.rate:.0%})"
        for m in community.by_format
    ]
    t = community.totals
    description = (
        f"{title}. " + "; ".join(parts) + f". In all {t.signed_up} signed up, "
        f"{t.attended} attended ({t.rate:.0%})."
    )
    rows = [
        (
            m.label,
            str(m.held),
            str(m.signed_up),
            str(m.attended),
            f"{m.rate:.0%}",
            _rating(m.feedback_count, m.feedback_average),
        )
        for m in [*community.by_format, t]
    ]
    return Chart(
        key=f"attendance-{community.community_id}",
        title=title,
        description=description,
        svg=_svg(chart, description),
        columns=("format", "held", "signed up", "attended", "conversion", "feedback"),
        rows=tuple(rows),
    )


def _rating(count: int, average: float) -> str:
    return f"{average:.1f} of 5 ({count})" if count else "none"


def convenings_chart(community: CommunityFigures) -> Chart:
    """Convenings per quarter: held, cancelled, to come, without a record."""
    values = []
    for m in community.by_period:
        for status, n in zip(
            STATUS_ORDER, (m.held, m.cancelled, m.upcoming, m.unrecorded), strict=True
        ):
            if n:
                values.append({"quarter": m.label, "status": status, "n": n})
    title = f"{community.name}: convenings per quarter"
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            x=alt.X("quarter:O", title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("n:Q", title="convenings", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "status:N",
                title=None,
                scale=alt.Scale(domain=list(STATUS_ORDER), range=list(STATUS_COLOURS)),
            ),
            order=alt.Order("status:N"),
        )
        .properties(width=WIDTH)
    )
    rows = tuple(
        (
            m.label,
            str(m.held),
            str(m.cancelled),
            str(m.upcoming),
            str(m.unrecorded),
            str(m.signed_up),
            str(m.attended),
            f"{m.rate:.0%}",
            _rating(m.feedback_count, m.feedback_average),
        )
        for m in community.by_period
    )
    described = "; ".join(
        f"{m.label}: {m.held} held, {m.signed_up} signed up, {m.attended} attended"
        for m in community.by_period
    )
    description = f"{title}. {described or 'none'}."
    return Chart(
        key=f"convenings-{community.community_id}",
        title=title,
        description=description,
        svg=_svg(chart, description),
        columns=(
            "quarter",
            "held",
            "cancelled",
            "to come",
            "without a record",
            "signed up",
            "attended",
            "conversion",
            "feedback",
        ),
        rows=rows,
    )


def plans_chart(community: CommunityFigures) -> Chart:
    """Each meeting plan's occurrences: held, cancelled, to come, without a record."""
    values = []
    for plan in community.plans:
        name = f"{plan.title} ({plan.first[:7]} to {plan.last[:7]})"
        counts = (plan.held, plan.cancelled, plan.to_come, plan.unrecorded)
        for status, n in zip(STATUS_ORDER, counts, strict=True):
            if n:
                values.append({"plan": name, "status": status, "n": n})
    title = f"{community.name}: meeting plans, planned vs held"
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            y=alt.Y("plan:N", title=None),
            x=alt.X("n:Q", title="planned meetings", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "status:N",
                title=None,
                scale=alt.Scale(domain=list(STATUS_ORDER), range=list(STATUS_COLOURS)),
            ),
            order=alt.Order("status:N"),
        )
        .properties(width=WIDTH - 120)
    )
    description = f"{title}. " + "; ".join(
        f"{p.title}, {p.first} to {p.last}: {p.planned} planned, {p.held} held, "
        f"{p.cancelled} cancelled, {p.to_come} to come, {p.unrecorded} without a record"
        for p in community.plans
    )
    return Chart(
        key=f"plans-{community.community_id}",
        title=title,
        description=description + ".",
        svg=_svg(chart, description),
        columns=(
            "plan",
            "first",
            "last",
            "planned",
            "held",
            "cancelled",
            "to come",
            "without a record",
        ),
        rows=tuple(
            (
                p.title,
                p.first,
                p.last,
                str(p.planned),
                str(p.held),
                str(p.cancelled),
                str(p.to_come),
                str(p.unrecorded),
            )
            for p in community.plans
        ),
    )


def adoption_chart(items: list[ItemFigures]) -> Chart:
    """Organisations per adoption stage, per item: '4 of 7 adopted, 3 in progress'."""
    values = []
    for item in items:
        for stage, n in item.stage_counts().items():
            if n:
                values.append({"item": item.title, "stage": stage, "n": n})
    title = "Learning: organisations by adoption stage"
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            y=alt.Y("item:N", title=None, axis=alt.Axis(labelLimit=360)),
            x=alt.X("n:Q", title="organisations", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "stage:N",
                title="stage",
                scale=alt.Scale(domain=list(STAGES), range=list(STAGE_COLOURS)),
            ),
            order=alt.Order("stage_order:Q"),
        )
        .transform_calculate(
            stage_order="indexof(['exploring','piloting','adopted','abandoned'], datum.stage)"
        )
        .properties(width=WIDTH, height=alt.Step(34))
    )
    adopted = [i for i in items if i.adoptions]
    description = f"{title}. " + (
        " ".join(i.summary() for i in adopted) if adopted else "No adoptions reported."
    )
    rows = tuple(
        (
            item.title,
            item.origin_node,
            item.visibility,
            ", ".join(item.received_on) or "stays on its node",
            *(str(n) for n in item.stage_counts().values()),
        )
        for item in items
    )
    return Chart(
        key="adoption",
        title=title,
        description=description,
        svg=_svg(chart, description),
        columns=("item", "from", "visibility", "received by", *STAGES),
        rows=rows,
    )


def spread_chart(items: list[ItemFigures]) -> Chart:
    """How items spread over time: published, received by nodes, adopted by organisations."""
    values = [
        {
            "day": step.day,
            "item": item.title if len(item.title) <= 60 else item.title[:59] + "…",
            "node": step.node_id,
            "step": step.status if step.kind == "adoption" and step.status else step.kind,
            "organisation": step.organisation,
        }
        for item in items
        for step in item.steps
        if step.day
    ]
    title = "Learning: how each item spread"
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_point(filled=True, size=80, opacity=0.8)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("item:N", title=None, axis=alt.Axis(labelLimit=360)),
            color=alt.Color("step:N", title="step"),
            shape=alt.Shape("step:N", title="step"),
            tooltip=["day:T", "item:N", "node:N", "step:N", "organisation:N"],
        )
        .properties(width=WIDTH + 100)
    )
    description = f"{title}. " + " ".join(
        f"{item.title}: published on {item.origin_node}"
        + (
            f", received by {len(item.received_on)} nodes ({', '.join(item.received_on)})"
            if item.received_on
            else ", kept on its node"
        )
        + f". {item.summary()}"
        for item in items
    )
    rows = tuple(
        (item.title, s.day, s.node_id, s.kind, s.organisation, s.status)
        for item in items
        for s in item.steps
    )
    return Chart(
        key="spread",
        title=title,
        description=description,
        svg=_svg(chart, description),
        columns=("item", "day", "node", "step", "organisation", "stage"),
        rows=rows,
    )


REACH_ORDER = ("origin", "received", "exploring", "piloting", "adopted", "abandoned", "not yet")
REACH_COLOURS = ("#08306b", "#c6dbef", "#9ecae1", "#4292c6", "#238b45", "#bdbdbd", "#ffffff")
_RANK = {"abandoned": 0, "exploring": 1, "piloting": 2, "adopted": 3}


def reach(item: ItemFigures, node: str) -> tuple[str, int]:
    """Where an item stands on a node: its furthest adoption stage there (and how many
    organisations reported), else received or not (yet), or its origin."""
    there = [a.status for a in item.adoptions if a.node_id == node]
    if there:
        return max(there, key=lambda s: _RANK.get(s, -1)), len(there)
    if node == item.origin_node:
        return "origin", 0
    return ("received" if node in item.received_on else "not yet"), 0


def reach_chart(items: list[ItemFigures], nodes: list[str]) -> Chart:
    """Each item across the region's nodes: where it came from, which nodes hold it, and
    how far the organisations on each went with it."""
    values = []
    for item in items:
        name = item.title if len(item.title) <= 60 else item.title[:59] + "…"
        for node in nodes:
            stage, organisations = reach(item, node)
            values.append(
                {
                    "item": name,
                    "node": node,
                    "stage": stage,
                    "organisations": str(organisations) if organisations else "",
                }
            )
    title = "Learning: each item across the nodes"
    base = alt.Chart(alt.Data(values=values)).encode(
        x=alt.X("node:N", title=None, sort=nodes, axis=alt.Axis(labelAngle=-30, orient="top")),
        y=alt.Y("item:N", title=None, axis=alt.Axis(labelLimit=360)),
    )
    cells = base.mark_rect(stroke="#888", strokeWidth=0.5).encode(
        color=alt.Color(
            "stage:N",
            title="furthest stage",
            scale=alt.Scale(domain=list(REACH_ORDER), range=list(REACH_COLOURS)),
        ),
        tooltip=["item:N", "node:N", "stage:N", "organisations:N"],
    )
    labels = base.mark_text(fontSize=12, fontWeight="bold").encode(
        text="organisations:N",
        color=alt.value("white"),
    )
    chart = (cells + labels).properties(width=72 * len(nodes), height=alt.Step(30))
    description = (
        f"{title} (a cell's colour: the furthest stage an organisation on that node "
        "reported, or whether the node holds the item; its number: how many organisations "
        "there reported). "
    ) + " ".join(
        f"{item.title}: from {item.origin_node}; "
        + "; ".join(f"{node} {reach(item, node)[0]}" for node in nodes if node != item.origin_node)
        + "."
        for item in items
    )
    rows = tuple((item.title, *(_reach_cell(item, node) for node in nodes)) for item in items)
    return Chart(
        key="reach",
        title=title,
        description=description,
        svg=_svg(chart, description),
        columns=("item", *nodes),
        rows=rows,
    )


def _reach_cell(item: ItemFigures, node: str) -> str:
    stage, organisations = reach(item, node)
    return f"{stage} ({organisations})" if organisations else stage
