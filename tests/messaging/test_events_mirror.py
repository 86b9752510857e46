"""The registry -> events projection over a real nats-server: the registry's relay publishes, the
events service's inbox applies each event once into its community mirror, and both survive
restarts of either service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import NotFound
from services.common.identity import Caller
from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.contracts.registry_mirror import RegistryMirror
from services.events.domain import ConveningDetails
from services.events.mirror import CommunityDirectoryView
from services.events.service import DEFINITION as EVENTS
from services.events.values import Format, RegistrationWindow, TimeSlot
from services.registry.domain import JoiningPolicy, OrganisationKind, Profession, Role
from services.registry.service import DEFINITION as REGISTRY
from tests.support.events_world import MovableClock, cmd, publications
from tests.support.waiting import eventually

T0 = datetime(2024, 1, 10, 9, tzinfo=UTC)


class Services:
    def __init__(self, settings: NodeSettings, clock: MovableClock) -> None:
        self.settings = settings
        self.clock = clock
        self.threads: dict[str, ServiceThread] = {}

    def start(self, name: str, roles: tuple[str, ...] = ("api", "worker")) -> ServiceRuntime:
        definition = REGISTRY if name == "registry" else EVENTS
        thread = ServiceThread(
            lambda: ServiceRuntime(
                definition, self.settings, roles=roles, address="127.0.0.1:0", clock=self.clock
            )
        )
        runtime = thread.start()
        self.threads[f"{name}:{','.join(roles)}"] = thread
        return runtime

    def stop(self, name: str, roles: tuple[str, ...] = ("api", "worker")) -> None:
        self.threads.pop(f"{name}:{','.join(roles)}").stop()

    def stop_all(self) -> None:
        for thread in self.threads.values():
            thread.stop()
        self.threads.clear()


@pytest.fixture
def services(node_settings: NodeSettings, nats_server):
    running = Services(node_settings.with_overrides(nats_url=nats_server.url), MovableClock(T0))
    yield running
    running.stop_all()


def mirror_of(runtime: ServiceRuntime) -> CommunityDirectoryView:
    mirror = runtime.projections[RegistryMirror.name]
    assert isinstance(mirror, RegistryMirror)
    return CommunityDirectoryView(mirror)


def role_rows(view: CommunityDirectoryView) -> int:
    with view.mirror.store.read() as tx:
        return tx.one("SELECT COUNT(*) AS n FROM mirror_role_terms")["n"]


def test_the_mirror_follows_the_registry_across_restarts_of_either_service(services: Services):
    registry = services.start("registry").app
    events = services.start("events")
    mirror = mirror_of(events)
    trust = registry.create_organisation(
        cmd(), "Southern Trust", OrganisationKind.NHS_TRUST, "ni", None
    ).entity_id

    def person(name: str) -> uuid.UUID:
        return registry.register_member(
            cmd(), name, Profession.PHARMACIST, trust, f"{uuid.uuid4().hex}@hscni.net"
        ).entity_id

    lead, facilitator, member = person("Lead"), person("Facilitator"), person("Member")
    community = registry.create_community(
        cmd(Caller.member(lead)), "cop-portadown", "CoP Portadown", "primary-care", "", "ni", [],
        JoiningPolicy.OPEN,
    ).entity_id  # fmt: skip
    for who in (facilitator, member):
        registry.join(cmd(Caller.member(who)), community, who)
    registry.assign_role(cmd(Caller.member(lead)), community, facilitator, Role.FACILITATOR, None)
    eventually(lambda: mirror.organisers(community, T0.date()) == [lead, facilitator])
    assert mirror.display_names([lead]) == {lead: "Lead"}
    assert mirror.is_active_member(community, member)
    rows = role_rows(mirror)

    # The events service is down while the registry moves on.
    services.stop("events")
    services.clock.advance(timedelta(days=1))
    registry.leave(cmd(Caller.member(member)), community)
    registry.end_role(cmd(Caller.member(lead)), community, facilitator, Role.FACILITATOR, None)
    registry.update_community(
        cmd(Caller.member(lead)), community, 0, joining_policy=JoiningPolicy.INVITE_ONLY
    )
    events = services.start("events")
    mirror = mirror_of(events)
    eventually(lambda: mirror.community(community).joining_policy.value == "invite_only")
    tomorrow = services.clock.today()
    assert mirror.organisers(community, tomorrow) == [lead]
    assert mirror.organisers(community, T0.date()) == [lead, facilitator], "history is kept"
    assert not mirror.is_active_member(community, member)
    # Leaving ended the member role; nothing was applied twice.
    assert role_rows(mirror) == rows

    # Now the registry restarts; its relay resumes where it stopped.
    services.stop("registry")
    registry = services.start("registry").app
    newcomer = person("Newcomer")
    registry.invite(cmd(Caller.member(lead)), community, newcomer)
    registry.accept_invitation(cmd(Caller.member(newcomer)), community)
    eventually(lambda: mirror.is_active_member(community, newcomer))
    inbox = events.inboxes[0]
    assert inbox.stats.rejected == 0
    last_published = max(
        n.id
        for n in registry.recorder.select_notifications(0, 10_000)
        if publications(REGISTRY.integration, registry.mapper.to_domain_event(n), n.id)
    )
    # The membership shows before the last event of the acceptance is applied: wait for it.
    eventually(lambda: mirror.registry_position() == last_published)
    assert events.app.may_organise(Caller.member(lead), mirror.community(community))
    assert not events.app.may_organise(Caller.member(facilitator), mirror.community(community))


def test_an_api_without_a_worker_answers_clearly_until_the_mirror_catches_up(services: Services):
    """API and worker run apart (scaled API, one worker); the mirror is shared through the
    store. With no worker running, nothing new arrives, and callers are told why."""
    registry = services.start("registry").app
    api = services.start("events", roles=("api",))
    trust = registry.create_organisation(
        cmd(), "Guy's and St Thomas'", OrganisationKind.NHS_TRUST, "london", "RJ1"
    ).entity_id
    lead = registry.register_member(
        cmd(), "Lead", Profession.NURSE, trust, "lead@example.nhs.uk"
    ).entity_id
    community = registry.create_community(
        cmd(Caller.member(lead)), "cancer-cop", "Cancer CoP", "cancer", "", "london", [],
        JoiningPolicy.OPEN,
    ).entity_id  # fmt: skip
    start = datetime(2024, 2, 21, 12)
    arguments = (
        community,
        ConveningDetails("Launch", "Launch", "", Format.FACE_TO_FACE, "Guy's", ""),
        TimeSlot.of_local(start, start + timedelta(hours=2), "Europe/London"),
        None,
        RegistrationWindow(),
    )
    with pytest.raises(NotFound, match="not known to the events service"):
        api.app.schedule_convening(cmd(Caller.member(lead)), *arguments)
    services.start("events", roles=("worker",))

    def lead_may_organise() -> bool:
        # The community arrives before the lead's role (a later event): wait for the role.
        known = mirror_of(api).community(community)
        return known is not None and api.app.may_organise(Caller.member(lead), known)

    eventually(lead_may_organise)
    outcome = api.app.schedule_convening(cmd(Caller.member(lead)), *arguments)
    assert outcome.version >= 1
