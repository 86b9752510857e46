"""The demo's clients of running nodes: their public gRPC APIs, nothing else.

A node is reached through a `NodeAccess` (its services' addresses, how to connect
to them (TLS and the CA to trust) and the key file its tokens are signed with, as
the node's operator has them). Calls are
made as the operator or as a member, with request ids derived from what the
call does, so loading the demo twice changes nothing twice.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc

from copnet.events.v1 import events_pb2_grpc
from copnet.learning.v1 import learning_pb2_grpc
from copnet.notify.v1 import notify_pb2_grpc
from copnet.registry.v1 import registry_pb2_grpc
from services.common.channels import ChannelSecurity, open_channel
from services.common.identity import OPERATOR_SUBJECT
from services.common.tokens import TokenAuthority

# How long to wait for a fact to reach a service (the services say "yet" when one has not).
FACT_WAIT_SECONDS = 90.0
CALL_TIMEOUT_SECONDS = 30.0
_NAMESPACE = uuid.UUID("6f1c2b0e-5d4a-4c3b-9a8e-7d6c5b4a3f21")

T = TypeVar("T")


STUBS: dict[str, Callable[[grpc.Channel], Any]] = {
    "registry": registry_pb2_grpc.RegistryServiceStub,
    "events": events_pb2_grpc.EventsServiceStub,
    "learning": learning_pb2_grpc.LearningServiceStub,
    "notify": notify_pb2_grpc.NotifyServiceStub,
}


@dataclass(frozen=True)
class NodeAccess:
    node_id: str
    name: str
    addresses: dict[str, str]
    key_file: Path
    data_dir: Path
    security: ChannelSecurity = field(default_factory=ChannelSecurity.plain)

    def as_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "name": self.name,
            "addresses": dict(self.addresses),
            "key_file": str(self.key_file),
            "data_dir": str(self.data_dir),
            "grpc_tls": self.security.as_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeAccess:
        return cls(
            node_id=data["node_id"],
            name=data.get("name", data["node_id"]),
            addresses=dict(data["addresses"]),
            key_file=Path(data["key_file"]),
            data_dir=Path(data.get("data_dir", "")),
            security=ChannelSecurity.from_json(data.get("grpc_tls")),
        )


class DemoCallFailed(RuntimeError):
    pass


class _NotFound(Exception):
    pass


def _worth_waiting(error: grpc.RpcError) -> bool:
    code, details = error.code(), error.details() or ""
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED):
        return True
    return code == grpc.StatusCode.FAILED_PRECONDITION and "yet" in details


class NodeClient:
    def __init__(self, access: NodeAccess) -> None:
        self.access = access
        self.node_id = access.node_id
        self.authority = TokenAuthority.for_node(access.node_id, access.key_file)
        self._tokens: dict[str, str] = {}
        # The highest log position each service answered a command with: reads that pass it
        # as min_position see everything the demo did.
        self.positions: dict[str, int] = {}
        self._positions_lock = threading.Lock()
        self._channels = {
            service: open_channel(address, access.security)
            for service, address in access.addresses.items()
        }
        self._stubs = {
            service: make(self._channels[service])
            for service, make in STUBS.items()
            if service in self._channels
        }

    def has(self, service: str) -> bool:
        return service in self._stubs

    def token(self, subject: str = OPERATOR_SUBJECT) -> str:
        if subject not in self._tokens:
            self._tokens[subject] = self.authority.issue(subject)
        return self._tokens[subject]

    def request_id(self, *parts: object) -> str:
        """The same call of the demo always carries the same request id."""
        return str(uuid.uuid5(_NAMESPACE, "/".join([self.node_id, *map(str, parts)])))

    def find(self, service: str, method: str, request: Any) -> Any | None:
        """A read that may find nothing (yet): None for NOT_FOUND."""
        try:
            return self.call(service, method, request, not_found_is_none=True)
        except _NotFound:
            return None

    def call(
        self,
        service: str,
        method: str,
        request: Any,
        member: str | None = None,
        not_found_is_none: bool = False,
    ) -> Any:
        """Calls as the operator (or `member`); waits while the service says a fact has not
        reached it yet, or the service is not up yet."""
        stub = getattr(self._stubs[service], method)
        self._see_own_registry_changes(request)
        metadata = [("authorization", f"Bearer {self.token(member or OPERATOR_SUBJECT)}")]
        deadline = time.monotonic() + FACT_WAIT_SECONDS
        while True:
            try:
                reply = stub(request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS)
            except grpc.RpcError as error:
                if not_found_is_none and error.code() == grpc.StatusCode.NOT_FOUND:
                    raise _NotFound from None
                if _worth_waiting(error) and time.monotonic() < deadline:
                    time.sleep(0.25)
                    continue
                raise DemoCallFailed(
                    f"{self.node_id} {service}.{method}: {error.code().name}: {error.details()}"
                ) from None
            position = getattr(reply, "position", 0)
            if isinstance(position, int):
                with self._positions_lock:
                    self.positions[service] = max(position, self.positions.get(service, 0))
            return reply

    def _see_own_registry_changes(self, request: Any) -> None:
        """Read your writes across services: a request to a service that mirrors the registry
        waits for every registry change the demo made (its consistency token)."""
        with self._positions_lock:
            seen = self.positions.get("registry", 0)
        if seen and hasattr(request, "min_registry_position") and not request.min_registry_position:
            request.min_registry_position = seen

    def wait_until(self, what: str, check: Callable[[], T | None]) -> T:
        deadline = time.monotonic() + FACT_WAIT_SECONDS
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise DemoCallFailed(
                    f"{self.node_id}: {what} did not happen within {FACT_WAIT_SECONDS:.0f}s"
                )
            time.sleep(0.25)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
