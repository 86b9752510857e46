"""Reading what a real nats-server stored, and what the relay should have stored."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from nats.js.errors import NotFoundError

from copnet.integration.v1 import envelope_pb2
from services.common.application import CopnetApplication
from services.common.integration import IntegrationMap
from services.common.messaging import NodeIdentity
from tests.support import natsauth


@dataclass(frozen=True)
class StoredMessage:
    subject: str
    headers: dict[str, str]
    envelope: envelope_pb2.Envelope


def read_stream(url: str, stream: str) -> list[StoredMessage]:
    async def read() -> list[StoredMessage]:
        nc = await natsauth.connect(url, connect_timeout=2, max_reconnect_attempts=1)
        try:
            js = nc.jetstream()
            try:
                info = await js.stream_info(stream)
            except NotFoundError:
                return []
            messages = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                if info.state.messages == 0:
                    break
                raw = await js.get_msg(stream, seq)
                messages.append(
                    StoredMessage(
                        raw.subject,
                        dict(raw.headers or {}),
                        envelope_pb2.Envelope.FromString(raw.data),
                    )
                )
            return messages
        finally:
            await nc.close()

    return asyncio.run(read())


def expected_publications(
    app: CopnetApplication, integration: IntegrationMap, identity: NodeIdentity
) -> dict[int, str]:
    """Position -> subject of every stored event the relay must publish."""
    expected: dict[int, str] = {}
    start = 0
    while True:
        batch = app.recorder.select_notifications(start, 500, inclusive_of_start=False)
        if not batch:
            return expected
        for notification in batch:
            publications = integration.publications(
                app.mapper.to_domain_event(notification),
                notification.id,
                identity,
                lambda e: app.repository.get(e.originator_id, version=e.originator_version),
            )
            if publications:
                expected[notification.id] = publications[0].subject
        start = batch[-1].id
