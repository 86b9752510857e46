"""Integration events: the published form of domain events.

Each service declares, in its `integration.py`, which domain events it
publishes, under which event type, and whether they may leave the node. The
relay wraps each one in a `copnet.integration.v1.Envelope`.
"""

from __future__ import annotations

from collections.abc import Callable
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
class _Mapping:
    event_type: str
    local: bool
    build: Callable[[Any], Message]


class IntegrationMap:
    def __init__(self, service: str, schema_version: int = 1) -> None:
        self.service = service
        self.schema_version = schema_version
        self._mappings: dict[type, _Mapping] = {}

    def publishes(self, domain_event_class: type, event_type: str, local: bool = False):
        """Decorates a function that builds the payload message of one domain event class."""

        def register(build: Callable[[Any], Message]) -> Callable[[Any], Message]:
            self._mappings[domain_event_class] = _Mapping(event_type, local, build)
            return build

        return register

    @property
    def event_types(self) -> dict[str, bool]:
        """Every published event type, and whether it is node-local."""
        return {m.event_type: m.local for m in self._mappings.values()}

    def publication(
        self, domain_event: Any, position: int, identity: NodeIdentity
    ) -> Publication | None:
        """The message to publish for a stored event, or None if it is not published."""
        mapping = self._mappings.get(type(domain_event))
        if mapping is None:
            return None
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
        subject = (
            identity.local_subject(self.service, mapping.event_type)
            if mapping.local
            else identity.federated_subject(self.service, mapping.event_type)
        )
        headers = {
            messaging.HEADER_MSG_ID: event_id,
            messaging.HEADER_ORIGIN: identity.node_id,
            messaging.HEADER_REGION: identity.region,
            messaging.HEADER_SERVICE: self.service,
            messaging.HEADER_POSITION: str(position),
            messaging.HEADER_EVENT_TYPE: mapping.event_type,
            "content-type": "application/x-protobuf",
        }
        return Publication(subject=subject, envelope=envelope, headers=headers)
