"""A node for end-to-end tests of the notify service: a real nats-server; the registry, events,
learning and notify services (API and worker each) on loopback gRPC ports, sharing a clock the
test moves; and a real SMTP server receiving the mail.

Notify hears of everything only through NATS (relays -> node stream -> inboxes).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import nats
import nats.js.errors
import pytest
from icalendar import Calendar

from copnet.events.v1 import events_pb2 as epb
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.learning.v1 import learning_pb2_grpc as lpb_grpc
from copnet.notify.v1 import notify_pb2 as npb
from copnet.notify.v1 import notify_pb2_grpc as npb_grpc
from copnet.registry.v1 import registry_pb2 as rpb
from services.common.channels import ChannelSecurity, open_channel
from services.common.service import ServiceRuntime
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from services.learning.service import DEFINITION as LEARNING
from services.node import node_nats_server
from services.notify.application import Notify
from services.notify.dispatcher import Dispatcher
from services.notify.service import NotifyParts, definition
from services.notify.settings import NotifySettings
from tests.support import natsauth
from tests.support.events_node import Cop, Failure, GrpcNode
from tests.support.events_world import MovableClock
from tests.support.ports import free_port
from tests.support.postgres import drop_schemas
from tests.support.smtp import Received, SmtpSink
from tests.support.waiting import eventually

# A Monday morning; digests go out at 07:00 (daily) and on Mondays 07:00 (weekly).
START = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)


def notify_settings(smtp: SmtpSink | None, data_dir: Path, **overrides: Any) -> NotifySettings:
    base = NotifySettings(
        smtp_host="127.0.0.1" if smtp else "",
        smtp_port=smtp.port if smtp else 25,
        smtp_security="none",
        smtp_timeout=10.0,
        mail_from="Cancer CoP network <notify@guys.copnet.example>",
        http_address="127.0.0.1:0",
        outbox_dir=data_dir / "notify" / "outbox",
        poll_interval=0.1,
        retry_base=timedelta(minutes=1),
    )
    return base.with_overrides(**overrides)


class NotifyNode(GrpcNode):
    def __init__(
        self,
        settings: NodeSettings,
        authority: TokenAuthority,
        clock: MovableClock,
        notify: NotifySettings,
    ) -> None:
        super().__init__(settings, authority, clock)
        self.notify_settings = notify
        self.channels: dict[str, grpc.Channel] = {}

    def start(self) -> None:
        super().start()
        self._start(LEARNING)
        self.start_notify()

    def start_notify(self) -> None:
        runtime = self._start(definition(self.notify_settings))
        security = ChannelSecurity.of(self.settings)
        self.channels["notify"] = open_channel(f"127.0.0.1:{runtime.port}", security)
        self.channels["learning"] = open_channel(
            f"127.0.0.1:{self.runtime('learning').port}", security
        )

    def stop_notify(self) -> None:
        self.channels.pop("notify").close()
        self.threads.pop("notify").stop()

    def stop(self) -> None:
        for channel in self.channels.values():
            channel.close()
        self.channels.clear()
        super().stop()

    # The notify service

    @property
    def notify_runtime(self) -> ServiceRuntime:
        return self.runtime("notify")

    @property
    def app(self) -> Notify:
        app = self.notify_runtime.app
        assert isinstance(app, Notify)
        return app

    @property
    def parts(self) -> NotifyParts:
        parts = self.notify_runtime.parts
        assert isinstance(parts, NotifyParts)
        return parts

    @property
    def dispatcher(self) -> Dispatcher:
        return next(w for w in self.notify_runtime.workers if isinstance(w, Dispatcher))

    def _metadata(self, who: str | None) -> list[tuple[str, str]]:
        assert self.api is not None
        return self.api._metadata(who)

    def notify(self, method: str, request: Any, who: str | None = None) -> Any:
        stub = npb_grpc.NotifyServiceStub(self.channels["notify"])
        return getattr(stub, method)(request, metadata=self._metadata(who), timeout=30)

    def notify_fails(self, method: str, request: Any, who: str | None = None) -> Failure:
        with pytest.raises(grpc.RpcError) as raised:
            self.notify(method, request, who)
        return Failure(raised.value)

    def learning(self, method: str, request: Any, who: str | None = None) -> Any:
        stub = lpb_grpc.LearningServiceStub(self.channels["learning"])
        return getattr(stub, method)(request, metadata=self._metadata(who), timeout=30)

    def notifications(self, member: str | None = None, **filters: Any) -> list[npb.Notification]:
        found: list[npb.Notification] = []
        token = ""
        while True:
            reply = self.notify(
                "ListNotifications",
                npb.ListNotificationsRequest(
                    member_id=member or "", page_size=500, page_token=token, **filters
                ),
            )
            found.extend(reply.notifications)
            token = reply.next_page_token
            if not token:
                return found

    def settle(self, timeout: float = 30.0) -> None:
        """Waits until notify has applied everything the other services recorded so far, no
        message is between its claim and its recorded outcome (a mail server has a message
        a moment before its outcome is saved, which a lane saves with its next claim), and
        its views show everything it recorded."""
        for name in ("registry", "events", "learning"):
            runtime = self.runtime(name)
            eventually(
                lambda r=runtime: r.relay.position == (r.app.recorder.max_notification_id() or 0),
                timeout,
            )
        eventually(self._consumers_idle, timeout)
        eventually(self._views_current_and_nothing_sending, timeout)

    def _views_current_and_nothing_sending(self) -> bool:
        position = self.app.recorder.max_notification_id() or 0
        followers = self.notify_runtime.followers.values()
        if any(follower.position < position for follower in followers):
            return False
        return not self.parts.mailbox.sending()

    def _consumers_idle(self) -> bool:
        """Every notify inbox has been handed, and has acknowledged, every message."""

        async def idle() -> bool:
            client = await natsauth.connect(self.settings.nats_url)
            try:
                js = client.jetstream()
                for inbox in self.notify_runtime.inboxes:
                    try:
                        info = await js.consumer_info(inbox.stream, inbox.name)
                    except nats.js.errors.NotFoundError:
                        return False
                    if info.num_pending or info.num_ack_pending:
                        return False
                return True
            finally:
                await client.close()

        return asyncio.run(idle())

    def dispatch(self) -> int:
        """Runs one dispatcher pass now (in the test's thread) and returns how many it took."""
        return self.dispatcher.dispatch_due()

    def publish(
        self, community_id: str, lead: str, title: str, tags: list[str]
    ) -> lpb.LearningItem:
        item = self.learning(
            "CreateItem",
            lpb.CreateItemRequest(
                request_id=str(uuid.uuid4()),
                kind=lpb.ITEM_KIND_REPLICABLE_MODEL,
                title=title,
                summary=f"Summary of {title}",
                body=f"How {title} works.",
                domain_tags=tags,
                community_id=community_id,
                visibility=lpb.VISIBILITY_REGION,
            ),
            lead,
        ).item
        return self.learning(
            "PublishItem",
            lpb.PublishItemRequest(request_id=str(uuid.uuid4()), item_id=item.item_id),
            lead,
        ).item


def start_notify_node(
    root: Path,
    clock: MovableClock,
    smtp: SmtpSink | None,
    postgres_dsn: str = "",
    **overrides: Any,
) -> NotifyNode:
    settings = NodeSettings(
        node_id="testnode",
        region="test-region",
        data_dir=root / "node",
        postgres_dsn=postgres_dsn,
        postgres_schema_prefix=f"t{uuid.uuid4().hex[:10]}_",
        nats_port=free_port(),
    )
    nats = node_nats_server(settings)
    natsauth.remember(nats.url, settings.data_dir)
    nats.start()
    settings = settings.with_overrides(nats_url=nats.url)
    authority = TokenAuthority.for_node("testnode", root / "keys" / "signing.pem")
    node = NotifyNode(settings, authority, clock, notify_settings(smtp, root / "node", **overrides))
    node.nats = nats  # type: ignore[attr-defined]
    try:
        node.start()
    except BaseException:
        nats.kill()
        raise
    return node


def stop_notify_node(node: NotifyNode) -> None:
    try:
        node.stop()
    finally:
        node.nats.kill()  # type: ignore[attr-defined]
        if node.settings.postgres_dsn:
            drop_schemas(node.settings.postgres_dsn, node.settings.postgres_schema_prefix)


def node_fixture(
    tmp_path: Path, clock: MovableClock, smtp: SmtpSink, **overrides: Any
) -> Iterator[NotifyNode]:
    node = start_notify_node(tmp_path, clock, smtp, **overrides)
    try:
        yield node
    finally:
        stop_notify_node(node)


# Helpers of the notify tests

LONDON = ZoneInfo("Europe/London")


def local(instant: datetime) -> str:
    return instant.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def email_of(node: NotifyNode, member: str) -> str:
    return node.api.registry("GetMember", rpb.GetMemberRequest(member_id=member)).member.email


def calendar_of(message: Received, name: str = "invite.ics") -> Calendar:
    data = message.attachment(name)
    assert data is not None, f"no {name} attached"
    return Calendar.from_ical(data)


def vevent(calendar: Calendar):
    [event] = calendar.walk("VEVENT")
    return event


def schedule_in(cop: Cop, node: NotifyNode, days: float, **kwargs) -> epb.Convening:
    start = node.clock.now() + timedelta(days=days)
    return cop.schedule(start=local(start), end=local(start + timedelta(hours=1)), **kwargs)
