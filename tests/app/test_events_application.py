"""The events service's use cases on real stores (SQLite files and PostgreSQL schemas), authorised
from its mirror of a real registry."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.common.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
)
from services.common.identity import Caller
from services.common.paging import parse_page_token
from services.common.settings import NodeSettings
from services.events.application import Events
from services.events.commands import PlanDefaults, PlanEntry
from services.events.mirror import CommunityDirectoryView
from services.events.values import (
    Attendance,
    ConveningStatus,
    Format,
    LearningOutcome,
    OutcomeKind,
    RegistrationWindow,
    SignUpStatus,
    TimeSlot,
)
from services.events.views import ConveningRecord
from services.registry.domain import JoiningPolicy, Lifecycle, Role
from tests.support.events_world import (
    LONDON,
    OPERATOR,
    START,
    T0,
    Community,
    MovableClock,
    Node,
    cmd,
    details,
    schedule,
)


def started(clock: MovableClock) -> None:
    clock.set(datetime(2024, 2, 21, 12, 30, tzinfo=UTC))


def log_position(node: Node) -> int:
    return node.events.recorder.max_notification_id() or 0


class TestWhoMayDoWhat:
    """co-lead, facilitator and operator organise; a member and an outsider do not."""

    ACTIONS: dict[str, Any] = {
        "schedule": lambda n, cop, who, c: schedule(n, cop, who),
        "update": lambda n, cop, who, c: n.events.update_convening(cmd(who), c, 0, title="New"),
        "reschedule": lambda n, cop, who, c: n.events.reschedule_convening(
            cmd(who),
            c,
            TimeSlot.of_local(
                START + timedelta(days=7), START + timedelta(days=7, hours=1), LONDON
            ),
            "",
            0,
        ),
        "cancel": lambda n, cop, who, c: n.events.cancel_convening(cmd(who), c, "snow", 0),
        "approve": lambda n, cop, who, c: n.events.approve_sign_up(cmd(who), c, cop.member),
        "sign someone else up": lambda n, cop, who, c: n.events.sign_up(
            cmd(who), c, cop.members[1]
        ),
        "plan": lambda n, cop, who, c: n.events.create_meeting_plan(
            cmd(who),
            cop.community_id,
            PlanDefaults("Plan", "", Format.WEBINAR, "", "https://x.nhs.uk/p", None, 60),
            LONDON,
            "",
            [PlanEntry(START + timedelta(days=30))],
        ),
    }
    AFTER_START: dict[str, Any] = {
        "mark held": lambda n, cop, who, c: n.events.mark_held(cmd(who), c),
        "record attendance": lambda n, cop, who, c: n.events.record_attendance(
            cmd(who), c, {cop.member: Attendance.ATTENDED}
        ),
        "close": lambda n, cop, who, c: n.events.close_convening(cmd(who), c, [], None),
    }

    @pytest.mark.parametrize(
        "role, allowed",
        [
            ("lead", True),
            ("facilitator", True),
            ("operator", True),
            ("member", False),
            ("outsider", False),
        ],
    )
    def test_the_permission_matrix(self, node: Node, clock: MovableClock, role: str, allowed: bool):
        cop = Community(node, members=2)
        who = OPERATOR if role == "operator" else cop.as_(getattr(cop, role))

        def attempt(action: Any, convening_id: uuid.UUID, name: str) -> None:
            before = log_position(node)
            if allowed:
                action(node, cop, who, convening_id)
                return
            with pytest.raises(PermissionDenied, match="co-leads and facilitators"):
                action(node, cop, who, convening_id)  # each refusal names who may
            assert log_position(node) == before, f"{name}: a refused command wrote events"

        for name, action in self.ACTIONS.items():
            clock.set(T0)
            convening_id = schedule(node, cop)
            if name == "approve":
                node.events.sign_up(cmd(cop.as_(cop.member)), convening_id, cop.member)
                if allowed:  # approval needs a sign-up awaiting approval; open needs none
                    with pytest.raises(FailedPrecondition, match="awaiting approval"):
                        action(node, cop, who, convening_id)
                    continue
            attempt(action, convening_id, name)
        for name, action in self.AFTER_START.items():
            clock.set(T0)
            convening_id = schedule(node, cop)
            node.events.sign_up(cmd(cop.as_(cop.member)), convening_id, cop.member)
            started(clock)
            attempt(action, convening_id, name)

    def test_an_ended_role_no_longer_organises(self, node: Node, clock: MovableClock):
        cop = Community(node)
        schedule(node, cop, cop.as_(cop.facilitator))
        clock.advance(timedelta(days=1))
        node.registry.end_role(
            cmd(cop.as_(cop.lead)), cop.community_id, cop.facilitator, Role.FACILITATOR, None
        )
        node.feed.sync()
        with pytest.raises(PermissionDenied):
            schedule(node, cop, cop.as_(cop.facilitator))

    def test_a_member_signs_only_themselves_up_and_cancels_only_their_own(self, node: Node):
        cop = Community(node, members=2)
        c = schedule(node, cop)
        other = cop.members[1]
        with pytest.raises(PermissionDenied, match="member themselves"):
            node.events.sign_up(cmd(cop.as_(cop.member)), c, other)
        node.events.sign_up(cmd(cop.as_(other)), c, other)
        with pytest.raises(PermissionDenied):
            node.events.cancel_sign_up(cmd(cop.as_(cop.member)), c, other, "")
        node.events.cancel_sign_up(cmd(cop.as_(cop.facilitator)), c, other, "asked by phone")


class TestJoiningPolicies:
    def test_open_communities_welcome_anyone_on_the_node(self, node: Node):
        cop = Community(node, JoiningPolicy.OPEN)
        c = schedule(node, cop)
        outcome = node.events.sign_up(cmd(cop.as_(cop.outsider)), c, cop.outsider)
        assert node.events.convening(c).signups[cop.outsider].status is SignUpStatus.REGISTERED
        assert outcome.entity_id == c

    def test_approval_communities_take_their_members_only(self, node: Node):
        cop = Community(node, JoiningPolicy.APPROVAL)
        c = schedule(node, cop)
        with pytest.raises(PermissionDenied, match="only its members"):
            node.events.sign_up(cmd(cop.as_(cop.outsider)), c, cop.outsider)
        node.events.sign_up(cmd(cop.as_(cop.member)), c, cop.member)
        assert node.events.convening(c).signups[cop.member].status is SignUpStatus.REGISTERED

    def test_invite_only_sign_ups_wait_for_an_organiser(self, node: Node):
        cop = Community(node, JoiningPolicy.INVITE_ONLY, members=2)
        c = schedule(node, cop, capacity=1)
        with pytest.raises(PermissionDenied, match="invite-only"):
            node.events.sign_up(cmd(cop.as_(cop.outsider)), c, cop.outsider)
        first, second = cop.members
        node.events.sign_up(cmd(cop.as_(first)), c, first)
        node.events.sign_up(cmd(cop.as_(second)), c, second)
        convening = node.events.convening(c)
        assert {s.status for s in convening.signups.values()} == {SignUpStatus.PENDING_APPROVAL}
        node.events.approve_sign_up(cmd(cop.as_(cop.facilitator)), c, second)
        node.events.approve_sign_up(cmd(cop.as_(cop.lead)), c, first)
        convening = node.events.convening(c)
        assert convening.signups[second].status is SignUpStatus.REGISTERED
        assert convening.signups[first].status is SignUpStatus.WAITLISTED
        # An organiser signing someone up is the approval.
        d = schedule(node, cop)
        node.events.sign_up(cmd(cop.as_(cop.lead)), d, first)
        assert node.events.convening(d).signups[first].status is SignUpStatus.REGISTERED

    def test_people_the_registry_never_published_cannot_sign_up(self, node: Node):
        cop = Community(node)
        c = schedule(node, cop)
        stranger = uuid.uuid4()
        with pytest.raises(NotFound, match="not known to the events service"):
            node.events.sign_up(cmd(Caller.member(stranger)), c, stranger)

    def test_a_closed_community_takes_no_convenings_or_sign_ups(self, node: Node):
        cop = Community(node)
        c = schedule(node, cop)
        node.registry.change_community_lifecycle(
            cmd(cop.as_(cop.lead)), cop.community_id, Lifecycle.CLOSED, "merged", 0
        )
        node.feed.sync()
        with pytest.raises(FailedPrecondition, match="is closed"):
            schedule(node, cop)
        with pytest.raises(FailedPrecondition, match="is closed"):
            node.events.sign_up(cmd(cop.as_(cop.member)), c, cop.member)


class TestMirrorLag:
    """Until the registry's events arrive, an unknown id is NOT_FOUND and a role not yet seen
    PERMISSION_DENIED, both naming the registry position and how to wait for it
    (`min_registry_position`: tests/grpc/test_api_edge.py)."""

    def test_an_unknown_community_and_a_role_not_yet_seen(self, node: Node):
        cop = Community(node)
        newcomer = cop.person("New facilitator")
        cop.admit(newcomer)
        node.registry.assign_role(
            cmd(cop.as_(cop.lead)), cop.community_id, newcomer, Role.FACILITATOR, None
        )
        other_id = node.registry.create_community(
            cmd(cop.as_(cop.lead)),
            "not-yet-seen",
            "Not yet",
            "x",
            "",
            "london",
            [],
            JoiningPolicy.OPEN,
        ).entity_id
        # Neither the role nor the new community has reached the events service.
        with pytest.raises(NotFound, match="not known to the events service") as e:
            node.events.schedule_convening(
                cmd(cop.as_(cop.lead)),
                other_id,
                details(),
                TimeSlot.of_local(START, START + timedelta(hours=1), LONDON),
                None,
                RegistrationWindow(),
            )
        assert "up to position" in str(e.value) and "min_registry_position" in str(e.value)
        with pytest.raises(PermissionDenied, match="as of registry position"):
            schedule(node, cop, cop.as_(newcomer))
        node.feed.sync()
        schedule(node, cop, cop.as_(newcomer))


@pytest.mark.both_stores
class TestSignUps:
    def test_a_retry_returns_the_first_outcome(self, node: Node):
        cop = Community(node)
        c = schedule(node, cop, capacity=5)
        first = node.events.sign_up(cmd(cop.as_(cop.member), "r-1"), c, cop.member)
        position = log_position(node)
        again = node.events.sign_up(cmd(cop.as_(cop.member), "r-1"), c, cop.member)
        assert (again.entity_id, again.version, again.replayed) == (c, first.version, True)
        assert log_position(node) == position
        with pytest.raises(AlreadyExists, match="holds a place"):
            node.events.sign_up(cmd(cop.as_(cop.member)), c, cop.member)

    def test_concurrent_sign_ups_in_one_process_never_exceed_capacity(self, node: Node):
        cop = Community(node, members=24)
        c = schedule(node, cop, capacity=8)
        results: list[Any] = []

        def sign_up(member: uuid.UUID) -> None:
            try:
                results.append(node.events.sign_up(cmd(cop.as_(member)), c, member))
            except Exception as error:  # collected and asserted below
                results.append(error)

        threads = [threading.Thread(target=sign_up, args=(m,)) for m in cop.members]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not [r for r in results if isinstance(r, Exception)], results
        convening = node.events.convening(c)
        statuses = [s.status for s in convening.signups.values()]
        assert statuses.count(SignUpStatus.REGISTERED) == 8
        assert statuses.count(SignUpStatus.WAITLISTED) == 16
        order = sorted(convening.signups.values(), key=lambda s: s.seq)
        assert [s.member_id for s in order[8:]] == convening.waitlist

    def test_two_processes_racing_for_the_last_places(
        self, node: Node, node_settings: NodeSettings, clock: MovableClock
    ):
        """A second application on the same store (another process in production) shares no
        lock with the first: optimistic concurrency alone keeps the capacity."""
        cop = Community(node, members=16)
        c = schedule(node, cop, capacity=4)
        other = Events(env=node_settings.stores.application_env("events"), clock=clock)
        other.connect(CommunityDirectoryView(node.mirror))
        results: list[Any] = []
        try:
            threads = [
                threading.Thread(
                    target=lambda app, m: results.append(_attempt(app, cop, c, m)),
                    args=(node.events if i % 2 else other, member),
                )
                for i, member in enumerate(cop.members)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            other.close()
        convening = node.events.convening(c)
        assert convening.places_taken == 4
        assert len(convening.signups) == sum(1 for r in results if r == "ok")
        assert all(r in ("ok", "aborted") for r in results), results

    def test_the_read_model_counts_what_the_aggregate_holds(self, node: Node, clock: MovableClock):
        cop = Community(node, JoiningPolicy.INVITE_ONLY, members=7)
        c = schedule(node, cop, capacity=3)
        m = cop.members
        for member in m:
            node.events.sign_up(cmd(cop.as_(member)), c, member)
        lead = cmd(cop.as_(cop.lead))
        for member in m[:5]:
            node.events.approve_sign_up(cmd(cop.as_(cop.lead)), c, member)
        node.events.decline_sign_up(lead, c, m[5], "not this time")
        node.events.cancel_sign_up(cmd(cop.as_(m[1])), c, m[1], "")
        node.events.update_convening(cmd(cop.as_(cop.lead)), c, 0, capacity=5)
        started(clock)
        node.events.record_attendance(
            cmd(cop.as_(cop.lead)),
            c,
            {m[0]: Attendance.ATTENDED, m[2]: Attendance.NO_SHOW, m[3]: Attendance.ATTENDED},
        )
        node.events.give_feedback(cmd(cop.as_(m[0])), c, 5, "great")
        node.catch_up()
        aggregate = ConveningRecord.of(node.events.convening(c))
        page = parse_page_token(50, "", {})
        (listed,), _ = node.schedule.list_convenings(page, community_id=str(cop.community_id))
        fields = [
            *("places_taken", "waitlist_length", "pending_approvals", "attended", "no_shows"),
            *("feedback_count", "feedback_sum", "status", "sequence", "version", "title"),
            *("join_link", "organiser_ids"),
        ]
        assert {f: getattr(listed, f) for f in fields} == {f: getattr(aggregate, f) for f in fields}
        assert (aggregate.places_taken, aggregate.pending_approvals) == (4, 1)


def _attempt(app: Events, cop: Community, convening_id: uuid.UUID, member: uuid.UUID) -> str:
    try:
        app.sign_up(cmd(cop.as_(member)), convening_id, member)
        return "ok"
    except ConcurrencyConflict:
        return "aborted"


class TestLifecycleAndOutcomes:
    def test_from_scheduled_to_closed_with_outcomes(self, node: Node, clock: MovableClock):
        cop = Community(node, members=3)
        c = schedule(node, cop, capacity=2)
        for member in cop.members:
            node.events.sign_up(cmd(cop.as_(member)), c, member)
        lead = cop.as_(cop.lead)
        node.events.reschedule_convening(
            cmd(lead),
            c,
            TimeSlot.of_local(START + timedelta(hours=2), START + timedelta(hours=3), LONDON),
            "clashes with MDT",
            0,
        )
        clock.set(datetime(2024, 2, 21, 14, 30, tzinfo=UTC))
        a, b, _ = cop.members
        node.events.record_attendance(cmd(lead), c, {a: Attendance.ATTENDED, b: Attendance.NO_SHOW})
        resource = LearningOutcome(
            OutcomeKind.ONLINE_RESOURCE, "Recording and slides", ("https://x.nhs.uk/rec",)
        )
        shadowing = LearningOutcome(OutcomeKind.SHADOWING_OPPORTUNITY, "Two clinic visits")
        node.events.close_convening(cmd(lead), c, [resource, shadowing], 5)
        convening = node.events.convening(c)
        assert convening.status is ConveningStatus.CLOSED
        assert convening.outcomes == [resource, shadowing]
        assert convening.attendee_count == 5
        assert [r.reason for r in convening.reschedules] == ["clashes with MDT"]
        with pytest.raises(FailedPrecondition, match="is closed"):
            node.events.record_attendance(cmd(lead), c, {b: Attendance.ATTENDED})

    @pytest.mark.both_stores
    def test_a_stale_expected_version_is_a_conflict(self, node: Node):
        cop = Community(node)
        c = schedule(node, cop)
        lead = cop.as_(cop.lead)
        version = node.events.update_convening(cmd(lead), c, 0, topic="QI").version
        with pytest.raises(ConcurrencyConflict, match=f"version {version}"):
            node.events.cancel_convening(cmd(lead), c, "weather", version - 1)
        node.events.cancel_convening(cmd(lead), c, "weather", version)
