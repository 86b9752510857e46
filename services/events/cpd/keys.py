"""The secrets behind feed URLs and certificate verification links.

- A feed's URL secret is HMAC-SHA256(feed key, "<feed id>:<generation>"), 24 bytes in
  base64url: unguessable, derived again whenever the member is answered (a retried
  IssueCalendarFeed gets the same URL), and stored only as its SHA-256 hash, so the
  event store alone opens no feed. A rotation moves to the next generation.
- A certificate token is `<payload>.<mac>` (base64url): the payload names the
  convening, the member, the convening's version whose event recorded their
  attendance, and the CPD minutes; the mac is
  the first 16 bytes of HMAC-SHA256 with the certificate key. The node checks the mac
  and that its records still say the same (a corrected attendance or changed hours
  voids the certificate).

Both keys come from the node's secret (`ServiceRuntime.derived_secret`, see
`services.common.keyring`), so replacing it voids every feed URL and certificate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

FEED_PURPOSE = "events-calendar-feed-v1"
CERTIFICATE_PURPOSE = "events-cpd-certificate-v1"
MAC_LENGTH = 16
MAX_SECRET_LENGTH = 64
MAX_TOKEN_LENGTH = 200
_PAYLOAD = struct.Struct(">16s16sqI")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64(data) != text:
        raise ValueError("not in canonical base64url")
    return data


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class FeedSecrets:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the key is too short")
        self._key = key

    def secret(self, feed_id: UUID, generation: int) -> str:
        message = f"{feed_id}:{generation}".encode()
        return b64(hmac.new(self._key, message, hashlib.sha256).digest()[:24])

    def hash(self, feed_id: UUID, generation: int) -> str:
        return secret_hash(self.secret(feed_id, generation))

    @staticmethod
    def matches(given: str, stored_hash: str) -> bool:
        if not given or len(given) > MAX_SECRET_LENGTH:
            return False
        return hmac.compare_digest(secret_hash(given), stored_hash)


@dataclass(frozen=True)
class CertificateClaim:
    """What a certificate says, as its token carries it."""

    convening_id: UUID
    member_id: UUID
    # The convening's version whose event recorded the attendance it rests on.
    recorded_in: int
    # CPD minutes.
    minutes: int


class CertificateTokens:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the key is too short")
        self._key = key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:MAC_LENGTH]

    def issue(self, claim: CertificateClaim) -> str:
        payload = _PAYLOAD.pack(
            claim.convening_id.bytes, claim.member_id.bytes, claim.recorded_in, claim.minutes
        )
        return f"{b64(payload)}.{b64(self._mac(payload))}"

    def read(self, token: str) -> CertificateClaim:
        """Raises ValueError for anything this node did not sign as it is."""
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise ValueError("is not a certificate reference")
        encoded_payload, encoded_mac = token.split(".")
        try:
            payload, mac = unb64(encoded_payload), unb64(encoded_mac)
        except ValueError:
            raise ValueError("is not a certificate reference") from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise ValueError("was not issued by this node")
        if len(payload) != _PAYLOAD.size:
            raise ValueError("is not a certificate reference this node understands")
        convening, member, recorded_in, minutes = _PAYLOAD.unpack(payload)
        return CertificateClaim(UUID(bytes=convening), UUID(bytes=member), recorded_in, minutes)


@dataclass(frozen=True)
class EvidenceKeys:
    """The node's keys for feed URLs and certificates (from its signing key)."""

    feeds: FeedSecrets
    certificates: CertificateTokens

    @classmethod
    def derived(cls, derive: Callable[[str], bytes]) -> EvidenceKeys:
        """`derive` is `ServiceRuntime.derived_secret`."""
        return cls(
            FeedSecrets(derive(FEED_PURPOSE)), CertificateTokens(derive(CERTIFICATE_PURPOSE))
        )
