"""What notify does with the events and learning services' integration events, and with
the registry's requests to confirm a new address (a code mailed to it).

`NotifyPolicy` handles each message of the node stream (the events service's and
the learning service's subjects, in each origin's order): it reads the payload
into domain values and calls the application, which records what the event
caused with the message's tracking in one transaction. An event notify has no
use for still records its tracking, so a redelivery is recognised.

The learning service announces items that arrive from other nodes node-locally
(`item_arrived`, with their snapshot): that is how federated learning reaches
this node's members.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from google.protobuf.timestamp_pb2 import Timestamp

from copnet.events.v1 import events_events_pb2 as events
from copnet.events.v1 import events_pb2
from copnet.learning.v1 import learning_events_pb2 as learning
from copnet.learning.v1 import learning_pb2
from copnet.registry.v1 import registry_events_pb2 as registry_events
from services.common.batching import BatchedPolicy
from services.common.inbox import IntegrationMessage, RejectedMessage
from services.common.protoconv import enum_value
from services.notify.application import Notify
from services.notify.domain import LearningSummary

ADDRESS_CHANGE_REQUESTED = "member_email_change_requested"
SNAPSHOT_EVENTS = {"item_published", "item_revised", "item_withdrawn", "item_arrived"}
SIGN_UP_EVENTS = {
    "signed_up",
    "sign_up_approved",
    "sign_up_declined",
    "sign_up_cancelled",
    "sign_up_promoted",
}


def _instant(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def _details(p: events.ConveningScheduled | events.ConveningDetailsChanged) -> dict[str, str]:
    return {
        "title": p.title,
        "topic": p.topic,
        "description": p.description,
        "format": enum_value(events_pb2.ConveningFormat, p.format),
        "venue": p.venue,
    }


def learning_summary(snapshot: learning.ItemSnapshot) -> LearningSummary:
    item = snapshot.item
    return LearningSummary(
        origin_node=item.origin_node,
        item_id=item.item_id,
        revision=item.revision,
        status=enum_value(learning_pb2.ItemStatus, item.status),
        kind=enum_value(learning_pb2.ItemKind, item.kind),
        title=item.title,
        summary=item.summary,
        domain_tags=tuple(item.domain_tags),
        community_id=item.community_id,
        community_name=item.community_name,
        organisation_name=item.organisation_name,
        links=tuple((link.title, link.url) for link in item.links),
    )


class NotifyPolicy(BatchedPolicy[Notify]):
    def __init__(self, app: Notify) -> None:
        self.app = app

    def handle(self, message: IntegrationMessage) -> bool:
        payload = message.payload
        tracking = message.tracking
        if payload is None:
            return self.app.skip_event(tracking)
        try:
            if message.envelope.service == "events":
                return self._events(message, payload)
            if message.envelope.service == "learning":
                return self._learning(message, payload)
            if (
                message.envelope.service == "registry"
                and message.event_type == ADDRESS_CHANGE_REQUESTED
                and isinstance(payload, registry_events.MemberEmailChangeRequested)
            ):
                return self.app.address_change_requested(
                    tracking,
                    UUID(payload.member_id),
                    message.envelope.aggregate_version,
                    _instant(payload.expires_at),
                )
        except ValueError as error:
            raise RejectedMessage(f"{message.subject}: unreadable payload: {error}") from None
        return self.app.skip_event(tracking)

    def _events(self, message: IntegrationMessage, p: Any) -> bool:
        app = self.app
        tracking = message.tracking
        at = _instant(message.envelope.occurred_at)
        kind = message.event_type
        if isinstance(p, events.ConveningScheduled):
            return app.convening_scheduled(
                tracking,
                UUID(p.convening_id),
                UUID(p.community_id),
                _details(p),
                _instant(p.starts_at),
                _instant(p.ends_at),
                p.time_zone,
                p.sequence,
                at,
            )
        convening = UUID(p.convening_id) if hasattr(p, "convening_id") else None
        if convening is None:
            return app.skip_event(tracking)
        if isinstance(p, events.ConveningDetailsChanged):
            return app.convening_details_changed(tracking, convening, _details(p), p.sequence, at)
        if isinstance(p, events.ConveningJoinLinkChanged):
            return app.convening_join_link_changed(tracking, convening, p.join_link, p.sequence, at)
        if isinstance(p, events.ConveningOrganisersChanged):
            organisers = [UUID(m) for m in p.organiser_ids]
            return app.convening_organisers_changed(tracking, convening, organisers, p.sequence, at)
        if isinstance(p, events.ConveningRescheduled):
            return app.convening_rescheduled(
                tracking,
                convening,
                _instant(p.starts_at),
                _instant(p.ends_at),
                p.time_zone,
                p.reason,
                p.sequence,
                at,
            )
        if isinstance(p, events.ConveningCancelled):
            return app.convening_cancelled(tracking, convening, p.reason, p.sequence, at)
        if isinstance(p, (events.ConveningHeld, events.ConveningClosed)):
            status = "held" if isinstance(p, events.ConveningHeld) else "closed"
            return app.convening_ended(tracking, convening, status, at)
        if isinstance(p, events.SignUpChanged) and kind in SIGN_UP_EVENTS:
            status = enum_value(events_pb2.SignUpStatus, p.status)
            return app.sign_up_changed(tracking, convening, UUID(p.member_id), status, kind, at)
        return app.skip_event(tracking)

    def _learning(self, message: IntegrationMessage, p: Any) -> bool:
        app = self.app
        tracking = message.tracking
        at = _instant(message.envelope.occurred_at)
        if isinstance(p, learning.ItemSnapshot) and message.event_type in SNAPSHOT_EVENTS:
            summary = learning_summary(p)
            if not summary.item_id or not summary.origin_node:
                raise ValueError("the snapshot names no item")
            # Contributors by pseudonym (and, in snapshots published before there were
            # pseudonyms, by member id).
            contributors = [*p.contributor_pseudonyms, *p.item.contributor_member_ids]
            return app.learning_seen(tracking, summary, contributors, at)
        if isinstance(p, learning.ItemRetracted) and message.event_type == "item_withdrawn_here":
            # Another node's item was retracted from this node.
            return app.learning_withdrawn(tracking, p.item_id)
        return app.skip_event(tracking)
