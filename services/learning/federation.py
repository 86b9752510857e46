"""The learning service's side of federation.

- `FederationPolicy` handles what arrives in the node's federation stream from
  other nodes (item snapshots, retractions, adoptions of this node's items,
  receipts of this node's items), recording each once with its tracking.
- `FederationLinks` keeps that stream sourcing what this node should receive:
  from every node in the region's directory, what it addresses to this node;
  from every node this node subscribes to, its region-wide learning. It also
  keeps this node's streams for each partner, so that partners can source them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, date
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS

from copnet.learning.v1 import learning_events_pb2 as events
from services.common import messaging
from services.common.inbox import IntegrationMessage, RejectedMessage
from services.common.messaging import NodeIdentity
from services.common.region import DIRECTORY_BUCKET, HUB_DOMAIN, parse_directory
from services.learning import codecs
from services.learning.application import Learning
from services.learning.domain import AdoptionReport
from services.learning.snapshots import snapshot_from_pb

log = logging.getLogger(__name__)

SNAPSHOT_EVENTS = {
    "item_published",
    "item_revised",
    "item_withdrawn",
    "item_shared",
    "item_presented",
    "item_adoption_recorded",
    "item_reception_recorded",
}


def federation_subjects(identity: NodeIdentity) -> list[str]:
    """The learning events in the federation stream: region-wide, and addressed to us."""
    return [
        f"{messaging.FEDERATED_ROOT}.{identity.region}.*.learning.>",
        f"{messaging.PARTNERS_ROOT}.*.{identity.node_id}.learning.>",
    ]


class FederationPolicy:
    def __init__(self, app: Learning) -> None:
        self.app = app

    def handle(self, message: IntegrationMessage) -> bool:
        origin = message.envelope.origin_node
        tracking = message.tracking
        payload = message.payload
        if origin == self.app.node_id or payload is None:
            return self.app.skip(tracking)
        if message.event_type in SNAPSHOT_EVENTS and isinstance(payload, events.ItemSnapshot):
            try:
                snapshot = snapshot_from_pb(payload)
            except ValueError as error:
                raise RejectedMessage(f"{message.subject}: unreadable snapshot: {error}") from None
            if snapshot["origin_node"] != origin:
                owner = snapshot["origin_node"]
                raise RejectedMessage(
                    f"{message.subject}: node {origin!r} sent an item of {owner!r}"
                )
            return self.app.receive_snapshot(tracking, origin, snapshot, bool(message.addressed_to))
        if isinstance(payload, events.ItemRetracted):
            return self.app.receive_retraction(tracking, origin, payload.item_id, payload.version)
        if isinstance(payload, events.AdoptionDeclared):
            return self.app.receive_adoption(tracking, payload.item_id, self._report(message))
        if isinstance(payload, events.ItemReceived):
            received_at = payload.received_at.ToDatetime(tzinfo=UTC)
            return self.app.receive_reception(tracking, payload.item_id, origin, received_at)
        return self.app.skip(tracking)

    @staticmethod
    def _report(message: IntegrationMessage) -> AdoptionReport:
        adoption = message.payload.adoption  # type: ignore[union-attr]
        if adoption.node_id != message.envelope.origin_node:
            raise RejectedMessage(
                f"{message.subject}: node {message.envelope.origin_node!r} reported an adoption "
                f"by node {adoption.node_id!r}"
            )
        try:
            return AdoptionReport(
                node_id=adoption.node_id,
                organisation_id=adoption.organisation_id,
                organisation_name=adoption.organisation_name,
                status=codecs.ADOPTION_STATUS.to_domain(adoption.status),
                evidence=adoption.evidence,
                effective_on=date.fromisoformat(adoption.effective_on),
                reported_at=adoption.reported_at.ToDatetime(tzinfo=UTC),
            )
        except ValueError as error:
            raise RejectedMessage(f"{message.subject}: unreadable adoption: {error}") from None


async def read_directory(client: NATS, timeout: float = 2.0) -> dict[str, dict[str, str]] | None:
    """The region's nodes from the hub's directory, or None when the hub is out of reach."""
    try:
        directory = await client.jetstream(domain=HUB_DOMAIN, timeout=timeout).key_value(
            DIRECTORY_BUCKET
        )
        try:
            keys = await directory.keys()
        except nats.js.errors.NoKeysError:
            return {}
        entries = {key: (await directory.get(key)).value for key in keys}
        return parse_directory(entries)
    except (nats.errors.Error, nats.js.errors.Error, TimeoutError, json.JSONDecodeError) as error:
        log.debug("region directory unavailable: %s", error)
        return None


class FederationLinks:
    def __init__(
        self,
        identity: NodeIdentity,
        nats_url: str,
        subscriptions: Callable[[], list[dict[str, Any]]],
        changes: Any,
        interval: float = 5.0,
    ) -> None:
        self.identity = identity
        self.nats_url = nats_url
        self.subscriptions = subscriptions
        self.changes = changes
        self.interval = interval
        self.directory: dict[str, dict[str, str]] = {}
        self.applied_sources: list[tuple[str, str | None]] | None = None
        self._partner_streams: set[str] = set()

    async def run(self, stopping: asyncio.Event) -> None:
        client = await messaging.connect(
            self.nats_url, f"copnet-federation-{self.identity.node_id}", stopping
        )
        seen = 0
        try:
            while not stopping.is_set():
                try:
                    await self.reconcile(client)
                except (nats.errors.Error, nats.js.errors.Error, OSError) as error:
                    log.warning("could not update federation links: %s", error)
                seen = await self.changes.wait_async(seen, self.interval)
        finally:
            with contextlib.suppress(Exception):
                await client.close()

    async def reconcile(self, client: NATS) -> None:
        js = client.jetstream()
        directory = await read_directory(client)
        if directory is not None:
            self.directory = directory
        elif not self.directory:
            self.directory = await self._nodes_already_linked(js)
        others = sorted(n for n in self.directory if n != self.identity.node_id)
        for partner in others:
            if partner not in self._partner_streams:
                await messaging.ensure_stream(js, self.identity.partner_stream_config(partner))
                self._partner_streams.add(partner)
        subscriptions = await asyncio.to_thread(self.subscriptions)
        region = f"{messaging.FEDERATED_ROOT}.{self.identity.region}"
        wanted = [(node, None) for node in others] + [
            (s["node_id"], f"{region}.{s['node_id']}.learning.>")
            for s in subscriptions
            if s["active"] and s["node_id"] != self.identity.node_id
        ]
        sources = {
            (node, subject): self.identity.addressed_source(node)
            if subject is None
            else self.identity.public_source(node, subject)
            for node, subject in wanted
        }
        if wanted != self.applied_sources:
            config = self.identity.federation_stream_config(list(sources.values()))
            await messaging.ensure_stream(js, config)
            self.applied_sources = wanted
            names = ", ".join(sorted(s.name for s in sources.values())) or "none"
            log.info("federation stream sources: %s", names)
        await self._revive_stalled_sources(client, sources)

    async def _revive_stalled_sources(self, client: NATS, sources: dict[tuple, Any]) -> None:
        """A source set up before its stream existed on the other node is retried by the
        server only every ten seconds or more; re-add it as soon as that stream exists."""
        js = client.jetstream()
        info = await js.stream_info(self.identity.federation_stream_name)
        stalled = {s.name for s in info.sources or [] if s.error and (s.active or -1) < 0}
        if not stalled:
            return
        revived = []
        for (node, _subject), source in sources.items():
            if source.name not in stalled:
                continue
            try:
                await client.jetstream(domain=node, timeout=2).stream_info(source.name)
            except (nats.errors.Error, nats.js.errors.Error):
                continue  # still missing, or the node is out of reach: leave it to the server
            revived.append(source)
        if revived:
            names = {s.name for s in revived}
            keep = [s for s in sources.values() if s.name not in names]
            await messaging.ensure_stream(js, self.identity.federation_stream_config(keep))
            await messaging.ensure_stream(
                js, self.identity.federation_stream_config(list(sources.values()))
            )
            log.info("re-linked federation sources: %s", ", ".join(sorted(names)))

    async def _nodes_already_linked(self, js: Any) -> dict[str, dict[str, str]]:
        """With the hub out of reach at start-up, keep the partners already linked."""
        try:
            info = await js.stream_info(self.identity.federation_stream_name)
        except nats.js.errors.NotFoundError:
            return {}
        suffix = "_FOR_" + messaging.stream_token(self.identity.node_id)
        nodes = {}
        for source in info.config.sources or []:
            if source.name.endswith(suffix) and source.external is not None:
                node = source.external.api.split(".")[1]
                nodes[node] = {"node_id": node, "name": node}
        return nodes


async def link_states(nats_url: str, identity: NodeIdentity) -> dict[str, dict[str, Any]]:
    """Per source stream of the federation stream: its lag (messages not yet here) and
    whether the link is active (heard from in the last minute)."""
    client = await messaging.connect(nats_url, f"copnet-links-{identity.node_id}")
    try:
        info = await client.jetstream(timeout=2).stream_info(identity.federation_stream_name)
    except (nats.errors.Error, nats.js.errors.Error):
        return {}
    finally:
        await client.close()
    return {
        source.name: {
            "lag": source.lag if source.lag is not None else -1,
            "connected": source.active is not None and 0 <= source.active < 60 * 10**9,
        }
        for source in info.sources or []
    }
