"""The node's token keys, revocations and link secrets, as files in its secrets directory.

- `token-signing-key.pem`: the current Ed25519 private key (0600). Only what issues
  tokens reads it: `copnet token`, `copnet keys`, the demo's loader.
- `token-verification-keys.json`: every public key a token may be signed with, each under
  its `kid` (the current key first). The services verify with these only. Rotating the
  signing key adds a key here; the old one keeps verifying until it is removed.
- `token-revocations.json`: revoked token ids (`jti`, with their expiry, after which they
  are dropped) and subjects revoked up to a time ("every token of member X issued before T").
- `unsubscribe-secrets.json`: the HMAC secrets of unsubscribe links (the current one
  first; older ones still verify links in mail already sent until they are retired).
  Apart from the signing key: rotating one never breaks the other.

Every file is written whole with mode 0600 (`pki.write_file`) under an exclusive lock of
the directory, so two commands never lose each other's change. Readers re-read a file when
it changes (`WatchedFile`, at most once a second), so running services follow a rotation
or a revocation without a restart.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.common.pki import write_file

T = TypeVar("T")

# How often a reader looks at a file for a change.
RECHECK_EVERY = 1.0
# Before unsubscribe secrets had a file of their own they were derived from the signing
# key; a data directory that had one starts with that secret, so old links keep working.
LEGACY_UNSUBSCRIBE_PURPOSE = "notify-unsubscribe-v1"
DEFAULT_SIGNING_KEY = "token-signing-key.pem"


@dataclass(frozen=True)
class KeyFiles:
    """Where a node keeps its token keys and link secrets."""

    signing_key: Path
    verification_keys: Path
    revocations: Path
    unsubscribe_secrets: Path

    @classmethod
    def beside(cls, signing_key: Path) -> KeyFiles:
        """The node's files beside its signing key (`token-signing-key.pem`: the default
        names; another key file's name prefixes them, so two keys never share them)."""
        directory = signing_key.parent
        prefix = "" if signing_key.name == DEFAULT_SIGNING_KEY else f"{signing_key.stem}."
        return cls(
            signing_key=signing_key,
            verification_keys=directory / f"{prefix}token-verification-keys.json",
            revocations=directory / f"{prefix}token-revocations.json",
            unsubscribe_secrets=directory / f"{prefix}unsubscribe-secrets.json",
        )

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive use of the directory's files (across processes)."""
        directory = self.signing_key.parent
        directory.mkdir(parents=True, exist_ok=True)
        lock = directory / f".{self.signing_key.name}.lock"
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A key's `kid`: the first 12 bytes of SHA-256 over its raw bytes, base64url."""
    digest = hashlib.sha256(public_key.public_bytes_raw()).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_file(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), 0o600)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    value = json.loads(path.read_bytes() or b"{}")
    if not isinstance(value, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return value


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def read_signing_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


# Verification keys


def parse_verification_keys(data: bytes | None) -> dict[str, Ed25519PublicKey]:
    """kid -> public key, in the file's order (the current key first)."""
    if not data:
        return {}
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in json.loads(data).get("keys", []):
        keys[entry["kid"]] = Ed25519PublicKey.from_public_bytes(
            base64.b64decode(entry["public_key"])
        )
    return keys


def _add_verification_key(files: KeyFiles, key: Ed25519PublicKey) -> None:
    """Puts `key` first among the verification keys (keeping the others)."""
    entries = [
        e for e in _read_json(files.verification_keys).get("keys", []) if e["kid"] != key_id(key)
    ]
    entry = {"kid": key_id(key), "public_key": _b64(key.public_bytes_raw()), "added": time.time()}
    _write_json(files.verification_keys, {"keys": [entry, *entries]})


def ensure_keys(files: KeyFiles) -> None:
    """The signing key (created on first use) and its public key among the verification
    keys. Idempotent; what a node's supervisor runs before starting its services."""
    with files.locked():
        if files.signing_key.exists():
            public = read_signing_key(files.signing_key).public_key()
        else:
            key = Ed25519PrivateKey.generate()
            write_file(files.signing_key, _private_pem(key), 0o600)
            public = key.public_key()
        if key_id(public) not in parse_verification_keys(_bytes(files.verification_keys)):
            _add_verification_key(files, public)


def rotate_signing_key(files: KeyFiles) -> str:
    """A new signing key; the old one keeps verifying until removed. Returns the new kid.
    The public key is listed before the private key is replaced, so no token is ever
    signed with a key the services do not know."""
    ensure_keys(files)
    with files.locked():
        key = Ed25519PrivateKey.generate()
        _add_verification_key(files, key.public_key())
        write_file(files.signing_key, _private_pem(key), 0o600)
        return key_id(key.public_key())


def remove_verification_key(files: KeyFiles, kid: str) -> None:
    """Tokens signed with `kid` stop verifying. The current signing key cannot be removed."""
    with files.locked():
        current = key_id(read_signing_key(files.signing_key).public_key())
        if kid == current:
            raise ValueError(f"{kid} is the current signing key: rotate first")
        entries = _read_json(files.verification_keys).get("keys", [])
        kept = [e for e in entries if e["kid"] != kid]
        if len(kept) == len(entries):
            raise ValueError(f"no verification key {kid}")
        _write_json(files.verification_keys, {"keys": kept})


def list_verification_keys(files: KeyFiles) -> list[dict[str, Any]]:
    return list(_read_json(files.verification_keys).get("keys", []))


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


# Revocations


@dataclass(frozen=True)
class Revocations:
    tokens: dict[str, float]  # jti -> the token's expiry (dropped once past)
    subjects: dict[str, float]  # subject -> tokens issued before this time are revoked

    def revoked(self, jti: str, subject: str, issued_at: float) -> bool:
        if jti in self.tokens:
            return True
        before = self.subjects.get(subject)
        return before is not None and issued_at < before


def parse_revocations(data: bytes | None) -> Revocations:
    raw = json.loads(data) if data else {}
    return Revocations(
        tokens={str(k): float(v) for k, v in raw.get("tokens", {}).items()},
        subjects={str(k): float(v) for k, v in raw.get("subjects", {}).items()},
    )


def revoke(
    files: KeyFiles,
    jti: str | None = None,
    expires: float | None = None,
    subject: str | None = None,
    before: float | None = None,
) -> None:
    """Revokes one token (by `jti`, remembered until `expires`), or every token of `subject`
    issued before `before` (now by default)."""
    with files.locked():
        current = parse_revocations(_bytes(files.revocations))
        now = time.time()
        tokens = {k: v for k, v in current.tokens.items() if v > now - 3600}
        subjects = dict(current.subjects)
        if jti:
            tokens[jti] = expires if expires is not None else now + 400 * 86400
        if subject:
            subjects[subject] = max(subjects.get(subject, 0.0), before or now)
        _write_json(files.revocations, {"tokens": tokens, "subjects": subjects})


# Unsubscribe-link secrets


def parse_link_secrets(data: bytes | None) -> list[bytes]:
    """The secrets, the current one first."""
    if not data:
        return []
    return [base64.b64decode(e["secret"]) for e in json.loads(data).get("secrets", [])]


def _secret_entry(secret: bytes) -> dict[str, Any]:
    return {"id": hashlib.sha256(secret).hexdigest()[:12], "secret": _b64(secret)}


def ensure_link_secrets(files: KeyFiles, node_id: str) -> None:
    """The unsubscribe-link secrets, created on first use: from the signing key as links
    were signed before they had a file of their own (old mail keeps working), else new."""
    with files.locked():
        if files.unsubscribe_secrets.exists():
            return
        if files.signing_key.exists():
            secret = _legacy_link_secret(files, node_id)
        else:
            secret = secrets.token_bytes(32)
        _write_json(files.unsubscribe_secrets, {"secrets": [_secret_entry(secret)]})


def _legacy_link_secret(files: KeyFiles, node_id: str) -> bytes:
    raw = read_signing_key(files.signing_key).private_bytes_raw()
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=f"copnet:{node_id}".encode(),
        info=LEGACY_UNSUBSCRIBE_PURPOSE.encode(),
    ).derive(raw)


