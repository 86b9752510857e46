"""A node's registry and learning through their public gRPC APIs, and what its NATS server
shows of learning items, for bench/federation_catchup.py."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from typing import Any

from bench.registry_bench import percentile


def rid() -> str:
    return str(uuid.uuid4())


class Clients:
    """One node's registry and learning over gRPC (TLS), as its operator."""

    def __init__(self, node: Any) -> None:
        from copnet.learning.v1 import learning_pb2_grpc
        from copnet.registry.v1 import registry_pb2_grpc
        from services.common.channels import open_aio_channel

        self.node = node
        self.channels = [open_aio_channel(node.address(s), node.security) for s in ("registry",)]
        self.channels.append(open_aio_channel(node.address("learning"), node.security))
        self.registry = registry_pb2_grpc.RegistryServiceStub(self.channels[0])
        self.learning = learning_pb2_grpc.LearningServiceStub(self.channels[1])
        self.operator = self.auth(node.token())

    @staticmethod
    def auth(token: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {token}"),)

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


class Seen:
    """When each item's message is first seen on a subject of a node's server."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.client: Any = None

    async def start(self, node: Any, subject: str) -> None:
        from copnet.integration.v1 import envelope_pb2
        from copnet.learning.v1 import learning_events_pb2 as events
        from tests.support import natsauth

        async def on_message(msg: Any) -> None:
            now = time.time()
            snapshot = events.ItemSnapshot()
            envelope_pb2.Envelope.FromString(msg.data).payload.Unpack(snapshot)
            self.at.setdefault(snapshot.item.item_id, now)

        self.client = await natsauth.connect(node.nats_url, connect_timeout=10)
        await self.client.subscribe(subject, cb=on_message)
        await self.client.flush()

    async def wait(self, item_ids: Iterable[str], timeout: float) -> bool:
        wanted = list(item_ids)
        deadline = time.monotonic() + timeout
        while not all(i in self.at for i in wanted):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True


async def in_flight(calls: list[Any], limit: int) -> list[Any]:
    """Awaits the coroutines with at most `limit` at once; their results in order. (Not
    grpc.aio calls: one of those starts as soon as it is made.)"""
    gate = asyncio.Semaphore(limit)

    async def one(call: Any) -> Any:
        async with gate:
            return await call

    return await asyncio.gather(*(one(c) for c in calls))


async def set_up(
    a: Clients, b: Clients, origin: str, region: str
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """An organisation, a lead and a community on `a` (node `origin`); `b` subscribes to it."""
    from copnet.learning.v1 import learning_pb2 as lpb
    from copnet.registry.v1 import registry_pb2 as rpb

    organisation = await a.registry.CreateOrganisation(
        rpb.CreateOrganisationRequest(
            request_id=rid(), name="Trust A", kind=rpb.ORGANISATION_KIND_NHS_TRUST, region=region
        ),
        metadata=a.operator,
        timeout=30,
    )
    lead = await a.registry.RegisterMember(
        rpb.RegisterMemberRequest(
            request_id=rid(),
            display_name="Lead",
            profession=rpb.PROFESSION_NURSE,
            home_organisation_id=organisation.organisation.organisation_id,
            email="lead@node-a.example.org",
        ),
        metadata=a.operator,
        timeout=30,
    )
    lead_auth = a.auth(await asyncio.to_thread(a.node.token, lead.member.member_id))
    community = await a.registry.CreateCommunity(
        rpb.CreateCommunityRequest(
            request_id=rid(),
            slug="bench-cop",
            name="Bench CoP",
            domain="quality",
            region=region,
            joining_policy=rpb.JOINING_POLICY_OPEN,
        ),
        metadata=lead_auth,
        timeout=30,
    )
    await b.learning.Subscribe(
        lpb.SubscribeRequest(request_id=rid(), node_id=origin), metadata=b.operator, timeout=30
    )
    # The learning service has heard of the community before the first draft.
    await a.learning.SearchCatalogue(
        lpb.SearchCatalogueRequest(page_size=1, min_registry_position=community.position),
        metadata=lead_auth,
        timeout=30,
    )
    return community.community.community_id, lead_auth


async def create_drafts(
    a: Clients, community: str, auth: Any, count: int, limit: int, tag: str
) -> tuple[list[str], float]:
    from copnet.learning.v1 import learning_pb2 as lpb

    async def draft(n: int) -> Any:  # a coroutine: the call starts when awaited
        return await a.learning.CreateItem(
            lpb.CreateItemRequest(
                request_id=rid(),
                kind=lpb.ITEM_KIND_REPLICABLE_MODEL,
                title=f"{tag} item {n}",
                summary=f"Summary of {tag} item {n}",
                body=f"How {tag} item {n} works.",
                domain_tags=["quality"],
                community_id=community,
                visibility=lpb.VISIBILITY_REGION,
            ),
            metadata=auth,
            timeout=60,
        )

    began = time.monotonic()
    replies = await in_flight([draft(n) for n in range(count)], limit)
    rate = count / (time.monotonic() - began)
    return [r.item.item_id for r in replies], round(rate, 1)


async def publish(a: Clients, auth: Any, item_id: str, answered: dict[str, float]) -> int:
    from copnet.learning.v1 import learning_pb2 as lpb

    reply = await a.learning.PublishItem(
        lpb.PublishItemRequest(request_id=rid(), item_id=item_id), metadata=auth, timeout=60
    )
    answered[item_id] = time.time()
    return int(reply.position)


def ms_summary(seconds: list[float]) -> dict[str, Any]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        "count": len(seconds),
        "p50_ms": ms(percentile(seconds, 50)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds) if seconds else None),
    }


def rate_between(count: int, first: float, last: float) -> float | None:
    return round((count - 1) / (last - first), 1) if count > 1 and last > first else None
