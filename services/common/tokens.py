"""Bearer tokens signed by the node: EdDSA (Ed25519) JSON Web Tokens.

A token names a member (its subject is the member's id) or a named node operator
(subject "operator", the person's name in `copnet_operator`), carries the `kid` of the
key that signed it and a `jti`, and expires within the node's limit for its role
(`TokenLimits`: 12 hours for members, 30 days for operators by default); a token that
lives longer is refused when issued and when shown. The services verify with public
keys only (`services.common.keyring`: several keys, so the signing key can be rotated
with an overlap) and refuse revoked tokens (by `jti`, or every token of a subject
issued before a time).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from services.common.errors import Unauthenticated
from services.common.identity import OPERATOR_SUBJECT, Caller
from services.common.keyring import (
    KeyFiles,
    Revocations,
    WatchedFile,
    ensure_keys,
    key_id,
    parse_revocations,
    parse_verification_keys,
    read_signing_key,
)
from services.common.settings import TokenLimits as TokenLimits

log = logging.getLogger(__name__)

AUDIENCE = "copnet"
ALGORITHM = "EdDSA"
ROLE_CLAIM = "copnet_role"
OPERATOR_NAME_CLAIM = "copnet_operator"
CLOCK_SKEW_LEEWAY = timedelta(seconds=60)
DEFAULT_TTL = timedelta(hours=12)
# Verified tokens remembered, so a client's every call does not re-check the signature.
VERIFIED_CACHE_SIZE = 4096
OPERATOR_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")


class TokenLifetimeError(ValueError):
    """A token asked for longer than the node allows."""


def parse_operator_name(name: str) -> str:
    if not OPERATOR_NAME.fullmatch(name):
        raise ValueError(
            "an operator's name is lower-case letters, digits, '.', '_' or '-' "
            f"(at most 40), e.g. alice: {name!r}"
        )
    return name


def _ensure(files: KeyFiles) -> dict[str, Ed25519PublicKey] | None:
    """The key files made complete; where they cannot be written (a read-only mount of
    the signing key alone, as older deployments have), the signing key's public half,
    held in memory (None when the files are complete)."""
    try:
        ensure_keys(files)
        return None
    except OSError as error:
        if not files.signing_key.exists():
            raise
        log.warning(
            "cannot write %s (%s): verifying with the signing key's public half; give the "
            "services the verification keys file (copnet keys) instead of the private key",
            files.verification_keys,
            error,
        )
        public = read_signing_key(files.signing_key).public_key()
        return {key_id(public): public}


def load_or_create_signing_key(key_file: Path) -> Ed25519PrivateKey:
    """Reads the node's signing key, creating it (mode 0600, with its public key among the
    verification keys) on first use."""
    ensure_keys(KeyFiles.beside(key_file))
    return read_signing_key(key_file)


@dataclass(frozen=True)
class _Verified:
    caller: Caller
    expires: float
    jti: str
    issued_at: float
    kid: str


class TokenAuthority:
    def __init__(
        self,
        node_id: str,
        signing_key: Ed25519PrivateKey | None = None,
        public_key: Ed25519PublicKey | None = None,
        *,
        keys: Callable[[], dict[str, Ed25519PublicKey]] | None = None,
        revocations: Callable[[], Revocations] | None = None,
        limits: TokenLimits | None = None,
    ) -> None:
        if keys is None:
            known = public_key or (signing_key.public_key() if signing_key else None)
            if known is None:
                raise ValueError("a token authority needs a signing key or public keys")
            fixed = {key_id(known): known}
            keys = lambda: fixed  # noqa: E731
        self.node_id = node_id
        self.limits = limits or TokenLimits()
        self._signing_key = signing_key
        self._keys = keys
        self._revocations = revocations or (lambda: Revocations({}, {}))
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def issuer(self) -> str:
        return f"copnet:{self.node_id}"

    @classmethod
    def for_node(
        cls, node_id: str, key_file: Path, limits: TokenLimits | None = None
    ) -> TokenAuthority:
        """An authority that issues (it reads the private signing key) and verifies."""
        files = KeyFiles.beside(key_file)
        fixed = _ensure(files)
        return cls._watching(node_id, files, read_signing_key(key_file), limits, fixed)

    @classmethod
    def verifier(
        cls, node_id: str, files: KeyFiles, limits: TokenLimits | None = None
    ) -> TokenAuthority:
        """An authority that only verifies: it reads the public keys and the revocations,
        never the private key (a node's supervisor creates the keys before its services
        start; without one, they are created here on first use)."""
        fixed = None
        if not files.verification_keys.exists():
            fixed = _ensure(files)
        return cls._watching(node_id, files, None, limits, fixed)

    @classmethod
    def for_services(cls, settings: Any) -> TokenAuthority:
        """A service's verifier, from its `NodeSettings`."""
        return cls.verifier(settings.node_id, settings.key_files, settings.token_limits)

    @classmethod
    def _watching(
        cls,
        node_id: str,
        files: KeyFiles,
        signing_key: Ed25519PrivateKey | None,
        limits: TokenLimits | None,
        fixed: dict[str, Ed25519PublicKey] | None = None,
    ) -> TokenAuthority:
        watched = WatchedFile(files.verification_keys, parse_verification_keys)
        revocations = WatchedFile(files.revocations, parse_revocations)

        def with_fixed() -> dict[str, Ed25519PublicKey]:
            return {**(fixed or {}), **watched.get()}

        keys = with_fixed if fixed else watched.get
        return cls(node_id, signing_key, keys=keys, revocations=revocations.get, limits=limits)

    def issue(self, subject: str, ttl: timedelta | None = None, name: str = "") -> str:
        """A token for a member (subject = member id) or for "operator" (with the person's
        `name`, recorded as the actor of what they do). Raises TokenLifetimeError for a
        `ttl` over the node's limit for the role."""
        if self._signing_key is None:
            raise ValueError("this authority can only verify tokens")
        operator = subject == OPERATOR_SUBJECT
        if not operator:
            subject = str(uuid.UUID(subject))
        limit = self.limits.max_ttl(operator)
        ttl = min(DEFAULT_TTL, limit) if ttl is None else ttl
        if ttl > limit:
            role = "an operator's" if operator else "a member's"
            raise TokenLifetimeError(f"{role} token lives at most {_span(limit)} on this node")
        now = datetime.now(tz=UTC)
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            ROLE_CLAIM: "operator" if operator else "member",
        }
        if operator and name:
            claims[OPERATOR_NAME_CLAIM] = parse_operator_name(name)
        kid = key_id(self._signing_key.public_key())
        return jwt.encode(claims, self._signing_key, algorithm=ALGORITHM, headers={"kid": kid})

    def verify(self, token: str) -> Caller:
        with self._lock:
            known = self._verified.get(token)
            if known is not None:
                if (
                    time.time() < known.expires + CLOCK_SKEW_LEEWAY.total_seconds()
                    and known.kid in self._keys()
                ):
                    self._verified.move_to_end(token)
                else:
                    del self._verified[token]
                    known = None
        if known is None:
            known = self._verify_signed(token)
            with self._lock:
                self._verified[token] = known
                if len(self._verified) > VERIFIED_CACHE_SIZE:
                    self._verified.popitem(last=False)
        if self._revocations().revoked(known.jti, known.caller.actor, known.issued_at):
            raise Unauthenticated("the token has been revoked; get a new one")
        return known.caller

    def _verify_signed(self, token: str) -> _Verified:
        keys = self._keys()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"the token is not valid for this node: {error}") from None
        key = keys.get(kid) if isinstance(kid, str) else None
        if key is None or not isinstance(kid, str):
            raise Unauthenticated("the token was not signed with a key this node accepts")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_LEEWAY,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired; get a new one") from None
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"the token is not valid for this node: {error}") from None
        subject = claims["sub"]
        expires, issued_at = float(claims["exp"]), float(claims["iat"])
        operator = subject == OPERATOR_SUBJECT and claims.get(ROLE_CLAIM) == "operator"
        limit = self.limits.max_ttl(operator)
        if expires - issued_at > (limit + CLOCK_SKEW_LEEWAY).total_seconds():
            raise Unauthenticated(
                f"the token lives longer than this node allows ({_span(limit)}); get a new one"
            )
        jti = str(claims["jti"])
        if operator:
            name = claims.get(OPERATOR_NAME_CLAIM, "")
            try:
                caller = Caller.operator(parse_operator_name(name) if name else "")
            except (ValueError, TypeError):
                raise Unauthenticated("the token's operator name is not valid") from None
            return _Verified(caller, expires, jti, issued_at, kid)
        try:
            caller = Caller.member(uuid.UUID(subject))
        except (ValueError, TypeError, AttributeError):
            raise Unauthenticated("the token's subject is not a member id") from None
        return _Verified(caller, expires, jti, issued_at, kid)


def _span(limit: timedelta) -> str:
    seconds = int(limit.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