def rotate_link_secrets(files: KeyFiles, keep: int = 2) -> str:
    """A new current secret; the newest `keep - 1` older ones keep verifying links."""
    with files.locked():
        entries = _read_json(files.unsubscribe_secrets).get("secrets", [])
        entry = _secret_entry(secrets.token_bytes(32))
        _write_json(files.unsubscribe_secrets, {"secrets": [entry, *entries][: max(keep, 1)]})
        return str(entry["id"])


# Readers


class WatchedFile(Generic[T]):
    """A file's parsed content, parsed again when the file changes (looked at most once
    every `recheck` seconds). A file that fails to parse keeps the last good content."""

    def __init__(
        self, path: Path, parse: Callable[[bytes | None], T], recheck: float = RECHECK_EVERY
    ) -> None:
        self.path = path
        self._parse = parse
        self._recheck = recheck
        self._lock = threading.Lock()
        # The stamp before the content: a change in between is seen at the next look.
        self._stamp: tuple[int, int, int] | None = self._stat()
        self._value = parse(_bytes(path))
        self._checked = time.monotonic()
        self.changes = 0

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            s = self.path.stat()
        except FileNotFoundError:
            return None
        return (s.st_mtime_ns, s.st_size, s.st_ino)

    def get(self) -> T:
        now = time.monotonic()
        if now - self._checked < self._recheck:
            return self._value
        with self._lock:
            self._checked = now
            stamp = self._stat()
            if stamp != self._stamp:
                try:
                    self._value = self._parse(_bytes(self.path))
                    self._stamp = stamp  # taken before the read, as above
                    self.changes += 1
                except (ValueError, KeyError, TypeError):
                    pass  # half-written by hand: keep the last good one, look again later
            return self._value


