"""The registry's use cases on real stores: SQLite files and PostgreSQL schemas."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from typing import Any

import pytest

from services.common.application import Clock
from services.common.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.idempotency import Command
from services.common.identity import Caller
from services.common.paging import parse_page_token
from services.common.projection import ProjectionFollower
from services.common.settings import NodeSettings
from services.common.sqlstore import SqlStore
from services.registry.application import Registry
from services.registry.domain import (
    JoiningPolicy,
    Lifecycle,
    MembershipStatus,
    OrganisationKind,
    Profession,
    Role,
)
from services.registry.views import Directory

OPERATOR = Caller.operator()


class FixedClock(Clock):
    def __init__(self, today: date) -> None:
        super().__init__()
        self.day = today

    def today(self) -> date:
        return self.day


def cmd(
    caller: Caller = OPERATOR,
    request_id: str | None = None,
    name: str = "Test",
    fingerprint: str | None = None,
) -> Command:
    request_id = request_id or str(uuid.uuid4())
    return Command(name, request_id, caller, fingerprint or f"fp-{request_id}")


def open_registry(settings: NodeSettings, clock: Clock | None = None) -> Registry:
    settings.stores.prepare("registry")
    return Registry(env=settings.stores.application_env("registry"), clock=clock)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(date(2024, 1, 15))


@pytest.fixture
def registry(node_settings: NodeSettings, clock: FixedClock):
    app = open_registry(node_settings, clock)
    yield app
    app.close()


@pytest.fixture
def directory(node_settings: NodeSettings, registry: Registry):
    store = SqlStore(
        "registry_directory", node_settings.stores.tracking_env("registry", "directory")
    )
    view = Directory(store)
    follower = ProjectionFollower(registry, view)
    yield view, follower
    store.close()


class World:
    """A trust, its members, and a community led by the first of them."""

    def __init__(self, app: Registry, policy: JoiningPolicy = JoiningPolicy.OPEN) -> None:
        self.app = app
        self.trust = app.create_organisation(
            cmd(), "Lewisham and Greenwich", OrganisationKind.NHS_TRUST, "london", "RJ2"
        ).entity_id
        self.lead = self.member("Lead Nurse", "lead@nhs.net")
        self.community = app.create_community(
            cmd(Caller.member(self.lead)),
            "cancer-cop",
            "Cancer CoP",
            "cancer-care",
            "Improve care",
            "london",
            [],
            policy,
        ).entity_id

    def member(self, name: str, email: str, profession: Profession = Profession.NURSE):
        return self.app.register_member(cmd(), name, profession, self.trust, email).entity_id

    def as_(self, member_id: uuid.UUID) -> Caller:
        return Caller.member(member_id)


def event_count(app: Registry) -> int:
    return app.recorder.max_notification_id() or 0


@pytest.mark.both_stores
class TestIdempotency:
    def test_a_retried_command_returns_the_first_outcome_and_changes_nothing(self, registry):
        first = registry.create_organisation(
            cmd(request_id="r-1"), "Trust", OrganisationKind.NHS_TRUST, "london", None
        )
        count = event_count(registry)
        again = registry.create_organisation(
            cmd(request_id="r-1"), "Trust", OrganisationKind.NHS_TRUST, "london", None
        )
        assert (again.entity_id, again.version, again.replayed) == (first.entity_id, 1, True)
        assert event_count(registry) == count

    def test_a_retry_answers_the_first_outcome_s_position(self, registry):
        """The position is the command's last domain event (never its unique-key claim or
        its receipt, which are not published): a retry answers it, however far the log
        moved on."""
        with_claim = cmd(request_id="r-ods")
        first = registry.create_organisation(
            with_claim, "Trust", OrganisationKind.NHS_TRUST, "london", "RJ1"
        )
        assert first.position == event_count(registry) - 1  # the receipt came last
        registry.create_organisation(cmd(), "Other", OrganisationKind.NHS_TRUST, "london", None)
        again = registry.create_organisation(
            with_claim, "Trust", OrganisationKind.NHS_TRUST, "london", "RJ1"
        )
        assert again.replayed and again.position == first.position

    def test_a_request_id_reused_for_another_request_is_refused(self, registry):
        registry.create_organisation(
            cmd(request_id="r-1", fingerprint="a"), "T", OrganisationKind.NHS_TRUST, "x", None
        )
        with pytest.raises(InvalidArgument) as error:
            registry.create_organisation(
                cmd(request_id="r-1", fingerprint="b"), "U", OrganisationKind.NHS_TRUST, "x", None
            )
        assert error.value.violations[0].field == "request_id"

    def test_request_ids_belong_to_their_caller(self, registry):
        world = World(registry)
        nurse = world.member("Nurse", "n@nhs.net")
        a = registry.join(cmd(world.as_(nurse), request_id="same"), world.community, nurse)
        assert not a.replayed
        # The lead's "same" request id is a different request.
        b = registry.invite(
            cmd(world.as_(world.lead), request_id="same"),
            world.community,
            world.member("Other", "o@nhs.net"),
        )
        assert not b.replayed

    def test_concurrent_retries_record_the_command_once(self, registry):
        world = World(registry)
        nurse = world.member("Nurse", "n@nhs.net")
        outcomes: list[Any] = []

        def join() -> None:
            try:
                outcomes.append(
                    registry.join(
                        cmd(world.as_(nurse), request_id="join-1"), world.community, nurse
                    )
                )
            except Exception as error:
                outcomes.append(error)

        threads = [threading.Thread(target=join) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(outcomes) == 6
        assert {o.version for o in outcomes} == {3}, outcomes
        assert sum(not o.replayed for o in outcomes) == 1


@pytest.mark.both_stores
class TestUniqueKeys:
    def test_duplicate_slug_ods_code_and_email(self, registry):
        world = World(registry)
        with pytest.raises(AlreadyExists, match="cancer-cop"):
            registry.create_community(
                cmd(),
                "cancer-cop",
                "Another",
                "x",
                "",
                "london",
                [world.trust],
                JoiningPolicy.OPEN,
            )
        with pytest.raises(AlreadyExists, match="RJ2"):
            registry.create_organisation(cmd(), "Copy", OrganisationKind.NHS_TRUST, "x", "RJ2")
        with pytest.raises(AlreadyExists, match="e-mail"):
            world.member("Copy", "lead@nhs.net")

    def test_concurrent_creates_of_one_slug_store_exactly_one(self, registry):
        world = World(registry)
        results: list[Any] = []

        def create(i: int) -> None:
            try:
                results.append(
                    registry.create_community(
                        cmd(),
                        "diabetes-in-pregnancy",
                        f"DiP {i}",
                        "maternity",
                        "",
                        "london",
                        [world.trust],
                        JoiningPolicy.OPEN,
                    )
                )
            except AlreadyExists as error:
                results.append(error)

        threads = [threading.Thread(target=create, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        created = [r for r in results if not isinstance(r, Exception)]
        assert len(created) == 1
        assert registry.community_by_slug("diabetes-in-pregnancy").id == created[0].entity_id

    def test_changing_an_email_frees_the_old_one(self, registry):
        world = World(registry)
        nurse = world.member("Nurse", "old@nhs.net")
        registry.update_member(cmd(world.as_(nurse)), nurse, 0, email="new@nhs.net")
        reused = world.member("Someone else", "old@nhs.net")
        assert reused != nurse
        with pytest.raises(AlreadyExists):
            registry.update_member(cmd(world.as_(reused)), reused, 0, email="new@nhs.net")


@pytest.mark.both_stores
class TestOptimisticConcurrency:
    def test_expected_version_mismatch_is_a_conflict(self, registry):
        org = registry.create_organisation(cmd(), "T", OrganisationKind.NHS_TRUST, "x", None)
        registry.update_organisation(cmd(), org.entity_id, 1, name="T2")
        with pytest.raises(ConcurrencyConflict, match="version 2, not 1"):
            registry.update_organisation(cmd(), org.entity_id, 1, name="T3")
        assert registry.update_organisation(cmd(), org.entity_id, 2, name="T3").version == 3


class TestPermissions:
    def test_only_the_operator_registers_organisations_and_members(self, registry):
        world = World(registry)
        with pytest.raises(PermissionDenied):
            registry.create_organisation(
                cmd(world.as_(world.lead)), "X", OrganisationKind.OTHER, "x", None
            )
        with pytest.raises(PermissionDenied):
            registry.register_member(
                cmd(world.as_(world.lead)), "X", Profession.GP, world.trust, "x@x.org"
            )

    def test_co_leads_and_the_operator_manage_members_others_do_not(self, registry):
        world = World(registry, JoiningPolicy.APPROVAL)
        asker = world.member("Asker", "a@nhs.net")
        bystander = world.member("Bystander", "b@nhs.net")
        registry.request_membership(cmd(world.as_(asker)), world.community, asker, "hi")
        with pytest.raises(PermissionDenied, match="co-leads"):
            registry.approve_request(cmd(world.as_(bystander)), world.community, asker)
        with pytest.raises(PermissionDenied, match="co-leads"):
            registry.approve_request(cmd(world.as_(asker)), world.community, asker)
        registry.approve_request(cmd(world.as_(world.lead)), world.community, asker)
        with pytest.raises(PermissionDenied):
            registry.assign_role(cmd(world.as_(asker)), world.community, asker, Role.CO_LEAD, None)
        registry.assign_role(cmd(), world.community, asker, Role.FACILITATOR, None)

    def test_members_act_only_for_themselves(self, registry):
        world = World(registry)
        a = world.member("A", "a@nhs.net")
        b = world.member("B", "b@nhs.net")
        with pytest.raises(PermissionDenied):
            registry.join(cmd(world.as_(a)), world.community, b)
        with pytest.raises(PermissionDenied):
            registry.update_member(cmd(world.as_(a)), b, 0, display_name="Hacked")
        registry.join(cmd(), world.community, b)  # the operator may enrol someone
        registry.update_member(cmd(world.as_(a)), a, 0, display_name="A. Person")

    def test_a_former_co_lead_loses_the_power(self, registry, clock):
        world = World(registry)
        helper = world.member("Helper", "h@nhs.net")
        registry.join(cmd(world.as_(helper)), world.community, helper)
        registry.end_role(cmd(), world.community, world.lead, Role.CO_LEAD, date(2024, 2, 1))
        clock.day = date(2024, 2, 1)
        with pytest.raises(PermissionDenied):
            registry.remove(cmd(world.as_(world.lead)), world.community, helper, "")


class TestMembershipFlows:
    def test_the_creator_becomes_a_co_lead(self, registry, clock):
        world = World(registry)
        founder = registry.membership(world.community, world.lead)
        assert founder.is_active and founder.holds(Role.CO_LEAD, clock.day)

    def test_joining_follows_the_policy(self, registry):
        for policy, hint in [
            (JoiningPolicy.APPROVAL, "RequestMembership"),
            (JoiningPolicy.INVITE_ONLY, "invitation"),
        ]:
            app_world = World.__new__(World)
            app_world.app = registry
            app_world.trust = registry.create_organisation(
                cmd(), f"T {policy}", OrganisationKind.NHS_TRUST, "x", None
            ).entity_id
            lead = app_world.member(f"L {policy}", f"l-{policy}@nhs.net")
            community = registry.create_community(
                cmd(Caller.member(lead)),
                f"c-{policy.value.replace('_', '-')}",
                "C",
                "d",
                "",
                "x",
                [],
                policy,
            ).entity_id
            person = app_world.member(f"P {policy}", f"p-{policy}@nhs.net")
            with pytest.raises(FailedPrecondition, match=hint):
                registry.join(cmd(Caller.member(person)), community, person)

    def test_invite_only_flow(self, registry):
        world = World(registry, JoiningPolicy.INVITE_ONLY)
        guest = world.member("Guest", "g@nhs.net")
        with pytest.raises(FailedPrecondition, match="invitation"):
            registry.request_membership(cmd(world.as_(guest)), world.community, guest, "")
        registry.invite(cmd(world.as_(world.lead)), world.community, guest)
        outcome = registry.accept_invitation(cmd(world.as_(guest)), world.community)
        assert registry.entity_at(outcome).status is MembershipStatus.ACTIVE

    def test_nothing_joins_a_closed_community(self, registry):
        world = World(registry)
        late = world.member("Late", "late@nhs.net")
        registry.change_community_lifecycle(cmd(), world.community, Lifecycle.CLOSED, "ended", 0)
        with pytest.raises(FailedPrecondition, match="closed"):
            registry.join(cmd(world.as_(late)), world.community, late)
        with pytest.raises(FailedPrecondition, match="closed"):
            registry.invite(cmd(), world.community, late)
        registry.leave(cmd(world.as_(world.lead)), world.community)  # leaving stays possible

    def test_approving_a_request_that_does_not_exist(self, registry):
        world = World(registry, JoiningPolicy.APPROVAL)
        nobody = world.member("Nobody", "nobody@nhs.net")
        with pytest.raises(FailedPrecondition, match="no pending request"):
            registry.approve_request(cmd(), world.community, nobody)
        with pytest.raises(NotFound, match="member"):
            registry.approve_request(cmd(), world.community, uuid.uuid4())
        registry.request_membership(cmd(world.as_(nobody)), world.community, nobody, "")
        registry.reject_request(cmd(), world.community, nobody, "full")
        with pytest.raises(FailedPrecondition, match="no pending request"):
            registry.approve_request(cmd(), world.community, nobody)

    def test_retired_organisations_take_no_new_members(self, registry):
        world = World(registry)
        registry.retire_organisation(cmd(), world.trust, 0)
        with pytest.raises(FailedPrecondition, match="retired"):
            world.member("New", "new@nhs.net")


@pytest.mark.both_stores
class TestDirectory:
    def test_who_were_the_co_leads_on_a_date(self, registry, directory, clock):
        view, follower = directory
        world = World(registry)
        second = world.member("Second", "second@nhs.net")
        registry.join(cmd(world.as_(second)), world.community, second)
        registry.assign_role(cmd(), world.community, second, Role.CO_LEAD, date(2024, 3, 1))
        registry.end_role(cmd(), world.community, world.lead, Role.CO_LEAD, date(2024, 6, 1))
        follower.catch_up()

        def co_leads(day: date) -> set[uuid.UUID]:
            page = parse_page_token(50, "", {})
            records, _ = view.list_memberships(
                page, community_id=str(world.community), role="co_lead", as_of=day
            )
            return {r.member_id for r in records}

        assert co_leads(date(2024, 1, 15)) == {world.lead}
        assert co_leads(date(2024, 4, 1)) == {world.lead, second}
        assert co_leads(date(2024, 6, 1)) == {second}
        assert co_leads(date(2023, 12, 31)) == set()

    def test_filters_and_paging(self, registry, directory):
        view, follower = directory
        world = World(registry)
        for i in range(7):
            world.member(f"Pharmacist {i}", f"ph{i}@nhs.net", Profession.PHARMACIST)
        follower.catch_up()
        seen: list[str] = []
        token = ""
        filters = {"profession": "pharmacist"}
        while True:
            page = parse_page_token(3, token, filters)
            records, token = view.list_members(page, profession="pharmacist")
            seen += [r.display_name for r in records]
            if not token:
                break
        assert seen == [f"Pharmacist {i}" for i in range(7)]
        with pytest.raises(ValueError, match="different filters"):
            parse_page_token(
                3,
                parse_page_token(3, "", filters).next_token(
                    [("pharmacist 0", "x")] * 3, lambda r: r
                ),
                {"profession": "gp"},
            )

    def test_rebuilding_from_the_events_gives_the_same_directory(self, registry, directory):
        view, follower = directory
        world = World(registry)
        nurse = world.member("Nurse", "n@nhs.net")
        registry.join(cmd(world.as_(nurse)), world.community, nurse)
        registry.leave(cmd(world.as_(nurse)), world.community)
        follower.catch_up()

        def snapshot() -> Any:
            page = parse_page_token(100, "", {})
            return (
                view.list_organisations(page, include_retired=True)[0],
                view.list_communities(page)[0],
                view.list_members(page)[0],
                view.list_memberships(page)[0],
            )

        before = snapshot()
        view.reset()
        assert snapshot() == ([], [], [], [])
        rebuilt = ProjectionFollower(registry, view)
        rebuilt.start()
        rebuilt.catch_up()
        rebuilt.stop()
        assert snapshot() == before


@pytest.mark.both_stores
def test_everything_acknowledged_survives_reopening_the_store(node_settings):
    app = open_registry(node_settings)
    world = World(app)
    app.close()
    reopened = open_registry(node_settings)
    try:
        assert reopened.membership(world.community, world.lead).is_active
        assert reopened.community_by_slug("cancer-cop").id == world.community
    finally:
        reopened.close()
