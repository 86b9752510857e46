"""The registry's domain rules, on aggregates in memory."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from services.common.errors import FailedPrecondition
from services.kernel.parsing import parse_date, parse_name, parse_slug
from services.registry.domain import (
    Community,
    JoiningPolicy,
    Lifecycle,
    Member,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
    Profession,
    Role,
    parse_email,
    parse_enum,
    parse_ods_code,
)

DAY1 = date(2024, 1, 10)
DAY2 = date(2024, 3, 1)
DAY3 = date(2024, 6, 1)


def community(policy: JoiningPolicy = JoiningPolicy.OPEN) -> Community:
    return Community(
        slug="cancer-cop",
        name="Cancer CoP",
        domain="cancer-care",
        purpose="",
        region="london",
        host_organisation_ids=[uuid4()],
        joining_policy=policy.value,
    )


def membership() -> Membership:
    return Membership(community_id=uuid4(), member_id=uuid4())


class TestParsing:
    def test_names_are_trimmed_and_bounded(self):
        assert parse_name("  Guy's   and St Thomas'  ") == "Guy's and St Thomas'"
        with pytest.raises(ValueError, match="required"):
            parse_name("   ")
        with pytest.raises(ValueError, match="at most 200"):
            parse_name("x" * 201)
        with pytest.raises(ValueError, match="control characters"):
            parse_name("nul\x00byte")

    def test_slugs(self):
        assert parse_slug("south-east-london") == "south-east-london"
        for bad in ["", "South", "a--b", "-a", "a_b", "a" * 65]:
            with pytest.raises(ValueError):
                parse_slug(bad)

    def test_emails_are_lower_cased(self):
        assert parse_email(" Sam.Jones@NHS.net ") == "sam.jones@nhs.net"
        for bad in ["", "sam", "sam@nhs", "a b@nhs.net"]:
            with pytest.raises(ValueError):
                parse_email(bad)

    def test_ods_codes_are_optional_and_upper_cased(self):
        assert parse_ods_code("") is None
        assert parse_ods_code("rj1") == "RJ1"
        with pytest.raises(ValueError, match="ODS code"):
            parse_ods_code("R!")

    def test_dates_and_enums(self):
        assert parse_date("2024-03-01") == date(2024, 3, 1)
        with pytest.raises(ValueError, match="ISO 8601"):
            parse_date("01/03/2024")
        assert parse_enum(Role, "co_lead") is Role.CO_LEAD
        with pytest.raises(ValueError, match="one of"):
            parse_enum(Role, "chair")


class TestOrganisation:
    def test_rename_change_kind_and_retire(self):
        org = Organisation(name="Old", kind="nhs_trust", region="london", ods_code=None)
        org.rename("New")
        org.change_kind(OrganisationKind.GP_PRACTICE)
        org.rename("New")  # no change, no event
        assert [type(e).__name__ for e in org.collect_events()] == [
            "Registered",
            "Renamed",
            "KindChanged",
        ]
        org.retire()
        assert org.retired
        with pytest.raises(FailedPrecondition, match="retired"):
            org.rename("Again")
        with pytest.raises(FailedPrecondition, match="retired"):
            org.retire()


class TestCommunityLifecycle:
    def test_allowed_transitions(self):
        c = community()
        assert c.lifecycle is Lifecycle.FORMING
        c.change_lifecycle(Lifecycle.ACTIVE, "launched")
        c.change_lifecycle(Lifecycle.DORMANT, "paused")
        c.change_lifecycle(Lifecycle.ACTIVE, "back")
        c.change_lifecycle(Lifecycle.CLOSED, "funding ended")
        assert c.is_closed

    @pytest.mark.parametrize(
        "path, refused",
        [
            ([], Lifecycle.FORMING),
            ([], Lifecycle.DORMANT),
            ([Lifecycle.ACTIVE], Lifecycle.FORMING),
            ([Lifecycle.CLOSED], Lifecycle.ACTIVE),
        ],
    )
    def test_refused_transitions(self, path, refused):
        c = community()
        for step in path:
            c.change_lifecycle(step, "")
        with pytest.raises(FailedPrecondition):
            c.change_lifecycle(refused, "")

    def test_a_closed_community_cannot_change(self):
        c = community()
        c.change_lifecycle(Lifecycle.CLOSED, "")
        with pytest.raises(FailedPrecondition, match="closed"):
            c.change_details("New", "x", "", "london")
        with pytest.raises(FailedPrecondition, match="closed"):
            c.change_joining_policy(JoiningPolicy.INVITE_ONLY)

    def test_policy_check_explains_the_alternative(self):
        c = community(JoiningPolicy.INVITE_ONLY)
        with pytest.raises(FailedPrecondition, match="invite-only: ask a co-lead"):
            c.check_policy(JoiningPolicy.OPEN, "ask a co-lead for an invitation")


class TestMember:
    def test_changes_record_only_differences(self):
        m = Member(
            display_name="Sam", profession="nurse", home_organisation_id=uuid4(), email="s@x.org"
        )
        m.change_details("Sam", Profession.NURSE)
        m.change_email("s@x.org")
        m.change_email("sam@x.org")
        assert [type(e).__name__ for e in m.collect_events()] == ["Registered", "EmailChanged"]


class TestMembership:
    def test_join_starts_a_member_term(self):
        m = membership()
        m.join(on=DAY1, via="open")
        assert m.status is MembershipStatus.ACTIVE
        assert m.holds(Role.MEMBER, DAY1)
        assert not m.holds(Role.MEMBER, date(2024, 1, 9))

    def test_request_then_approve_or_reject(self):
        m = membership()
        m.request("please")
        assert m.status is MembershipStatus.REQUESTED
        with pytest.raises(FailedPrecondition, match="already"):
            m.request("again")
        m.reject("not a fit")
        assert m.status is MembershipStatus.REJECTED
        with pytest.raises(FailedPrecondition, match="no pending request"):
            m.approve(DAY1)
        m.request("second try")
        m.approve(DAY2)
        assert m.is_active and m.holds(Role.MEMBER, DAY2)

    def test_invite_accept_decline(self):
        m = membership()
        with pytest.raises(FailedPrecondition, match="no invitation"):
            m.accept(DAY1)
        m.invite()
        with pytest.raises(FailedPrecondition, match="already invited"):
            m.invite()
        with pytest.raises(FailedPrecondition, match="accept the invitation"):
            m.request("x")
        m.decline()
        assert m.status is MembershipStatus.DECLINED
        m.invite()
        m.accept(DAY1)
        assert m.is_active
        with pytest.raises(FailedPrecondition, match="active"):
            m.invite()

    def test_leaving_ends_every_open_term_and_rejoining_keeps_history(self):
        m = membership()
        m.join(on=DAY1, via="open")
        m.assign_role(Role.CO_LEAD, DAY1)
        m.leave(on=DAY2)
        assert m.status is MembershipStatus.LEFT
        assert all(term.end == DAY2 for term in m.terms)
        with pytest.raises(FailedPrecondition, match="only an active member can leave"):
            m.leave(on=DAY3)
        m.join(on=DAY3, via="open")
        assert m.holds(Role.CO_LEAD, date(2024, 2, 1))
        assert not m.holds(Role.CO_LEAD, DAY3)
        assert m.holds(Role.MEMBER, DAY3) and not m.holds(Role.MEMBER, date(2024, 4, 1))

    def test_removed_members_rejoin_only_by_invitation(self):
        m = membership()
        m.join(on=DAY1, via="open")
        m.remove("conduct", on=DAY2)
        with pytest.raises(FailedPrecondition, match="removed"):
            m.join(on=DAY3, via="open")
        m.invite()
        m.accept(DAY3)
        assert m.is_active

    def test_role_terms(self):
        m = membership()
        with pytest.raises(FailedPrecondition, match="active members"):
            m.assign_role(Role.FACILITATOR, DAY1)
        m.join(on=DAY1, via="open")
        with pytest.raises(FailedPrecondition, match="starts when someone joins"):
            m.assign_role(Role.MEMBER, DAY1)
        m.assign_role(Role.CO_LEAD, DAY1)
        with pytest.raises(FailedPrecondition, match="already holds co_lead"):
            m.assign_role(Role.CO_LEAD, DAY2)
        with pytest.raises(FailedPrecondition, match="must end after"):
            m.end_role(Role.CO_LEAD, DAY1)
        m.end_role(Role.CO_LEAD, DAY2)
        with pytest.raises(FailedPrecondition, match="no current co_lead"):
            m.end_role(Role.CO_LEAD, DAY3)
        with pytest.raises(FailedPrecondition, match="runs past"):
            m.assign_role(Role.CO_LEAD, date(2024, 2, 1))
        m.assign_role(Role.CO_LEAD, DAY3)
        assert m.holds(Role.CO_LEAD, date(2024, 2, 29))
        assert not m.holds(Role.CO_LEAD, DAY2)
        assert m.holds(Role.CO_LEAD, DAY3)
        with pytest.raises(FailedPrecondition, match="leaving or removal"):
            m.end_role(Role.MEMBER, DAY3)

    def test_events_name_their_community_and_member(self):
        m = membership()
        m.join(on=DAY1, via="open")
        m.assign_role(Role.FACILITATOR, DAY1)
        for e in m.collect_events():
            assert (e.community_id, e.member_id) == (m.community_id, m.member_id)

    def test_replay_rebuilds_the_same_state(self):
        m = membership()
        m.join(on=DAY1, via="open")
        m.assign_role(Role.CO_LEAD, DAY1)
        m.leave(on=DAY2)
        events = m.collect_events()
        replayed = None
        for e in events:
            replayed = e.mutate(replayed)
        assert replayed.terms == m.terms and replayed.status is m.status


def test_a_new_address_needs_its_code_and_requests_are_bounded():
    from datetime import UTC, datetime, timedelta

    from services.registry.domain.member import MAX_OPEN_EMAIL_REQUESTS, Member

    now = datetime(2024, 1, 8, 9, tzinfo=UTC)
    day = timedelta(hours=24)
    member = Member(
        display_name="Sam", profession="nurse", home_organisation_id=uuid4(), email="s@x.org"
    )
    member.request_email_change("new@x.org", "abcd-efgh-jkmn", now + day, now)
    with pytest.raises(FailedPrecondition):
        member.confirm_email_change("ABCD-EFGH-JKMP", now)  # wrong
    with pytest.raises(FailedPrecondition):
        member.confirm_email_change("ABCDEFGHJKMN", now + day + timedelta(seconds=1))  # late
    assert member.confirm_email_change(" abcd efgh jkmn ", now) == "new@x.org"
    assert member.email == "new@x.org" and member.pending_email is None
    with pytest.raises(FailedPrecondition):
        member.confirm_email_change("ABCDEFGHJKMN", now)  # used up

    for _ in range(MAX_OPEN_EMAIL_REQUESTS - 1):
        member.request_email_change("other@x.org", "CODE", now + day, now)
    with pytest.raises(FailedPrecondition, match="a day"):
        member.request_email_change("other@x.org", "CODE", now + day, now)
    later = now + day + timedelta(minutes=1)
    member.request_email_change("other@x.org", "CODE", later + day, later)  # expired ones free
