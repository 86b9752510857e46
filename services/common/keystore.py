"""Per-subject data keys, kept apart from the events they protect (crypto-shredding).

Personal fields of stored events are encrypted under a key per data subject (a
member). Erasing the subject deletes the key, so what the event store still holds
about them can never be read again. The keys live in a table that can really lose
a row, never in the (append-only) event store:

- SQLite: `<data_dir>/<service>/keys.sqlite` (0600), with `secure_delete` (a deleted
  row's bytes are overwritten) and its write-ahead log checkpointed and truncated
  after each erasure (the log kept the page as it was);
- PostgreSQL: the table `subject_keys` in the service's schema; after a deletion the
  table is rewritten (`VACUUM FULL`), so no dead row version keeps the key;
- no persistence module (unit tests): a dictionary.

Each store also remembers which subjects were erased, so that a key is never made
again for them (an event about them written later stores tombstones instead).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from services.common.sqlstore import checkpoint_sqlite

if TYPE_CHECKING:  # the PostgreSQL driver is imported by the key stores that use it
    import psycopg

log = logging.getLogger(__name__)

KEY_BYTES = 32
# How long a process trusts a key it read (another process may erase it meanwhile;
# the erasure event itself wipes the aggregate's state for readers that are in order).
CACHE_SECONDS = 30.0

_TABLES = (
    "CREATE TABLE IF NOT EXISTS subject_keys"
    " (subject_id TEXT PRIMARY KEY, data_key {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS erased_subjects"
    " (subject_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL)",
)


class KeyBackend(Protocol):
    def read(self, subject_id: str) -> tuple[bytes | None, bool]: ...

    def insert(self, subject_id: str, key: bytes) -> None: ...

    def erase(self, subject_id: str, erased_at: str) -> None: ...

    def close(self) -> None: ...


class MemoryKeys:
    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.erased: dict[str, str] = {}

    def read(self, subject_id: str) -> tuple[bytes | None, bool]:
        return self.keys.get(subject_id), subject_id in self.erased

    def insert(self, subject_id: str, key: bytes) -> None:
        if subject_id not in self.erased:
            self.keys.setdefault(subject_id, key)

    def erase(self, subject_id: str, erased_at: str) -> None:
        self.keys.pop(subject_id, None)
        self.erased.setdefault(subject_id, erased_at)

    def close(self) -> None:
        pass


class _KeyTables:
    """What both stores' key tables answer alike; `PARAM` is the driver's placeholder."""

    PARAM = "?"

    def _connect(self) -> Any:
        raise NotImplementedError

    def read(self, subject_id: str) -> tuple[bytes | None, bool]:
        where = f"WHERE subject_id = {self.PARAM}"
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT data_key FROM subject_keys {where}", (subject_id,)
            ).fetchone()
            erased = connection.execute(
                f"SELECT 1 FROM erased_subjects {where}", (subject_id,)
            ).fetchone()
        return (bytes(row[0]) if row else None), erased is not None


class SqliteKeys(_KeyTables):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        with self._connect() as connection:
            for statement in _TABLES:
                connection.execute(statement.format(blob="BLOB"))
        os.chmod(path, 0o600)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """The one connection of this store, one user at a time."""
        with self._lock:
            if self._connection is None:
                connection = sqlite3.connect(
                    self.path, timeout=10, isolation_level=None, check_same_thread=False
                )
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA secure_delete=ON")
                self._connection = connection
            try:
                yield self._connection
            except sqlite3.Error:
                self._connection.close()
                self._connection = None
                raise

    def insert(self, subject_id: str, key: bytes) -> None:
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            erased = connection.execute(
                "SELECT 1 FROM erased_subjects WHERE subject_id = ?", (subject_id,)
            ).fetchone()
            if erased is None:
                connection.execute(
                    "INSERT INTO subject_keys (subject_id, data_key) VALUES (?, ?)"
                    " ON CONFLICT (subject_id) DO NOTHING",
                    (subject_id, key),
                )
            connection.execute("COMMIT")

    def erase(self, subject_id: str, erased_at: str) -> None:
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("DELETE FROM subject_keys WHERE subject_id = ?", (subject_id,))
            connection.execute(
                "INSERT INTO erased_subjects (subject_id, erased_at) VALUES (?, ?)"
                " ON CONFLICT (subject_id) DO NOTHING",
                (subject_id, erased_at),
            )
            connection.execute("COMMIT")
        # The log keeps the page as it was (with the key) until it is checkpointed.
        if not checkpoint_sqlite(str(self.path)):
            log.warning("%s: the key's old page stays in its log until the next erasure", self.path)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class PostgresKeys(_KeyTables):
    PARAM = "%s"

    def __init__(self, conninfo: str, schema: str) -> None:
        self.conninfo = conninfo
        self.schema = schema
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[Any] | None = None
        from psycopg import sql

        with self._connect() as connection:
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
            for statement in _TABLES:
                connection.execute(statement.format(blob="BYTEA"))

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection[Any]]:
        """The one connection of this store (made again after an error), one user at a time."""
        import psycopg
        from psycopg import sql

        with self._lock:
            if self._connection is None or self._connection.closed:
                connection = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=3)
                connection.execute(
                    sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema))
                )
                self._connection = connection
            try:
                yield self._connection
            except psycopg.Error:
                self._connection.close()
                self._connection = None
                raise

    def insert(self, subject_id: str, key: bytes) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO subject_keys (subject_id, data_key)"
                " SELECT %s, %s WHERE NOT EXISTS"
                " (SELECT 1 FROM erased_subjects WHERE subject_id = %s)"
                " ON CONFLICT (subject_id) DO NOTHING",
                (subject_id, key, subject_id),
            )

    def erase(self, subject_id: str, erased_at: str) -> None:
        with self._connect() as connection:
            with connection.transaction():
                connection.execute(
                    "INSERT INTO erased_subjects (subject_id, erased_at) VALUES (%s, %s)"
                    " ON CONFLICT (subject_id) DO NOTHING",
                    (subject_id, erased_at),
                )
                connection.execute("DELETE FROM subject_keys WHERE subject_id = %s", (subject_id,))
            # A deleted row stays in the table's pages until they are rewritten.
            connection.execute("VACUUM FULL subject_keys")

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class SubjectKeys:
    """The data keys of one service's subjects, cached for a short while."""

    def __init__(self, backend: KeyBackend) -> None:
        self.backend = backend
        self._cache: dict[str, tuple[bytes, float]] = {}
        self._guard = threading.Lock()

    @classmethod
    def for_environment(cls, env: Mapping[str, str]) -> SubjectKeys:
        """The key store beside the event store that `env` configures."""
        module = env.get("PERSISTENCE_MODULE", "")
        if module == "eventsourcing.sqlite":
            database = env.get("SQLITE_DBNAME", "")
            if database and ":memory:" not in database and "mode=memory" not in database:
                return cls(SqliteKeys(Path(database).parent / "keys.sqlite"))
        if module == "eventsourcing.postgres":
            from psycopg.conninfo import make_conninfo

            conninfo = make_conninfo(
                dbname=env.get("POSTGRES_DBNAME", "postgres"),
                host=env.get("POSTGRES_HOST", "localhost"),
                port=env.get("POSTGRES_PORT", "5432"),
                user=env.get("POSTGRES_USER", "postgres"),
                password=env.get("POSTGRES_PASSWORD", ""),
            )
            return cls(PostgresKeys(conninfo, env.get("POSTGRES_SCHEMA", "public")))
        return cls(MemoryKeys())

    def key(self, subject_id: str, create: bool) -> bytes | None:
        """The subject's key (made now if `create` and there is none); None once erased."""
        with self._guard:
            cached = self._cache.get(subject_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        key, erased = self.backend.read(subject_id)
        if key is None and create and not erased:
            self.backend.insert(subject_id, os.urandom(KEY_BYTES))
            key, erased = self.backend.read(subject_id)
        if key is not None:
            with self._guard:
                self._cache[subject_id] = (key, time.monotonic() + CACHE_SECONDS)
        return key

    def is_erased(self, subject_id: str) -> bool:
        return self.backend.read(subject_id)[1]

    def erase(self, subject_id: str) -> None:
        """Deletes the subject's key for good (idempotent)."""
        with self._guard:
            self._cache.pop(subject_id, None)
        self.backend.erase(subject_id, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def close(self) -> None:
        self.backend.close()

    def forget(self, subject_id: str) -> None:
        """Drops a cached key (an erasure seen in the log, made by another process)."""
        with self._guard:
            self._cache.pop(subject_id, None)
