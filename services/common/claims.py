"""Unique keys (a community's slug, an e-mail address, an ODS code).

A key is claimed by saving a `UniqueClaim` whose id is derived from the key,
in the same transaction as the entity that owns it. Two concurrent claims of
one key cannot both be stored: the second save fails on the claim's version.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate


class UniqueClaim(TracedAggregate):
    @staticmethod
    def create_id(kind: str, key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:unique:{kind}:{key}")

    @event("Claimed")
    def __init__(self, kind: str, key: str, owner_id: UUID):
        self.kind = kind
        self.key = key
        self.owner_id: UUID | None = owner_id

    @property
    def is_held(self) -> bool:
        return self.owner_id is not None

    @event("Released")
    def release(self) -> None:
        self.owner_id = None

    @event("Reclaimed")
    def reclaim(self, owner_id: UUID) -> None:
        self.owner_id = owner_id
