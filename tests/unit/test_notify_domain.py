"""The notify domain: preferences, unsubscribing, schedules, a notification's life, tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.common.errors import FailedPrecondition
from services.notify.domain import (
    DEFAULT_PREFERENCES,
    AttemptOutcome,
    Frequency,
    Kind,
    LearningNotice,
    LearningSummary,
    Notification,
    PreferenceSettings,
    Status,
    Topic,
    UnsubscribeScope,
    Unsubscription,
    backoff,
    digest_period,
    notification_id,
    parse_community_ids,
    parse_domains,
    parse_reminder_hours,
)
from services.notify.unsubscribe import UnsubscribeTokens

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2024, 6, 18, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def notification(kind: Kind = Kind.INVITATION, key: str = "k") -> Notification:
    return Notification.create(key, uuid.uuid4(), kind, Topic.INVITATIONS, NOW, "Subject")


# Preferences


def test_defaults_and_their_round_trip():
    assert DEFAULT_PREFERENCES.frequency(Topic.INVITATIONS) is Frequency.IMMEDIATELY
    assert DEFAULT_PREFERENCES.frequency(Topic.LEARNING) is Frequency.WEEKLY_DIGEST
    assert DEFAULT_PREFERENCES.learning_from_my_communities
    assert DEFAULT_PREFERENCES.reminder_lead(24) == timedelta(hours=24)
    custom = PreferenceSettings(
        learning=Frequency.DAILY_DIGEST,
        learning_domains=("diabetes",),
        newsletter_opt_outs=("c1",),
        reminder_hours_before=2,
    )
    assert PreferenceSettings.from_dict(custom.as_dict()) == custom
    assert custom.reminder_lead(24) == timedelta(hours=2)
    assert not custom.wants_newsletter_of("c1") and custom.wants_newsletter_of("c2")
    with pytest.raises(ValueError, match="too late"):
        PreferenceSettings(my_sign_ups=Frequency.DAILY_DIGEST)


def test_preference_values_are_checked():
    assert parse_domains(["diabetes", "cancer-care", "diabetes"]) == ("diabetes", "cancer-care")
    with pytest.raises(ValueError):
        parse_domains(["Not a slug"])
    with pytest.raises(ValueError):
        parse_domains([f"tag-{i}" for i in range(51)])
    community = str(uuid.uuid4())
    assert parse_community_ids([community.upper(), community]) == (community,)
    with pytest.raises(ValueError, match="UUID"):
        parse_community_ids(["cancer"])
    assert parse_reminder_hours(0) == 0 and parse_reminder_hours(336) == 336
    with pytest.raises(ValueError):
        parse_reminder_hours(337)


def test_what_each_unsubscribe_link_turns_off():
    member = uuid.uuid4()
    settings = PreferenceSettings(invitations=Frequency.DAILY_DIGEST)
    topic = Unsubscription(member, UnsubscribeScope.TOPIC, "learning").applied_to(settings)
    assert topic.learning is Frequency.NEVER and topic.invitations is Frequency.DAILY_DIGEST
    letters = Unsubscription(member, UnsubscribeScope.NEWSLETTER, "c1")
    once = letters.applied_to(settings)
    assert once.newsletter_opt_outs == ("c1",) and letters.applied_to(once) == once
    assert once.newsletters is Frequency.IMMEDIATELY
    daily = Unsubscription(member, UnsubscribeScope.DIGEST, "daily_digest").applied_to(settings)
    assert daily.invitations is Frequency.NEVER
    assert daily.learning is Frequency.WEEKLY_DIGEST  # another digest: unchanged


def test_unsubscribe_tokens_cannot_be_forged_or_altered():
    tokens = UnsubscribeTokens(b"k" * 32)
    member = uuid.uuid4()
    wanted = Unsubscription(member, UnsubscribeScope.NEWSLETTER, str(uuid.uuid4()))
    token = tokens.issue(wanted)
    assert tokens.read(token) == wanted and len(token) < 200
    payload, mac = token.split(".")
    other = tokens.issue(Unsubscription(uuid.uuid4(), UnsubscribeScope.TOPIC, "learning"))
    for bad in (
        f"{other.split('.')[0]}.{mac}",  # someone else's payload with this mac
        f"{payload}.{mac[:-1]}{'B' if mac[-1] == 'A' else 'A'}",
        f"{payload}.",
        token + ".x",
        "",
    ):
        with pytest.raises(ValueError):
            tokens.read(bad)
    with pytest.raises(ValueError):
        UnsubscribeTokens(b"another node's secret!!").read(token)
    odd = UnsubscribeTokens(b"k" * 32)
    with pytest.raises(ValueError):
        odd.read(odd.issue(Unsubscription(member, UnsubscribeScope.DIGEST, "immediately")))


# Time


def test_backoff_doubles_up_to_its_cap():
    waits = [backoff(n, MINUTE, timedelta(minutes=10)) for n in range(1, 7)]
    assert waits == [MINUTE * m for m in (1, 2, 4, 8, 10, 10)]


@pytest.mark.parametrize(
    ("now", "frequency", "key", "due"),
    [
        # Daily: the next 07:00 after now; the key is the day it goes out.
        ("2024-06-18T06:59", Frequency.DAILY_DIGEST, "2024-06-18", "2024-06-18T07:00"),
        ("2024-06-18T07:00", Frequency.DAILY_DIGEST, "2024-06-19", "2024-06-19T07:00"),
        ("2024-06-18T23:30", Frequency.DAILY_DIGEST, "2024-06-19", "2024-06-19T07:00"),
        # Weekly: the next Monday 07:00 (18 June 2024 is a Tuesday).
        ("2024-06-18T09:00", Frequency.WEEKLY_DIGEST, "2024-W26", "2024-06-24T07:00"),
        ("2024-06-24T06:00", Frequency.WEEKLY_DIGEST, "2024-W26", "2024-06-24T07:00"),
        ("2024-06-24T07:00", Frequency.WEEKLY_DIGEST, "2024-W27", "2024-07-01T07:00"),
        # The morning the clocks go forward is still 07:00 on the wall.
        ("2024-03-30T20:00", Frequency.DAILY_DIGEST, "2024-03-31", "2024-03-31T07:00"),
    ],
)
def test_digest_periods_end_at_a_wall_clock_hour(now, frequency, key, due):
    at = datetime.fromisoformat(now).replace(tzinfo=LONDON)
    period = digest_period(frequency, at, LONDON, 7)
    assert period.key == key
    assert period.due_at == datetime.fromisoformat(due).replace(tzinfo=LONDON)
    assert period.due_at.tzinfo is UTC


# A notification's life


def test_ids_follow_from_the_cause_and_the_member():
    member = uuid.uuid4()
    assert notification_id("invitation:c:0", member) == notification_id("invitation:c:0", member)
    assert notification_id("invitation:c:0", member) != notification_id("invitation:c:1", member)
    made = Notification.create("x", member, Kind.REMINDER, Topic.MY_SIGN_UPS, NOW, "s")
    assert made.id == notification_id("x", member)


def test_one_attempt_at_a_time_and_none_after_one_in_doubt():
    n = notification()
    assert n.is_due(NOW) and not n.is_due(NOW - MINUTE)
    attempt = n.start_attempt(NOW, "<m@x>", "Subject now")
    assert (attempt.number, n.status, n.subject) == (1, Status.SENDING, "Subject now")
    with pytest.raises(FailedPrecondition):
        n.start_attempt(NOW, "<m@x>", "again")
    n.in_doubt(NOW, "connection lost")
    assert n.status is Status.IN_DOUBT and n.attempts[0].outcome is AttemptOutcome.IN_DOUBT
    with pytest.raises(FailedPrecondition):
        n.start_attempt(NOW, "<m@x>", "again")
    assert not n.cancel("too late") and n.status is Status.IN_DOUBT
    n.resend(NOW + MINUTE)
    assert n.is_due(NOW + MINUTE)
    n.start_attempt(NOW + MINUTE, "<m@x>", "s")
    n.delivered(NOW + MINUTE, "250 OK")
    assert n.status is Status.SENT and n.status_reason == ""
    assert [a.number for a in n.attempts] == [1, 2]
    with pytest.raises(FailedPrecondition):
        n.resend(NOW)
    with pytest.raises(FailedPrecondition):
        n.delivered(NOW, "twice")


def test_temporary_failures_back_off_then_give_up():
    n = notification()
    for number in (1, 2):
        at = n.next_due
        n.start_attempt(at, "<m@x>", "s")
        n.failed_temporarily(at, "451 busy", 3, MINUTE, timedelta(hours=1))
        assert n.status is Status.PENDING and n.status_reason == "451 busy"
        assert n.retry_at == at + MINUTE * number
        assert not n.is_due(at)
    n.start_attempt(n.next_due, "<m@x>", "s")
    n.failed_temporarily(n.next_due, "451 busy", 3, MINUTE, timedelta(hours=1))
    assert n.status is Status.FAILED and "gave up after 3 attempts" in n.status_reason
    other = notification()
    other.start_attempt(NOW, "<m@x>", "s")
    other.failed_permanently(NOW, "550 no such mailbox")
    assert other.status is Status.FAILED
    assert other.attempts[0].outcome is AttemptOutcome.PERMANENT_FAILURE


def test_cancel_reinstate_skip_and_postpone():
    n = notification(Kind.REMINDER)
    assert n.cancel("sign-up cancelled") and n.status is Status.CANCELLED
    assert not n.cancel("again")
    assert n.reinstate(NOW + MINUTE) and n.status is Status.PENDING and n.due_at == NOW + MINUTE
    assert not n.reinstate(NOW)
    n.postpone(NOW + 2 * MINUTE, "waiting for the address")
    assert not n.is_due(NOW + MINUTE) and n.is_due(NOW + 2 * MINUTE)
    n.skip("the convening had started")
    assert n.status is Status.SKIPPED
    with pytest.raises(FailedPrecondition):
        n.skip("again")


def test_a_digest_collects_until_its_first_attempt():
    digest = notification(Kind.DIGEST)
    digest.add_entry({"title": "one"})
    digest.add_entry({"title": "two"})
    digest.start_attempt(NOW, "<d@x>", "Your digest")
    with pytest.raises(FailedPrecondition):
        digest.add_entry({"title": "three"})
    assert [e["title"] for e in digest.entries] == ["one", "two"]
    with pytest.raises(FailedPrecondition):
        notification(Kind.INVITATION).add_entry({"title": "x"})


def summary(revision: int, status: str = "published") -> LearningSummary:
    return LearningSummary(
        origin_node="guys",
        item_id="i1",
        revision=revision,
        status=status,
        kind="toolkit",
        title=f"Toolkit r{revision}",
        summary="",
        domain_tags=("diabetes",),
        community_id="c1",
        community_name="DiP CoP",
        organisation_name="Guy's",
    )


def test_each_published_revision_is_announced_once():
    notice = LearningNotice(origin_node="guys", item_id="i1", summary=summary(1).as_dict())
    assert notice.should_announce()
    notice.announce()
    assert not notice.should_announce()
    assert not notice.see(summary(1))  # the same snapshot again (e.g. an adoption elsewhere)
    assert notice.see(summary(2)) and notice.should_announce()
    notice.announce()
    assert not notice.see(summary(1))  # an older copy arriving late changes nothing
    assert notice.see(summary(2, "withdrawn")) and notice.withdrawn
    assert not notice.should_announce()
    assert notice.id == LearningNotice.create_id("i1")
