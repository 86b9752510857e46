"""A varied stream of registry commands, for relay tests and benchmarks."""

from __future__ import annotations

import itertools
import uuid

from services.common.idempotency import Command
from services.common.identity import Caller
from services.registry.application import Registry
from services.registry.domain import JoiningPolicy, OrganisationKind, Profession

OPERATOR = Caller.operator()


def command(caller: Caller = OPERATOR) -> Command:
    request_id = str(uuid.uuid4())
    return Command("Load", request_id, caller, request_id)


class RegistryLoad:
    """Each step records federated events (organisations, communities) and node-local ones
    (members, memberships)."""

    def __init__(self, app: Registry, tag: str = "") -> None:
        self.app = app
        self.tag = tag or uuid.uuid4().hex[:6]
        self._counter = itertools.count()
        self.trust = app.create_organisation(
            command(), f"Trust {self.tag}", OrganisationKind.NHS_TRUST, "london", None
        ).entity_id

    def step(self) -> None:
        n = next(self._counter)
        member = self.app.register_member(
            command(), f"Person {n}", Profession.NURSE, self.trust, f"p{n}-{self.tag}@nhs.net"
        ).entity_id
        if n % 3 == 0:
            self.app.create_community(
                command(Caller.member(member)),
                f"cop-{self.tag}-{n}",
                f"CoP {n}",
                "quality",
                "",
                "london",
                [],
                JoiningPolicy.OPEN,
            )
        else:
            self.app.update_organisation(command(), self.trust, 0, name=f"Trust {self.tag} {n}")
