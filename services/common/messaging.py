"""NATS subjects, streams and connections of a copnet node.

Subjects:
- `copnet.<region>.<node>.<service>.<event_type>`: integration events that may
  leave the node (captured by the node's stream `COPNET_<NODE>`).
- `copnet-local.<node>.<service>.<event_type>`: events carrying personal data;
  captured by `COPNET_LOCAL_<NODE>`, denied on the node's leaf link to the hub,
  and never sourced by another node.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

log = logging.getLogger(__name__)

FEDERATED_ROOT = "copnet"
LOCAL_ROOT = "copnet-local"
# Long enough to cover a relay restart, so republished events are dropped by the server.
DUPLICATE_WINDOW_SECONDS = 600.0

HEADER_ORIGIN = "copnet-origin"
HEADER_REGION = "copnet-region"
HEADER_SERVICE = "copnet-service"
HEADER_POSITION = "copnet-position"
HEADER_EVENT_TYPE = "copnet-event-type"
HEADER_MSG_ID = "Nats-Msg-Id"


@dataclass(frozen=True)
class NodeIdentity:
    node_id: str
    region: str

    def federated_subject(self, service: str, event_type: str) -> str:
        return f"{FEDERATED_ROOT}.{self.region}.{self.node_id}.{service}.{event_type}"

    def local_subject(self, service: str, event_type: str) -> str:
        return f"{LOCAL_ROOT}.{self.node_id}.{service}.{event_type}"

    @property
    def stream_name(self) -> str:
        return "COPNET_" + self.node_id.upper().replace("-", "_")

    @property
    def local_stream_name(self) -> str:
        return "COPNET_LOCAL_" + self.node_id.upper().replace("-", "_")

    def leaf_deny_exports(self) -> list[str]:
        """What the node's leaf link to the hub must never send."""
        return [f"{LOCAL_ROOT}.>"]

    def leaf_deny_imports(self) -> list[str]:
        """What the leaf link must never let in: node-local subjects, and JetStream
        API requests from across the hub that name the node-local stream (reading
        it, consuming it, or sourcing it into another node's stream)."""
        api = f"$JS.{self.node_id}.API"
        stream = self.local_stream_name
        return [
            f"{LOCAL_ROOT}.>",
            f"{api}.STREAM.*.{stream}",
            f"{api}.STREAM.*.*.{stream}",
            f"{api}.DIRECT.GET.{stream}",
            f"{api}.DIRECT.GET.{stream}.>",
            f"{api}.CONSUMER.*.{stream}",
            f"{api}.CONSUMER.*.{stream}.>",
            f"{api}.CONSUMER.*.*.{stream}",
            f"{api}.CONSUMER.*.*.{stream}.>",
        ]

    def stream_configs(self) -> list[StreamConfig]:
        common = dict(
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            allow_direct=True,
        )
        return [
            StreamConfig(
                name=self.stream_name,
                subjects=[f"{FEDERATED_ROOT}.{self.region}.{self.node_id}.>"],
                description=f"Integration events of node {self.node_id} (may be federated)",
                **common,
            ),
            StreamConfig(
                name=self.local_stream_name,
                subjects=[f"{LOCAL_ROOT}.{self.node_id}.>"],
                description=f"Node-local integration events of {self.node_id} (personal data)",
                **common,
            ),
        ]


async def connect(url: str, name: str, stopping: asyncio.Event | None = None) -> NATS:
    """Connects, retrying with backoff until NATS answers (or `stopping` is set).

    The client then reconnects forever: a daemon must not give up after the
    library's default of 60 attempts.
    """
    delay = 0.1
    while True:
        try:
            return await nats.connect(
                servers=[url],
                name=name,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
            )
        except Exception as error:  # nats-py raises several unrelated types here
            if stopping is not None and stopping.is_set():
                raise
            log.info("NATS at %s not reachable (%s); retrying in %.1fs", url, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Creates the stream, or brings an existing one to this configuration."""
    try:
        await js.add_stream(config)
    except BadRequestError as error:
        if error.err_code != 10058:  # "stream name already in use with a different configuration"
            raise
        await js.update_stream(config)


async def ensure_node_streams(js: JetStreamContext, identity: NodeIdentity) -> None:
    for config in identity.stream_configs():
        await ensure_stream(js, config)
