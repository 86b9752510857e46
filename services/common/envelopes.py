"""Integration messages as consumers read them: subject, headers and envelope checked to agree.

`read_message` decodes a message and refuses (`RejectedMessage`) one whose
statements of origin disagree, or that cannot be decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.persistence import Tracking
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

from copnet.integration.v1 import envelope_pb2
from services.common import messaging


class RejectedMessage(Exception):
    """A message that must never be applied: spoofed, inconsistent or undecodable."""


@dataclass(frozen=True)
class IntegrationMessage:
    subject: str
    envelope: envelope_pb2.Envelope
    # None when this consumer does not know the payload's type (a newer producer).
    payload: Message | None
    # The partner node a copy was addressed to; "" for region-wide and local events.
    addressed_to: str = ""

    @property
    def origin(self) -> str:
        """Whose log the event comes from, and by which route: one ordered sequence each.

        Region-wide and local events of a node reach a consumer through one
        stream in log order; copies addressed to a partner come through another
        route, which may interleave with the first in any order.
        """
        base = f"{self.envelope.origin_node}.{self.envelope.service}"
        if self.envelope.epoch:  # a restored origin: a sequence of its own (see Envelope)
            base = f"{base}@{self.envelope.epoch}"
        return f"{base}.for.{self.addressed_to}" if self.addressed_to else base

    @property
    def base_origin(self) -> str:
        """The origin's route in its first epoch (for checks across epochs)."""
        base = f"{self.envelope.origin_node}.{self.envelope.service}"
        return f"{base}.for.{self.addressed_to}" if self.addressed_to else base

    @property
    def tracking(self) -> Tracking:
        return Tracking(self.origin, self.envelope.position)

    @property
    def event_type(self) -> str:
        return self.envelope.event_type


def _payload_class(type_url: str) -> type[Message] | None:
    name = type_url.rsplit("/", 1)[-1]
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(name)
    except KeyError:
        return None
    return message_factory.GetMessageClass(descriptor)


def read_message(
    subject: str, headers: dict[str, str] | None, data: bytes, recipient: str | None = None
) -> IntegrationMessage:
    """Decodes a message and checks that every statement of its origin agrees.

    `recipient` is the consuming node: a copy addressed to another node is refused.
    """
    headers = headers or {}
    tokens = subject.split(".")
    addressed_to = ""
    if tokens[0] == messaging.FEDERATED_ROOT and len(tokens) == 5:
        region, node, service, event_type = tokens[1:]
    elif tokens[0] == messaging.PARTNERS_ROOT and len(tokens) == 5:
        region, (node, addressed_to, service, event_type) = None, tokens[1:]
        if recipient is not None and addressed_to != recipient:
            raise RejectedMessage(f"{subject} is addressed to {addressed_to!r}, not {recipient!r}")
    elif tokens[0] == messaging.LOCAL_ROOT and len(tokens) == 4:
        region, (node, service, event_type) = None, tokens[1:]
    elif (
        tokens[0] == messaging.LOCAL_ROOT
        and len(tokens) == 6
        and tokens[3] == messaging.PERSONAL_TOKEN
    ):
        region, (node, service, event_type) = None, (tokens[1], tokens[2], tokens[5])
    else:
        raise RejectedMessage(f"{subject} is not a copnet integration subject")
    try:
        envelope = envelope_pb2.Envelope.FromString(data)
    except DecodeError as error:
        raise RejectedMessage(f"undecodable envelope on {subject}: {error}") from None
    claims = {
        "origin header": headers.get(messaging.HEADER_ORIGIN),
        "envelope origin": envelope.origin_node,
    }
    if any(claim != node for claim in claims.values()):
        raise RejectedMessage(f"{subject} claims origin {claims}, but its subject says {node!r}")
    if envelope.service != service or headers.get(messaging.HEADER_SERVICE) != service:
        raise RejectedMessage(f"{subject}: service {envelope.service!r} does not match")
    if region is not None and envelope.origin_region != region:
        raise RejectedMessage(f"{subject}: region {envelope.origin_region!r} does not match")
    if envelope.event_type != event_type:
        raise RejectedMessage(f"{subject}: event type {envelope.event_type!r} does not match")
    if headers.get(messaging.HEADER_POSITION) != str(envelope.position) or not envelope.position:
        raise RejectedMessage(f"{subject}: position header does not match the envelope")
    payload_class = _payload_class(envelope.payload.type_url)
    payload = None
    if payload_class is not None:
        payload = payload_class()
        if not envelope.payload.Unpack(payload):
            raise RejectedMessage(f"{subject}: payload is not a {envelope.payload.type_url}")
    return IntegrationMessage(subject, envelope, payload, addressed_to)
