"""How the report reaches a node: its services' public gRPC APIs, as the node's operator.

The report is a client like the demo's loader: it holds the node's token-signing key
(the report runs beside the node, or the demo holds every node's), issues itself an
operator token, and reads with `min_position` 0 (what each read model has). It never
opens a store. Who may see which figures is the report's own rule (`access.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc

from copnet.events.v1 import events_pb2_grpc
from copnet.learning.v1 import learning_pb2_grpc
from copnet.registry.v1 import registry_pb2_grpc
from services.common.channels import ChannelSecurity, client_address, open_channel
from services.common.identity import OPERATOR_SUBJECT
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority

CALL_TIMEOUT_SECONDS = 20.0
# Operator tokens are issued for an hour and renewed ten minutes before they expire.
TOKEN_SECONDS = 3600.0
# The services the report reads (notify's figures are not on the page).
READS: dict[str, Callable[[grpc.Channel], Any]] = {
    "registry": registry_pb2_grpc.RegistryServiceStub,
    "events": events_pb2_grpc.EventsServiceStub,
    "learning": learning_pb2_grpc.LearningServiceStub,
}


class SourceUnavailable(RuntimeError):
    """A node's service did not answer: the page says so (503) rather than showing less."""


@dataclass(frozen=True)
class NodeEndpoint:
    """Where a node's services are and how to call them."""

    node_id: str
    name: str
    addresses: dict[str, str]
    key_file: Path
    security: ChannelSecurity = field(default_factory=ChannelSecurity.plain)

    @classmethod
    def of_settings(cls, settings: NodeSettings) -> NodeEndpoint:
        return cls(
            node_id=settings.node_id,
            name=settings.node_id,
            addresses={s: client_address(settings.address(s)) for s in READS},
            key_file=settings.signing_key_file,
            security=ChannelSecurity.of(settings),
        )


class NodeSource:
    """One node's APIs, read as its operator (thread-safe: gRPC channels are)."""

    def __init__(self, endpoint: NodeEndpoint) -> None:
        self.endpoint = endpoint
        self.node_id = endpoint.node_id
        self.authority = TokenAuthority.for_node(endpoint.node_id, endpoint.key_file)
        self._token = ("", 0.0)
        self._channels = {
            service: open_channel(endpoint.addresses[service], endpoint.security)
            for service in READS
            if service in endpoint.addresses
        }
        self._stubs = {service: READS[service](ch) for service, ch in self._channels.items()}

    def _operator_token(self) -> str:
        token, issued = self._token
        if not token or time.monotonic() - issued > TOKEN_SECONDS - 600:
            token = self.authority.issue(OPERATOR_SUBJECT, timedelta(seconds=TOKEN_SECONDS))
            self._token = (token, time.monotonic())
        return token

    def has(self, service: str) -> bool:
        return service in self._stubs

    def call(self, service: str, method: str, request: Any) -> Any:
        stub = getattr(self._stubs[service], method)
        metadata = [("authorization", f"Bearer {self._operator_token()}")]
        try:
            return stub(request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            raise SourceUnavailable(
                f"{self.node_id} {service}.{method}: {error.code().name}: {error.details()}"
            ) from None

    def pages(self, service: str, method: str, request: Any, field_name: str) -> list[Any]:
        """Every page of a list call."""
        results: list[Any] = []
        while True:
            reply = self.call(service, method, request)
            results.extend(getattr(reply, field_name))
            if not reply.next_page_token:
                return results
            request.page_token = reply.next_page_token

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
