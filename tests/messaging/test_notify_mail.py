"""The notify service on a real node, continued (tests/messaging/test_notify_delivery.py):
digests, unsubscribing, newsletters, mail as files, and PostgreSQL."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from copnet.notify.v1 import notify_pb2 as npb
from tests.support import natsauth
from tests.support.events_node import Cop
from tests.support.events_world import MovableClock
from tests.support.notify_node import (
    LONDON,
    START,
    email_of,
    schedule_in,
    start_notify_node,
    stop_notify_node,
)
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually


def rid() -> str:
    return str(uuid.uuid4())


def test_digests_group_what_members_chose_to_receive_later(node, smtp, clock):
    cop = Cop(node.api, members=1, name="Cancer CoP")
    other = Cop(node.api, members=0, name="Diabetes in Pregnancy CoP")
    reader = cop.member
    node.settle()
    node.notify(
        "SetPreferences",
        npb.SetPreferencesRequest(
            request_id=rid(),
            preferences=npb.Preferences(
                member_id=reader,
                invitations=npb.FREQUENCY_DAILY_DIGEST,
                learning=npb.FREQUENCY_WEEKLY_DIGEST,
                learning_domains=["diabetes"],
            ),
            update_mask=FieldMask(paths=["invitations", "learning", "learning_domains"]),
        ),
        reader,
    )
    node.settle()

    def publish(community: Cop, title: str, tags: list[str]) -> None:
        def attempt() -> bool:
            try:
                node.publish(community.community_id, community.lead, title, tags)
            except Exception as error:  # the learning service may not know the community yet
                if "not known" in str(error):
                    return False
                raise
            return True

        eventually(attempt)

    publish(cop, "Cancer rehab pathway", ["cancer-care"])
    publish(other, "GDm-Health remote monitoring", ["diabetes"])
    publish(other, "Pharmacy stock tool", ["medicines"])
    schedule_in(cop, node, days=30, topic="Living with and beyond cancer")
    node.settle()
    address = email_of(node, reader)
    assert not [m for m in smtp.to(address) if "learning" in m.subject.lower()]
    assert not [m for m in smtp.to(address) if m.subject.startswith("Invitation")]

    previews = node.notify("PreviewDigest", npb.PreviewDigestRequest(), reader).digests
    assert {p.frequency for p in previews} == {
        npb.FREQUENCY_DAILY_DIGEST,
        npb.FREQUENCY_WEEKLY_DIGEST,
    }
    weekly = next(p for p in previews if p.frequency == npb.FREQUENCY_WEEKLY_DIGEST)
    assert weekly.entry_count == 2 and "GDm-Health remote monitoring" in weekly.text

    # The next 07:00 brings the daily digest: the invitation, with its calendar time.
    now = clock.now().astimezone(LONDON)
    seven = datetime(now.year, now.month, now.day, 7, tzinfo=LONDON) + timedelta(days=1)
    clock.set(seven.astimezone(UTC) + timedelta(seconds=1))
    eventually(lambda: any("daily" in m.subject for m in smtp.to(address)))
    [daily] = [m for m in smtp.to(address) if "daily" in m.subject]
    assert daily.subject == "Your daily copnet digest: 1 update"
    assert "== Meetings ==" in daily.text()
    assert "Living with and beyond cancer" in daily.text()
    assert "Cancer rehab pathway" not in daily.text()

    # Monday 07:00 brings the weekly one: learning, grouped by community.
    monday = seven + timedelta(days=(7 - seven.weekday()) % 7)
    clock.set(monday.astimezone(UTC) + timedelta(seconds=1))
    eventually(lambda: any("weekly" in m.subject for m in smtp.to(address)))
    [weekly_mail] = [m for m in smtp.to(address) if "weekly" in m.subject]
    text = weekly_mail.text()
    assert weekly_mail.subject == "Your weekly copnet digest: 2 updates"
    assert "== New learning ==" in text and "== Meetings ==" not in text
    cancer = text.index("Cancer CoP\n")
    diabetes = text.index("Diabetes in Pregnancy CoP\n")
    assert cancer < text.index("Cancer rehab pathway") < diabetes
    assert diabetes < text.index("GDm-Health remote monitoring")
    assert "Pharmacy stock tool" not in text
    assert "<h2" in weekly_mail.html() and "Diabetes in Pregnancy CoP" in weekly_mail.html()
    assert weekly_mail.message["Precedence"] == "bulk"
    node.settle()
    digests = node.notifications(reader, kind=npb.NOTIFICATION_KIND_DIGEST)
    assert sorted((d.digest_frequency, d.entry_count, d.status) for d in digests) == [
        (npb.FREQUENCY_DAILY_DIGEST, 1, npb.DELIVERY_STATUS_SENT),
        (npb.FREQUENCY_WEEKLY_DIGEST, 2, npb.DELIVERY_STATUS_SENT),
    ]


def _post(url: str, data: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_unsubscribe_link_works_without_logging_in(node, smtp):
    cop = Cop(node.api, members=2)
    first, second = cop.members
    schedule_in(cop, node, days=15, topic="QI in practice")
    addresses = [email_of(node, m) for m in (first, second)]
    eventually(lambda: all(smtp.to(a) for a in addresses))
    links = [str(smtp.to(a)[0].message["List-Unsubscribe"]).strip("<>") for a in addresses]
    in_body = smtp.to(addresses[0])[0].text()
    assert links[0] in in_body.replace("=\n", "")

    # Looking at the link (a mail scanner, a preview) changes nothing.
    status, page = _get(links[0])
    assert status == 200 and "Stop receiving invitations" in page and 'method="post"' in page
    preferences = node.notify("GetPreferences", npb.GetPreferencesRequest(member_id=first))
    assert preferences.preferences.invitations == npb.FREQUENCY_IMMEDIATELY

    # The page's button.
    status, page = _post(links[0], b"confirm=yes")
    assert status == 200 and "You will no longer receive invitations" in page
    # RFC 8058 one-click, by a mail client.
    status, _ = _post(links[1], b"List-Unsubscribe=One-Click")
    assert status == 200
    for member in (first, second):
        reply = node.notify("GetPreferences", npb.GetPreferencesRequest(member_id=member))
        assert reply.preferences.invitations == npb.FREQUENCY_NEVER
        assert reply.preferences.newsletters == npb.FREQUENCY_IMMEDIATELY
    # A second click is harmless.
    assert _post(links[1], b"List-Unsubscribe=One-Click")[0] == 200

    # A forged or damaged token is refused, and changes nothing.
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(links[0]).query)["token"][0]
    payload, mac = token.split(".")
    forged = links[0].replace(token, f"{payload}.{mac[::-1]}")
    assert _post(forged, b"List-Unsubscribe=One-Click")[0] == 400
    assert _get(links[0].split("?")[0] + "?token=nonsense")[0] == 400

    node.settle()
    schedule_in(cop, node, days=16, topic="Another meeting")
    lead = email_of(node, cop.lead)
    eventually(lambda: len(smtp.to(lead)) == 2)
    node.settle()
    node.dispatch()
    assert [len(smtp.to(a)) for a in addresses] == [1, 1]


def test_a_newsletter_goes_to_the_mailing_list_of_its_community(node, smtp):
    cop = Cop(node.api, members=4)
    opted_out, never, *readers = cop.members
    node.settle()
    node.notify(
        "SetPreferences",
        npb.SetPreferencesRequest(
            request_id=rid(),
            preferences=npb.Preferences(newsletter_opt_outs=[cop.community_id]),
            update_mask=FieldMask(paths=["newsletter_opt_outs"]),
        ),
        opted_out,
    )
    node.notify(
        "SetPreferences",
        npb.SetPreferencesRequest(
            request_id=rid(),
            preferences=npb.Preferences(newsletters=npb.FREQUENCY_NEVER),
            update_mask=FieldMask(paths=["newsletters"]),
        ),
        never,
    )
    body = (
        "Over 150 members have now signed up to this mailing list.\n\n"
        "Our next webinar is on cognitive impairment: see https://example.nhs.uk/cop."
    )
    draft = node.notify(
        "ComposeNewsletter",
        npb.ComposeNewsletterRequest(
            request_id=rid(), community_id=cop.community_id, subject="Autumn news", body=body
        ),
        cop.lead,
    ).newsletter
    assert draft.status == npb.NEWSLETTER_STATUS_DRAFT
    failure = node.notify_fails(
        "SendNewsletter",
        npb.SendNewsletterRequest(request_id=rid(), newsletter_id=draft.newsletter_id),
        cop.facilitator,
    )
    assert failure.code.name == "PERMISSION_DENIED"
    node.settle()
    sent = node.notify(
        "SendNewsletter",
        npb.SendNewsletterRequest(request_id=rid(), newsletter_id=draft.newsletter_id),
        cop.lead,
    ).newsletter
    assert sent.status == npb.NEWSLETTER_STATUS_SENT
    assert sent.recipients == 4  # lead, facilitator, two readers
    wanted = {email_of(node, m) for m in (cop.lead, cop.facilitator, *readers)}
    eventually(lambda: all(any(m.subject == "Autumn news" for m in smtp.to(a)) for a in wanted))
    for member in (opted_out, never):
        assert not [m for m in smtp.to(email_of(node, member)) if m.subject == "Autumn news"]
    newsletter = next(m for m in smtp.to(next(iter(wanted))) if m.subject == "Autumn news")
    assert newsletter.message["List-Id"].endswith(".guys.copnet.example>")
    assert newsletter.message["Precedence"] == "bulk"
    assert "Over 150 members" in newsletter.text()
    assert '<a href="https://example.nhs.uk/cop"' in newsletter.html()
    assert "Unsubscribe from Cancer Community of Practice newsletters" in newsletter.text()
    again = node.notify_fails(
        "SendNewsletter",
        npb.SendNewsletterRequest(request_id=rid(), newsletter_id=draft.newsletter_id),
        cop.lead,
    )
    assert again.code.name == "FAILED_PRECONDITION"


def test_mail_is_written_to_files_when_no_smtp_server_is_configured(tmp_path: Path):
    clock = MovableClock(START)
    node = start_notify_node(tmp_path, clock, smtp=None)
    try:
        cop = Cop(node.api, members=1)
        schedule_in(cop, node, days=4)
        outbox = tmp_path / "node" / "notify" / "outbox"
        eventually(lambda: len(list(outbox.glob("*.eml"))) == 3)
        node.settle()
        for notification in node.notifications():
            assert notification.status == npb.DELIVERY_STATUS_SENT
            name = notification.message_id.strip("<>") + ".eml"
            assert (outbox / name).exists()
            assert notification.attempts[0].detail == f"written to {name}"
        assert not list(outbox.glob(".sending-*"))
    finally:
        stop_notify_node(node)


@pytest.mark.postgres
def test_on_postgresql_invitations_reminders_and_replays(tmp_path: Path, postgres_dsn: str):
    smtp = SmtpSink().start()
    clock = MovableClock(START)
    node = start_notify_node(tmp_path, clock, smtp, postgres_dsn=postgres_dsn)
    try:
        cop = Cop(node.api, members=2)
        convening = schedule_in(cop, node, days=3)
        cop.sign_up(convening.convening_id, cop.members[0])
        everyone = {email_of(node, m) for m in (cop.lead, cop.facilitator, *cop.members)}
        eventually(lambda: set(smtp.per_recipient()) == everyone)
        starts = convening.starts_at.ToDatetime(tzinfo=UTC)
        clock.set(starts - timedelta(hours=23))
        reader = email_of(node, cop.members[0])
        eventually(lambda: any(m.subject.startswith("Reminder") for m in smtp.to(reader)))
        node.settle()
        before = smtp.per_recipient()

        async def replay() -> None:
            client = await natsauth.connect(node.settings.nats_url)
            js = client.jetstream()
            for inbox in node.notify_runtime.inboxes:
                await js.delete_consumer(inbox.stream, inbox.name)
            await client.close()

        applied = sum(i.stats.applied for i in node.notify_runtime.inboxes)
        asyncio.run(replay())
        eventually(lambda: sum(i.stats.duplicates for i in node.notify_runtime.inboxes) >= applied)
        node.settle()
        node.dispatch()
        assert smtp.per_recipient() == before
        assert before[reader] == 2 and all(before[a] == 1 for a in everyone - {reader})
    finally:
        stop_notify_node(node)
        smtp.stop()
