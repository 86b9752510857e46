"""What a service does when the registry erases a member (`member_erased`).

A service that keeps personal data of members in its own events or read models adds
`erasure_inbox()` to its definition and `ErasurePolicy` as that inbox's handler. For
each erasure it destroys its own data key for the member (every personal field it
sealed with it reads as its tombstone from then on: see `services.common.shredding`)
and records a `MemberErasure` in its own store, with the message's tracking, so that
its projections can drop or anonymise the member's rows (and scrub their files) in
order with everything else they apply.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from copnet.registry.v1 import registry_events_pb2 as registry_events
from services.common.aggregate import TracedAggregate
from services.common.application import CopnetApplication
from services.common.batching import BatchedPolicy
from services.common.inbox import IntegrationMessage, RejectedMessage
from services.common.integration import IntegrationMap
from services.common.messaging import NodeIdentity
from services.common.service import InboxDefinition

INBOX_NAME = "erasures"


class MemberErasure(TracedAggregate):
    """That a member was erased, as this service recorded it."""

    @staticmethod
    def create_id(member_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:erasure:{member_id}")

    @event("Recorded")
    def __init__(self, member_id: UUID):
        self.member_id = member_id


def erasure_subjects(identity: NodeIdentity) -> list[str]:
    return [identity.local_subject("registry", "member_erased")]


def erasure_inbox() -> InboxDefinition:
    return InboxDefinition(name=INBOX_NAME, subjects=erasure_subjects)


class ErasurePolicy(BatchedPolicy[CopnetApplication]):
    """The handler of the erasure inbox: the key first, then the record."""

    def __init__(self, app: CopnetApplication) -> None:
        self.app = app

    def handle(self, message: IntegrationMessage) -> bool:
        payload = message.payload
        if not isinstance(payload, registry_events.MemberErased):
            return self.app.save_processed(message.tracking) is not None
        try:
            member_id = UUID(payload.member_id)
        except ValueError:
            raise RejectedMessage(f"{message.subject}: no member id") from None
        self.app.subject_keys.erase(str(member_id))
        if self.app._find(MemberErasure.create_id(member_id), MemberErasure) is not None:
            return self.app.save_processed(message.tracking) is not None
        erasure = MemberErasure(member_id=member_id)
        return self.app.save_processed(message.tracking, erasure) is not None


def publish_erasures(integration: IntegrationMap) -> None:
    """Adds to a service's integration map: publishing its `MemberErasure` (event type
    `member_erasure_recorded`, node-local) first deletes the node stream's messages with
    the member's personal data, including what this service published after the
    registry's own purge (its relay follows its own log)."""

    @integration.publishes(
        MemberErasure.Recorded,
        "member_erasure_recorded",
        local=True,
        erases=lambda e: e.member_id,
    )
    def _(e: Any) -> registry_events.MemberErased:
        return registry_events.MemberErased(member_id=str(e.member_id))
