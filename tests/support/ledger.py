"""A read model that counts what it applies, and a process that runs it behind an inbox.

`EventLedger` records each integration event it applies in `ledger` (a count: any double
effect shows as 2) and the order it applied them in (`applied_order`, across processes).

`python -m tests.support.ledger NATS_URL DB_FILE --batch N [--stall-at K --marker FILE]`
runs an `Inbox` over the test node's registry subjects into a ledger in DB_FILE, in a
process of its own; with `--stall-at K` the K-th message it applies writes FILE and blocks
for ever in the middle of its batch's transaction (for a test to kill the process there).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from copnet.registry.v1 import registry_events_pb2
from services.common.inbox import Inbox, InboxView, IntegrationMessage, RejectedMessage
from services.common.messaging import NodeIdentity
from services.common.natslink import NatsLink
from services.common.sqlstore import SqlStore, SqlTx

IDENTITY = NodeIdentity("testnode", "test-region")
# Payloads are decoded by type url: the registry's event messages must be known here.
REGISTRY_EVENTS = registry_events_pb2


class EventLedger(InboxView):
    """Counts each integration event it applies: any double effect shows as a count of 2."""

    name = "ledger"
    tables = (
        "CREATE TABLE IF NOT EXISTS ledger ("
        " event_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, applied INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS applied_order ("
        " seq INTEGER PRIMARY KEY, position INTEGER NOT NULL)",
    )
    table_names = ("ledger", "applied_order")

    def __init__(self, store: SqlStore) -> None:
        super().__init__(store)
        self.fail_next = 0
        # Positions its handler refuses (RejectedMessage), as a poison message would be.
        self.refuse: set[int] = set()
        self.unavailable_next = 0
        # When set, the next message blocks until `release` is set, then fails (a process
        # that dies in the middle of a message commits nothing).
        self.hold: threading.Event | None = None
        self.holding = threading.Event()
        self.order: list[int] = []
        # Blocks for ever at the n-th message applied (after writing `marker`).
        self.stall_at = 0
        self.marker: Path | None = None
        self.calls = 0

    def apply(self, message: IntegrationMessage, tx: SqlTx) -> None:
        self.calls += 1
        if self.stall_at and self.calls >= self.stall_at:
            assert self.marker is not None
            self.marker.write_text(str(message.envelope.position))
            while True:
                time.sleep(60)
        if self.hold is not None:
            hold, self.hold = self.hold, None
            self.holding.set()
            hold.wait(30)
            raise RuntimeError("died in the middle of the message")
        if message.envelope.position in self.refuse:
            raise RejectedMessage(f"position {message.envelope.position} is poison")
        if self.unavailable_next:
            self.unavailable_next -= 1
            raise sqlite3.OperationalError("database is locked")
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("the handler has a bad day")
        row = tx.one("SELECT applied FROM ledger WHERE event_id = ?", (message.envelope.event_id,))
        if row is None:
            tx.execute(
                "INSERT INTO ledger (event_id, event_type, applied) VALUES (?, ?, 1)",
                (message.envelope.event_id, message.event_type),
            )
        else:
            tx.execute(
                "UPDATE ledger SET applied = applied + 1 WHERE event_id = ?",
                (message.envelope.event_id,),
            )
        tx.execute(
            "INSERT INTO applied_order (seq, position)"
            " SELECT COALESCE(MAX(seq), 0) + 1, ? FROM applied_order",
            (message.envelope.position,),
        )
        self.order.append(message.envelope.position)

    def counts(self) -> dict[str, int]:
        with self.store.read() as tx:
            return {r["event_id"]: r["applied"] for r in tx.all("SELECT * FROM ledger")}

    def applied_order(self) -> list[int]:
        with self.store.read() as tx:
            rows = tx.all("SELECT position FROM applied_order ORDER BY seq")
        return [r["position"] for r in rows]


def sqlite_env(db_file: Path) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(db_file),
        "SQLITE_LOCK_TIMEOUT": "10",
    }


def ledger_inbox(view: EventLedger, nats_url: str, batch_size: int) -> Inbox:
    return Inbox(
        "tests-ledger",
        IDENTITY.stream_name,
        IDENTITY.service_subjects("registry"),
        view,
        NatsLink(nats_url, "tests-ledger"),
        ack_wait=5,
        batch_size=batch_size,
    )


async def _run(view: EventLedger, nats_url: str, batch_size: int) -> None:
    inbox = ledger_inbox(view, nats_url, batch_size)
    stopping = asyncio.Event()
    await asyncio.gather(inbox.link.run(stopping), inbox.run(stopping))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("nats_url")
    parser.add_argument("db_file", type=Path)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--stall-at", type=int, default=0)
    parser.add_argument("--marker", type=Path)
    args = parser.parse_args()
    view = EventLedger(SqlStore("tests_ledger", sqlite_env(args.db_file)))
    view.stall_at, view.marker = args.stall_at, args.marker
    asyncio.run(_run(view, args.nats_url, args.batch))


if __name__ == "__main__":
    main()
