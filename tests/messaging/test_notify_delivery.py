"""The notify service on a real node: real NATS, the registry, events and learning services
over gRPC, notify consuming their events, and a real SMTP server receiving and parsing the mail.
Time moves through the node's clock, never by sleeping.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, timedelta

from copnet.events.v1 import events_pb2 as epb
from copnet.notify.v1 import notify_pb2 as npb
from tests.support import natsauth
from tests.support.events_node import Cop
from tests.support.notify_node import (
    calendar_of,
    email_of,
    local,
    schedule_in,
    vevent,
)
from tests.support.streams import read_stream
from tests.support.waiting import eventually


def rid() -> str:
    return str(uuid.uuid4())


def test_an_invitation_reaches_every_active_member_with_a_calendar_invitation(node, smtp):
    cop = Cop(node.api, members=3)
    convening = schedule_in(cop, node, days=10, fmt=epb.CONVENING_FORMAT_WEBINAR)
    everyone = [cop.lead, cop.facilitator, *cop.members]
    addresses = {email_of(node, m): m for m in everyone}
    outsider = email_of(node, cop.outsider)

    eventually(lambda: set(addresses) <= {r for m in smtp.received() for r in m.recipients})
    node.settle()
    invitations = [m for m in smtp.received() if set(m.recipients) & set(addresses)]
    assert sorted(r for m in invitations for r in m.recipients) == sorted(addresses)
    assert not smtp.to(outsider)

    message = invitations[0]
    [address] = message.recipients
    assert message.subject.startswith("Invitation: Enhanced Supportive Care")
    assert message.message["To"].addresses[0].addr_spec == address
    assert message.message["Message-ID"].startswith("<notification.")
    assert message.message["List-Unsubscribe"].startswith("<http://127.0.0.1:")
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Cancer Community of Practice has scheduled a meeting" in message.text()
    assert "<strong>Cancer Community of Practice</strong>" in message.html()
    # No place yet: the webinar's link is not in the mail, nor in its calendar entry.
    assert "meet.example.nhs.uk" not in message.raw.decode()

    calendar = calendar_of(message)
    assert str(calendar["METHOD"]) == "REQUEST"
    event = vevent(calendar)
    assert str(event["UID"]) == f"{convening.convening_id}@copnet"
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == convening.starts_at.ToDatetime(tzinfo=UTC)
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert str(event["ATTENDEE"]) == f"mailto:{address}"
    assert str(event["ORGANIZER"]) == "mailto:notify@guys.copnet.example"
    # The same calendar object is also the text/calendar part mail clients act on.
    inline = message.part("text/calendar")
    assert inline is not None and inline.get_param("method") == "REQUEST"

    listed = node.notifications(addresses[address], kind=npb.NOTIFICATION_KIND_INVITATION)
    [notification] = listed
    assert notification.status == npb.DELIVERY_STATUS_SENT
    assert notification.convening_id == convening.convening_id
    assert [a.outcome for a in notification.attempts] == [npb.ATTEMPT_OUTCOME_DELIVERED]
    assert notification.message_id == str(message.message["Message-ID"])
    assert notification.attempts[0].detail.startswith("250")


def test_reschedule_and_cancellation_update_the_same_calendar_entry(node, smtp):
    cop = Cop(node.api, members=1)
    convening = schedule_in(cop, node, days=12)
    member_address = email_of(node, cop.member)
    eventually(lambda: len(smtp.to(member_address)) == 1)
    original = vevent(calendar_of(smtp.to(member_address)[0]))

    new_start = node.clock.now() + timedelta(days=14)
    moved = node.api.events(
        "RescheduleConvening",
        epb.RescheduleConveningRequest(
            request_id=rid(),
            convening_id=convening.convening_id,
            start=local(new_start),
            end=local(new_start + timedelta(hours=2)),
            reason="the venue is being refurbished",
        ),
        cop.lead,
    ).convening
    eventually(lambda: len(smtp.to(member_address)) == 2)
    update = smtp.to(member_address)[1]
    assert update.subject.startswith("Updated: Enhanced Supportive Care")
    assert "has moved to a new time" in update.text()
    assert "the venue is being refurbished" in update.text()
    event = vevent(calendar_of(update))
    assert str(calendar_of(update)["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == str(original["UID"])
    assert int(event["SEQUENCE"]) > int(original["SEQUENCE"])
    assert int(event["SEQUENCE"]) == moved.sequence
    assert event.decoded("DTSTART") == new_start.replace(second=0, microsecond=0)

    cancelled = node.api.events(
        "CancelConvening",
        epb.CancelConveningRequest(
            request_id=rid(), convening_id=convening.convening_id, reason="speaker unwell"
        ),
        cop.lead,
    ).convening
    eventually(lambda: len(smtp.to(member_address)) == 3)
    cancellation = smtp.to(member_address)[2]
    assert cancellation.subject.startswith("Cancelled: Enhanced Supportive Care")
    calendar = calendar_of(cancellation, "cancel.ics")
    assert str(calendar["METHOD"]) == "CANCEL"
    event = vevent(calendar)
    assert str(event["UID"]) == str(original["UID"])
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == cancelled.sequence > moved.sequence
    # Every member who was told of it heard of the cancellation, once each.
    node.settle()
    for member in (cop.lead, cop.facilitator, cop.member):
        kinds = [n.kind for n in node.notifications(member)]
        assert sorted(kinds) == sorted(
            [
                npb.NOTIFICATION_KIND_INVITATION,
                npb.NOTIFICATION_KIND_CONVENING_UPDATE,
                npb.NOTIFICATION_KIND_CONVENING_CANCELLED,
            ]
        )


def test_a_new_link_or_new_details_reach_only_those_they_concern(node, smtp):
    cop = Cop(node.api, members=2)
    attending, browsing = cop.members
    convening = schedule_in(cop, node, days=6, fmt=epb.CONVENING_FORMAT_WEBINAR)
    cop.sign_up(convening.convening_id, attending)
    addresses = {m: email_of(node, m) for m in (attending, browsing)}
    eventually(lambda: all(smtp.to(a) for a in addresses.values()))
    node.api.events(
        "UpdateConvening",
        epb.UpdateConveningRequest(
            request_id=rid(),
            convening_id=convening.convening_id,
            join_link="https://meet.example.nhs.uk/new-room",
        ),
        cop.lead,
    )
    # (Sent before the next change: an update not sent yet is superseded by the next one.)
    eventually(lambda: len(smtp.to(addresses[attending])) == 2)
    node.api.events(
        "UpdateConvening",
        epb.UpdateConveningRequest(
            request_id=rid(), convening_id=convening.convening_id, description="Bring a case."
        ),
        cop.lead,
    )
    eventually(lambda: len(smtp.to(addresses[attending])) == 3)
    node.settle()
    node.dispatch()
    invitation, link, details = smtp.to(addresses[attending])
    assert "The joining link of Enhanced Supportive Care has changed" in link.text()
    assert "https://meet.example.nhs.uk/new-room" in link.text()
    assert "The details of Enhanced Supportive Care have changed" in details.text()
    assert "Bring a case." in details.text()
    sequences = [int(vevent(calendar_of(m))["SEQUENCE"]) for m in (invitation, link, details)]
    assert sequences == sorted(set(sequences))
    assert len(smtp.to(addresses[browsing])) == 1  # only the invitation


def test_reminders_go_out_when_due_and_not_for_cancellations(node, smtp, clock):
    cop = Cop(node.api, members=3)
    keen, fickle, other = cop.members
    convening = schedule_in(cop, node, days=3, fmt=epb.CONVENING_FORMAT_HYBRID)
    doomed = schedule_in(cop, node, days=3, topic="Cancer rehab")
    for member in (keen, fickle):
        cop.sign_up(convening.convening_id, member)
    cop.sign_up(doomed.convening_id, other)
    node.api.events(
        "CancelSignUp",
        epb.CancelSignUpRequest(request_id=rid(), convening_id=convening.convening_id),
        fickle,
    )
    node.api.events(
        "CancelConvening",
        epb.CancelConveningRequest(
            request_id=rid(), convening_id=doomed.convening_id, reason="room double-booked"
        ),
        cop.lead,
    )
    node.settle()
    starts = convening.starts_at.ToDatetime(tzinfo=UTC)
    [reminder] = node.notifications(keen, kind=npb.NOTIFICATION_KIND_REMINDER)
    assert reminder.status == npb.DELIVERY_STATUS_PENDING
    assert reminder.due_at.ToDatetime(tzinfo=UTC) == starts - timedelta(hours=24)
    [withdrawn] = node.notifications(fickle, kind=npb.NOTIFICATION_KIND_REMINDER)
    assert withdrawn.status == npb.DELIVERY_STATUS_CANCELLED
    [called_off] = node.notifications(other, kind=npb.NOTIFICATION_KIND_REMINDER)
    assert called_off.status == npb.DELIVERY_STATUS_CANCELLED

    # A minute before it is due, nothing goes out.
    keen_address = email_of(node, keen)
    clock.set(starts - timedelta(hours=24, minutes=1))
    node.dispatch()
    node.settle()
    [reminder] = node.notifications(keen, kind=npb.NOTIFICATION_KIND_REMINDER)
    assert reminder.status == npb.DELIVERY_STATUS_PENDING and not reminder.attempts
    assert not [m for m in smtp.to(keen_address) if m.subject.startswith("Reminder:")]

    clock.set(starts - timedelta(hours=23, minutes=59))
    eventually(lambda: any(m.subject.startswith("Reminder:") for m in smtp.to(keen_address)))
    [sent] = [m for m in smtp.to(keen_address) if m.subject.startswith("Reminder:")]
    assert "you have a place at Enhanced Supportive Care, starting in 23 hours" in sent.text()
    # Holding a place, the reminder carries the joining link.
    assert "https://meet.example.nhs.uk/cop" in sent.text()
    for member in (fickle, other):
        assert not [m for m in smtp.to(email_of(node, member)) if m.subject.startswith("Reminder:")]
    node.settle()
    [reminder] = node.notifications(keen, kind=npb.NOTIFICATION_KIND_REMINDER)
    assert reminder.status == npb.DELIVERY_STATUS_SENT


def test_schedules_survive_a_restart_and_late_reminders_follow_the_rule(node, smtp, clock):
    """Reminders are due times in the event store, not timers: notify down while one falls
    due sends it once when it is back (the convening has not started); one whose convening
    started while notify was down is skipped, and says why."""
    cop = Cop(node.api, members=1)
    member = cop.members[0]
    later = schedule_in(cop, node, days=3, topic="Later meeting")
    sooner = schedule_in(cop, node, days=2, topic="Sooner meeting")
    for convening in (later, sooner):
        cop.sign_up(convening.convening_id, member)
    node.settle()
    node.stop_notify()
    try:
        clock.set(sooner.starts_at.ToDatetime(tzinfo=UTC) + timedelta(hours=1))
    finally:
        node.start_notify()
    address = email_of(node, member)
    eventually(lambda: [m for m in smtp.to(address) if m.subject.startswith("Reminder")])
    node.settle()
    node.dispatch()
    reminders = {
        n.convening_id: n for n in node.notifications(member, kind=npb.NOTIFICATION_KIND_REMINDER)
    }
    assert reminders[later.convening_id].status == npb.DELIVERY_STATUS_SENT
    skipped = reminders[sooner.convening_id]
    assert skipped.status == npb.DELIVERY_STATUS_SKIPPED
    assert skipped.status_reason == "the convening had started by the time it was due"
    sent = [m for m in smtp.to(address) if m.subject.startswith("Reminder")]
    assert [m.subject.split(" \u2013 ")[0] for m in sent] == ["Reminder: Later meeting"]


def test_a_place_from_the_waitlist_is_announced(node, smtp):
    cop = Cop(node.api, members=2)
    first, second = cop.members
    convening = schedule_in(cop, node, days=5, capacity=1, fmt=epb.CONVENING_FORMAT_WEBINAR)
    cop.sign_up(convening.convening_id, first)
    waiting = cop.sign_up(convening.convening_id, second)
    assert waiting.status == epb.SIGN_UP_STATUS_WAITLISTED
    node.api.events(
        "CancelSignUp",
        epb.CancelSignUpRequest(request_id=rid(), convening_id=convening.convening_id),
        first,
    )
    address = email_of(node, second)
    eventually(lambda: any(m.subject.startswith("You have a place") for m in smtp.to(address)))
    [notice] = [m for m in smtp.to(address) if m.subject.startswith("You have a place")]
    assert "a place came free" in notice.text()
    assert "https://meet.example.nhs.uk/cop" in notice.text()
    event = vevent(calendar_of(notice))
    assert "https://meet.example.nhs.uk/cop" in str(event["URL"])
    node.settle()
    [reminder] = node.notifications(second, kind=npb.NOTIFICATION_KIND_REMINDER)
    assert reminder.status == npb.DELIVERY_STATUS_PENDING


def test_a_refused_message_is_retried_with_backoff_until_accepted(node, smtp, clock):
    cop = Cop(node.api, members=0)
    lead_address = email_of(node, cop.lead)
    facilitator_address = email_of(node, cop.facilitator)
    smtp.refuse(lead_address, 451)
    smtp.refuse(facilitator_address, 451)
    schedule_in(cop, node, days=9, topic="Clinical leadership")

    def attempts_failed() -> list[npb.Notification]:
        found = [
            n
            for member in (cop.lead, cop.facilitator)
            for n in node.notifications(member)
            if n.attempts and n.attempts[0].outcome == npb.ATTEMPT_OUTCOME_TEMPORARY_FAILURE
        ]
        return found if len(found) == 2 else []

    failed = eventually(attempts_failed)
    for notification in failed:
        assert notification.status == npb.DELIVERY_STATUS_PENDING
        assert notification.attempts[0].detail.startswith("end of data: 451")
        retry = notification.retry_at.ToDatetime(tzinfo=UTC)
        assert retry == notification.attempts[0].finished_at.ToDatetime(tzinfo=UTC) + timedelta(
            minutes=1
        )
    assert not smtp.to(lead_address) and not smtp.to(facilitator_address)

    clock.advance(timedelta(seconds=61))
    eventually(lambda: smtp.to(lead_address) and smtp.to(facilitator_address))
    node.settle()
    for member in (cop.lead, cop.facilitator):
        [notification] = node.notifications(member)
        assert notification.status == npb.DELIVERY_STATUS_SENT
        assert [a.outcome for a in notification.attempts] == [
            npb.ATTEMPT_OUTCOME_TEMPORARY_FAILURE,
            npb.ATTEMPT_OUTCOME_DELIVERED,
        ]
    assert len(smtp.to(lead_address)) == len(smtp.to(facilitator_address)) == 1


def test_a_permanently_refused_message_is_not_retried(node, smtp, clock):
    cop = Cop(node.api, members=0)
    for member in (cop.lead, cop.facilitator):
        smtp.refuse(email_of(node, member), 550)
    schedule_in(cop, node, days=9, topic="Dementia and delirium")

    def failed() -> list[npb.Notification]:
        found = [
            n
            for member in (cop.lead, cop.facilitator)
            for n in node.notifications(member, status=npb.DELIVERY_STATUS_FAILED)
        ]
        return found if len(found) == 2 else []

    addresses = [email_of(node, member) for member in (cop.lead, cop.facilitator)]
    for notification in eventually(failed):
        assert notification.status_reason.startswith("end of data: 550")
        assert not notification.HasField("retry_at")
        # The server quoted the recipient; notify records its reply without the address.
        assert notification.status_reason == "end of data: 550 <address>: mailbox unavailable"
        assert [a.detail for a in notification.attempts] == [notification.status_reason]
    stored = b"".join(p.read_bytes() for p in (node.settings.data_dir / "notify").glob("events*"))
    assert stored and not any(address.encode() in stored for address in addresses)
    clock.advance(timedelta(hours=2))
    node.dispatch()
    assert len(eventually(failed)) == 2


def test_redelivering_every_nats_message_twice_sends_nothing_again(node, smtp):
    cop = Cop(node.api, members=2)
    convening = schedule_in(cop, node, days=20, capacity=1)
    cop.sign_up(convening.convening_id, cop.members[0])
    cop.sign_up(convening.convening_id, cop.members[1])
    node.api.events(
        "CancelSignUp",
        epb.CancelSignUpRequest(request_id=rid(), convening_id=convening.convening_id),
        cop.members[0],
    )
    promoted = email_of(node, cop.members[1])
    eventually(lambda: any(m.subject.startswith("You have a place") for m in smtp.to(promoted)))
    node.settle()
    node.dispatch()
    before_mail = smtp.per_recipient()
    before_notifications = len(node.notifications())
    identity = node.notify_runtime.identity
    stored = read_stream(node.settings.nats_url, identity.stream_name)

    async def redeliver_everything() -> None:
        client = await natsauth.connect(node.settings.nats_url)
        js = client.jetstream()
        for copy in ("again", "and-again"):
            for message in stored:
                headers = {
                    **message.headers,
                    "Nats-Msg-Id": f"{message.headers['Nats-Msg-Id']}.{copy}",
                }
                await js.publish(
                    message.subject, message.envelope.SerializeToString(), headers=headers
                )
        # And every notify consumer starts over from the beginning of the stream.
        for inbox in node.notify_runtime.inboxes:
            await js.delete_consumer(inbox.stream, inbox.name)
        await client.close()

    asyncio.run(redeliver_everything())
    duplicates_before = sum(i.stats.duplicates for i in node.notify_runtime.inboxes)
    eventually(
        lambda: (
            sum(i.stats.duplicates for i in node.notify_runtime.inboxes)
            >= duplicates_before
            + 3 * len([m for m in stored if m.subject.split(".")[-2] != "notify"])
        )
    )
    node.settle()
    node.dispatch()
    assert len(node.notifications()) == before_notifications
    assert smtp.per_recipient() == before_mail
