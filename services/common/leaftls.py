"""Leaf links over TLS: the hub's listener, and what each node is handed to trust it.

The hub either keeps its own region CA (`<data-dir>/pki/`, `services/common/pki.py`)
that issues the hub's server certificate and a client certificate per node,
and then requires those client certificates; or it serves with the operator's
certificate, key and CA (nodes then prove who they are with their leaf
credentials only). Either way each node trusts only the CA it is handed, never
the public roots, and checks the hub's name against the certificate.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.common.natsserver import TlsConfig
from services.common.pki import RegionPki, write_file

HUB_CERT_NAME = "hub-leaf"
_UNSPECIFIED = {"", "0.0.0.0", "::"}


@dataclass(frozen=True)
class LeafTls:
    """The TLS part of a node's hub credentials (PEM text): the CA that signed the hub's
    certificate, and the node's client certificate and key when the hub issues them."""

    ca_pem: str
    cert_pem: str = ""
    key_pem: str = ""

    def to_json(self) -> dict[str, str]:
        data = {"ca_pem": self.ca_pem}
        if self.cert_pem:
            data |= {"cert_pem": self.cert_pem, "key_pem": self.key_pem}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> LeafTls:
        return cls(data["ca_pem"], data.get("cert_pem", ""), data.get("key_pem", ""))

    def write(self, directory: Path) -> TlsConfig:
        """Writes the PEMs under `directory` (the key 0600) and returns the remote's `tls`."""
        ca_file = directory / "hub-ca.crt"
        write_file(ca_file, self.ca_pem.encode(), 0o644)
        if not self.cert_pem:
            return TlsConfig(ca_file=ca_file)
        cert_file, key_file = directory / "client.crt", directory / "client.key"
        write_file(key_file, self.key_pem.encode(), 0o600)
        write_file(cert_file, self.cert_pem.encode(), 0o644)
        return TlsConfig(ca_file=ca_file, cert_file=cert_file, key_file=key_file)


@dataclass(frozen=True)
class HubLeafTls:
    """The hub's leaf listener `tls` block, and the region CA when the hub keeps one."""

    listener: TlsConfig
    ca_pem: str
    pki: RegionPki | None = None

    def for_node(self, node_id: str, region: str) -> LeafTls:
        """What goes into a node's credentials: the CA, and (with the hub's own CA) a client
        certificate naming the node (CN and DNS = node id, URI copnet://<region>/nodes/<id>)."""
        if self.pki is None:
            return LeafTls(self.ca_pem)
        issued = self.pki.client_cert(
            f"node-{node_id}", [node_id, f"copnet://{region}/nodes/{node_id}"]
        )
        return LeafTls(self.ca_pem, issued.cert_pem(), issued.key_pem())


def hub_leaf_tls(
    pki_dir: Path,
    region: str,
    hosts: Sequence[str],
    cert_file: Path | None = None,
    key_file: Path | None = None,
    ca_file: Path | None = None,
) -> HubLeafTls:
    """The operator's certificate, key and CA when given (all three); else the region CA
    under `pki_dir` (made on first use) and a server certificate for `hosts`, with client
    certificates required."""
    given = [cert_file, key_file, ca_file]
    if any(given):
        if not (cert_file and key_file and ca_file):
            raise ValueError("bring the hub's certificate, its key and the CA together")
        for path in (cert_file, key_file, ca_file):
            if not path.is_file():
                raise ValueError(f"no such file: {path}")
        listener = TlsConfig(ca_file=ca_file, cert_file=cert_file, key_file=key_file)
        return HubLeafTls(listener, ca_file.read_text())
    pki = RegionPki(pki_dir, f"copnet region {region} CA")
    issued = pki.server_cert(HUB_CERT_NAME, hosts)
    listener = TlsConfig(
        ca_file=issued.ca_file, cert_file=issued.cert_file, key_file=issued.key_file, verify=True
    )
    return HubLeafTls(listener, pki.ca_pem(), pki)


def hub_hosts(listen_host: str, public_host: str = "") -> list[str]:
    """The names the hub's certificate must carry: how nodes reach it (the public host,
    the listen host), and the loopback names when it listens there or everywhere."""
    hosts = [h for h in (public_host, listen_host) if h not in _UNSPECIFIED]
    everywhere = listen_host in _UNSPECIFIED
    if everywhere:
        hosts.append(socket.gethostname())
    if everywhere or any(_loopback(h) for h in hosts):
        hosts += ["localhost", "127.0.0.1", "::1"]
    return list(dict.fromkeys(hosts))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
