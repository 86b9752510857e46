"""The notify service's decisions on real stores (SQLite files and PostgreSQL schemas): its
directory fed from a real registry, its triggers called as its policy calls them, each with
the tracking of the integration event that caused it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from services.common.application import Clock
from services.common.paging import parse_page_token
from services.common.projection import ProjectionFollower
from services.common.settings import NodeSettings
from services.common.sqlstore import SqlStore
from services.notify.application import Notify
from services.notify.delivery.compose import Composer
from services.notify.delivery.rendering import TemplateLibrary
from services.notify.delivery.transport import FileTransport
from services.notify.directory import NotifyDirectory
from services.notify.dispatcher import Dispatcher
from services.notify.domain import (
    Frequency,
    Kind,
    LearningSummary,
    Notification,
    PreferenceSettings,
    Status,
    convening_mail_key,
    notification_id,
)
from services.notify.settings import NotifySettings
from services.notify.unsubscribe import UnsubscribeTokens
from services.notify.views import Mailbox, PreferencesView
from services.notify.web import LinkBase
from services.registry.application import Registry
from tests.support.events_world import Community, MovableClock, RegistryFeed, cmd

T0 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
START = datetime(2024, 2, 21, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class World:
    """A registry, and a notify application with its directory and views."""

    def __init__(self, settings: NodeSettings, clock: Clock) -> None:
        stores = settings.stores
        for service in ("registry", "notify"):
            stores.prepare(service)
        self.registry = Registry(env=stores.application_env("registry"), clock=clock)
        self.app = Notify(
            env={**stores.application_env("notify"), "COPNET_NODE_ID": "testnode"}, clock=clock
        )
        self.stores = [
            SqlStore("notify_directory", stores.tracking_env("notify", "directory")),
            SqlStore("notify_preferences", stores.tracking_env("notify", "preferences")),
            SqlStore("notify_mailbox", stores.tracking_env("notify", "mailbox")),
        ]
        self.directory = NotifyDirectory(self.stores[0])
        self.preferences = PreferencesView(self.stores[1])
        self.mailbox = Mailbox(self.stores[2])
        self.app.connect(self.directory, self.preferences, self.app.schedules)
        self.feed = RegistryFeed(self.registry, self.directory)
        self.followers = [
            ProjectionFollower(self.app, self.preferences),
            ProjectionFollower(self.app, self.mailbox),
        ]
        self.position = 0

    def sync(self) -> None:
        self.feed.sync()
        for follower in self.followers:
            follower.catch_up()

    def tracking(self, service: str = "events") -> Tracking:
        """The tracking of the next integration event from a service of this node."""
        self.position += 1
        return Tracking(f"testnode.{service}", self.position)

    def mail(self, convening: UUID, sequence: int, member: UUID) -> Notification:
        found = self.app.notification(
            notification_id(convening_mail_key(convening, sequence), member)
        )
        assert found is not None
        return found

    def close(self) -> None:
        for store in self.stores:
            store.close()
        self.app.close()
        self.registry.close()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(T0)


@pytest.fixture
def world(node_settings: NodeSettings, clock: MovableClock):
    w = World(node_settings, clock)
    yield w
    w.close()


class _Node:
    """What tests.support.events_world.Community needs of a node."""

    def __init__(self, world: World) -> None:
        self.registry = world.registry
        self.feed = world.feed


def community(world: World, members: int = 2) -> Community:
    c = Community(_Node(world), members=members)  # type: ignore[arg-type]
    world.sync()
    return c


def schedule(world: World, c: Community, convening: UUID | None = None) -> UUID:
    convening = convening or uuid.uuid4()
    assert world.app.convening_scheduled(
        world.tracking(),
        convening,
        c.community_id,
        {
            "title": "QI in practice",
            "topic": "",
            "description": "",
            "format": "webinar",
            "venue": "",
        },
        START,
        START + HOUR,
        "Europe/London",
        0,
        T0,
    )
    world.sync()
    return convening


@pytest.mark.both_stores
def test_an_invitation_per_active_member_once_however_often_the_event_comes(world):
    c = community(world, members=3)
    convening = uuid.uuid4()
    tracking = world.tracking()
    args = (
        convening,
        c.community_id,
        {"title": "T", "topic": "", "description": "", "format": "webinar", "venue": ""},
        START,
        START + HOUR,
        "Europe/London",
        0,
        T0,
    )
    assert world.app.convening_scheduled(tracking, *args)
    before = world.app.recorder.max_notification_id()
    assert not world.app.convening_scheduled(tracking, *args)  # redelivered: nothing
    assert world.app.recorder.max_notification_id() == before
    world.sync()
    everyone = {c.lead, c.facilitator, *c.members}
    assert {world.mail(convening, 0, m).kind for m in everyone} == {Kind.INVITATION}
    page_size = len(everyone) + 5
    listed, _ = world.mailbox.list_notifications(parse_page_token(page_size, "", {}))
    assert {n.member_id for n in listed if n.convening_id == str(convening)} == everyone
    assert not [n for n in listed if n.member_id == c.outsider]


def test_an_update_supersedes_a_mail_not_sent_yet(world, clock):
    c = community(world, members=1)
    member = c.member
    convening = schedule(world, c)
    invitation = world.mail(convening, 0, member)
    assert invitation.status is Status.PENDING
    # The lead's invitation went out already.
    sent = world.mail(convening, 0, c.lead)
    sent.start_attempt(T0, "<m>", "s")
    sent.delivered(T0, "250")
    world.app.save_delivery(sent)

    assert world.app.convening_rescheduled(
        world.tracking(),
        convening,
        START + 24 * HOUR,
        START + 25 * HOUR,
        "Europe/London",
        "strike",
        1,
        T0,
    )
    world.sync()
    assert world.mail(convening, 0, member).status is Status.CANCELLED
    assert world.mail(convening, 0, member).status_reason == "superseded by a later update"
    assert world.mail(convening, 1, member).kind is Kind.CONVENING_UPDATE
    assert world.mail(convening, 0, c.lead).status is Status.SENT
    assert world.mail(convening, 1, c.lead).status is Status.PENDING

    # Cancelled before the member heard anything: they hear nothing; the lead hears of it.
    assert world.app.convening_cancelled(world.tracking(), convening, "no room", 2, T0)
    world.sync()
    assert world.mail(convening, 1, member).status is Status.CANCELLED
    assert world.mail(convening, 2, c.lead).kind is Kind.CONVENING_CANCELLED
    with pytest.raises(AssertionError):
        world.mail(convening, 2, member)


def test_reminders_follow_the_member_and_the_time(world):
    c = community(world, members=1)
    member = c.member
    convening = schedule(world, c)
    assert world.app.sign_up_changed(
        world.tracking(), convening, member, "registered", "signed_up", T0
    )
    key = f"reminder:{convening}:{START.isoformat()}"
    reminder = world.app.notification(notification_id(key, member))
    assert reminder is not None and reminder.due_at == START - 24 * HOUR
    assert world.app.sign_up_changed(
        world.tracking(), convening, member, "cancelled", "sign_up_cancelled", T0
    )
    assert world.app.notification(notification_id(key, member)).status is Status.CANCELLED
    assert world.app.sign_up_changed(
        world.tracking(), convening, member, "registered", "signed_up", T0
    )
    assert world.app.notification(notification_id(key, member)).status is Status.PENDING
    moved = START + 48 * HOUR
    assert world.app.convening_rescheduled(
        world.tracking(), convening, moved, moved + HOUR, "Europe/London", "", 1, T0
    )
    assert world.app.notification(notification_id(key, member)).status is Status.CANCELLED
    new_key = f"reminder:{convening}:{moved.isoformat()}"
    assert world.app.notification(notification_id(new_key, member)).due_at == moved - 24 * HOUR


@pytest.mark.both_stores
def test_a_trigger_never_takes_back_a_message_being_sent(world):
    c = community(world, members=1)
    member = c.member
    convening = schedule(world, c)
    world.app.sign_up_changed(world.tracking(), convening, member, "registered", "signed_up", T0)
    key = f"reminder:{convening}:{START.isoformat()}"
    reminder = world.app.notification(notification_id(key, member))
    # The dispatcher read it; meanwhile the sign-up is cancelled (the trigger wins the race)...
    assert world.app.sign_up_changed(
        world.tracking(), convening, member, "cancelled", "sign_up_cancelled", T0
    )
    reminder.start_attempt(START - 24 * HOUR, "<m>", "s")
    with pytest.raises(IntegrityError):  # ...so its claim, on what it read, loses.
        world.app.save_delivery(reminder)
    assert world.app.notification(reminder.id).status is Status.CANCELLED

    # The other way round: claimed first, a later cancellation leaves it alone.
    world.app.sign_up_changed(world.tracking(), convening, member, "registered", "signed_up", T0)
    reminder = world.app.notification(reminder.id)
    reminder.start_attempt(START - 24 * HOUR, "<m>", "s")
    world.app.save_delivery(reminder)
    world.app.sign_up_changed(
        world.tracking(), convening, member, "cancelled", "sign_up_cancelled", T0
    )
    assert world.app.notification(reminder.id).status is Status.SENDING


def test_learning_goes_to_those_it_interests_once_per_revision(world, clock):
    c = community(world, members=3)
    follower, digester, bored = c.members
    for member, settings in (
        (
            follower,
            PreferenceSettings(
                learning=Frequency.IMMEDIATELY,
                learning_domains=("qi",),
                learning_from_my_communities=False,
            ),
        ),
        (digester, PreferenceSettings(learning=Frequency.DAILY_DIGEST)),
        (bored, PreferenceSettings(learning=Frequency.NEVER)),
    ):
        world.app.set_preferences(cmd(), member, lambda _, s=settings: s, 0)
    world.sync()

    def summary(revision: int, tags: tuple[str, ...], community_id: str) -> LearningSummary:
        return LearningSummary(
            origin_node="testnode",
            item_id="item-1",
            revision=revision,
            status="published",
            kind="toolkit",
            title="QI toolkit",
            summary="",
            domain_tags=tags,
            community_id=community_id,
            community_name="CoP",
            organisation_name="Trust",
        )

    local = summary(1, ("qi",), str(c.community_id))
    tracking = world.tracking("learning")
    assert world.app.learning_seen(tracking, local, [str(c.lead)], T0)
    assert not world.app.learning_seen(tracking, local, [str(c.lead)], T0)
    world.sync()
    key = "learning:testnode:item-1:1"
    assert world.app.notification(notification_id(key, follower)).kind is Kind.LEARNING
    assert world.app.notification(notification_id(key, digester)) is None
    [digest] = world.app.open_digests(cmd().caller, digester)
    assert [e["title"] for e in digest.entries] == ["QI toolkit"]
    assert world.app.notification(notification_id(key, bored)) is None
    assert world.app.notification(notification_id(key, c.lead)) is None  # its author
    # The defaults: learning of one's own communities, in the weekly digest.
    [weekly] = world.app.open_digests(cmd().caller, c.facilitator)
    assert weekly.digest["frequency"] == "weekly_digest" and len(weekly.entries) == 1
    # The same revision again (an adoption elsewhere): nothing new. A revision: again.
    assert world.app.learning_seen(world.tracking("learning"), local, [], T0)
    assert world.app.notification(notification_id("learning:testnode:item-1:2", follower)) is None
    assert world.app.learning_seen(world.tracking("learning"), summary(2, ("qi",), "x"), [], T0)
    assert world.app.notification(notification_id("learning:testnode:item-1:2", follower))


class _CancellingComposer(Composer):
    """The real composer; while it prepares the second message of a pass, a trigger cancels
    the convening (as an events-service message arriving at that moment would)."""

    def __init__(self, world: World, convening: UUID, *args: Any) -> None:
        super().__init__(*args)
        self.world = world
        self.convening = convening
        self.prepared = 0

    def prepare(self, notification: Notification, now: datetime) -> Any:
        self.prepared += 1
        if self.prepared == 2:
            assert self.world.app.convening_cancelled(
                self.world.tracking(), self.convening, "no room", 1, T0
            )
        return super().prepare(notification, now)


@pytest.mark.both_stores
def test_an_outcome_is_recorded_when_the_next_claim_of_its_lane_loses_a_race(world, tmp_path):
    """A lane saves each outcome with its next claim; when that claim loses (the next
    notification was cancelled meanwhile), the outcome must still be recorded, not left
    SENDING (the failed save had taken the outcome's event off the notification)."""
    c = community(world, members=1)
    convening = schedule(world, c)
    settings = NotifySettings(outbox_dir=tmp_path / "outbox", concurrency=1)
    composer = _CancellingComposer(
        world,
        convening,
        world.app,
        world.directory,
        TemplateLibrary(),
        UnsubscribeTokens(b"s" * 32),
        settings.sender("testnode"),
        LinkBase(settings),
    )
    mailbox_follower = world.followers[1]
    transport = FileTransport(settings.outbox_dir)
    dispatcher = Dispatcher(
        world.app, world.mailbox, mailbox_follower, composer, transport, settings
    )
    try:
        assert dispatcher.dispatch_due() == 3  # the invitations of the lead, facilitator, member
    finally:
        dispatcher._pool.shutdown()
    assert dispatcher.stats.delivered == 1 and dispatcher.stats.lost_claims == 1
    [written] = list(settings.outbox_dir.glob("*.eml"))
    invitations = [world.mail(convening, 0, m) for m in (c.lead, c.facilitator, c.member)]
    statuses = sorted(n.status.value for n in invitations)
    assert statuses == sorted([Status.SENT.value, Status.CANCELLED.value, Status.CANCELLED.value])
    [sent] = [n for n in invitations if n.status is Status.SENT]
    assert transport.was_sent(composer.message_id(sent)) and written.exists()
