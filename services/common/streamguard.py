"""What the relay remembers of the node stream it publishes to, and the operator's requests.

Kept in the relay's own store, beside its position:
- `relay_stream`: the stream's creation time and the highest sequence JetStream
  gave this relay. A stream that is missing, has another creation time, or whose
  last sequence is below that number is not the stream the relay published to:
  its messages are gone. The relay then stops (`StreamLost`) rather than publish
  into a fresh stream as if nothing had happened.
- `relay_requests`: `copnet republish` writes a request here; the relay then
  forgets its position and the stream it knew, and publishes the whole log again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from eventsourcing.persistence import Tracking
from nats.js.api import StreamInfo

from services.common.sqlstore import SqlStore, SqlTx

REPUBLISH = "republish"

_TABLES = (
    "CREATE TABLE IF NOT EXISTS relay_stream ("
    "stream TEXT PRIMARY KEY, created TEXT NOT NULL, last_seq BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS relay_requests (kind TEXT PRIMARY KEY, requested_at TEXT NOT NULL)",
    # The relay's epoch (`Envelope.epoch`): 0 until `copnet restore` starts a new one.
    "CREATE TABLE IF NOT EXISTS relay_epoch (id INTEGER PRIMARY KEY, epoch INTEGER NOT NULL)",
)


class StreamLost(Exception):
    """The node stream is not the one this relay published to: it stops until told."""


@dataclass(frozen=True)
class KnownStream:
    created: str
    last_seq: int


def _created(info: StreamInfo) -> str:
    return info.created.isoformat() if info.created is not None else ""


class StreamGuard:
    def __init__(self, store: SqlStore, stream: str) -> None:
        self.store = store
        self.stream = stream
        self.known: KnownStream | None = None
        self.last_seq = 0

    def reload(self) -> None:
        """Reads what is remembered (at every (re)start of the relay's loop)."""
        self._ensure_tables()
        with self.store.read() as tx:
            row = tx.one(
                "SELECT created, last_seq FROM relay_stream WHERE stream = ?", (self.stream,)
            )
        self.known = KnownStream(row["created"], int(row["last_seq"])) if row else None
        self.last_seq = self.known.last_seq if self.known else 0

    def _ensure_tables(self) -> None:
        with self.store.transaction() as tx:
            for statement in _TABLES:
                tx.execute(statement)

    def check(self, info: StreamInfo | None, position: int) -> bool:
        """Raises StreamLost unless `info` is the stream this relay published to.
        Returns True when the stream must be created (nothing was ever published)."""
        if info is None:
            if position or self.known is not None:
                raise StreamLost(
                    f"the node stream {self.stream} is missing (this relay published up to "
                    f"position {position} into it): its messages are lost. The relay will not "
                    "recreate it empty. Run `copnet republish` to publish the whole log again "
                    "from the store"
                )
            return True
        if self.known is not None and self.known.created != _created(info):
            raise StreamLost(
                f"the node stream {self.stream} was recreated at {_created(info)} (this relay "
                f"published into the one created at {self.known.created}): its messages are "
                "lost. Run `copnet republish` to publish the whole log again from the store"
            )
        if info.state.last_seq < self.last_seq:
            raise StreamLost(
                f"the node stream {self.stream} went back to sequence {info.state.last_seq} "
                f"(this relay was given {self.last_seq}): messages are lost. Run "
                "`copnet republish` to publish the whole log again from the store"
            )
        return False

    def adopt(self, info: StreamInfo) -> None:
        """Remembers `info` as the stream to publish to (first start, or an upgrade)."""
        with self.store.transaction() as tx:
            self._adopt(tx, info)

    def _adopt(self, tx: SqlTx, info: StreamInfo) -> None:
        known = KnownStream(_created(info), info.state.last_seq)
        tx.execute("DELETE FROM relay_stream WHERE stream = ?", (self.stream,))
        tx.execute(
            "INSERT INTO relay_stream (stream, created, last_seq) VALUES (?, ?, ?)",
            (self.stream, known.created, known.last_seq),
        )
        self.known, self.last_seq = known, known.last_seq

    def acknowledged(self, stream: str, seq: int, duplicate: bool) -> None:
        """Checks one PubAck: a new message must land in our stream, past the last one."""
        if stream != self.stream:
            raise StreamLost(f"a message meant for {self.stream} was stored in {stream}")
        if duplicate:
            return  # the original's sequence
        if seq <= self.last_seq:
            raise StreamLost(
                f"the node stream {self.stream} gave sequence {seq} after {self.last_seq}: it "
                "was reset or recreated and its earlier messages are lost. Run "
                "`copnet republish` to publish the whole log again from the store"
            )
        self.last_seq = seq

    def record(self, application: str, position: int) -> None:
        """Saves the position and the last sequence in one transaction."""
        with self.store.transaction() as tx:
            tx.track(Tracking(application, position))
            tx.execute(
                "UPDATE relay_stream SET last_seq = ? WHERE stream = ?",
                (self.last_seq, self.stream),
            )

    # Operator requests

    def epoch(self) -> int:
        self._ensure_tables()
        with self.store.read() as tx:
            row = tx.one("SELECT epoch FROM relay_epoch WHERE id = 1")
        return int(row["epoch"]) if row else 0

    def start_new_epoch(self) -> int:
        """After a restore: what this relay publishes from now on is a new sequence, which
        consumers track apart from what they saw before (and which is republished whole)."""
        epoch = self.epoch() + 1
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM relay_epoch")
            tx.execute("INSERT INTO relay_epoch (id, epoch) VALUES (1, ?)", (epoch,))
        self.request_republish()
        return epoch

    def republish_requested(self) -> bool:
        with self.store.read() as tx:
            row = tx.one("SELECT 1 AS found FROM relay_requests WHERE kind = ?", (REPUBLISH,))
        return row is not None

    def request_republish(self) -> None:
        self._ensure_tables()
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM relay_requests WHERE kind = ?", (REPUBLISH,))
            tx.execute(
                "INSERT INTO relay_requests (kind, requested_at) VALUES (?, ?)",
                (REPUBLISH, datetime.now(tz=UTC).isoformat()),
            )

    def start_republishing(self, application: str, info: StreamInfo) -> None:
        """Forgets the position, the stream known so far and the request, in one transaction."""
        with self.store.transaction() as tx:
            self.store.forget_tracking(tx, application)
            tx.execute("DELETE FROM relay_requests WHERE kind = ?", (REPUBLISH,))
            self._adopt(tx, info)
