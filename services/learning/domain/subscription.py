"""`Subscription`: this node's interest in another node's region-wide learning."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition


class Subscription(TracedAggregate):
    """This node's interest in another node's region-wide learning (some tags, or all)."""

    @staticmethod
    def create_id(node_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:subscription:{node_id}")

    @event("Started")
    def __init__(self, node_id: str, domain_tags: list[str], since: datetime):
        self.node_id = node_id
        self.domain_tags = list(domain_tags)
        self.active = True
        self.since = since

    def change(self, domain_tags: list[str], at: datetime) -> None:
        if not self.active:
            self._restarted(domain_tags=domain_tags, since=at)
        elif domain_tags != self.domain_tags:
            self._tags_changed(domain_tags=domain_tags)
        else:
            raise FailedPrecondition(f"already subscribed to {self.node_id} with those tags")

    def end(self) -> None:
        if not self.active:
            raise FailedPrecondition(f"not subscribed to {self.node_id}")
        self._ended()

    @event("TagsChanged")
    def _tags_changed(self, domain_tags: list[str]) -> None:
        self.domain_tags = list(domain_tags)

    @event("Restarted")
    def _restarted(self, domain_tags: list[str], since: datetime) -> None:
        self.domain_tags = list(domain_tags)
        self.active = True
        self.since = since

    @event("Ended")
    def _ended(self) -> None:
        self.active = False
