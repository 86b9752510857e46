"""Bearer tokens signed by the node: EdDSA (Ed25519) JSON Web Tokens.

A token names a member (its subject is the member's id) or the node operator,
and expires. The node keeps its signing key in its data directory; services
verify with the public half.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.common.errors import Unauthenticated
from services.common.identity import OPERATOR_SUBJECT, Caller

AUDIENCE = "copnet"
ALGORITHM = "EdDSA"
ROLE_CLAIM = "copnet_role"
CLOCK_SKEW_LEEWAY = timedelta(seconds=60)
DEFAULT_TTL = timedelta(hours=12)
# Verified tokens remembered, so a client's every call does not re-check the signature.
VERIFIED_CACHE_SIZE = 4096


def load_or_create_signing_key(key_file: Path) -> Ed25519PrivateKey:
    """Reads the node's signing key, creating it (mode 0600) on first use."""
    if key_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{key_file} does not hold an Ed25519 private key")
        return key
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Write it whole under another name, then link it into place: of several
    # processes starting together, one key wins and every process reads that one.
    staging = key_file.with_name(f".{key_file.name}.{os.getpid()}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(staging, key_file)
    except FileExistsError:
        return load_or_create_signing_key(key_file)
    finally:
        staging.unlink()
    return key


class TokenAuthority:
    def __init__(
        self,
        node_id: str,
        signing_key: Ed25519PrivateKey | None = None,
        public_key: Ed25519PublicKey | None = None,
    ) -> None:
        if public_key is None:
            if signing_key is None:
                raise ValueError("a token authority needs a signing key or a public key")
            public_key = signing_key.public_key()
        self.node_id = node_id
        self._signing_key = signing_key
        self._public_key = public_key
        self._verified: OrderedDict[str, tuple[Caller, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def issuer(self) -> str:
        return f"copnet:{self.node_id}"

    @classmethod
    def for_node(cls, node_id: str, key_file: Path) -> TokenAuthority:
        return cls(node_id, signing_key=load_or_create_signing_key(key_file))

    def issue(self, subject: str, ttl: timedelta = DEFAULT_TTL) -> str:
        """A token for a member (subject = member id) or for "operator"."""
        if self._signing_key is None:
            raise ValueError("this authority can only verify tokens")
        if subject != OPERATOR_SUBJECT:
            subject = str(uuid.UUID(subject))
        now = datetime.now(tz=UTC)
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            ROLE_CLAIM: "operator" if subject == OPERATOR_SUBJECT else "member",
        }
        return jwt.encode(claims, self._signing_key, algorithm=ALGORITHM)

    def derived_secret(self, purpose: str, length: int = 32) -> bytes:
        """A secret for one purpose (e.g. signing links with HMAC), derived from the node's
        signing key with HKDF-SHA256: the same key gives the same secret in every process
        of the node, a different purpose a different secret, and the secret tells nothing
        of the key. Replacing the key invalidates everything signed with the secret."""
        if self._signing_key is None:
            raise ValueError("this authority can only verify tokens")
        raw = self._signing_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return HKDF(
            algorithm=hashes.SHA256(),
            length=length,
            salt=f"copnet:{self.node_id}".encode(),
            info=purpose.encode(),
        ).derive(raw)

    def verify(self, token: str) -> Caller:
        with self._lock:
            known = self._verified.get(token)
            if known is not None:
                caller, expires = known
                if time.time() < expires + CLOCK_SKEW_LEEWAY.total_seconds():
                    self._verified.move_to_end(token)
                    return caller
                del self._verified[token]
        caller, expires = self._verify_signed(token)
        with self._lock:
            self._verified[token] = (caller, expires)
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return caller

    def _verify_signed(self, token: str) -> tuple[Caller, float]:
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_LEEWAY,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired; get a new one") from None
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"the token is not valid for this node: {error}") from None
        subject = claims["sub"]
        expires = float(claims["exp"])
        if subject == OPERATOR_SUBJECT and claims.get(ROLE_CLAIM) == "operator":
            return Caller.operator(), expires
        try:
            return Caller.member(uuid.UUID(subject)), expires
        except ValueError:
            raise Unauthenticated("the token's subject is not a member id") from None
