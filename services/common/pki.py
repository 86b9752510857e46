"""A small private PKI: a region's certificate authority and the certificates it issues.

`copnet hub` keeps one under `<data-dir>/pki/` so that leaf links run over TLS
with nothing to set up: the hub's server certificate and each node's client
certificate come from the region CA, and each node trusts only that CA (never
the public roots). Operators with their own PKI bring their own files instead.

Keys are ECDSA P-256 (what every TLS stack, Go's included, accepts); signatures
SHA-256. Private keys are written 0600, certificates 0644, each file whole
(written beside and renamed into place). The API is general (`issue(name, sans,
usage)`) so that gRPC TLS can use the same CA later.
"""

from __future__ import annotations

import datetime
import enum
import ipaddress
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
LEAF_DAYS = 825
# A certificate this close to its end is issued again.
RENEW_BEFORE = datetime.timedelta(days=30)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class Usage(enum.Enum):
    """What a certificate is for (its extended key usage)."""

    SERVER = "server"
    CLIENT = "client"
    BOTH = "both"

    @property
    def purposes(self) -> list[x509.ObjectIdentifier]:
        server, client = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
        return {"server": [server], "client": [client], "both": [server, client]}[self.value]


@dataclass(frozen=True)
class Issued:
    """A certificate and its key on disk, and the CA that signed it."""

    cert_file: Path
    key_file: Path
    ca_file: Path

    def cert_pem(self) -> str:
        return self.cert_file.read_text()

    def key_pem(self) -> str:
        return self.key_file.read_text()

    def ca_pem(self) -> str:
        return self.ca_file.read_text()


def general_name(san: str) -> x509.GeneralName:
    """An IP address, a URI (it has `://` or starts `urn:`), else a DNS name."""
    try:
        return x509.IPAddress(ipaddress.ip_address(san))
    except ValueError:
        pass
    if "://" in san or san.startswith("urn:"):
        return x509.UniformResourceIdentifier(san)
    return x509.DNSName(san)


def sans_of(cert: x509.Certificate) -> list[str]:
    """A certificate's subject alternative names as strings (in `general_name`'s forms)."""
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(name.value) for name in extension.value]


def usage_of(cert: x509.Certificate) -> Usage | None:
    try:
        purposes = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return None
    for usage in Usage:
        if purposes == set(usage.purposes):
            return usage
    return None


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether `ca` issued `cert` (issuer name and signature both checked)."""
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


class RegionPki:
    """A CA under `directory` (`ca.crt`, `ca.key`), created on first use and reused after,
    and the certificates it issued (`<name>.crt`, `<name>.key`)."""

    def __init__(self, directory: Path, common_name: str = "copnet region CA") -> None:
        self.directory = directory
        self.common_name = common_name
        self._ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def ca_key_file(self) -> Path:
        return self.directory / "ca.key"

    def ca(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """The CA's certificate and key: loaded, or made and written on first use."""
        if self._ca is None:
            if self.ca_file.exists() and self.ca_key_file.exists():
                key = serialization.load_pem_private_key(self.ca_key_file.read_bytes(), None)
                if not isinstance(key, ec.EllipticCurvePrivateKey):
                    raise ValueError(f"{self.ca_key_file} is not an EC private key")
                self._ca = (load_cert(self.ca_file), key)
            else:
                self._ca = self._create_ca()
        return self._ca

    def ca_pem(self) -> str:
        self.ca()
        return self.ca_file.read_text()

    def _create_ca(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.common_name)])
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        write_key(self.ca_key_file, key)  # the key first: a certificate alone is useless
        write_cert(self.ca_file, cert)
        return cert, key

    def paths(self, name: str) -> Issued:
        if not _NAME.match(name) or name == "ca":
            raise ValueError(f"not a certificate name: {name!r}")
        return Issued(self.directory / f"{name}.crt", self.directory / f"{name}.key", self.ca_file)

    def issue(
        self,
        name: str,
        sans: Sequence[str],
        usage: Usage,
        common_name: str = "",
        days: int = LEAF_DAYS,
    ) -> Issued:
        """The certificate `name` for `sans` and `usage`, signed by this CA: the one on disk
        when it still fits (same CA, SANs, usage, and not within RENEW_BEFORE of its end),
        else a new one with a new key."""
        if not sans:
            raise ValueError("a certificate needs at least one subject alternative name")
        paths = self.paths(name)
        ca_cert, ca_key = self.ca()
        if self._still_fits(paths, ca_cert, sans, usage):
            return paths
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name or name)])
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(min(now + datetime.timedelta(days=days), ca_cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usage.purposes), critical=False)
            .add_extension(
                x509.SubjectAlternativeName([general_name(san) for san in sans]), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        write_key(paths.key_file, key)
        write_cert(paths.cert_file, cert)
        return paths

    def server_cert(self, name: str, hosts: Sequence[str]) -> Issued:
        """A server certificate for these host names and IP addresses."""
        return self.issue(name, hosts, Usage.SERVER)

    def client_cert(self, name: str, sans: Sequence[str]) -> Issued:
        return self.issue(name, sans, Usage.CLIENT, common_name=name)

    def _still_fits(
        self, paths: Issued, ca_cert: x509.Certificate, sans: Sequence[str], usage: Usage
    ) -> bool:
        if not (paths.cert_file.exists() and paths.key_file.exists()):
            return False
        try:
            cert = load_cert(paths.cert_file)
        except ValueError:
            return False
        return (
            signed_by(cert, ca_cert)
            and sorted(sans_of(cert)) == sorted(str(general_name(s).value) for s in sans)
            and usage_of(cert) is usage
            and cert.not_valid_after_utc - _now() > RENEW_BEFORE
        )


def write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_file(path, pem, 0o600)


def write_cert(path: Path, cert: x509.Certificate) -> None:
    write_file(path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def write_file(path: Path, data: bytes, mode: int) -> None:
    """Writes `data` whole, with `mode` from the start (never readable by others first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(staging, mode)  # whatever the umask took away
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def _key_usage(ca: bool) -> x509.KeyUsage:
    """A CA signs certificates (and CRLs); an ECDSA end entity signs handshakes."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not ca,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
