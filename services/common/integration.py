"""Integration events: the published form of domain events.

Each service declares, in its `integration.py`, which domain events it
publishes, under which event type, and whether they may leave the node. The
relay wraps each one in a `copnet.integration.v1.Envelope`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import Message

from copnet.integration.v1 import envelope_pb2
from services.common import messaging
from services.common.messaging import NodeIdentity
from services.common.protoconv import timestamp


@dataclass(frozen=True)
class Publication:
    subject: str
    envelope: envelope_pb2.Envelope
    headers: dict[str, str]


@dataclass(frozen=True)
class Audience:
    """Who may receive an event: this node only, the whole region, or named partner nodes."""

    kind: str
    partners: tuple[str, ...] = ()

    @classmethod
    def node(cls) -> Audience:
        return cls("node")

    @classmethod
    def region(cls) -> Audience:
        return cls("region")

    @classmethod
    def to_partners(cls, partners: Iterable[str]) -> Audience:
        return cls("partners", tuple(sorted(set(partners))))


def _fixed(audience: Audience) -> Callable[[Any], Audience]:
    return lambda _event: audience


@dataclass(frozen=True)
class _Mapping:
    event_type: str
    audience: Callable[[Any], Audience]
    build: Callable[[Any], Message]


class IntegrationMap:
    def __init__(self, service: str, schema_version: int = 1) -> None:
        self.service = service
        self.schema_version = schema_version
        self._mappings: dict[type, _Mapping] = {}

    def publishes(
        self,
        domain_event_class: type,
        event_type: str,
        local: bool = False,
        audience: Callable[[Any], Audience] | None = None,
    ):
        """Decorates a function that builds the payload message of one domain event class.

        `local=True` keeps the event on this node; `audience` decides per event
        (e.g. from a learning item's visibility); the default is the region.
        """
        if audience is None:
            audience = _fixed(Audience.node() if local else Audience.region())

        def register(build: Callable[[Any], Message]) -> Callable[[Any], Message]:
            self._mappings[domain_event_class] = _Mapping(event_type, audience, build)
            return build

        return register

    @property
    def event_types(self) -> set[str]:
        return {m.event_type for m in self._mappings.values()}

    def publications(
        self, domain_event: Any, position: int, identity: NodeIdentity
    ) -> list[Publication]:
        """The messages to publish for a stored event (none if it is not published)."""
        mapping = self._mappings.get(type(domain_event))
        if mapping is None:
            return []
        payload = AnyMessage()
        payload.Pack(mapping.build(domain_event))
        event_id = f"{identity.node_id}.{self.service}.{position}"
        envelope = envelope_pb2.Envelope(
            event_id=event_id,
            origin_region=identity.region,
            origin_node=identity.node_id,
            service=self.service,
            position=position,
            aggregate_id=str(domain_event.originator_id),
            aggregate_version=domain_event.originator_version,
            event_type=mapping.event_type,
            occurred_at=timestamp(domain_event.timestamp),
            schema_version=self.schema_version,
            payload=payload,
            actor=getattr(domain_event, "actor", "system"),
        )
        headers = {
            messaging.HEADER_ORIGIN: identity.node_id,
            messaging.HEADER_REGION: identity.region,
            messaging.HEADER_SERVICE: self.service,
            messaging.HEADER_POSITION: str(position),
            messaging.HEADER_EVENT_TYPE: mapping.event_type,
            "content-type": "application/x-protobuf",
        }
        audience = mapping.audience(domain_event)
        if audience.kind == "region":
            copies = [(identity.federated_subject(self.service, mapping.event_type), event_id)]
        else:
            copies = [(identity.local_subject(self.service, mapping.event_type), event_id)]
        copies += [
            (
                identity.partner_subject(partner, self.service, mapping.event_type),
                f"{event_id}.for.{partner}",
            )
            for partner in audience.partners
            if partner != identity.node_id
        ]
        return [
            Publication(subject, envelope, {**headers, messaging.HEADER_MSG_ID: msg_id})
            for subject, msg_id in copies
        ]
