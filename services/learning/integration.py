"""What the learning service publishes, and to whom.

An item's events carry its whole snapshot and go where its visibility allows:
nowhere beyond this node while it is a draft or `node`-visible, to the region,
or only to its named partner nodes. Narrowing the visibility first sends an
`item_retracted` to the audiences that lose the item. An adoption declared here
for another node's item, and the first receipt of another node's item, are
addressed to that item's origin node only; the origin records receipts on this
node only (its spread is authoritative there). Items that arrive from other nodes
are announced on this node only (`item_arrived`, with their snapshot), for its
own services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from copnet.learning.v1 import learning_events_pb2 as events
from services.common.integration import Audience, IntegrationMap
from services.common.protoconv import timestamp
from services.contracts.learning_items import contributor_pseudonym
from services.learning import codecs
from services.learning.domain import (
    Adoption,
    ItemStatus,
    LearningItem,
    ReceivedItem,
    Subscription,
    Visibility,
)
from services.learning.snapshots import snapshot_of, snapshot_pb

LEARNING = IntegrationMap("learning")


def item_audience(_event: Any, item: LearningItem) -> Audience:
    if item.status is ItemStatus.DRAFT or item.visibility is Visibility.NODE:
        return Audience.node()
    if item.visibility is Visibility.REGION:
        return Audience.whole_region()
    return Audience.to_partners(item.partner_nodes)


def _snapshot(_event: Any, item: LearningItem) -> events.ItemSnapshot:
    """The item's snapshot as it is published: contributors pseudonymised, no member id."""
    snapshot = snapshot_of(item)
    message = snapshot_pb({**snapshot, "contributors": []})
    message.contributor_pseudonyms.extend(
        contributor_pseudonym(item.id, member) for member in snapshot["contributors"]
    )
    return message


for event_class, event_type in [
    (LearningItem.Published, "item_published"),
    (LearningItem.Revised, "item_revised"),
    (LearningItem.Withdrawn, "item_withdrawn"),
    (LearningItem.VisibilityChanged, "item_shared"),
    (LearningItem.PresentationRecorded, "item_presented"),
    (LearningItem.AdoptionRecorded, "item_adoption_recorded"),
]:
    LEARNING.publishes(event_class, event_type, audience=item_audience, with_state=True)(_snapshot)

# A receipt stays on the origin node: sent to the item's audience, each of N receivers
# would apply N - 1 receipts per item (the region's traffic growing with N squared).
# Receivers see the receipts with the item's next change.
LEARNING.publishes(
    LearningItem.ReceptionRecorded,
    "item_reception_recorded",
    audience=lambda _event, _item: Audience.node(),
    with_state=True,
)(_snapshot)


@LEARNING.publishes(
    LearningItem.Retracted,
    "item_retracted",
    audience=lambda e: Audience(region=e.from_region, partners=tuple(e.from_partners)),
)
def _(e: Any) -> events.ItemRetracted:
    return events.ItemRetracted(item_id=str(e.originator_id), version=e.originator_version)


@LEARNING.publishes(
    Adoption.StatusDeclared,
    "adoption_declared",
    audience=lambda e, adoption: Audience.to_partners([adoption.item_origin_node]),
    with_state=True,
)
def _(e: Any, adoption: Adoption) -> events.AdoptionDeclared:
    report = adoption.report()
    return events.AdoptionDeclared(
        item_id=str(adoption.item_id),
        item_origin_node=adoption.item_origin_node,
        adoption={
            "node_id": report.node_id,
            "organisation_id": report.organisation_id,
            "organisation_name": report.organisation_name,
            "status": codecs.ADOPTION_STATUS.to_pb(report.status),
            "evidence": report.evidence,
            "effective_on": report.effective_on.isoformat(),
            "reported_at": timestamp(report.reported_at),
        },
    )


# A receipt is for the item's origin only: no service of this node reads it, so the node
# keeps no local copy of it (one message fewer per item received).
@LEARNING.publishes(
    ReceivedItem.ReceiptReported,
    "item_received",
    audience=lambda e, received: Audience.to_partners([received.origin_node], local_copy=False),
    with_state=True,
)
def _(e: Any, received: ReceivedItem) -> events.ItemReceived:
    return events.ItemReceived(
        item_id=received.item_id,
        item_origin_node=received.origin_node,
        revision=e.revision,
        received_at=timestamp(received.received_at),
    )


def _arrived(_event: Any, received: ReceivedItem) -> events.ItemSnapshot:
    return snapshot_pb(received.snapshot)


# What arrived from other nodes, for this node's own services (e.g. notify's digests).
for event_class in (ReceivedItem.Received, ReceivedItem.Updated):
    LEARNING.publishes(event_class, "item_arrived", local=True, with_state=True)(_arrived)


@LEARNING.publishes(
    ReceivedItem.Retracted,
    "item_withdrawn_here",
    local=True,
    with_state=True,
)
def _(e: Any, received: ReceivedItem) -> events.ItemRetracted:
    return events.ItemRetracted(item_id=received.item_id, version=received.snapshot_version)


def _subscription(
    active: bool,
) -> Callable[[Any, Subscription], events.SubscriptionChanged]:
    def build(e: Any, subscription: Subscription) -> events.SubscriptionChanged:
        return events.SubscriptionChanged(
            node_id=subscription.node_id,
            domain_tags=subscription.domain_tags,
            active=active and subscription.active,
        )

    return build


for event_class, event_type, active in [
    (Subscription.Started, "subscription_started", True),
    (Subscription.TagsChanged, "subscription_changed", True),
    (Subscription.Restarted, "subscription_started", True),
    (Subscription.Ended, "subscription_ended", False),
]:
    LEARNING.publishes(event_class, event_type, local=True, with_state=True)(_subscription(active))
