"""One way to reach a node's gRPC services: secure when the node serves TLS.

    with node_channel(settings, "registry") as channel: ...

`ChannelSecurity` says how: plain, or TLS trusting `ca_file` (the system roots when
None), with a client certificate and key under mutual TLS. `of(settings)` reads it
from the node's settings (`COPNET_TLS_CA`, `COPNET_TLS_CLIENT_CERT`/`_KEY`), so every
client in the project (the node's readiness check, the demo, the benches, the tests)
connects the way the node serves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.common.settings import NodeSettings
from services.common.settings import client_address as client_address

if TYPE_CHECKING:  # imported where a channel is opened: a supervisor reads ChannelSecurity
    import grpc


@dataclass(frozen=True)
class ChannelSecurity:
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @classmethod
    def plain(cls) -> ChannelSecurity:
        return cls()

    @classmethod
    def of(cls, settings: NodeSettings) -> ChannelSecurity:
        """How the node's own clients reach its services."""
        if not settings.tls:
            return cls()
        return cls(True, settings.tls_ca, settings.tls_client_cert, settings.tls_client_key)

    def credentials(self) -> grpc.ChannelCredentials:
        import grpc

        def read(path: Path | None) -> bytes | None:
            return path.read_bytes() if path is not None else None

        return grpc.ssl_channel_credentials(
            root_certificates=read(self.ca_file),
            private_key=read(self.key_file),
            certificate_chain=read(self.cert_file),
        )

    def as_json(self) -> dict[str, Any]:
        def text(path: Path | None) -> str:
            return str(path) if path is not None else ""

        return {
            "tls": self.tls,
            "ca_file": text(self.ca_file),
            "cert_file": text(self.cert_file),
            "key_file": text(self.key_file),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ChannelSecurity:
        if not data:
            return cls()

        def path(name: str) -> Path | None:
            return Path(data[name]) if data.get(name) else None

        return cls(bool(data.get("tls")), path("ca_file"), path("cert_file"), path("key_file"))


def open_channel(
    address: str,
    security: ChannelSecurity,
    options: list[tuple[str, Any]] | None = None,
) -> grpc.Channel:
    import grpc

    target = client_address(address)
    if not security.tls:
        return grpc.insecure_channel(target, options=options)
    return grpc.secure_channel(target, security.credentials(), options=options)


def open_aio_channel(
    address: str,
    security: ChannelSecurity,
    options: list[tuple[str, Any]] | None = None,
) -> grpc.aio.Channel:
    import grpc

    target = client_address(address)
    if not security.tls:
        return grpc.aio.insecure_channel(target, options=options)
    return grpc.aio.secure_channel(target, security.credentials(), options=options)


def node_channel(settings: NodeSettings, service: str) -> grpc.Channel:
    """A channel to one of the node's services, as the node serves it."""
    return open_channel(settings.address(service), ChannelSecurity.of(settings))


def wait_serving(
    address: str, timeout: float, service: str = "", security: ChannelSecurity | None = None
) -> bool:
    """Waits until a gRPC server reports SERVING for `service` ("" = the process is up),
    over TLS when `security` says so."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    with open_channel(address, security or ChannelSecurity.plain()) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                request = health_pb2.HealthCheckRequest(service=service)
                # types-grpcio-health-checking declares HealthStub without its methods.
                response = stub.Check(request, timeout=1)  # type: ignore[attr-defined]
                if response.status == health_pb2.HealthCheckResponse.SERVING:
                    return True
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    return False
