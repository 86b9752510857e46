"""Receipts that make every mutating command idempotent on its request id.

A receipt is saved in the same transaction as the command's changes, so a
command either happened with its receipt or did not happen at all. A retry
finds the receipt and gets the first outcome back; no window, no expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.identity import Caller


@dataclass(frozen=True)
class Command:
    """A mutating request as the application sees it: what, who, and which attempt."""

    name: str
    request_id: str
    caller: Caller
    fingerprint: str

    @property
    def actor(self) -> str:
        return self.caller.actor


class CommandReceipt(TracedAggregate):
    @event("Recorded")
    def __init__(
        self,
        scope: str,
        request_id: str,
        command: str,
        fingerprint: str,
        entity_id: UUID,
        entity_version: int,
        after_changes: bool | None = None,
    ):
        self.request_id = request_id
        self.command = command
        self.fingerprint = fingerprint
        self.entity_id = entity_id
        self.entity_version = entity_version
        # Saved right after the command's domain events (so the command's position is the
        # receipt's minus one); None in receipts written before this was recorded.
        self.after_changes = after_changes

    @staticmethod
    def create_id(scope: str, request_id: str) -> UUID:
        """Request ids are scoped by caller: one caller cannot replay another's outcome."""
        return uuid5(NAMESPACE_URL, f"copnet:request:{scope}:{request_id}")
