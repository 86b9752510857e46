"""Calendar feeds and CPD evidence on real stores (SQLite and PostgreSQL): the feeds' read
model, one member's convenings in the schedule, and certificate checks against the log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.errors import FailedPrecondition, NotFound, PermissionDenied
from services.common.paging import Page
from services.common.projection import ProjectionFollower
from services.common.sqlstore import SqlStore
from services.events.cpd.keys import EvidenceKeys
from services.events.domain import CalendarFeed, FeedKind
from services.events.mirror import CommunityDirectoryView
from services.events.values import Attendance
from services.events.views import Evidence
from services.registry.domain import JoiningPolicy
from tests.support.events_world import Community, Node, cmd, schedule

pytestmark = pytest.mark.both_stores


@pytest.fixture
def evidence(node: Node, node_settings):
    node.events.connect(
        CommunityDirectoryView(node.mirror),
        EvidenceKeys.derived(lambda purpose: (purpose * 4).encode()),
    )
    store = SqlStore("events_evidence", node_settings.stores.tracking_env("events", "evidence"))
    view = Evidence(store)
    yield view, ProjectionFollower(node.events, view)
    store.close()


def test_feeds_issue_rotate_revoke_and_list(node: Node, evidence):
    view, follower = evidence
    cop = Community(node, JoiningPolicy.APPROVAL, members=2)
    member, other = cop.members
    node.catch_up()
    app = node.events
    mine = app.issue_calendar_feed(cmd(cop.as_(member)), member, FeedKind.MEMBER, None)
    feed = app.calendar_feed(cop.as_(member), mine.entity_id)
    secret = app.feed_url_secret(feed)
    assert app.open_feed(feed.id, secret) is not None
    assert app.open_feed(feed.id, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    with pytest.raises(PermissionDenied):
        app.issue_calendar_feed(
            cmd(cop.as_(cop.outsider)), cop.outsider, FeedKind.COMMUNITY, cop.community_id
        )
    with pytest.raises(PermissionDenied):
        app.issue_calendar_feed(cmd(cop.as_(other)), member, FeedKind.MEMBER, None)
    community = app.issue_calendar_feed(
        cmd(cop.as_(member)), member, FeedKind.COMMUNITY, cop.community_id
    )
    with pytest.raises(NotFound):
        app.rotate_calendar_feed(cmd(cop.as_(other)), feed.id, 0)
    app.rotate_calendar_feed(cmd(cop.as_(member)), feed.id, 0)
    rotated = app.calendar_feed(cop.as_(member), feed.id)
    assert app.open_feed(feed.id, secret) is None
    assert app.open_feed(feed.id, app.feed_url_secret(rotated)) is not None
    app.revoke_calendar_feed(cmd(), feed.id, "operator's cleanup")  # the operator may
    with pytest.raises(FailedPrecondition, match="revoked"):
        app.revoke_calendar_feed(cmd(cop.as_(member)), feed.id, "")
    assert app.open_feed(feed.id, app.feed_url_secret(rotated)) is None
    follower.catch_up()
    page = Page(size=10, after=None, filters_digest="")
    listed, _ = view.list_feeds(page, member, include_revoked=True)
    assert [(f.feed_id, f.kind, f.revoked, f.rotations) for f in listed] == sorted(
        [(feed.id, "member", True, 1), (community.entity_id, "community", False, 0)],
        key=lambda f: [r.feed_id for r in listed].index(f[0]),
    )
    active, _ = view.list_feeds(page, member, include_revoked=False)
    assert [f.feed_id for f in active] == [community.entity_id]
    assert isinstance(node.events.repository.get(feed.id), CalendarFeed)


def test_member_convenings_and_certificates(node: Node, evidence, clock):
    cop = Community(node, members=2)
    member = cop.member
    app = node.events
    first, second = schedule(node, cop), schedule(node, cop, topic="Acute oncology")
    waiting = schedule(node, cop, capacity=1, topic="Small group")
    for convening in (first, second):
        app.sign_up(cmd(cop.as_(member)), convening, member)
    app.sign_up(cmd(cop.as_(cop.members[1])), waiting, cop.members[1])
    app.sign_up(cmd(cop.as_(member)), waiting, member)
    node.catch_up()
    records, registered, attended = node.schedule.member_convenings(
        member, datetime(2024, 1, 1, tzinfo=UTC), 100
    )
    assert {r.convening_id for r in records} == {first, second, waiting}
    assert registered == {first, second} and not attended
    before = node.schedule.member_fingerprint(member)

    clock.set(datetime(2024, 2, 21, 12, 30, tzinfo=UTC))
    lead = cop.as_(cop.lead)
    app.record_attendance(cmd(lead), first, {member: Attendance.ATTENDED})
    app.record_attendance(cmd(lead), second, {member: Attendance.ATTENDED})
    app.set_cpd_credit(cmd(lead), second, True, 90, 0)
    node.catch_up()
    assert node.schedule.member_fingerprint(member) != before
    attended = node.schedule.attended_convenings(member, None, None, 10)
    assert {r.convening_id for r in attended} == {first, second}
    certificate = app.attended(cop.as_(member), second, member)
    assert certificate.claim.minutes == 90
    assert app.verify_certificate(certificate.token).genuine
    with pytest.raises(PermissionDenied):
        app.attended(cop.as_(cop.members[1]), second, member)
    app.record_attendance(cmd(lead), second, {member: Attendance.NO_SHOW})
    verdict = app.verify_certificate(certificate.token)
    assert not verdict.genuine and "corrected" in verdict.reason
    # Back to attended: a new certificate; the old one stays void.
    app.record_attendance(cmd(lead), second, {member: Attendance.ATTENDED})
    assert not app.verify_certificate(certificate.token).genuine
    again = app.attended(cop.as_(member), second, member)
    assert again.token != certificate.token and app.verify_certificate(again.token).genuine
