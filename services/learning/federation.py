"""The learning service's side of federation.

`FederationPolicy` handles what arrives in the node's federation stream from
other nodes (item snapshots, retractions, adoptions of this node's items,
receipts of this node's items), recording each once with its tracking. The
stream itself is kept sourcing what this node should receive by
`services.common.federation.FederationLinks`, which the learning service runs
with the nodes it subscribes to.
"""

from __future__ import annotations

from datetime import UTC, date

from eventsourcing.persistence import ProcessRecorder

from copnet.learning.v1 import learning_events_pb2 as events
from services.common import messaging
from services.common.batching import BatchedPolicy
from services.common.inbox import IntegrationMessage, RejectedMessage
from services.common.messaging import NodeIdentity
from services.learning import codecs
from services.learning.application import Learning
from services.learning.domain import AdoptionReport
from services.learning.snapshots import snapshot_from_pb

SNAPSHOT_EVENTS = {
    "item_published",
    "item_revised",
    "item_withdrawn",
    "item_shared",
    "item_presented",
    "item_adoption_recorded",
    "item_reception_recorded",
}


def federation_subjects(identity: NodeIdentity) -> list[str]:
    """The learning events in the federation stream: region-wide, and addressed to us."""
    return [
        f"{messaging.FEDERATED_ROOT}.{identity.region}.*.learning.>",
        f"{messaging.PARTNERS_ROOT}.*.{identity.node_id}.learning.>",
    ]


class FederationPolicy(BatchedPolicy[Learning]):
    def __init__(self, app: Learning) -> None:
        self.app = app

    def last_position(self, origin: str) -> int:
        """The last position applied from one origin's route (0 if none)."""
        recorder = self.app.recorder
        assert isinstance(recorder, ProcessRecorder), "learning records what it processes"
        return recorder.max_tracking_id(origin) or 0

    def handle(self, message: IntegrationMessage) -> bool:
        origin = message.envelope.origin_node
        tracking = message.tracking
        payload = message.payload
        if origin == self.app.node_id or payload is None:
            return self.app.skip(tracking)
        if message.event_type in SNAPSHOT_EVENTS and isinstance(payload, events.ItemSnapshot):
            try:
                snapshot = snapshot_from_pb(payload)
            except ValueError as error:
                raise RejectedMessage(f"{message.subject}: unreadable snapshot: {error}") from None
            if snapshot["origin_node"] != origin:
                owner = snapshot["origin_node"]
                raise RejectedMessage(
                    f"{message.subject}: node {origin!r} sent an item of {owner!r}"
                )
            return self.app.receive_snapshot(tracking, origin, snapshot, bool(message.addressed_to))
        if isinstance(payload, events.ItemRetracted):
            return self.app.receive_retraction(tracking, origin, payload.item_id, payload.version)
        if isinstance(payload, events.AdoptionDeclared):
            return self.app.receive_adoption(
                tracking, payload.item_id, self._report(message, payload)
            )
        if isinstance(payload, events.ItemReceived):
            received_at = payload.received_at.ToDatetime(tzinfo=UTC)
            return self.app.receive_reception(tracking, payload.item_id, origin, received_at)
        return self.app.skip(tracking)

    @staticmethod
    def _report(message: IntegrationMessage, payload: events.AdoptionDeclared) -> AdoptionReport:
        adoption = payload.adoption
        if adoption.node_id != message.envelope.origin_node:
            raise RejectedMessage(
                f"{message.subject}: node {message.envelope.origin_node!r} reported an adoption "
                f"by node {adoption.node_id!r}"
            )
        try:
            return AdoptionReport(
                node_id=adoption.node_id,
                organisation_id=adoption.organisation_id,
                organisation_name=adoption.organisation_name,
                status=codecs.ADOPTION_STATUS.to_domain(adoption.status),
                evidence=adoption.evidence,
                effective_on=date.fromisoformat(adoption.effective_on),
                reported_at=adoption.reported_at.ToDatetime(tzinfo=UTC),
            )
        except ValueError as error:
            raise RejectedMessage(f"{message.subject}: unreadable adoption: {error}") from None
