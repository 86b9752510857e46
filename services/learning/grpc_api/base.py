"""The LearningService servicer's state and the answers its calls share."""

from __future__ import annotations

from typing import Any

from copnet.learning.v1 import learning_pb2 as pb
from copnet.learning.v1 import learning_pb2_grpc as pb_grpc
from services.common.errors import NotFound, Violations
from services.common.grpc_server import current_caller
from services.common.messaging import NodeIdentity
from services.common.natslink import NatsLink
from services.common.projection import ProjectionFollower
from services.common.servicer import parse_uuid, read_your_writes, run
from services.common.trust import RegionTrust
from services.learning.application import Learning
from services.learning.domain import LearningItem
from services.learning.snapshots import item_pb
from services.learning.views import Catalogue, CatalogueEntry


class Servicer(pb_grpc.LearningServiceServicer):
    """What every group of calls shares: the application, the catalogue and its follower,
    the node's identity and NATS link, and how an item is answered."""

    def __init__(
        self,
        app: Learning,
        catalogue: Catalogue,
        follower: ProjectionFollower,
        identity: NodeIdentity,
        nats: NatsLink,
        trust: RegionTrust | None = None,
    ) -> None:
        """`trust`: the region this node is a member of (None: a node on its own)."""
        self.app = app
        self.catalogue = catalogue
        self.follower = follower
        self.identity = identity
        self.nats = nats
        self.trust = trust

    async def _item_answer(self, response_type: Any, method: Any, *args: Any) -> Any:
        outcome = await run(method, *args)
        await read_your_writes(self.follower, outcome.position)
        entry = await run(self.catalogue.entry, str(outcome.entity_id))
        assert entry is not None, "the catalogue caught up with the command"
        return response_type(item=self._item(entry), position=outcome.position)

    @staticmethod
    def _item(entry: CatalogueEntry) -> pb.LearningItem:
        return item_pb(entry.snapshot, entry.local, entry.received_at)

    async def _entry(self, item_id_text: str, min_position: int) -> CatalogueEntry:
        v = Violations()
        item_id = v.check("item_id", parse_uuid, item_id_text)
        v.raise_if_any()
        await read_your_writes(self.follower, min_position)
        entry = await run(self.catalogue.entry, str(item_id))
        if entry is None or entry.retracted:
            raise NotFound(f"learning item {item_id} is not known on this node")
        if entry.snapshot["status"] == "draft":
            item = await run(self.app.load, item_id, LearningItem, "learning item")
            if not self.app.may_edit(current_caller(), item):
                raise NotFound(f"learning item {item_id} is not known on this node")
        return entry
