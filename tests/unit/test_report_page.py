"""The report page from figures (no node): filters refuse what they cannot use, every chart
comes with its text alternative and its numbers, nothing is fetched, the print rules are
there, and what the figures say is what the page says."""

from __future__ import annotations

from collections import Counter

import pytest

from services.report.charts import reach
from services.report.figures import (
    AdoptionFigure,
    CommunityFigures,
    Filters,
    InvalidFilter,
    ItemFigures,
    Metrics,
    PlanFigures,
    Report,
    SpreadStep,
)
from services.report.page import render_page
from tests.support.report_page import row, table

CANCER = "0b5c3c43-5f7c-4a39-9d2c-0a1f3b8a2e11"


def sample() -> Report:
    cancer = CommunityFigures(
        community_id=CANCER,
        slug="cancer-cop",
        name="Cancer <CoP> & friends",
        domain="cancer-care",
        node_id="southbank",
        members=3,
        professions=Counter({"nurse": 2, "gp": 1}),
        organisation_kinds=Counter({"gp practice": 3}),
        totals=Metrics(
            "all", held=7, signed_up=647, attended=392, feedback_count=2, feedback_average=4.5
        ),
        by_format=[
            Metrics("face-to-face", held=3, signed_up=145, attended=88),
            Metrics("webinar", held=4, signed_up=502, attended=304),
        ],
        by_period=[
            Metrics("2023-Q1", held=2, signed_up=100, attended=60),
            Metrics("2023-Q2", held=5, cancelled=1, signed_up=547, attended=332),
        ],
        plans=[PlanFigures("p1", "Monthly meeting", "2018-06-18", "2020-09-29", 12, 6, 0, 0, 6)],
    )
    statuses = ["adopted"] * 4 + ["exploring", "piloting", "piloting"]
    gdm = ItemFigures(
        item_id="i1",
        title="GDm-Health",
        origin_node="riverside",
        kind="replicable model",
        visibility="region",
        community_id="c2",
        community="Diabetes",
        tags=("diabetes",),
        published="2026-01-05",
        adoptions=[
            AdoptionFigure(["riverside", "northbank", "kingsmead"][n % 3], f"Trust {n}", s, "")
            for n, s in enumerate(statuses)
        ],
        received_on=("northbank", "kingsmead"),
        steps=[
            SpreadStep("2026-01-05", "published", "riverside"),
            SpreadStep("2026-01-06", "received", "northbank"),
            SpreadStep("2026-02-01", "adoption", "kingsmead", "Trust 2", "adopted"),
        ],
    )
    return Report(
        scope="region",
        name="test-region",
        region="test-region",
        viewer="the operator",
        filters=Filters(),
        generated_at="2026-12-03 07:00 UTC",
        nodes=[("riverside", "R"), ("northbank", "N"), ("kingsmead", "K"), ("southbank", "S")],
        communities=[cancer],
        items=[gdm],
        community_choices=[(CANCER, "Cancer")],
        topic_choices=["cancer-care", "diabetes"],
    )


def test_filters_take_only_what_they_can_use():
    assert Filters.parse({}) == Filters()
    parsed = Filters.parse(
        {
            "community": CANCER.upper(),
            "from": "2023-01-01",
            "before": "2024-01-01",
            "topic": "Cancer-Care",
        }
    )
    assert parsed == Filters(CANCER, "2023-01-01", "2024-01-01", "cancer-care")
    assert parsed.in_period("2023-06-01T10:00") and not parsed.in_period("2024-01-01")
    for bad in (
        {"community": "x"},
        {"from": "yesterday"},
        {"topic": "<b>"},
        {"from": "2024-01-01", "before": "2023-01-01"},
        {"page": "2"},
        {"topic": "a" * 81},
    ):
        with pytest.raises(InvalidFilter):
            Filters.parse(bad)


def test_the_page_shows_the_figures_with_text_and_tables():
    page = render_page(sample())
    attendance = table(page, f"attendance-{CANCER}")
    assert row(attendance, "face-to-face")["signed up"] == "145"
    assert row(attendance, "webinar")["attended"] == "304"
    assert (row(attendance, "all")["signed up"], row(attendance, "all")["attended"]) == (
        "647",
        "392",
    )
    assert row(attendance, "all")["feedback"] == "4.5 of 5 (2)"
    adoption = row(table(page, "adoption"), "GDm-Health")
    assert (adoption["adopted"], adoption["exploring"], adoption["piloting"]) == ("4", "1", "2")
    assert "4 of 7 organisations adopted GDm-Health, 3 in progress (on 3 nodes)" in page
    plan = row(table(page, "plans-"), "Monthly meeting")
    assert (plan["planned"], plan["held"], plan["without a record"]) == ("12", "6", "6")
    reach_rows = row(table(page, "reach"), "GDm-Health")
    assert reach_rows["riverside"] == "adopted (3)" and reach_rows["southbank"] == "not yet"
    # Every chart: an SVG named for screen readers, a caption, and its numbers.
    assert page.count('<figure class="chart"') == page.count('<svg role="img" aria-label=') >= 7
    assert "Cancer &lt;CoP&gt; &amp; friends" in page and "Cancer <CoP>" not in page
    assert "@media print" in page
    assert "<script" not in page and "src=" not in page and "http://" not in page.split("<svg")[0]


def test_where_an_item_stands_on_each_node():
    item = sample().items[0]
    assert reach(item, "riverside") == ("adopted", 3)
    assert reach(item, "southbank") == ("not yet", 0)
    item.adoptions = []
    assert reach(item, "riverside") == ("origin", 0)
    assert reach(item, "northbank") == ("received", 0)
