"""NATS subjects, streams and connections of a copnet node.

Subjects (the audience of an event decides its subject):
- `copnet.<region>.<node>.<service>.<event_type>`: for the whole region.
- `copnet-partners.<node>.<partner>.<service>.<event_type>`: for one named
  partner node only (a copy per partner).
- `copnet-local.<node>.<service>.<event_type>`: never leaves the node (personal
  data, drafts, `node` visibility). Events for partners also get a local copy,
  so the node's own services see every event once, in order, on the region and
  local subjects.
- `copnet-local.<node>.<service>.member.<member_id>.<event_type>`: a node-local event
  carrying a member's personal data (name, address, what they wrote). It is kept
  only `personal_max_age_days` (a per-message TTL), and erasing the member deletes
  every message under `copnet-local.<node>.*.member.<member_id>.>` (overwritten on
  disk: JetStream's secure erase).

Streams:
- `COPNET_<NODE>` holds every event of the node in each service's log order.
  The node's own services consume it. It never leaves the node: the leaf link
  to the hub denies `copnet-local.>`/`copnet-partners.>` traffic and every
  JetStream API request that names this stream or changes what is stored.
- `COPNET_<NODE>_PUBLIC` is filled by the server itself with the region
  subjects. Any node of the region may source from it.
- `COPNET_<NODE>_FOR_<PARTNER>` is filled by the server itself with what is
  addressed to that partner. Only that partner may source from it (the hub's
  accounts grant it to that partner's account alone).
- `COPNET_<NODE>_FEDERATION` sources, from other nodes, what this node
  subscribed to and what is addressed to it. Its services consume it. Other
  nodes' servers write to it, so it has limits (`FederationLimits`): its size,
  the age of what it keeps (longer than a week-long outage) and the size of one
  message; when full, the oldest messages go.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # the NATS client is imported where streams are made, not for names
    from nats.js import JetStreamContext
    from nats.js.api import StreamConfig, StreamSource
    from nats.js.manager import JetStreamManager

log = logging.getLogger(__name__)

FEDERATED_ROOT = "copnet"
PARTNERS_ROOT = "copnet-partners"
LOCAL_ROOT = "copnet-local"
DELIVER_ROOT = "copnet-deliver"
# The subject token before a member's id on node-local subjects with their personal data.
PERSONAL_TOKEN = "member"
HEADER_TTL = "Nats-TTL"
# Long enough to cover a relay restart, so republished events are dropped by the server.
DUPLICATE_WINDOW_SECONDS = 600.0

HEADER_ORIGIN = "copnet-origin"
HEADER_REGION = "copnet-region"
HEADER_SERVICE = "copnet-service"
HEADER_POSITION = "copnet-position"
HEADER_EVENT_TYPE = "copnet-event-type"
HEADER_MSG_ID = "Nats-Msg-Id"

# JetStream API requests that change what a server stores. None may come in over
# the leaf link: a partner could otherwise create a stream on this node that
# copies the node stream, or widen what the public stream takes.
MUTATING_API = (
    "STREAM.CREATE.>",
    "STREAM.UPDATE.>",
    "STREAM.DELETE.>",
    "STREAM.PURGE.>",
    "STREAM.RESTORE.>",
    "STREAM.SNAPSHOT.>",
    "STREAM.MSG.DELETE.>",
    "STREAM.PEER.>",
    "STREAM.LEADER.>",
    "ACCOUNT.>",
    "META.>",
    "SERVER.>",
)


@dataclass(frozen=True)
class FederationLimits:
    """Limits on what other nodes can make this node store, and on who may read what it shares.

    From the environment: `COPNET_FEDERATION_MAX_BYTES` (default 1 GiB),
    `COPNET_FEDERATION_MAX_AGE_DAYS` (14), `COPNET_FEDERATION_MAX_MSG_SIZE` (1 MiB);
    and how long the node stream keeps messages with personal data,
    `COPNET_PERSONAL_DATA_MAX_AGE_DAYS` (30: longer than the federation's outages)."""

    max_bytes: int = 1024**3
    max_age_days: float = 14.0
    max_msg_size: int = 1024 * 1024
    # Source consumers other nodes may hold on the streams this node shares.
    public_consumers: int = 256
    partner_consumers: int = 16
    personal_max_age_days: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FederationLimits:
        env = os.environ if env is None else env
        default = cls()
        values = {
            "max_bytes": int(env.get("COPNET_FEDERATION_MAX_BYTES") or default.max_bytes),
            "max_age_days": float(
                env.get("COPNET_FEDERATION_MAX_AGE_DAYS") or default.max_age_days
            ),
            "max_msg_size": int(env.get("COPNET_FEDERATION_MAX_MSG_SIZE") or default.max_msg_size),
            "personal_max_age_days": float(
                env.get("COPNET_PERSONAL_DATA_MAX_AGE_DAYS") or default.personal_max_age_days
            ),
        }
        if min(values.values()) <= 0:
            raise ValueError(f"federation limits must be positive: {values}")
        return cls(**values)  # type: ignore[arg-type]


def leaves_node(subject: str) -> bool:
    """Whether a message on this subject may be read by other nodes (so is signed)."""
    return subject.startswith((f"{FEDERATED_ROOT}.", f"{PARTNERS_ROOT}."))


def span_attributes(
    operation: str, subject: str, message_id: str, server: str = "", **more: str | int
) -> dict[str, str | int]:
    """The OpenTelemetry messaging attributes of a span that sends (`operation` "send")
    or processes ("process") one NATS message; `server` is the NATS URL; `more` adds to
    them."""
    attributes: dict[str, str | int] = {
        "messaging.system": "nats",
        "messaging.operation.type": operation,
        "messaging.operation.name": "publish" if operation == "send" else operation,
        "messaging.destination.name": subject,
        "messaging.message.id": message_id,
    }
    if server:
        address = urlsplit(server)
        attributes["server.address"] = address.hostname or ""
        attributes["server.port"] = address.port or 4222
    return {**attributes, **more}


def stream_token(node_id: str) -> str:
    return node_id.upper().replace("-", "_")


@dataclass(frozen=True)
class NodeIdentity:
    node_id: str
    region: str
    limits: FederationLimits = field(default_factory=FederationLimits, compare=False)

    def federated_subject(self, service: str, event_type: str) -> str:
        return f"{FEDERATED_ROOT}.{self.region}.{self.node_id}.{service}.{event_type}"

    def partner_subject(self, partner: str, service: str, event_type: str) -> str:
        return f"{PARTNERS_ROOT}.{self.node_id}.{partner}.{service}.{event_type}"

    def local_subject(self, service: str, event_type: str) -> str:
        return f"{LOCAL_ROOT}.{self.node_id}.{service}.{event_type}"

    def personal_subject(self, service: str, member_id: str, event_type: str) -> str:
        """A node-local event with a member's personal data (erased with them)."""
        return f"{LOCAL_ROOT}.{self.node_id}.{service}.{PERSONAL_TOKEN}.{member_id}.{event_type}"

    def personal_subjects(self, member_id: str) -> str:
        """Every message of any service with this member's personal data."""
        return f"{LOCAL_ROOT}.{self.node_id}.*.{PERSONAL_TOKEN}.{member_id}.>"

    @property
    def personal_ttl(self) -> str:
        """The `Nats-TTL` of a message with personal data."""
        return f"{round(self.limits.personal_max_age_days * 86400)}s"

    @property
    def federated_subjects(self) -> str:
        return f"{FEDERATED_ROOT}.{self.region}.{self.node_id}.>"

    @property
    def stream_name(self) -> str:
        """The node stream: everything, for the node's own services."""
        return "COPNET_" + stream_token(self.node_id)

    @property
    def public_stream_name(self) -> str:
        """The public stream: only what may be federated, for other nodes."""
        return self.stream_name + "_PUBLIC"

    @property
    def federation_stream_name(self) -> str:
        """What this node receives from other nodes."""
        return self.stream_name + "_FEDERATION"

    def partner_stream_name(self, partner: str) -> str:
        """What this node addresses to one partner node."""
        return f"{self.stream_name}_FOR_{stream_token(partner)}"

    def deliver_prefix(self, origin: str) -> str:
        """Where `origin`'s server delivers what this node sources from it (the hub lets
        exactly this prefix of `origin`'s account through to this node's account)."""
        return f"{DELIVER_ROOT}.{self.node_id}.{origin}"

    def service_subjects(self, service: str) -> list[str]:
        """Every event of one of this node's services, once each: region and local subjects."""
        return [
            f"{FEDERATED_ROOT}.{self.region}.{self.node_id}.{service}.>",
            f"{LOCAL_ROOT}.{self.node_id}.{service}.>",
        ]

    def leaf_deny_exports(self) -> list[str]:
        """What the node's leaf link to the hub must never send as plain messages."""
        return [f"{LOCAL_ROOT}.>", f"{PARTNERS_ROOT}.>"]

    def leaf_deny_imports(self) -> list[str]:
        """What the leaf link must never let in: node-local subjects, JetStream API
        requests that name the node stream (reading it, consuming it, sourcing
        it), and any request that changes what the server stores."""
        api = f"$JS.{self.node_id}.API"
        stream = self.stream_name
        return [
            f"{LOCAL_ROOT}.>",
            f"{PARTNERS_ROOT}.>",
            f"{api}.STREAM.*.{stream}",
            f"{api}.STREAM.*.*.{stream}",
            f"{api}.DIRECT.GET.{stream}",
            f"{api}.DIRECT.GET.{stream}.>",
            f"{api}.CONSUMER.*.{stream}",
            f"{api}.CONSUMER.*.{stream}.>",
            f"{api}.CONSUMER.*.*.{stream}",
            f"{api}.CONSUMER.*.*.{stream}.>",
            *(f"{api}.{pattern}" for pattern in MUTATING_API),
        ]

    def _common_stream_settings(self) -> dict:
        from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType

        return dict(
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            allow_direct=True,
        )

    def stream_configs(self) -> list[StreamConfig]:
        from nats.js.api import StreamConfig, StreamSource

        common = self._common_stream_settings()
        return [
            StreamConfig(
                name=self.stream_name,
                subjects=[
                    self.federated_subjects,
                    f"{PARTNERS_ROOT}.{self.node_id}.>",
                    f"{LOCAL_ROOT}.{self.node_id}.>",
                ],
                description=f"Every integration event of node {self.node_id} (stays on the node)",
                # Messages with personal data expire (`personal_ttl`).
                allow_msg_ttl=True,
                **common,
            ),
            StreamConfig(
                name=self.public_stream_name,
                sources=[
                    StreamSource(name=self.stream_name, filter_subject=self.federated_subjects)
                ],
                description=f"Integration events of node {self.node_id} for the whole region",
                max_consumers=self.limits.public_consumers,
                **common,
            ),
        ]

    def partner_stream_config(self, partner: str) -> StreamConfig:
        from nats.js.api import StreamConfig, StreamSource

        return StreamConfig(
            name=self.partner_stream_name(partner),
            sources=[
                StreamSource(
                    name=self.stream_name,
                    filter_subject=f"{PARTNERS_ROOT}.{self.node_id}.{partner}.>",
                )
            ],
            description=f"Integration events of node {self.node_id} for node {partner} only",
            max_consumers=self.limits.partner_consumers,
            **self._common_stream_settings(),
        )

    def federation_stream_config(self, sources: list[StreamSource]) -> StreamConfig:
        from nats.js.api import StreamConfig

        return StreamConfig(
            name=self.federation_stream_name,
            sources=sources or None,
            description=f"What node {self.node_id} receives from other nodes of its region",
            max_bytes=self.limits.max_bytes,
            max_age=self.limits.max_age_days * 86400,
            # Room for the headers the sourcing server adds.
            max_msg_size=self.limits.max_msg_size + 4096,
            **self._common_stream_settings(),
        )

    def public_source(self, other: str, filter_subject: str) -> StreamSource:
        """For the federation stream: part of another node's region-wide events."""
        return self._external_source(
            other, NodeIdentity(other, self.region).public_stream_name, filter_subject
        )

    def addressed_source(self, other: str) -> StreamSource:
        """For the federation stream: everything another node addresses to this one."""
        stream = NodeIdentity(other, self.region).partner_stream_name(self.node_id)
        return self._external_source(other, stream, None)

    def _external_source(self, other: str, stream: str, filter_subject: str | None) -> StreamSource:
        from nats.js.api import ExternalStream, StreamSource

        return StreamSource(
            name=stream,
            filter_subject=filter_subject,
            external=ExternalStream(api=f"$JS.{other}.API", deliver=self.deliver_prefix(other)),
        )


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Creates the stream, or brings an existing one to this configuration."""
    from nats.js.errors import BadRequestError

    try:
        await js.add_stream(config)
    except BadRequestError as error:
        if error.err_code != 10058:  # "stream name already in use with a different configuration"
            raise
        await js.update_stream(config)


async def erase_personal_messages(js: JetStreamManager, identity: NodeIdentity, member: str) -> int:
    """Deletes every message of the node stream with this member's personal data (any
    service's), each overwritten on disk (JetStream's secure erase, the default of a
    message delete). Returns how many went."""
    from nats.js.errors import NotFoundError

    stream, subjects = identity.stream_name, identity.personal_subjects(member)
    erased, sequence = 0, 1
    while True:
        try:
            message = await js.get_msg(stream, seq=sequence, subject=subjects, next=True)
        except NotFoundError:
            return erased
        if message.seq is None:
            return erased
        await js.delete_msg(stream, message.seq)
        erased += 1
        sequence = message.seq + 1


async def ensure_node_streams(js: JetStreamContext, identity: NodeIdentity) -> None:
    for config in identity.stream_configs():
        await ensure_stream(js, config)
