"""The report as one self-contained HTML page: inline CSS (with print rules), inline SVG
charts, every number also in a table. The same page is served (with the filter form and
a sign-out button) and written to a file by `copnet report --html`."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from services.report.charts import (
    Chart,
    adoption_chart,
    attendance_chart,
    convenings_chart,
    counts_chart,
    plans_chart,
    reach_chart,
    spread_chart,
)
from services.report.figures import CommunityFigures, Metrics, Report

_environment = Environment(
    loader=PackageLoader("services.report", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
    undefined=StrictUndefined,
    trim_blocks=False,
)


def _figure(chart: Chart) -> Markup:
    return Markup(_environment.get_template("figure.html.j2").render(chart=chart))


def _rating(m: Metrics) -> str:
    return f"{m.feedback_average:.1f} of 5 ({m.feedback_count})" if m.feedback_count else "none"


def _community_charts(community: CommunityFigures) -> list[Chart]:
    charts = []
    if community.by_period:
        charts.append(convenings_chart(community))
    if community.totals.signed_up:
        charts.append(attendance_chart(community))
    if community.plans:
        charts.append(plans_chart(community))
    return charts


def _filter_text(report: Report) -> str:
    f = report.filters
    parts = []
    if f.community:
        names = dict(report.community_choices)
        parts.append(f"community {names.get(f.community, f.community)}")
    if f.from_date or f.before_date:
        parts.append(f"from {f.from_date or 'the start'} to before {f.before_date or 'today'}")
    if f.topic:
        parts.append(f"topic {f.topic}")
    return "; ".join(parts)


def heading(report: Report) -> str:
    if report.scope == "region":
        return f"Communities of practice in region {report.region}"
    return f"Communities of practice on {report.name}"


def render_page(report: Report, served: bool = False, base: str = "/") -> str:
    """The page. `served`: with the filter form and sign-out (not in a file)."""
    scope_line = (
        f"{len(report.nodes)} nodes: {', '.join(n for n, _ in report.nodes)}"
        if report.scope == "region"
        else f"node {report.nodes[0][0]}" + (f", region {report.region}" if report.region else "")
    )
    people = []
    if report.communities:
        people = [
            counts_chart("professions", "Members by profession", report.professions, "profession"),
            counts_chart(
                "organisation-kinds",
                "Members by organisation type",
                report.organisation_kinds,
                "organisation type",
            ),
        ]
    spreading = [i for i in report.items if i.steps]
    return _environment.get_template("report.html.j2").render(
        report=report,
        heading=heading(report),
        scope_line=scope_line,
        filter_text=_filter_text(report),
        served=served,
        base=base,
        rating=_rating,
        figure=_figure,
        people_charts=people,
        community_charts=[(c, _community_charts(c)) for c in report.communities],
        adoption=adoption_chart(report.items) if report.items else None,
        spread=spread_chart(spreading) if spreading else None,
        reach=reach_chart(report.items, [n for n, _ in report.nodes])
        if report.items and report.scope == "region"
        else None,
    )
