"""Notify across a region: a real hub and two real nodes, each with its registry, learning and
notify services, and a real SMTP server receiving what both send.

Learning published on one node reaches a subscriber's digest on the other; the
members' e-mail addresses stay on their own nodes (not in the hub's store, not in
the other node's stores, not in log lines).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from copnet.learning.v1 import learning_pb2 as lpb
from copnet.notify.v1 import notify_pb2 as npb
from copnet.notify.v1 import notify_pb2_grpc as npb_grpc
from services.notify.service import definition
from tests.support.events_world import MovableClock
from tests.support.notify_node import notify_settings
from tests.support.region import Region, rid
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def region(tmp_path: Path, smtp: SmtpSink, clock: MovableClock) -> Iterator[Region]:
    region = Region(
        tmp_path,
        ["guys", "kings"],
        extra=lambda node: {"notify": definition(notify_settings(smtp, tmp_path / node))},
        clock=clock,
    )
    yield region
    region.close()


def notify(region: Region, node: str, method: str, request, token: str):
    stub = npb_grpc.NotifyServiceStub(region[node].channels["notify"])
    return getattr(stub, method)(
        request, metadata=[("authorization", f"Bearer {token}")], timeout=20
    )


def next_monday_seven(now: datetime) -> datetime:
    day = now.astimezone(LONDON).date()
    while True:
        candidate = datetime(day.year, day.month, day.day, 7, tzinfo=LONDON)
        if candidate.weekday() == 0 and candidate > now:
            return candidate.astimezone(UTC)
        day += timedelta(days=1)


def files_containing(root: Path, marker: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and marker in p.read_bytes()]


def test_federated_learning_reaches_a_digest_on_another_node_and_addresses_stay_home(
    region: Region, smtp: SmtpSink, clock: MovableClock, tmp_path: Path, caplog
):
    caplog.set_level(logging.INFO)
    guys = region.community("guys", "dip-cop")
    kings = region.community("kings", "maternity-cop")
    reader = kings.lead_id
    reader_address = "lead-maternity-cop@kings.nhs.net"
    author_address = "lead-dip-cop@guys.nhs.net"

    def prefer() -> bool:
        try:
            notify(
                region,
                "kings",
                "SetPreferences",
                npb.SetPreferencesRequest(
                    request_id=rid(),
                    preferences=npb.Preferences(
                        learning=npb.FREQUENCY_WEEKLY_DIGEST, learning_domains=["diabetes"]
                    ),
                    update_mask=FieldMask(paths=["learning", "learning_domains"]),
                ),
                kings.lead_token,
            )
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                return False  # notify has not heard of the member yet
            raise
        return True

    eventually(prefer)
    region["kings"].learning(
        "Subscribe",
        lpb.SubscribeRequest(request_id=rid(), node_id="guys", domain_tags=["diabetes"]),
    )
    item = region.publish(guys, "GDm-Health remote monitoring", tags=["diabetes"])
    eventually(lambda: region.titles("kings") == {item.title})

    def collected() -> list[npb.DigestPreview]:
        previews = notify(
            region, "kings", "PreviewDigest", npb.PreviewDigestRequest(), kings.lead_token
        ).digests
        return [p for p in previews if "GDm-Health remote monitoring" in p.text]

    [preview] = eventually(collected)
    assert preview.frequency == npb.FREQUENCY_WEEKLY_DIGEST
    assert "CoP dip-cop (node guys)" in preview.text

    # Monday 07:00 (London) brings the weekly digest.
    clock.set(next_monday_seven(clock.now()) + timedelta(seconds=1))
    eventually(lambda: any("weekly" in m.subject for m in smtp.to(reader_address)))
    [digest] = [m for m in smtp.to(reader_address) if "weekly" in m.subject]
    text = digest.text()
    assert "== New learning ==" in text
    assert text.index("CoP dip-cop (node guys)") < text.index("GDm-Health remote monitoring")
    assert "Summary of GDm-Health remote monitoring" in text

    def digests_sent() -> list[npb.Notification]:
        # The mail server has the message a moment before the outcome is recorded (SENDING
        # until then), and the list is a read model: wait for what it will show.
        listed = notify(
            region,
            "kings",
            "ListNotifications",
            npb.ListNotificationsRequest(kind=npb.NOTIFICATION_KIND_DIGEST),
            kings.lead_token,
        ).notifications
        sent = all(n.status == npb.DELIVERY_STATUS_SENT for n in listed)
        return list(listed) if listed and sent else []

    [listed] = eventually(digests_sent, 30)
    assert listed.member_id == reader

    # The author on guys heard nothing (it is their own item); the reader's address never
    # left kings, and the author's never left guys.
    assert not smtp.to(author_address)
    marker = reader_address.encode()
    assert files_containing(tmp_path / "kings" / "notify", marker)  # control: it is here
    assert not files_containing(tmp_path / "hub", marker)
    assert not files_containing(tmp_path / "guys", marker)
    assert not files_containing(tmp_path / "hub", author_address.encode())
    assert not files_containing(tmp_path / "kings", author_address.encode())
    # What copnet logged (not the test's own mail server, which logs what it receives).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))
    assert "notification" in logged  # control: the dispatcher logged its work
    assert reader_address not in logged and author_address not in logged
    assert uuid.UUID(listed.notification_id)
