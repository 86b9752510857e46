"""Notify's SMTP connections against a real SMTP server (aiosmtpd) on a real node: a mailing
goes over a few pooled connections with several messages in flight, idle connections are
closed and so are all at shutdown, and a server that drops connections in the middle of a
mailing costs no message and duplicates none.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from copnet.notify.v1 import notify_pb2 as npb
from services.notify.delivery.transport import SmtpTransport
from tests.support.events_node import Cop
from tests.support.events_world import MovableClock
from tests.support.notify_node import (
    START,
    NotifyNode,
    email_of,
    schedule_in,
    start_notify_node,
    stop_notify_node,
)
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually

CONCURRENCY = 3
MEMBERS = 10
EVERYONE = MEMBERS + 2  # and the lead and the facilitator


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def node(tmp_path: Path, smtp: SmtpSink) -> Iterator[NotifyNode]:
    running = start_notify_node(
        tmp_path, MovableClock(START), smtp, concurrency=CONCURRENCY, smtp_idle=1.0
    )
    yield running
    stop_notify_node(running)


def transport_of(node: NotifyNode) -> SmtpTransport:
    transport = node.dispatcher.transport
    assert isinstance(transport, SmtpTransport)
    return transport


def test_a_mailing_goes_over_a_few_pooled_connections_closed_when_idle_and_at_shutdown(node, smtp):
    cop = Cop(node.api, members=MEMBERS)
    addresses = {email_of(node, m) for m in [cop.lead, cop.facilitator, *cop.members]}
    transport = transport_of(node)

    schedule_in(cop, node, days=10)
    eventually(lambda: len(smtp.received()) >= EVERYONE)
    node.settle()
    assert smtp.per_recipient() == dict.fromkeys(addresses, 1)
    # Several messages in flight, over at most CONCURRENCY connections, each kept for many.
    connections = smtp.connections()
    assert 2 <= len(connections) <= CONCURRENCY
    assert transport.opened == len(connections)
    # Unused for a second (COPNET_SMTP_IDLE_SECONDS), they are closed with a QUIT.
    eventually(lambda: transport.idle == 0 and smtp.quits == transport.opened, 15)

    # The next mailing opens connections again; stopping notify closes them.
    schedule_in(cop, node, days=11)
    eventually(lambda: len(smtp.received()) >= 2 * EVERYONE)
    node.settle()
    assert smtp.per_recipient() == dict.fromkeys(addresses, 2)
    opened = transport.opened
    assert opened > len(connections) and transport.idle > 0
    node.stop_notify()
    assert transport.idle == 0 and smtp.quits == opened


def test_a_server_dropping_connections_mid_mailing_loses_nothing_and_sends_nothing_twice(
    node, smtp
):
    cop = Cop(node.api, members=MEMBERS)
    everyone = [cop.lead, cop.facilitator, *cop.members]
    addresses = {email_of(node, m): m for m in everyone}
    # Two connections drop at a MAIL FROM (nothing of their message sent), one once its
    # message has arrived (the server has it; notify cannot know it).
    smtp.drop("MAIL", "MAIL", "DATA")

    schedule_in(cop, node, days=10)

    def settled() -> list[npb.Notification]:
        found = [n for m in everyone for n in node.notifications(m)]
        waiting = [n for n in found if n.status == npb.DELIVERY_STATUS_PENDING]
        done = [n for n in found if n.status != npb.DELIVERY_STATUS_PENDING]
        if len(found) != EVERYONE or len(done) + len(waiting) != EVERYONE:
            return []
        return found if not any(n.status == npb.DELIVERY_STATUS_SENDING for n in found) else []

    eventually(lambda: smtp.dropped == ["MAIL", "MAIL", "DATA"] and settled())
    node.settle()
    # A message whose connection dropped before it was sent waits for its retry (or was
    # sent at once on a fresh connection, when the dropped one had been reused).
    node.clock.advance(timedelta(minutes=2))
    eventually(lambda: len(smtp.received()) >= EVERYONE)
    node.settle()

    notifications = {n.member_id: n for m in everyone for n in node.notifications(m)}
    statuses = sorted(npb.DeliveryStatus.Name(n.status) for n in notifications.values())
    assert statuses == ["DELIVERY_STATUS_IN_DOUBT"] + ["DELIVERY_STATUS_SENT"] * (EVERYONE - 1)
    # No loss, no duplicate: every member's invitation reached the server exactly once,
    # the one in doubt included (the server took it before the connection dropped).
    assert smtp.per_recipient() == dict.fromkeys(addresses, 1)
    [doubtful] = [n for n in notifications.values() if n.status == npb.DELIVERY_STATUS_IN_DOUBT]
    [attempt] = doubtful.attempts
    assert attempt.outcome == npb.ATTEMPT_OUTCOME_IN_DOUBT
    assert "connection lost after the message was sent" in attempt.detail
    retried = [n for n in notifications.values() if len(n.attempts) > 1]
    for notification in retried:
        assert [a.outcome for a in notification.attempts] == [
            npb.ATTEMPT_OUTCOME_TEMPORARY_FAILURE,
            npb.ATTEMPT_OUTCOME_DELIVERED,
        ]
        assert "connection lost before the message was sent" in notification.attempts[0].detail
    # Each drop cost its connection; the others carried on.
    transport = transport_of(node)
    assert transport.opened >= 3
