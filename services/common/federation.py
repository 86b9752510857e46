"""A node's links to the other nodes of its region, through the hub.

- The region's nodes come from the hub's signed directory (`RegionTrust`). An
  unreadable directory is "unknown", never "no nodes": a node never drops its
  partners because of a hub hiccup.
- `FederationLinks` keeps the node's federation stream sourcing what the node
  should receive (from every node of the region, what it addresses to this one;
  from every node this one subscribes to, its region-wide events of some
  services), and this node's streams for each partner, which partners source.
  After a hub or link outage the server retries its sources only after a
  growing delay; `FederationLinks` watches the sources and re-adds those whose
  other end answers again, so catching up starts within seconds.
- `link_states`: each source's lag and whether it is connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StreamSource

from services.common import messaging
from services.common.health import Backoff, Progress
from services.common.messaging import NodeIdentity
from services.common.natslink import NatsLink
from services.common.signals import ChangeSignal
from services.common.trust import RegionTrust

log = logging.getLogger(__name__)

# A source that has heard nothing (not even a heartbeat) for this long is stalled.
STALLED_AFTER_NS = 10 * 10**9
# How often links are checked while all is well, and while something is out of reach.
CALM_INTERVAL = 5.0
ANXIOUS_INTERVAL = 1.0
# A partner whose stream this node may not create (its NATS user does not list it yet:
# a container deploy whose config predates the partner) is tried again after this long.
REFUSED_RETRY = 60.0
# How long one attempt to create a partner's stream may take (a refused request times out).
PARTNER_STREAM_TIMEOUT = 2.0


async def link_states(client: NATS, identity: NodeIdentity) -> dict[str, dict[str, Any]]:
    """Per source stream of the federation stream: its lag (messages not yet here) and
    whether the link is active (heard from in the last minute)."""
    try:
        info = await client.jetstream(timeout=2).stream_info(identity.federation_stream_name)
    except (nats.errors.Error, nats.js.errors.Error, TimeoutError):
        return {}
    return {
        source.name: {
            "lag": source.lag if source.lag is not None else -1,
            "connected": source.active is not None and 0 <= source.active < 60 * 10**9,
        }
        for source in info.sources or []
    }


class FederationLinks:
    def __init__(
        self,
        identity: NodeIdentity,
        link: NatsLink,
        trust: RegionTrust | None,
        subscriptions: Callable[[], list[str]],
        changes: ChangeSignal,
        services: Sequence[str] = ("learning",),
    ) -> None:
        """`subscriptions()` names the nodes whose region-wide events of `services` this
        node receives; `changes` wakes the links when they may have changed."""
        self.identity = identity
        self.link = link
        self.trust = trust
        self.subscriptions = subscriptions
        self.changes = changes
        self.services = tuple(services)
        self.progress = Progress("federation links")
        self.directory: dict[str, dict[str, object]] = {}
        self.hub_reachable: bool | None = None
        self.applied_sources: list[tuple[str, str | None]] | None = None
        self._partner_streams: set[str] = set()
        # Partners whose stream could not be created, and when to try again.
        self._refused: dict[str, float] = {}
        # Rounds completed (each reads the directory and brings the sources in line).
        self.rounds = 0

    async def run(self, stopping: asyncio.Event) -> None:
        client = await self.link.client()
        backoff = Backoff(base=0.5, cap=10.0)
        seen = 0
        while not stopping.is_set():
            try:
                calm = await self.reconcile(client)
                self.rounds += 1
                self.progress.ok()
                backoff.reset()
            except Exception as error:
                delay = backoff.next_delay()
                self.progress.failing(f"cannot update the federation links: {error}", delay)
                await backoff.wait(stopping, delay)
                continue
            interval = CALM_INTERVAL if calm else ANXIOUS_INTERVAL
            seen = await self.changes.wait_async(seen, interval)

    async def reconcile(self, client: NATS) -> bool:
        """Brings the sources in line; True when every link is up."""
        js = client.jetstream()
        directory = await self.trust.refresh(client) if self.trust is not None else None
        if directory is not None:
            self.directory = dict(directory.nodes)
        elif self.trust is not None and self.trust.directory is not None:
            self.directory = self.trust.nodes()  # as last read (kept on disk)
        elif not self.directory:
            self.directory = await self._nodes_already_linked(js)
        reachable = directory is not None
        if reachable != self.hub_reachable:
            if self.hub_reachable is not None:
                log.warning("the hub is %s", "reachable again" if reachable else "out of reach")
            self.hub_reachable = reachable
        others = [
            partner
            for partner in sorted(n for n in self.directory if n != self.identity.node_id)
            if await self._partner_stream_ready(js, partner)
        ]
        subscribed = await asyncio.to_thread(self.subscriptions)
        region = f"{messaging.FEDERATED_ROOT}.{self.identity.region}"
        wanted: list[tuple[str, str | None]] = [(node, None) for node in others]
        for node in subscribed:
            if node != self.identity.node_id:
                wanted += [(node, f"{region}.{node}.{service}.>") for service in self.services]
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
        if not reachable:
            return False
        return await self._revive_stalled_sources(client, sources)

    async def _partner_stream_ready(self, js: JetStreamContext, partner: str) -> bool:
        """Creates this node's stream for `partner` once. A refusal (the node's NATS user
        does not list the partner yet) leaves that partner out, with a WARNING, and the
        other partners linked; it is tried again after `REFUSED_RETRY`."""
        if partner in self._partner_streams:
            return True
        loop = asyncio.get_running_loop()
        if self._refused.get(partner, 0.0) > loop.time():
            return False
        config = self.identity.partner_stream_config(partner)
        try:
            await asyncio.wait_for(messaging.ensure_stream(js, config), PARTNER_STREAM_TIMEOUT)
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError) as error:
            if not self.link.connected:
                raise  # the node's NATS is away: the round fails and is retried
            log.warning(
                "partner %s left unlinked: its stream %s cannot be created (%s); "
                "is the node's NATS configuration current? trying again in %.0f s",
                partner,
                config.name,
                error or type(error).__name__,
                REFUSED_RETRY,
            )
            self._refused[partner] = loop.time() + REFUSED_RETRY
            return False
        self._refused.pop(partner, None)
        self._partner_streams.add(partner)
        return True

    async def _revive_stalled_sources(
        self, client: NATS, sources: dict[tuple[str, str | None], StreamSource]
    ) -> bool:
        """After an outage (or a source set up before its stream existed) the server retries
        a source only after a growing delay; re-add each one as soon as its other end
        answers. True when no source is stalled."""
        js = client.jetstream()
        info = await js.stream_info(self.identity.federation_stream_name)
        stalled = {
            s.name
            for s in info.sources or []
            if s.error or s.active is None or not 0 <= s.active < STALLED_AFTER_NS
        }
        if not stalled:
            return True
        revived: list[StreamSource] = []
        for (node, _subject), source in sources.items():
            if source.name not in stalled:
                continue
            try:
                await client.jetstream(domain=node, timeout=1).stream_info(source.name)
            except (nats.errors.Error, nats.js.errors.Error, TimeoutError):
                continue  # still missing, or the node is out of reach: look again soon
            revived.append(source)
        if revived:
            await self._relink(js, list(sources.values()), revived)
        return False

    async def _relink(
        self, js: JetStreamContext, sources: list[StreamSource], revived: list[StreamSource]
    ) -> None:
        names = {s.name for s in revived}
        keep = [s for s in sources if s.name not in names]
        await messaging.ensure_stream(js, self.identity.federation_stream_config(keep))
        await messaging.ensure_stream(js, self.identity.federation_stream_config(sources))
        log.info("re-linked federation sources: %s", ", ".join(sorted(names)))

    async def _nodes_already_linked(self, js: JetStreamContext) -> dict[str, dict[str, object]]:
        """With the hub out of reach at start-up, keep the partners already linked."""
        with contextlib.suppress(nats.js.errors.NotFoundError):
            info = await js.stream_info(self.identity.federation_stream_name)
            suffix = "_FOR_" + messaging.stream_token(self.identity.node_id)
            nodes: dict[str, dict[str, object]] = {}
            for source in info.config.sources or []:
                if source.name.endswith(suffix) and source.external is not None:
                    node = (source.external.api or "").split(".")[1]
                    nodes[node] = {"node_id": node, "name": node}
            return nodes
        return {}
