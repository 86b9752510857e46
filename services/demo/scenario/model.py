"""The shapes of the demo scenario: nodes, organisations, communities, meetings,
learning items and adoptions, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field

from copnet.events.v1 import events_pb2 as epb
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.registry.v1 import registry_pb2 as rpb


@dataclass(frozen=True)
class Organisation:
    key: str
    name: str
    kind: rpb.OrganisationKind
    region: str
    # For generated e-mail addresses: <person>@<domain>.example.org
    domain: str


@dataclass(frozen=True)
class NodeSpec:
    node_id: str
    name: str
    # The organisations this node's registry holds; the first runs the node.
    organisations: tuple[Organisation, ...]


@dataclass(frozen=True)
class People:
    """`count` generated members of one organisation and profession, each holding `role`."""

    organisation: str
    profession: rpb.Profession
    count: int
    role: rpb.Role = rpb.ROLE_MEMBER


@dataclass(frozen=True)
class Community:
    key: str
    node_id: str
    slug: str
    name: str
    domain: str
    purpose: str
    region: str
    hosts: tuple[str, ...]
    # The first group's first person creates the community (and so becomes a co-lead).
    people: tuple[People, ...]
    joining_policy: rpb.JoiningPolicy = rpb.JOINING_POLICY_OPEN


@dataclass(frozen=True)
class PastMeeting:
    """A meeting from a seed's records: held (with figures when the seed gives them),
    or with no record of whether it took place (`held=False`)."""

    start: str
    end: str
    topic: str
    format: epb.ConveningFormat = epb.CONVENING_FORMAT_FACE_TO_FACE
    held: bool = True
    signed_up: int = 0
    attended: int = 0
    outcomes: tuple[tuple[epb.OutcomeKind, str], ...] = ()


@dataclass(frozen=True)
class HistoricPlan:
    key: str
    community: str
    title: str
    description: str
    venue: str
    meetings: tuple[PastMeeting, ...]


@dataclass(frozen=True)
class FuturePlan:
    """A plan of meetings to come, as an RFC 5545 rule starting next year (demo assumption)."""

    key: str
    community: str
    title: str
    venue: str
    # The rule, and the first start's month, day-of-month and time (its year is next year).
    rule: str
    first_start: str


@dataclass(frozen=True)
class Upcoming:
    """A convening to come, `days_ahead` from the day the demo runs (demo assumption)."""

    key: str
    community: str
    title: str
    topic: str
    format: epb.ConveningFormat
    days_ahead: int
    start_time: str
    end_time: str
    capacity: int
    # How many of the community's members sign up (beyond capacity: the waitlist).
    sign_ups: int
    venue: str = ""
    join_link: str = ""


@dataclass(frozen=True)
class Item:
    key: str
    node_id: str
    community: str
    organisation: str
    kind: lpb.ItemKind
    title: str
    summary: str
    body: str
    tags: tuple[str, ...]
    visibility: lpb.Visibility = lpb.VISIBILITY_REGION
    partner_nodes: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    # (historic plan key, index of the meeting) where it was presented.
    presented_at: tuple[str, int] | None = None


@dataclass(frozen=True)
class AdoptionSpec:
    item: str
    node_id: str
    organisation: str
    status: lpb.AdoptionStatus
    evidence: str
    effective_on: str


@dataclass(frozen=True)
class Scenario:
    nodes: tuple[NodeSpec, ...]
    communities: tuple[Community, ...]
    historic_plans: tuple[HistoricPlan, ...]
    cancer_events: tuple[PastMeeting, ...]
    cancer_community: str
    future_plans: tuple[FuturePlan, ...]
    upcoming: tuple[Upcoming, ...]
    items: tuple[Item, ...]
    adoptions: tuple[AdoptionSpec, ...]
    model_item: str
    newsletter: dict[str, str] = field(default_factory=dict)

    def node(self, node_id: str) -> NodeSpec:
        return next(n for n in self.nodes if n.node_id == node_id)

    def organisation(self, key: str) -> tuple[NodeSpec, Organisation]:
        for node in self.nodes:
            for organisation in node.organisations:
                if organisation.key == key:
                    return node, organisation
        raise KeyError(key)

    def community(self, key: str) -> Community:
        return next(c for c in self.communities if c.key == key)
