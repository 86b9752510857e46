"""The RegistryService servicer's state and the answers its calls share."""

from __future__ import annotations

from typing import Any

from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
from services.common.application import Outcome
from services.common.projection import ProjectionFollower
from services.common.servicer import run
from services.registry.application import Registry
from services.registry.grpc_api.responses import RECORD_OF
from services.registry.views import Directory


class Servicer(pb_grpc.RegistryServiceServicer):
    """What every group of calls shares: the application, the directory view and its
    follower, and how a command's answer is built."""

    def __init__(self, app: Registry, directory: Directory, follower: ProjectionFollower):
        self.app = app
        self.directory = directory
        self.follower = follower

    async def _answer(self, outcome: Outcome) -> Any:
        entity = (
            outcome.entity if outcome.entity is not None else await run(self.app.entity_at, outcome)
        )
        return RECORD_OF[type(entity)](entity)

    async def _execute(self, method: Any, *args: Any, **kwargs: Any) -> tuple[Any, int]:
        outcome = await run(method, *args, **kwargs)
        return await self._answer(outcome), outcome.position
