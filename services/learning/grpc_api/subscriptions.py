"""LearningService calls on subscriptions to other nodes, and the region's nodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from copnet.learning.v1 import learning_pb2 as pb
from services.common.errors import Unavailable, Violations
from services.common.federation import link_states
from services.common.messaging import NodeIdentity
from services.common.protoconv import timestamp
from services.common.servicer import Context, command, read_your_writes, run
from services.learning.domain import parse_node_id, parse_tags
from services.learning.grpc_api.base import Servicer


class SubscriptionCalls(Servicer):
    # Subscriptions

    async def Subscribe(
        self, request: pb.SubscribeRequest, context: Context
    ) -> pb.SubscribeResponse:
        v = Violations()
        cmd = command(request, "Subscribe", v)
        node = v.check("node_id", parse_node_id, request.node_id)
        tags = v.check("domain_tags", parse_tags, list(request.domain_tags))
        v.raise_if_any()
        outcome = await run(self.app.subscribe, cmd, node, tags)
        return pb.SubscribeResponse(
            subscription=await self._subscription(node, outcome.position),
            position=outcome.position,
        )

    async def Unsubscribe(
        self, request: pb.UnsubscribeRequest, context: Context
    ) -> pb.UnsubscribeResponse:
        v = Violations()
        cmd = command(request, "Unsubscribe", v)
        node = v.check("node_id", parse_node_id, request.node_id)
        v.raise_if_any()
        outcome = await run(self.app.unsubscribe, cmd, node)
        return pb.UnsubscribeResponse(
            subscription=await self._subscription(node, outcome.position),
            position=outcome.position,
        )

    async def _subscription(self, node: str, position: int) -> pb.Subscription:
        await read_your_writes(self.follower, position)
        rows = await run(self.catalogue.subscriptions)
        return next(s for s in self._subscriptions(rows, {}) if s.node_id == node)

    async def ListSubscriptions(
        self, request: pb.ListSubscriptionsRequest, context: Context
    ) -> pb.ListSubscriptionsResponse:
        rows = await run(self.catalogue.subscriptions)
        states = await link_states(await self.nats.client_now(), self.identity)
        return pb.ListSubscriptionsResponse(subscriptions=self._subscriptions(rows, states))

    def _subscriptions(
        self, rows: list[dict[str, Any]], states: dict[str, Any]
    ) -> list[pb.Subscription]:
        subscriptions = []
        for row in rows:
            source = NodeIdentity(row["node_id"], self.identity.region).public_stream_name
            state = states.get(source, {})
            last = row["last_received_at"]
            subscriptions.append(
                pb.Subscription(
                    node_id=row["node_id"],
                    domain_tags=row["domain_tags"],
                    active=row["active"],
                    since=timestamp(datetime.fromisoformat(row["since"])),
                    last_received_at=timestamp(datetime.fromisoformat(last)) if last else None,
                    lag=state.get("lag", -1),
                    connected=state.get("connected", False),
                )
            )
        return subscriptions

    async def ListRegionNodes(
        self, request: pb.ListRegionNodesRequest, context: Context
    ) -> pb.ListRegionNodesResponse:
        directory: dict[str, dict[str, object]] = {}
        if self.trust is not None:
            found = await self.trust.refresh(await self.nats.client_now())
            if found is None and self.trust.directory is None:
                raise Unavailable("the region's directory cannot be read now; retry shortly")
            directory = self.trust.nodes()
        return pb.ListRegionNodesResponse(
            region=self.identity.region,
            nodes=[
                pb.RegionNode(node_id=n, name=str(e.get("name", n)))
                for n, e in sorted(directory.items())
            ],
        )
