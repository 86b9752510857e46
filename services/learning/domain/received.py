"""`ReceivedItem`: this node's copy of an item from another node, kept current from the
item's snapshots."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate


class ReceivedItem(TracedAggregate):
    """This node's copy of another node's item, as its latest snapshot says."""

    @staticmethod
    def create_id(origin_node: str, item_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:received:{origin_node}:{item_id}")

    @event("Received")
    def __init__(
        self,
        origin_node: str,
        item_id: str,
        snapshot: dict,
        addressed: bool,
        received_at: datetime,
    ):
        self.origin_node = origin_node
        self.item_id = item_id
        self.snapshot = snapshot
        self.addressed = addressed
        self.retracted = False
        self.received_at = received_at
        self.receipt_reported = False

    @property
    def snapshot_version(self) -> int:
        return int(self.snapshot.get("version", 0))

    def report_receipt(self) -> None:
        """Records that the origin is to be told this node has the item (once)."""
        if not self.receipt_reported:
            self._receipt_reported(revision=int(self.snapshot.get("revision", 0)))

    def update(self, snapshot: dict, addressed: bool) -> bool:
        """Takes a newer snapshot; False when it is not newer (an older or repeated one)."""
        if int(snapshot.get("version", 0)) <= self.snapshot_version and not self.retracted:
            return False
        self._updated(snapshot=snapshot, addressed=addressed)
        return True

    def retract(self, version: int) -> bool:
        """Hides the item, unless this copy is newer than the retraction (it came by
        another route after the item was shared with this node again)."""
        if self.retracted or version <= self.snapshot_version:
            return False
        self._retracted()
        return True

    @event("Updated")
    def _updated(self, snapshot: dict, addressed: bool) -> None:
        self.snapshot = snapshot
        self.addressed = addressed
        self.retracted = False

    @event("Retracted")
    def _retracted(self) -> None:
        self.retracted = True

    @event("ReceiptReported")
    def _receipt_reported(self, revision: int) -> None:
        self.receipt_reported = True
