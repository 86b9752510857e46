"""`LearningNotice`: a learning item notify has announced, and its latest state."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate


@dataclass(frozen=True)
class LearningSummary:
    """What notify needs of a learning item (from its snapshot)."""

    origin_node: str
    item_id: str
    revision: int
    status: str
    kind: str
    title: str
    summary: str
    domain_tags: tuple[str, ...]
    community_id: str
    community_name: str
    organisation_name: str
    links: tuple[tuple[str, str], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["domain_tags"] = list(self.domain_tags)
        data["links"] = [list(link) for link in self.links]
        return data


class LearningNotice(TracedAggregate):
    """A learning item as notify last saw it, and the latest revision it announced."""

    @staticmethod
    def create_id(item_id: str) -> UUID:
        # Item ids are UUIDs made by their origin node: unique across the region.
        return uuid5(NAMESPACE_URL, f"copnet:notify:learning:{item_id}")

    @event("Seen")
    def __init__(self, origin_node: str, item_id: str, summary: dict[str, Any]):
        self.origin_node = origin_node
        self.item_id = item_id
        self.summary = dict(summary)
        self.announced_revision = 0
        self.withdrawn = False

    def see(self, summary: LearningSummary) -> bool:
        """Takes a newer state of the item; False when it is not newer."""
        data = summary.as_dict()
        if data == self.summary and not self.withdrawn:
            return False
        if summary.revision < int(self.summary.get("revision", 0)):
            return False
        self._seen(summary=data)
        return True

    def should_announce(self) -> bool:
        """A published revision not announced yet."""
        revision = int(self.summary.get("revision", 0))
        return (
            not self.withdrawn
            and self.summary.get("status") == "published"
            and revision > self.announced_revision
        )

    def announce(self) -> None:
        self._announced(revision=int(self.summary["revision"]))

    def withdraw(self) -> bool:
        if self.withdrawn:
            return False
        self._withdrawn()
        return True

    @event("Updated")
    def _seen(self, summary: dict[str, Any]) -> None:
        self.summary = dict(summary)
        self.withdrawn = summary.get("status") == "withdrawn"

    @event("Announced")
    def _announced(self, revision: int) -> None:
        self.announced_revision = revision

    @event("Withdrawn")
    def _withdrawn(self) -> None:
        self.withdrawn = True
