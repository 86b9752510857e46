"""What an inbox hands its messages to: handlers, and `InboxView`, a read model of them.

A handler applies an integration event with its tracking record
`(<origin route>, position)` in one transaction. Tracking is a high-water mark
per origin route (eventsourcing's single-row tracking): recording a position at
or below the route's last one fails, so a message seen before is recognised
whatever route or copy it came by, and a batch needs to leave only its last
position per route behind.

A handler may also offer `handle_batch`: several messages, in stream order,
applied in one transaction (all or nothing); the inbox then pays one commit per
batch instead of one per message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from eventsourcing.persistence import IntegrityError
from opentelemetry.context import Context

from services.common.envelopes import IntegrationMessage
from services.common.projection import Projection
from services.common.sqlstore import SqlTx


class IntegrationHandler(Protocol):
    def handle(self, message: IntegrationMessage) -> bool:
        """Applies the message with its tracking; False if it was applied before."""


@runtime_checkable
class BatchHandler(Protocol):
    def handle_batch(
        self, messages: Sequence[IntegrationMessage], contexts: Sequence[Context] = ()
    ) -> list[bool]:
        """Applies the messages in order in one transaction (all or none); for each,
        False if it was applied before. `contexts`: each message's span, current while it
        is applied (what it causes continues its trace)."""


class InboxView(Projection):
    """A read model fed by integration events (possibly from several origins)."""

    upstream = ""

    def handle(self, message: IntegrationMessage) -> bool:
        return self.handle_batch([message])[0]

    def handle_batch(
        self, messages: Sequence[IntegrationMessage], contexts: Sequence[Context] = ()
    ) -> list[bool]:
        applied: list[bool] = []
        with self.store.transaction() as tx:
            for message in messages:
                try:
                    # An upsert that moves the route's mark up or fails: no SQL error, so
                    # the transaction goes on with the batch's next message.
                    tx.track(message.tracking)
                except IntegrityError:
                    applied.append(False)
                    continue
                if message.payload is not None:
                    self.apply(message, tx)
                applied.append(True)
        return applied

    def apply(self, message: IntegrationMessage, tx: SqlTx) -> None:
        raise NotImplementedError

    def is_empty(self) -> bool:
        with self.store.read() as tx:
            return tx.one(f"SELECT 1 AS found FROM {self.store.tracking_table} LIMIT 1") is None


@dataclass
class InboxStats:
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    failures: int = 0
    pending: int = 0
    # Batches applied in one transaction, and the messages they held.
    batches: int = 0
    batched: int = 0
    parked_on: str = ""
    rejected_subjects: list[str] = field(default_factory=list)
    # (stream sequence, subject, reason) of the last refusals.
    refusals: list[tuple[int, str, str]] = field(default_factory=list)
    consumer_repairs: int = 0
    # Consumers started again after their ack floor (messages left unacknowledged).
    consumer_restarts: int = 0
