"""Ed25519 signatures (NATS nkeys) on what crosses between the nodes of a region.

- Every federated message is signed by its origin node: the signature covers the
  subject, the copnet headers that say where the message comes from and what it
  is, the message id and the payload. It does not cover headers that servers add
  or rewrite (`Nats-Stream-Source`, `Nats-Expected-*`, tracing).
- The region directory (the nodes and their public keys) is signed by the hub;
  each node holds the hub's public key from its credentials file.

Keys are nkeys (base32 with a type prefix and a checksum): a seed (`SU…`) holds
the private key, the public key (`U…`) is what others hold. The same user nkey
is a node's leaf-link identity on the hub and the key its messages are signed
with, unless the hub gave the node a separate signing key.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Mapping

import nkeys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.common import messaging

SIGNATURE_VERSION = "1"
HEADER_SIGNER = "copnet-signer"
HEADER_SIGNATURE = "copnet-signature"
# The headers a signature covers, in this order (absent ones count as empty).
SIGNED_HEADERS = (
    messaging.HEADER_ORIGIN,
    messaging.HEADER_REGION,
    messaging.HEADER_SERVICE,
    messaging.HEADER_POSITION,
    messaging.HEADER_EVENT_TYPE,
    messaging.HEADER_MSG_ID,
)


class BadSignature(Exception):
    """Unsigned, signed by a key the region does not give the claimed origin, or altered."""


def new_seed(kind: int = nkeys.PREFIX_BYTE_USER) -> str:
    """A new random nkey seed (`SU…` for a user key)."""
    return nkeys.encode_seed(os.urandom(32), kind).decode()


def public_key(seed: str) -> str:
    keys = nkeys.from_seed(seed.encode())
    try:
        return keys.public_key.decode()
    finally:
        keys.wipe()


def _canonical(subject: str, headers: Mapping[str, str], data: bytes) -> bytes:
    fields = [f"copnet-signature-v{SIGNATURE_VERSION}", subject]
    fields += [f"{name}:{headers.get(name, '')}" for name in SIGNED_HEADERS]
    return "\n".join(fields).encode() + b"\n" + data


class Signer:
    """Signs with one nkey seed (a node's, or the hub's)."""

    def __init__(self, seed: str) -> None:
        self._keys = nkeys.from_seed(seed.encode())
        self.public_key = self._keys.public_key.decode()

    def sign(self, data: bytes) -> str:
        return base64.urlsafe_b64encode(self._keys.sign(data)).decode()

    def message_headers(self, subject: str, headers: Mapping[str, str], data: bytes) -> dict:
        """The headers to add to a message so that receivers can check its origin."""
        return {
            HEADER_SIGNER: self.public_key,
            HEADER_SIGNATURE: self.sign(_canonical(subject, headers, data)),
        }


def _public_bytes(public: str) -> bytes:
    """The raw Ed25519 key inside a public nkey (prefix byte, 32 bytes, CRC-16)."""
    raw = base64.b32decode(public.encode())
    if len(raw) != 35 or not nkeys.valid_public_prefix_byte(raw[0]):
        raise ValueError("not a public nkey")
    if nkeys.crc16(bytearray(raw[:-2])) != int.from_bytes(raw[-2:], "little"):
        raise ValueError("public nkey checksum mismatch")
    return raw[1:33]


def verify(public: str, data: bytes, signature: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(signature.encode())
        Ed25519PublicKey.from_public_bytes(_public_bytes(public)).verify(raw, data)
    except InvalidSignature:
        raise BadSignature("the signature does not verify") from None
    except (binascii.Error, ValueError) as error:
        raise BadSignature(f"the signature cannot be checked: {error}") from None


def verify_message(
    subject: str, headers: Mapping[str, str] | None, data: bytes, keys: Iterable[str]
) -> str:
    """Checks that one of `keys` (the claimed origin's) signed this message; returns the key."""
    headers = headers or {}
    signer = headers.get(HEADER_SIGNER, "")
    signature = headers.get(HEADER_SIGNATURE, "")
    if not signer or not signature:
        raise BadSignature("the message is not signed")
    if signer not in set(keys):
        raise BadSignature(f"signed by {signer[:12]}…, which is not a key of the origin node")
    verify(signer, _canonical(subject, headers, data), signature)
    return signer
