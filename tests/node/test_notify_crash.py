"""A notify process killed (SIGKILL) in the middle of sending, against a real SMTP server.

The registry and events services run in the test process; notify runs as its own
process (`python -m services.notify`), as `copnet up` runs it. The SMTP server takes
the first messages, then receives the next one in full and holds its reply: the
moment when the mail has reached the server but the sender has not heard so. The
process is killed there and started again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from copnet.notify.v1 import notify_pb2 as npb
from copnet.notify.v1 import notify_pb2_grpc as npb_grpc
from copnet.registry.v1 import registry_pb2 as rpb
from services.common.application import Clock
from services.common.channels import node_channel
from services.common.natsserver import NatsServer, NatsServerConfig
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from services.node import wait_serving
from tests.support.events_node import Cop, GrpcNode
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually

MEMBERS = 6
EVERYONE = MEMBERS + 2  # and the lead and the facilitator
DELIVERED_BEFORE_THE_KILL = 3


class RealClock(Clock):
    """GrpcNode's services share the test's clock; here it is the wall clock, like notify's."""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[GrpcNode, NodeSettings, SmtpSink]]:
    nats = NatsServer(
        NatsServerConfig(
            name="node", store_dir=tmp_path / "nats", port=free_port(), jetstream_domain="guys"
        ),
        tmp_path / "nats-run",
    )
    nats.start()
    key = tmp_path / "keys" / "signing.pem"
    settings = NodeSettings(
        node_id="guys",
        region="sel",
        data_dir=tmp_path / "data",
        nats_url=nats.url,
        token_key_file=key,
        addresses={"notify": f"127.0.0.1:{free_port()}"},
    )
    node = GrpcNode(settings, TokenAuthority.for_node("guys", key), RealClock())  # type: ignore[arg-type]
    smtp = SmtpSink().start()
    node.start()
    try:
        yield node, settings, smtp
    finally:
        node.stop()
        smtp.stop()
        nats.kill()


def start_notify(settings: NodeSettings, smtp: SmtpSink, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COPNET_")},
        **settings.to_env(),
        "COPNET_SMTP_HOST": "127.0.0.1",
        "COPNET_SMTP_PORT": str(smtp.port),
        "COPNET_SMTP_SECURITY": "none",
        "COPNET_MAIL_FROM": "notify@guys.copnet.example",
        "COPNET_NOTIFY_HTTP_ADDRESS": "127.0.0.1:0",
        # One message at a time, so exactly one is under way when the process dies.
        "COPNET_NOTIFY_CONCURRENCY": "1",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.notify"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    assert wait_serving(settings.address("notify"), 30, "copnet.notify.v1.NotifyService"), (
        log.read_text()
    )
    return process


def list_all(settings: NodeSettings, token: str) -> list[npb.Notification]:
    with node_channel(settings, "notify") as channel:
        return list(
            npb_grpc.NotifyServiceStub(channel)
            .ListNotifications(
                npb.ListNotificationsRequest(page_size=500),
                metadata=[("authorization", f"Bearer {token}")],
                timeout=10,
            )
            .notifications
        )


def test_killed_mid_send_the_message_is_not_sent_twice_and_shows_in_doubt(world, tmp_path):
    node, settings, smtp = world
    log = tmp_path / "notify.log"
    operator = node.authority.issue("operator")
    notify = start_notify(settings, smtp, log)
    try:
        cop = Cop(node.api, members=MEMBERS)
        addresses = {
            node.api.registry("GetMember", rpb.GetMemberRequest(member_id=m)).member.email
            for m in [cop.lead, cop.facilitator, *cop.members]
        }
        smtp.hold_after = DELIVERED_BEFORE_THE_KILL
        start = datetime.now(UTC) + timedelta(days=7)
        london = start.astimezone(ZoneInfo("Europe/London"))
        cop.schedule(
            start=london.strftime("%Y-%m-%dT%H:%M"),
            end=(london + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        )
        assert smtp.holding.wait(60), log.read_text()
        time.sleep(0.2)  # the held message is in; its sender waits for the reply
        notify.send_signal(signal.SIGKILL)
        notify.wait(10)
    finally:
        if notify.poll() is None:
            notify.kill()
    assert len(smtp.received()) == DELIVERED_BEFORE_THE_KILL + 1
    [held] = smtp.received()[DELIVERED_BEFORE_THE_KILL:]
    smtp.hold_after = None
    smtp.released.set()

    notify = start_notify(settings, smtp, log)
    try:
        eventually(lambda: len(smtp.received()) == EVERYONE, timeout=60)
        time.sleep(1.0)  # would anything be sent a second time?
        # Every member got the invitation exactly once, including the one whose message
        # reached the server as the sender died.
        assert smtp.per_recipient() == dict.fromkeys(addresses, 1)

        def settled() -> list[npb.Notification]:
            found = list_all(settings, operator)
            done = {npb.DELIVERY_STATUS_SENT, npb.DELIVERY_STATUS_IN_DOUBT}
            return found if len(found) == EVERYONE and {n.status for n in found} <= done else []

        notifications = eventually(settled, timeout=30)
        [doubtful] = [n for n in notifications if n.status == npb.DELIVERY_STATUS_IN_DOUBT]
        assert doubtful.notification_id == held.notification_id
        assert [a.outcome for a in doubtful.attempts] == [npb.ATTEMPT_OUTCOME_IN_DOUBT]
        assert "not sent again automatically" in doubtful.status_reason
        assert sum(n.status == npb.DELIVERY_STATUS_SENT for n in notifications) == EVERYONE - 1

        # Only the operator's explicit resend sends it again, with the same Message-ID.
        with node_channel(settings, "notify") as channel:
            npb_grpc.NotifyServiceStub(channel).ResendNotification(
                npb.ResendNotificationRequest(
                    request_id=str(uuid.uuid4()), notification_id=doubtful.notification_id
                ),
                metadata=[("authorization", f"Bearer {operator}")],
                timeout=10,
            )
        eventually(lambda: len(smtp.received()) == EVERYONE + 1, timeout=30)
        resent = smtp.received()[-1]
        assert resent.recipients == held.recipients
        assert resent.message["Message-ID"] == held.message["Message-ID"]
    finally:
        notify.send_signal(signal.SIGTERM)
        assert notify.wait(30) == 0
    assert "was interrupted while sending: in doubt" in log.read_text()
    assert not any(address in log.read_text() for address in addresses)


def test_the_file_outbox_resolves_an_interrupted_attempt(tmp_path):
    """With no mail server, an attempt interrupted by a crash is settled by whether its
    file was written: sent (found) or sent again (missing) - exactly once."""
    from services.notify.delivery.transport import FileTransport

    transport = FileTransport(tmp_path / "outbox")
    assert transport.was_sent("<notification.x@guys>") is False
    (tmp_path / "outbox" / "notification.x@guys.eml").write_bytes(b"Subject: x\r\n\r\nx\r\n")
    assert transport.was_sent("<notification.x@guys>") is True
