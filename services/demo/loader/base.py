"""What the loader's steps share: the scenario, a client per node, and what the nodes
answered so far (`Loaded`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from copnet.registry.v1 import registry_pb2 as rpb
from services.demo.client import NodeClient
from services.demo.scenario.model import Scenario

Say = Callable[[str], None]
ORGANISER_ROLES = (rpb.ROLE_CO_LEAD, rpb.ROLE_FACILITATOR)


@dataclass(frozen=True)
class Member:
    member_id: str
    organisation: str
    profession: int
    role: rpb.Role


@dataclass
class MemberKeeps:
    """What the demo gave one member (loader.cpd): a calendar feed and a CPD certificate."""

    member_id: str = ""
    convening_id: str = ""
    feed_url: str = ""
    certificate: Path | None = None
    verification_url: str = ""


@dataclass
class Loaded:
    """The ids the nodes gave to what the scenario names."""

    organisations: dict[str, str] = field(default_factory=dict)
    communities: dict[str, str] = field(default_factory=dict)
    members: dict[str, list[Member]] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)
    # (historic plan key, meeting index) -> convening id
    meetings: dict[tuple[str, int], str] = field(default_factory=dict)
    upcoming: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    newsletter: str = ""
    keeps: MemberKeeps = field(default_factory=MemberKeeps)

    def founder(self, community: str) -> str:
        return self.members[community][0].member_id


class Steps:
    """The state every step of loading reads and adds to."""

    def __init__(
        self, scenario: Scenario, clients: dict[str, NodeClient], today: date, say: Say
    ) -> None:
        self.scenario = scenario
        self.clients = clients
        self.today = today
        self.say = say
        self.loaded = Loaded()
