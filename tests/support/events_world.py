"""A registry and an events service side by side, for application tests.

The registry's events reach the events service's mirror the way the relay and
the inbox carry them (the relay's envelope, read back and checked as the inbox
reads it), only without NATS in between; tests/messaging covers that hop.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.common.application import Clock
from services.common.idempotency import Command
from services.common.identity import Caller
from services.common.inbox import read_message
from services.common.messaging import NodeIdentity
from services.common.projection import ProjectionFollower
from services.common.settings import NodeSettings
from services.common.sqlstore import SqlStore
from services.contracts.registry_mirror import RegistryMirror
from services.events.application import Events
from services.events.domain import ConveningDetails
from services.events.mirror import CommunityDirectoryView
from services.events.values import Format, RegistrationWindow, TimeSlot
from services.events.views import Schedule
from services.registry.application import Registry
from services.registry.domain import Community as RegistryCommunity
from services.registry.domain import JoiningPolicy, OrganisationKind, Profession, Role
from services.registry.integration import REGISTRY

LONDON = "Europe/London"
T0 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
START = datetime(2024, 2, 21, 12, 0)  # London wall-clock

IDENTITY = NodeIdentity("testnode", "test-region")
OPERATOR = Caller.operator()


class MovableClock(Clock):
    """The node's clock, set and moved by the test (both services share it)."""

    def __init__(self, now: datetime) -> None:
        super().__init__()
        self._now = now
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, now: datetime) -> None:
        with self._lock:
            self._now = now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


def cmd(caller: Caller = OPERATOR, request_id: str | None = None, name: str = "Test") -> Command:
    request_id = request_id or str(uuid.uuid4())
    return Command(name, request_id, caller, f"fp-{request_id}")


def publications(integration: Any, domain_event: Any, position: int) -> list[Any]:
    """What the relay publishes for a stored event."""
    return integration.publications(domain_event, position, IDENTITY)


class RegistryFeed:
    """Carries the registry's published events into the mirror, in log order, exactly once."""

    def __init__(self, registry: Registry, mirror: RegistryMirror) -> None:
        self.registry = registry
        self.mirror = mirror
        self.position = 0

    def sync(self) -> int:
        applied = 0
        while True:
            notifications = self.registry.recorder.select_notifications(
                start=self.position, limit=500, inclusive_of_start=False
            )
            if not notifications:
                return applied
            for notification in notifications:
                domain_event = self.registry.mapper.to_domain_event(notification)
                for publication in publications(REGISTRY, domain_event, notification.id):
                    message = read_message(
                        publication.subject,
                        publication.headers,
                        publication.envelope.SerializeToString(),
                    )
                    applied += self.mirror.handle(message)
                self.position = notification.id


class Node:
    """The registry and events applications of one node, on the test's stores."""

    def __init__(self, settings: NodeSettings, clock: Clock) -> None:
        settings.stores.prepare("registry")
        settings.stores.prepare("events")
        self.registry = Registry(env=settings.stores.application_env("registry"), clock=clock)
        self.events = Events(env=settings.stores.application_env("events"), clock=clock)
        self.mirror_store = SqlStore(
            "events_registry_mirror",
            settings.stores.tracking_env("events", "registry_mirror"),
        )
        self.mirror = RegistryMirror(self.mirror_store)
        self.events.connect(CommunityDirectoryView(self.mirror))
        self.feed = RegistryFeed(self.registry, self.mirror)
        self.schedule_store = SqlStore(
            "events_schedule", settings.stores.tracking_env("events", "schedule")
        )
        self.schedule = Schedule(self.schedule_store)
        self.follower = ProjectionFollower(self.events, self.schedule)

    def catch_up(self) -> None:
        self.feed.sync()
        self.follower.catch_up()

    def close(self) -> None:
        self.mirror_store.close()
        self.schedule_store.close()
        self.events.close()
        self.registry.close()


class Community:
    """A trust, and a community with a co-lead, a facilitator, a member and an outsider."""

    def __init__(
        self,
        node: Node,
        policy: JoiningPolicy = JoiningPolicy.OPEN,
        slug: str | None = None,
        members: int = 1,
    ) -> None:
        self.node = node
        registry = node.registry
        tag = uuid.uuid4().hex[:8]
        self.trust = registry.create_organisation(
            cmd(), f"Trust {tag}", OrganisationKind.NHS_TRUST, "london", None
        ).entity_id
        self.lead = self.person("Lead")
        self.community_id = registry.create_community(
            cmd(Caller.member(self.lead)),
            slug or f"cop-{tag}",
            f"Cancer CoP {tag}",
            "cancer-care",
            "",
            "london",
            [],
            policy,
        ).entity_id
        self.facilitator = self.person("Facilitator")
        self.admit(self.facilitator)
        registry.assign_role(
            cmd(Caller.member(self.lead)),
            self.community_id,
            self.facilitator,
            Role.FACILITATOR,
            None,
        )
        self.members = [self.person(f"Member {i}") for i in range(members)]
        for member in self.members:
            self.admit(member)
        self.member = self.members[0] if self.members else None
        self.outsider = self.person("Outsider")
        node.feed.sync()

    def person(self, name: str) -> uuid.UUID:
        return self.node.registry.register_member(
            cmd(), name, Profession.NURSE, self.trust, f"{uuid.uuid4().hex}@nhs.net"
        ).entity_id

    def admit(self, member: uuid.UUID) -> None:
        """Brings a member in by whatever the community's joining policy asks."""
        registry = self.node.registry
        policy = registry.load(self.community_id, RegistryCommunity, "community").joining_policy
        lead = cmd(Caller.member(self.lead))
        if policy is JoiningPolicy.OPEN:
            registry.join(cmd(Caller.member(member)), self.community_id, member)
        elif policy is JoiningPolicy.APPROVAL:
            registry.request_membership(cmd(Caller.member(member)), self.community_id, member, "")
            registry.approve_request(lead, self.community_id, member)
        else:
            registry.invite(lead, self.community_id, member)
            registry.accept_invitation(cmd(Caller.member(member)), self.community_id)

    def as_(self, member: uuid.UUID) -> Caller:
        return Caller.member(member)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# Shared by the events application tests.


def details(fmt: Format = Format.WEBINAR, topic: str = "Clinical Leadership") -> ConveningDetails:
    return ConveningDetails(
        title=topic,
        topic=topic,
        description="",
        format=fmt,
        venue="Guy's Hospital" if fmt is not Format.WEBINAR else "",
        join_link="https://meet.example.nhs.uk/x" if fmt is not Format.FACE_TO_FACE else "",
    )


def schedule(
    node: Node,
    cop: Community,
    caller: Caller | None = None,
    capacity: int | None = None,
    start: datetime = START,
    fmt: Format = Format.WEBINAR,
    topic: str = "Clinical Leadership",
) -> uuid.UUID:
    slot = TimeSlot.of_local(start, start + timedelta(hours=1), LONDON)
    return node.events.schedule_convening(
        cmd(caller or cop.as_(cop.lead)),
        cop.community_id,
        details(fmt, topic),
        slot,
        capacity,
        RegistrationWindow(),
    ).entity_id
