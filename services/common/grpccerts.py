"""Development certificates for a node's gRPC APIs (`copnet certs`, `copnet demo`).

A CA of the node's own under `<data-dir>/grpc-tls/` (`ca.crt`, `ca.key`, made once,
reused after), a server certificate for the services (`server.crt`/`.key`: localhost,
127.0.0.1, ::1, the listen host and any other names given) and client certificates
(`<name>.crt`/`.key`; `operator` always, which the node's own tools present under
mutual TLS). Issuing again changes nothing unless the names changed or a certificate
nears its end (`RegionPki.issue`). Keys are 0600.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from services.common.pki import Issued, RegionPki, Usage
from services.common.settings import NodeSettings

DIRECTORY = "grpc-tls"
SERVER = "server"
OPERATOR = "operator"
LOOPBACK = ("localhost", "127.0.0.1", "::1")
_WILDCARDS = {"", "0.0.0.0", "::"}


@dataclass(frozen=True)
class NodeCerts:
    directory: Path
    ca_file: Path
    server: Issued
    clients: dict[str, Issued]
    server_names: tuple[str, ...]

    @property
    def operator(self) -> Issued:
        return self.clients[OPERATOR]

    def tls_settings(self, settings: NodeSettings, mutual: bool = False) -> NodeSettings:
        """`settings` serving TLS with these files (mutual TLS too when asked), the node's
        own clients trusting this CA and presenting the operator's certificate."""
        return replace(
            settings,
            tls_cert=self.server.cert_file,
            tls_key=self.server.key_file,
            tls_ca=self.ca_file,
            client_ca=self.ca_file if mutual else None,
            tls_client_cert=self.operator.cert_file if mutual else None,
            tls_client_key=self.operator.key_file if mutual else None,
        )


def server_names(listen_host: str, hosts: Sequence[str] = ()) -> tuple[str, ...]:
    names: list[str] = []
    for name in (*LOOPBACK, listen_host, *hosts):
        name = name.strip().strip("[]")
        if name not in _WILDCARDS and name not in names:
            names.append(name)
    return tuple(names)


def issue_node_certs(
    settings: NodeSettings, hosts: Sequence[str] = (), clients: Sequence[str] = ()
) -> NodeCerts:
    directory = settings.data_dir.resolve() / DIRECTORY
    pki = RegionPki(directory, common_name=f"copnet {settings.node_id} gRPC CA (development)")
    names = server_names(settings.listen_host, hosts)
    server = pki.issue(SERVER, names, Usage.SERVER, common_name=f"{settings.node_id} services")
    issued: dict[str, Issued] = {}
    for client in dict.fromkeys([OPERATOR, *clients]):
        if client in (SERVER, "ca"):
            raise ValueError(f"{client!r} is taken: name client certificates otherwise")
        issued[client] = pki.client_cert(client, [client])
    return NodeCerts(directory, pki.ca_file, server, issued, names)
