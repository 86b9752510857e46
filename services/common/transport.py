"""gRPC transport security of the services: TLS, mutual TLS, and where plain gRPC may listen.

- `ServerTls` turns the node's certificate, key and (for mutual TLS) client CA into
  `grpc.ssl_server_credentials`; `start_server` binds with `add_secure_port`.
- Plain gRPC only on loopback: `check_binding` refuses a non-loopback address without
  TLS (`InsecureBinding`, exit status 2) unless the operator said `--insecure`, and
  then warns at every start.
- `client_certificate(context)` reads the verified client certificate's CN and SANs
  from the call's auth context (mutual TLS), for the Caller.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from services.common.identity import ClientCertificate
from services.common.settings import NodeSettings

if TYPE_CHECKING:  # a supervisor checks the transport without gRPC
    import grpc

log = logging.getLogger(__name__)


class TransportError(ValueError):
    """The node's gRPC transport settings cannot work (the node refuses to start, status 2)."""


class InsecureBinding(TransportError):
    """Plain gRPC asked for on an address other machines can reach."""


@dataclass(frozen=True)
class ServerTls:
    cert_file: Path
    key_file: Path
    # With a client CA: mutual TLS (a client without a certificate it signed is refused).
    client_ca_file: Path | None = None

    @classmethod
    def of(cls, settings: NodeSettings) -> ServerTls | None:
        if settings.tls_cert is None or settings.tls_key is None:
            return None
        return cls(settings.tls_cert, settings.tls_key, settings.client_ca)

    @property
    def mutual(self) -> bool:
        return self.client_ca_file is not None

    def check(self) -> None:
        """Refuses files that cannot serve: unreadable, not PEM, a key not the certificate's."""
        try:
            chain = x509.load_pem_x509_certificates(
                _read(self.cert_file, "the gRPC TLS certificate")
            )
            key = serialization.load_pem_private_key(_read(self.key_file, "the gRPC TLS key"), None)
            if self.client_ca_file is not None:
                x509.load_pem_x509_certificates(_read(self.client_ca_file, "the client CA"))
        except (ValueError, TypeError) as error:
            if isinstance(error, TransportError):
                raise
            raise TransportError(f"the gRPC TLS files do not load: {error}") from None
        public = serialization.PublicFormat.SubjectPublicKeyInfo
        encoding = serialization.Encoding.PEM
        if key.public_key().public_bytes(encoding, public) != chain[0].public_key().public_bytes(
            encoding, public
        ):
            raise TransportError(f"{self.key_file} is not the key of {self.cert_file}")

    def credentials(self) -> grpc.ServerCredentials:
        import grpc

        key = _read(self.key_file, "the gRPC TLS key")
        chain = _read(self.cert_file, "the gRPC TLS certificate")
        roots = _read(self.client_ca_file, "the client CA") if self.client_ca_file else None
        return grpc.ssl_server_credentials(
            [(key, chain)], root_certificates=roots, require_client_auth=roots is not None
        )

    def describe(self) -> str:
        return "mutual TLS" if self.mutual else "TLS"


def _read(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TransportError(f"cannot read {what} {path}: {error.strerror or error}") from None
    if b"-----BEGIN" not in data:
        raise TransportError(f"{what} {path} is not PEM")
    return data


def host_of(address: str) -> str:
    """The host part of `host:port`, `[v6]:port` or `unix:path` (the path for the latter)."""
    if address.startswith(("unix:", "unix-abstract:")):
        return address
    host, _, _ = address.rpartition(":")
    return host.strip("[]")


def is_loopback(address: str) -> bool:
    """Whether only this machine can reach `address` (loopback IPs, localhost, Unix sockets)."""
    host = host_of(address)
    if host.startswith(("unix:", "unix-abstract:")) or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a wildcard ("" / 0.0.0.0 / ::) or a name other machines may resolve


def check_node_transport(settings: NodeSettings, addresses: dict[str, str]) -> None:
    """What `copnet up` checks before it starts anything: the TLS files serve, and no
    service would serve plain gRPC beyond loopback without --insecure."""
    tls = ServerTls.of(settings)
    if tls is not None:
        tls.check()
    for service, address in addresses.items():
        if not (settings.tls or is_loopback(address) or settings.insecure):
            check_binding(service, address, settings)


def check_binding(service: str, address: str, settings: NodeSettings) -> None:
    """Refuses plain gRPC on a non-loopback address unless `insecure`; warns when allowed."""
    if settings.tls or is_loopback(address):
        return
    if not settings.insecure:
        raise InsecureBinding(
            f"{service}: refusing plain gRPC on {address}, which other machines can reach: "
            "give --tls-cert/--tls-key (COPNET_TLS_CERT/COPNET_TLS_KEY; `copnet certs` makes "
            "them), listen on 127.0.0.1, or accept the risk with --insecure (COPNET_INSECURE=1)"
        )
    log.warning(
        "%s serves gRPC WITHOUT TLS on %s (--insecure): bearer tokens and personal data cross "
        "the network in clear",
        service,
        address,
    )


def client_certificate(context: Any) -> ClientCertificate | None:
    """The verified client certificate of a call under mutual TLS (None without one)."""
    try:
        auth = context.auth_context() or {}
    except (AttributeError, RuntimeError):
        return None
    names = [_text(v) for v in auth.get("x509_common_name", [])]
    sans = tuple(_text(v) for v in auth.get("x509_subject_alternative_name", []))
    if not names and not sans:
        return None
    return ClientCertificate(common_name=names[0] if names else "", sans=sans)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
