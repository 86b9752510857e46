"""`CalendarFeed`: a secret URL that a member's calendar application subscribes to.

The secret itself is never stored: the feed keeps a SHA-256 hash of it, and the
application derives it again when it answers the member (`services.events.cpd.keys`).
Rotating replaces the secret (the old URL stops working); revoking ends the feed.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition


class FeedKind(StrEnum):
    # The convenings the member holds a place at or waits for.
    MEMBER = "member"
    # One community's convenings.
    COMMUNITY = "community"


class CalendarFeed(TracedAggregate):
    @staticmethod
    def create_id(member_id: UUID, nonce: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:calendar-feed:{member_id}:{nonce}")

    @event("Issued")
    def __init__(
        self,
        member_id: UUID,
        nonce: str,
        kind: str,
        community_id: UUID | None,
        secret_hash: str,
    ):
        self.member_id = member_id
        self.kind = FeedKind(kind)
        self.community_id = community_id
        self.secret_hash = secret_hash
        # Which secret is current: 1, then one more per rotation.
        self.generation = 1
        self.revoked = False
        self.revoke_reason = ""

    def _check_active(self, action: str) -> None:
        if self.revoked:
            raise FailedPrecondition(f"cannot {action}: the feed was revoked")

    def rotate(self, secret_hash: str) -> None:
        self._check_active("rotate the feed")
        self._rotated(secret_hash=secret_hash)

    def revoke(self, reason: str) -> None:
        self._check_active("revoke the feed")
        self._revoked(reason=reason)

    @event("Rotated")
    def _rotated(self, secret_hash: str) -> None:
        self.secret_hash = secret_hash
        self.generation += 1

    @event("Revoked")
    def _revoked(self, reason: str) -> None:
        self.revoked = True
        self.revoke_reason = reason
