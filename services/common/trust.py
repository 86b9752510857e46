"""What a node trusts of its region: the hub's key, the directory it signs, and through it
the keys of the other nodes, with which every federated message is checked.

`RegionTrust.refresh` reads the directory from the hub (one read, granted to
every node's account) and keeps it, once the hub's signature checks, in memory
and in `<data-dir>/region-directory.json`: a node restarted while the hub is
down still knows whose keys to check messages with. A directory older than the
one held is ignored (a replayed old directory cannot bring back a rotated key).

`RegionTrust.check` is the first thing a federation inbox does with a message:
- the `Nats-Stream-Source` header, which this node's own server writes on
  everything it sources, must name the claimed origin's stream for this kind of
  message (its public stream for region-wide events, its stream for this node
  for addressed ones): another node cannot pass its messages off as a's;
- the origin's signature (a key the directory gives that origin) must cover the
  subject, the headers that say what the message is, and the payload.
A message that fails is refused (`RejectedMessage`: parked, never applied). An
origin the directory does not list yet is `NotYetTrusted`: the message waits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from services.common import messaging, signing
from services.common.messaging import NodeIdentity
from services.common.region import (
    DIRECTORY_SUBJECT,
    HubCredentials,
    RegionDirectory,
    write_private,
)
from services.common.settings import NodeSettings

if TYPE_CHECKING:  # the client is the caller's
    from nats.aio.client import Client as NATS

log = logging.getLogger(__name__)

SOURCE_HEADER = "Nats-Stream-Source"


class Untrusted(Exception):
    """The message did not come from where it says: it must never be applied."""


class NotYetTrusted(Exception):
    """The origin's keys are not known yet (no directory yet, or a node added since)."""


class RegionTrust:
    def __init__(self, identity: NodeIdentity, hub_key: str, cache_file: Path) -> None:
        self.identity = identity
        self.hub_key = hub_key
        self.cache_file = cache_file
        self.directory: RegionDirectory | None = self._load_cached()

    @classmethod
    def from_credentials(
        cls, identity: NodeIdentity, credentials: HubCredentials, data_dir: Path
    ) -> RegionTrust:
        return cls(identity, credentials.hub_key, data_dir / "region-directory.json")

    def _load_cached(self) -> RegionDirectory | None:
        try:
            cached = json.loads(self.cache_file.read_text())
            return RegionDirectory.verified(
                cached["document"].encode(), cached["signature"], self.hub_key, self.identity.region
            )
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, signing.BadSignature) as error:
            log.warning("ignoring the cached region directory %s: %s", self.cache_file, error)
            return None

    async def refresh(self, client: NATS, timeout: float = 2.0) -> RegionDirectory | None:
        """Reads the directory from the hub; None when the hub cannot be asked now (the
        directory held so far stays)."""
        import nats.errors

        try:
            reply = await client.request(DIRECTORY_SUBJECT, b"", timeout=timeout)
        except (nats.errors.Error, TimeoutError) as error:
            log.debug("region directory unavailable: %s", error)
            return None
        headers = reply.headers or {}
        if headers.get("Status"):  # e.g. 404 before the hub wrote it, 408 timeout
            log.debug("region directory unavailable: status %s", headers.get("Status"))
            return None
        try:
            directory = RegionDirectory.verified(
                reply.data,
                headers.get(signing.HEADER_SIGNATURE, ""),
                self.hub_key,
                self.identity.region,
            )
        except (signing.BadSignature, ValueError, KeyError, TypeError) as error:
            log.error("refusing a region directory that the hub did not sign: %s", error)
            return None
        held = self.directory
        if held is not None and directory.issued_at_ns < held.issued_at_ns:
            log.warning("ignoring a region directory older than the one held")
            return held
        if held is None or directory.document != held.document:
            self.directory = directory
            text = json.dumps(
                {"document": directory.document.decode(), "signature": directory.signature}
            )
            write_private(self.cache_file, text + "\n")
        return self.directory

    def nodes(self) -> dict[str, dict[str, object]]:
        return dict(self.directory.nodes) if self.directory else {}

    def check(self, subject: str, headers: Mapping[str, str] | None) -> None:
        """Before anything else is read from a federated message (see the module doc)."""
        headers = headers or {}
        origin, addressed = _origin(subject)
        if origin == self.identity.node_id:
            raise Untrusted(f"{subject}: this node's own subject came back from the region")
        origin_identity = NodeIdentity(origin, self.identity.region)
        expected = (
            origin_identity.partner_stream_name(self.identity.node_id)
            if addressed
            else origin_identity.public_stream_name
        )
        source = headers.get(SOURCE_HEADER, "")
        came_from = source.split(" ", 1)[0].split(":", 1)[0]
        if came_from != expected:
            raise Untrusted(
                f"{subject} claims origin {origin!r} but came from stream "
                f"{came_from or 'nowhere'!r} (expected {expected})"
            )

    def verify(self, subject: str, headers: Mapping[str, str] | None, data: bytes) -> None:
        origin, _ = _origin(subject)
        keys = self.directory.signing_keys(origin) if self.directory else []
        if not keys:
            raise NotYetTrusted(f"no key known yet for node {origin!r}")
        try:
            signing.verify_message(subject, headers, data, keys)
        except signing.BadSignature as error:
            raise Untrusted(f"{subject}: {error}") from None


def _origin(subject: str) -> tuple[str, bool]:
    """The node a federated subject names as its origin, and whether it is addressed."""
    tokens = subject.split(".")
    if tokens[0] == messaging.FEDERATED_ROOT and len(tokens) == 5:
        return tokens[2], False
    if tokens[0] == messaging.PARTNERS_ROOT and len(tokens) == 5:
        return tokens[1], True
    raise Untrusted(f"{subject} is not a federated subject")


def node_keys(
    settings: NodeSettings, identity: NodeIdentity
) -> tuple[RegionTrust | None, signing.Signer | None]:
    """From the credentials the hub gave this node: what it trusts, and its signing key
    (none of either for a node that is not a member of a hub's region)."""
    if settings.hub_credentials is None:
        return None, None
    credentials = HubCredentials.load(settings.hub_credentials)
    trust = RegionTrust.from_credentials(identity, credentials, settings.data_dir)
    return trust, signing.Signer(credentials.signing_seed)
