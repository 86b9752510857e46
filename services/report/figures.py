"""What the report shows: plain figures, read from the services' APIs (`gather.py`) and
drawn by `charts.py`/`page.py`. Nothing personal: counts, community and organisation
names, never a member's name or address."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

IN_PROGRESS = ("exploring", "piloting")
STAGES = ("exploring", "piloting", "adopted", "abandoned")
MAX_TOPIC = 80
_TOPIC = re.compile(r"^[a-z0-9][a-z0-9 _-]*$")


class InvalidFilter(ValueError):
    """A query parameter the page cannot use: answered with 400 and this message."""


@dataclass(frozen=True)
class Filters:
    """What the viewer narrowed the page to (query parameters `community`, `from`, `before`,
    `topic`): the period applies to convenings, plans and items' publication dates."""

    community: str = ""
    from_date: str = ""
    before_date: str = ""
    topic: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        unknown = sorted(set(params) - {"community", "from", "before", "topic"})
        if unknown:
            raise InvalidFilter(f"unknown query parameters: {', '.join(unknown)[:200]}")
        community = params.get("community", "").strip()
        if community:
            try:
                community = str(uuid.UUID(community))
            except ValueError:
                raise InvalidFilter("community must be a community id (a UUID)") from None
        dates = {}
        for name in ("from", "before"):
            text = params.get(name, "").strip()
            if text:
                try:
                    dates[name] = date.fromisoformat(text).isoformat()
                except ValueError:
                    raise InvalidFilter(f"{name} must be a date like 2023-01-31") from None
        if "from" in dates and "before" in dates and dates["from"] >= dates["before"]:
            raise InvalidFilter("from must be before before")
        topic = params.get("topic", "").strip().lower()
        if topic and (len(topic) > MAX_TOPIC or not _TOPIC.match(topic)):
            raise InvalidFilter(
                f"topic must be at most {MAX_TOPIC} lower-case letters, digits, spaces, - or _"
            )
        return cls(community, dates.get("from", ""), dates.get("before", ""), topic)

    def query(self) -> dict[str, str]:
        pairs = {
            "community": self.community,
            "from": self.from_date,
            "before": self.before_date,
            "topic": self.topic,
        }
        return {k: v for k, v in pairs.items() if v}

    def in_period(self, day: str) -> bool:
        """Whether an ISO date (or timestamp) falls in the period."""
        day = day[:10]
        if not day:
            return not (self.from_date or self.before_date)
        return (not self.from_date or day >= self.from_date) and (
            not self.before_date or day < self.before_date
        )


@dataclass(frozen=True)
class Metrics:
    """A group of convenings as the events service's analytics count them."""

    label: str
    held: int = 0
    cancelled: int = 0
    upcoming: int = 0
    unrecorded: int = 0
    signed_up: int = 0
    attended: int = 0
    feedback_count: int = 0
    feedback_average: float = 0.0
    planned: int = 0
    planned_held: int = 0
    planned_cancelled: int = 0

    @property
    def rate(self) -> float:
        return self.attended / self.signed_up if self.signed_up else 0.0


@dataclass(frozen=True)
class PlanFigures:
    plan_id: str
    title: str
    first: str
    last: str
    planned: int
    held: int
    cancelled: int
    to_come: int
    unrecorded: int


@dataclass
class CommunityFigures:
    community_id: str
    slug: str
    name: str
    domain: str
    node_id: str
    members: int = 0
    professions: Counter[str] = field(default_factory=Counter)
    organisation_kinds: Counter[str] = field(default_factory=Counter)
    totals: Metrics = field(default_factory=lambda: Metrics("all"))
    by_format: list[Metrics] = field(default_factory=list)
    by_period: list[Metrics] = field(default_factory=list)
    plans: list[PlanFigures] = field(default_factory=list)


@dataclass(frozen=True)
class AdoptionFigure:
    node_id: str
    organisation: str
    status: str
    effective_on: str


@dataclass(frozen=True)
class SpreadStep:
    day: str
    kind: str
    node_id: str
    organisation: str = ""
    status: str = ""


@dataclass
class ItemFigures:
    item_id: str
    title: str
    origin_node: str
    kind: str
    visibility: str
    community_id: str
    community: str
    tags: tuple[str, ...]
    published: str
    adoptions: list[AdoptionFigure] = field(default_factory=list)
    received_on: tuple[str, ...] = ()
    steps: list[SpreadStep] = field(default_factory=list)

    def stage_counts(self) -> dict[str, int]:
        counts = Counter(a.status for a in self.adoptions)
        return {stage: counts.get(stage, 0) for stage in STAGES}

    @property
    def adopted(self) -> int:
        return self.stage_counts()["adopted"]

    @property
    def in_progress(self) -> int:
        counts = self.stage_counts()
        return sum(counts[s] for s in IN_PROGRESS)

    @property
    def adopting_nodes(self) -> tuple[str, ...]:
        return tuple(sorted({a.node_id for a in self.adoptions}))

    def summary(self) -> str:
        """ "4 of 7 organisations adopted GDm-Health, 3 in progress"."""
        total = len(self.adoptions)
        if not total:
            return f"No organisation has reported on {self.title} yet."
        counts = self.stage_counts()
        text = (
            f"{self.adopted} of {total} organisations adopted {self.title}, "
            f"{self.in_progress} in progress"
        )
        if counts["abandoned"]:
            text += f", {counts['abandoned']} abandoned"
        nodes = len(self.adopting_nodes)
        return f"{text} (on {nodes} node{'s' if nodes != 1 else ''})."


@dataclass
class Report:
    """One page: a node's (its own communities and catalogue) or the region's (every node's
    communities; only items every node of the region may receive)."""

    scope: str  # "node" or "region"
    name: str
    region: str
    viewer: str
    filters: Filters
    generated_at: str
    nodes: list[tuple[str, str]] = field(default_factory=list)
    communities: list[CommunityFigures] = field(default_factory=list)
    items: list[ItemFigures] = field(default_factory=list)
    # What the filters offer: every community and topic in the viewer's scope.
    community_choices: list[tuple[str, str]] = field(default_factory=list)
    topic_choices: list[str] = field(default_factory=list)

    @property
    def professions(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for community in self.communities:
            total.update(community.professions)
        return total

    @property
    def organisation_kinds(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for community in self.communities:
            total.update(community.organisation_kinds)
        return total
