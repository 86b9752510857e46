"""The region CA (services/common/pki.py): real keys and certificates, checked with real TLS."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.common.leaftls import hub_hosts
from services.common.pki import RegionPki, Usage, load_cert, sans_of, signed_by


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_ca_is_made_once_and_reused(tmp_path: Path):
    pki = RegionPki(tmp_path / "pki", "copnet region test CA")
    cert, key = pki.ca()
    assert isinstance(key.curve, ec.SECP256R1)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime > datetime.timedelta(days=9 * 365)
    assert mode(pki.ca_key_file) == 0o600 and mode(pki.ca_file) == 0o644

    again = RegionPki(tmp_path / "pki")
    assert again.ca()[0] == cert
    assert again.ca_pem() == pki.ca_file.read_text()


def test_issued_certificates_carry_what_was_asked_and_the_ca_signs_them(tmp_path: Path):
    pki = RegionPki(tmp_path / "pki")
    server = pki.server_cert("hub-leaf", ["hub.example.nhs.uk", "10.0.0.7", "::1"])
    client = pki.client_cert("node-guys", ["guys", "copnet://south-east-london/nodes/guys"])
    ca = load_cert(pki.ca_file)
    for issued, usage in ((server, ExtendedKeyUsageOID.SERVER_AUTH), (client, None)):
        cert = load_cert(issued.cert_file)
        assert signed_by(cert, ca)
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert mode(issued.key_file) == 0o600 and mode(issued.cert_file) == 0o644
        if usage:
            assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
                usage
            ]
    assert sans_of(load_cert(server.cert_file)) == ["hub.example.nhs.uk", "10.0.0.7", "::1"]
    client_cert = load_cert(client.cert_file)
    assert sans_of(client_cert) == ["guys", "copnet://south-east-london/nodes/guys"]
    assert client_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ("node-guys")
    eku = client_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    other = RegionPki(tmp_path / "other")
    other.ca()
    assert not signed_by(load_cert(server.cert_file), load_cert(other.ca_file))


def test_a_certificate_is_reused_until_its_names_usage_or_end_change(tmp_path: Path):
    pki = RegionPki(tmp_path / "pki")
    first = pki.issue("svc", ["a.example", "127.0.0.1"], Usage.SERVER).cert_pem()
    assert pki.issue("svc", ["127.0.0.1", "a.example"], Usage.SERVER).cert_pem() == first
    assert RegionPki(tmp_path / "pki").issue("svc", ["a.example", "127.0.0.1"], Usage.SERVER)
    assert pki.paths("svc").cert_pem() == first

    renamed = pki.issue("svc", ["b.example"], Usage.SERVER).cert_pem()
    assert renamed != first and sans_of(load_cert(pki.paths("svc").cert_file)) == ["b.example"]
    both = pki.issue("svc", ["b.example"], Usage.BOTH).cert_pem()
    assert both != renamed

    short = pki.issue("soon", ["c.example"], Usage.SERVER, days=10).cert_pem()
    assert pki.issue("soon", ["c.example"], Usage.SERVER).cert_pem() != short  # near its end


def test_names_and_sans_are_checked(tmp_path: Path):
    pki = RegionPki(tmp_path / "pki")
    for name in ("../x", "ca", "", "a/b"):
        with pytest.raises(ValueError):
            pki.issue(name, ["x"], Usage.SERVER)
    with pytest.raises(ValueError):
        pki.issue("x", [], Usage.SERVER)


def test_a_tls_handshake_with_client_certificates_succeeds_and_fails_as_it_should(
    tmp_path: Path,
):
    pki = RegionPki(tmp_path / "pki")
    server = pki.server_cert("hub-leaf", hub_hosts("127.0.0.1"))
    client = pki.client_cert("node-guys", ["guys"])
    stranger = RegionPki(tmp_path / "other").client_cert("node-guys", ["guys"])

    def handshake(cert_file: Path, key_file: Path) -> str:
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(server.cert_file, server.key_file)
        server_context.load_verify_locations(pki.ca_file)
        server_context.verify_mode = ssl.CERT_REQUIRED
        client_context = ssl.create_default_context(cafile=str(pki.ca_file))
        client_context.load_cert_chain(cert_file, key_file)
        listener = socket.create_server(("127.0.0.1", 0))
        peer: list[str] = []

        def serve() -> None:
            connection, _ = listener.accept()
            try:
                with server_context.wrap_socket(connection, server_side=True) as tls:
                    subject = dict(item[0] for item in tls.getpeercert()["subject"])  # type: ignore[index]
                    peer.append(subject["commonName"])
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError):
                peer.append("refused")

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with (
                socket.create_connection(listener.getsockname()) as raw,
                client_context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
            ):
                tls.recv(2)
        except (ssl.SSLError, OSError):
            pass
        finally:
            thread.join(10)
            listener.close()
        return peer[0]

    assert handshake(client.cert_file, client.key_file) == "node-guys"
    assert handshake(stranger.cert_file, stranger.key_file) == "refused"


def test_the_hubs_names_cover_how_nodes_reach_it():
    assert hub_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "::1"]
    assert hub_hosts("10.1.2.3", "hub.example.nhs.uk") == ["hub.example.nhs.uk", "10.1.2.3"]
    everywhere = hub_hosts("0.0.0.0", "hub.example.nhs.uk")
    assert everywhere[0] == "hub.example.nhs.uk" and socket.gethostname() in everywhere
