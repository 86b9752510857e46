"""Integration events: the published form of domain events.

Each service declares, in its `integration.py`, which domain events it
publishes, under which event type, and whether they may leave the node. The
relay wraps each one in a `copnet.integration.v1.Envelope`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import Message

from copnet.integration.v1 import envelope_pb2
from services.common import messaging
from services.common.messaging import NodeIdentity
from services.common.protoconv import timestamp

# A function that builds the payload message of a domain event (and, with state, its aggregate).
Build = TypeVar("Build", bound=Callable[..., Message])


@dataclass(frozen=True)
class Publication:
    subject: str
    envelope: envelope_pb2.Envelope
    headers: dict[str, str]
    # The member whose personal data the node stream must lose before this is published.
    erases: str = ""
    # The envelope serialised (once for all of an event's copies); empty: not given.
    serialised: bytes = b""

    @property
    def data(self) -> bytes:
        """The message's body: the serialised envelope."""
        return self.serialised or self.envelope.SerializeToString()


@dataclass(frozen=True)
class Audience:
    """Who may receive an event: this node only, the whole region, and/or named partners."""

    region: bool = False
    partners: tuple[str, ...] = ()
    # Whether the node keeps a copy for its own services (on its local subject) beside the
    # partners' copies; False for what no service of the node reads (the node stream
    # still holds the partners' copies).
    local_copy: bool = True

    @classmethod
    def node(cls) -> Audience:
        return cls()

    @classmethod
    def whole_region(cls) -> Audience:
        return cls(region=True)

    @classmethod
    def to_partners(cls, partners: Iterable[str], local_copy: bool = True) -> Audience:
        return cls(partners=tuple(sorted(set(partners))), local_copy=local_copy)


# The aggregate as it was right after the event, for mappings that need more than the event.
StateLoader = Callable[[Any], Any]


@dataclass(frozen=True)
class _Mapping:
    event_type: str
    audience: Callable[..., Audience]
    build: Callable[..., Message]
    with_state: bool
    # The member whose personal data the event carries (None: none).
    personal: Callable[[Any], Any] | None = None
    # The member the event erases (None: it erases no one).
    erases: Callable[[Any], Any] | None = None


def _actor(actor: str, audience: Audience) -> str:
    """Who caused an event, as its envelope says: on the node, as recorded
    ("member:<id>", "operator:<name>"); in what may leave the node, only the role (member
    ids and operators' names stay on their node)."""
    if audience.region or audience.partners:
        return actor.partition(":")[0]
    return actor


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
        audience: Callable[..., Audience] | None = None,
        with_state: bool = False,
        personal: Callable[[Any], Any] | None = None,
        erases: Callable[[Any], Any] | None = None,
    ) -> Callable[[Build], Build]:
        """Decorates a function that builds the payload message of one domain event class.

        The default audience is the region; `local=True` keeps the event on this
        node; an `audience` function decides per event. With `with_state`, both
        functions are called with the event and the aggregate as it was right
        after it (so payloads can carry the entity's whole state).

        `personal` (node-local events only) names the member whose personal data the
        event carries: it goes on their personal subject, with the node's retention.
        `erases` names the member the event erases: before it is published, the node
        stream loses every message on that member's personal subjects.
        """
        assert personal is None or local, "personal data never leaves the node"
        if audience is None:
            fixed = Audience.node() if local else Audience.whole_region()
            audience = (lambda _event, _state: fixed) if with_state else (lambda _event: fixed)

        def register(build: Build) -> Build:
            self._mappings[domain_event_class] = _Mapping(
                event_type, audience, build, with_state, personal, erases
            )
            return build

        return register

    @property
    def erases_personal_data(self) -> bool:
        """Whether its relay deletes messages from the node stream (on an erasure)."""
        return any(m.erases is not None for m in self._mappings.values())

    @property
    def event_types(self) -> set[str]:
        return {m.event_type for m in self._mappings.values()}

    def publications(
        self,
        domain_event: Any,
        position: int,
        identity: NodeIdentity,
        load_state: StateLoader | None = None,
        epoch: int = 0,
    ) -> list[Publication]:
        """The messages to publish for a stored event (none if it is not published), in the
        relay's `epoch` (0 until the node is restored from a back-up)."""
        mapping = self._mappings.get(type(domain_event))
        if mapping is None:
            return []
        arguments: tuple[Any, ...] = (domain_event,)
        if mapping.with_state:
            assert load_state is not None, f"{mapping.event_type} needs the aggregate's state"
            arguments = (domain_event, load_state(domain_event))
        audience = mapping.audience(*arguments)
        payload = AnyMessage()
        payload.Pack(mapping.build(*arguments))
        era = f"e{epoch}." if epoch else ""
        event_id = f"{identity.node_id}.{self.service}.{era}{position}"
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
            actor=_actor(getattr(domain_event, "actor", "system"), audience),
            epoch=epoch,
        )
        headers = {
            messaging.HEADER_ORIGIN: identity.node_id,
            messaging.HEADER_REGION: identity.region,
            messaging.HEADER_SERVICE: self.service,
            messaging.HEADER_POSITION: str(position),
            messaging.HEADER_EVENT_TYPE: mapping.event_type,
            "content-type": "application/x-protobuf",
        }
        if mapping.personal is not None:
            member = str(mapping.personal(domain_event))
            subject = identity.personal_subject(self.service, member, mapping.event_type)
            copies = [(subject, event_id)]
            headers[messaging.HEADER_TTL] = identity.personal_ttl
        elif audience.region:
            copies = [(identity.federated_subject(self.service, mapping.event_type), event_id)]
        else:
            copies = [(identity.local_subject(self.service, mapping.event_type), event_id)]
        partners = [
            (
                identity.partner_subject(partner, self.service, mapping.event_type),
                f"{event_id}.for.{partner}",
            )
            for partner in audience.partners
            if partner != identity.node_id
        ]
        if partners and not (audience.region or audience.local_copy):
            copies = partners  # no copy for the node's services (the stream holds these)
        else:
            copies += partners
        erases = str(mapping.erases(domain_event)) if mapping.erases is not None else ""
        data = envelope.SerializeToString()
        return [
            Publication(
                subject, envelope, {**headers, messaging.HEADER_MSG_ID: msg_id}, erases, data
            )
            for subject, msg_id in copies
        ]
