"""Unsubscribe tokens: what one e-mail's unsubscribe link turns off, signed by the node.

A token is `<payload>.<mac>`, both base64url: the payload names the member and
the scope (a topic, one community's newsletters, or a digest), the mac is the
first 16 bytes of HMAC-SHA256 over the payload with a secret derived from the
node's Ed25519 signing key (`TokenAuthority.derived_secret`). So a link works
without logging in, cannot be forged or altered, names no e-mail address, is
short enough for any mail client, and is no bearer token for the API. Links do
not expire (a member may unsubscribe from an old e-mail); replacing the node's
signing key invalidates them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from uuid import UUID

from services.notify.domain import Frequency, Topic, UnsubscribeScope, Unsubscription

PURPOSE = "notify-unsubscribe-v1"
MAC_LENGTH = 16
MAX_TOKEN_LENGTH = 400


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UnsubscribeTokens:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the secret is too short")
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:MAC_LENGTH]

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
        if not hmac.compare_digest(mac, self._mac(payload)):
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