def link_secret_reader(files: KeyFiles, node_id: str) -> Callable[[], list[bytes]]:
    """The unsubscribe-link secrets as a service reads them (following rotations). A node's
    supervisor creates the file before its services start; without one, it is made here."""
    fixed: list[bytes] = []
    if not files.unsubscribe_secrets.exists():
        try:
            ensure_link_secrets(files, node_id)
        except OSError:  # a read-only mount of the signing key alone: the derived secret
            if not files.signing_key.exists():
                raise
            fixed = [_legacy_link_secret(files, node_id)]
    watched = WatchedFile(files.unsubscribe_secrets, parse_link_secrets)
    return lambda: watched.get() or fixed


# The node's secret: the root of secrets a service derives for one purpose (e.g. the events
# service's evidence keys), apart from the token signing key so the services never need it.


def node_secret_file(files: KeyFiles) -> Path:
    return files.signing_key.with_name(
        files.verification_keys.name.replace("token-verification-keys.json", "node-secret.bin")
    )


def node_secret_reader(files: KeyFiles, node_id: str) -> Callable[[str], bytes]:
    """`derive(purpose)`: 32 bytes for one purpose, HKDF-SHA256 of the node's secret (made
    on first use, 0600). Where it cannot be written (a read-only mount of the signing key
    alone), the secret is derived from the signing key, as before it had a file."""
    path = node_secret_file(files)
    if not path.exists():
        try:
            with files.locked():
                if not path.exists():
                    write_file(path, secrets.token_bytes(32), 0o600)
        except OSError:
            if not files.signing_key.exists():
                raise
    root = (
        path.read_bytes()
        if path.exists()
        else read_signing_key(files.signing_key).private_bytes_raw()
    )

    def derive(purpose: str, length: int = 32) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(),
            length=length,
            salt=f"copnet:{node_id}".encode(),
            info=purpose.encode(),
        ).derive(root)

    return derive
