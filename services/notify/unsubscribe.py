"""Unsubscribe tokens: what one e-mail's unsubscribe link turns off, signed by the node.

A token is `<payload>.<mac>`, both base64url: the payload names the member and
the scope (a topic, one community's newsletters, or a digest), the mac is the
first 16 bytes of HMAC-SHA256 over the payload with the node's current link
secret (`unsubscribe-secrets.json`, see `services.common.keyring`; apart from the
token signing key). So a link works without logging in, cannot be forged or
altered, names no e-mail address, is short enough for any mail client, and is no
bearer token for the API. Links do not expire (a member may unsubscribe from an
old e-mail); `copnet keys rotate-links` makes a new current secret while the
previous one still verifies links already mailed, until the next rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from uuid import UUID

from services.notify.domain import Frequency, Topic, UnsubscribeScope, Unsubscription

MAC_LENGTH = 16
MAX_TOKEN_LENGTH = 400


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UnsubscribeTokens:
    """Signs with the current secret; reads links signed with any of the secrets."""

    def __init__(self, secrets: bytes | Callable[[], Sequence[bytes]]) -> None:
        if isinstance(secrets, bytes):
            fixed = [secrets]
            secrets = lambda: fixed  # noqa: E731
        self._secrets = secrets
        if not self._current():
            raise ValueError("no unsubscribe-link secret")

    def _current(self) -> bytes:
        known = self._secrets()
        if not known or len(known[0]) < 16:
            raise ValueError("the unsubscribe-link secret is missing or too short")
        return known[0]

    def _mac(self, payload: bytes, secret: bytes | None = None) -> bytes:
        key = secret if secret is not None else self._current()
        return hmac.new(key, payload, hashlib.sha256).digest()[:MAC_LENGTH]

    def issue(self, unsubscription: Unsubscription) -> str:
        payload = json.dumps(
            [str(unsubscription.member_id), unsubscription.scope.value, unsubscription.target],
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def read(self, token: str) -> Unsubscription:
        """Raises ValueError for anything this node did not sign as it is."""
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise ValueError("is not an unsubscribe token")
        encoded_payload, encoded_mac = token.split(".")
        try:
            payload = _unb64(encoded_payload)
            mac = _unb64(encoded_mac)
        except ValueError:
            raise ValueError("is not an unsubscribe token") from None
        if _b64(payload) != encoded_payload or _b64(mac) != encoded_mac:
            raise ValueError("is not an unsubscribe token")  # not in its one canonical form
        if not any(
            hmac.compare_digest(mac, self._mac(payload, secret))
            for secret in self._secrets()
            if len(secret) >= 16
        ):
            raise ValueError("is not a valid unsubscribe token for this node")
        try:
            member, scope, target = json.loads(payload)
            unsubscription = Unsubscription(UUID(member), UnsubscribeScope(scope), target)
            _check_target(unsubscription)
        except (ValueError, TypeError):
            raise ValueError("is not an unsubscribe token this node understands") from None
        return unsubscription


def _check_target(u: Unsubscription) -> None:
    if u.scope is UnsubscribeScope.TOPIC:
        Topic(u.target)
    elif u.scope is UnsubscribeScope.NEWSLETTER:
        UUID(u.target)
    elif not Frequency(u.target).is_digest:
        raise ValueError("not a digest")
