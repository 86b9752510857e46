"""SQL tables that live beside an eventsourcing tracking recorder.

A read model (or any consumer's state) is written in the same transaction as
the tracking record of the last event it applied, so each event takes effect
exactly once. This module hides the two dialects: SQL is written once with `?`
placeholders and portable types (TEXT, INTEGER, BIGINT), and on PostgreSQL every
transaction runs with the service's schema first on the search path.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast, overload

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment

from services.common.errors import InvalidArgument
from services.common.paging import Page
from services.common.stores import postgres_loaded

if TYPE_CHECKING:  # the PostgreSQL driver is imported by the stores that use it
    from eventsourcing.postgres import PostgresTrackingRecorder

log = logging.getLogger(__name__)


def checkpoint_sqlite(db_name: str, attempts: int = 20) -> bool:
    """Copies an SQLite file's write-ahead log into it and truncates the log to nothing
    (earlier page images stay in the log until then). A reader in another process can
    hold the log for a moment: retried, and False if it never became free."""
    if ":memory:" in db_name or "mode=memory" in db_name:
        return True
    # Each attempt waits up to half a second for readers (the busy handler): ten at most.
    connection = sqlite3.connect(db_name, timeout=0.5, isolation_level=None)
    try:
        for _ in range(attempts):
            busy, _log, _copied = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return True
            time.sleep(0.05)
        log.warning("%s: its write-ahead log stayed in use; it keeps old pages for now", db_name)
        return False
    finally:
        connection.close()


@overload
def time_text(value: datetime) -> str: ...
@overload
def time_text(value: None) -> None: ...
def time_text(value: datetime | None) -> str | None:
    """A time as fixed-width UTC text for a TEXT column, so that text order is time order."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


@overload
def text_time(value: str) -> datetime: ...
@overload
def text_time(value: None) -> None: ...
def text_time(value: str | None) -> datetime | None:
    """The time a `time_text` column holds; empty or NULL is None."""
    return datetime.fromisoformat(value) if value else None


class Where:
    """A WHERE clause built from optional conditions, its parameters kept in order.

    where = Where()
    where.add_if(community_id, "community_id = ?", community_id)
    rows, next_token = page_rows(
        tx, page, "SELECT * FROM convenings", where, ("starts_at", "convening_id")
    )
    """

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def add_if(self, wanted: Any, condition: str, *params: Any) -> None:
        """Adds the condition only when `wanted` (a filter that was given) is truthy."""
        if wanted:
            self.add(condition, *params)

    def after(self, page: Page, condition: str) -> None:
        """Keyset paging: rows after the page's last key (`condition` compares with it)."""
        if page.after is not None:
            # A page token is not signed: one made up by hand must not reach the query.
            scalar = all(isinstance(v, (str, int, float)) or v is None for v in page.after)
            if len(page.after) != condition.count("?") or not scalar:
                raise InvalidArgument.single(
                    "page_token", "is not a page token this service issued"
                )
            self.add(condition, *page.after)

    def __str__(self) -> str:
        return "WHERE " + " AND ".join(self.conditions) if self.conditions else ""


def update_row(tx: SqlTx, table: str, key: str, event: Any, **fields: Any) -> None:
    """Sets `fields` of the row of the event's aggregate (its id in column `key`), with the
    event's version and time, unless the row has seen that version: a replay changes
    nothing."""
    assignments = "".join(f"{name} = ?, " for name in fields)
    tx.execute(
        f"UPDATE {table} SET {assignments}version = ?, updated_at = ? "
        f"WHERE {key} = ? AND version < ?",
        (
            *fields.values(),
            event.originator_version,
            time_text(event.timestamp),
            str(event.originator_id),
            event.originator_version,
        ),
    )


def rows_by(
    tx: SqlTx, table: str, column: str, keys: Sequence[str], order: str
) -> dict[str, list[dict[str, Any]]]:
    """The rows of `table` whose `column` is one of `keys`, grouped by it, each group in
    `order` (the children of a page of parents, in one query)."""
    if not keys:
        return {}
    marks = ", ".join("?" for _ in keys)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in tx.all(
        f"SELECT * FROM {table} WHERE {column} IN ({marks}) ORDER BY {column}, {order}", keys
    ):
        grouped.setdefault(row[column], []).append(row)
    return grouped


def page_rows(
    tx: SqlTx,
    page: Page,
    select: str,
    where: Where,
    order: Sequence[str],
    descending: bool = False,
) -> tuple[list[dict[str, Any]], str]:
    """One page of a list read by keyset paging, and the token of the page after it.

    `select` is the query up to its WHERE clause ("SELECT * FROM members m"), `where` its
    filters, `order` the columns that order it uniquely (as the query names them,
    "m.sort_name", "m.member_id"): the page holds the rows after the last key of the
    page before, in that order (newest first when `descending`).
    """
    columns = ", ".join(order)
    marks = ", ".join("?" for _ in order)
    where.after(page, f"({columns}) {'<' if descending else '>'} ({marks})")
    ordering = ", ".join(f"{c} DESC" for c in order) if descending else columns
    rows = tx.all(f"{select} {where} ORDER BY {ordering} LIMIT ?", (*where.params, page.size))
    names = [column.rsplit(".", 1)[-1] for column in order]
    return rows, page.next_token(rows, lambda row: [row[name] for name in names])


class SqlTx:
    """One open transaction: run statements, read rows as dicts, record tracking."""

    def __init__(self, store: SqlStore, cursor: Any) -> None:
        self._store = store
        self._cursor = cursor
        self.scrubbed_tables: set[str] = set()

    def scrub(self, *tables: str) -> None:
        """Personal data was overwritten or deleted in `tables`: once committed, no old
        copy may remain in the store's files (see `SqlStore.scrub`)."""
        self.scrubbed_tables.update(tables)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(self._store.dialect(statement), tuple(params))

    def one(self, statement: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        self.execute(statement, params)
        row = self._cursor.fetchone()
        return dict(row) if row is not None else None

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.execute(statement, params)
        return [dict(row) for row in self._cursor.fetchall()]

    def track(self, tracking: Tracking) -> None:
        """Records that `tracking` was applied; IntegrityError if it already was."""
        self._store.recorder._insert_tracking(self._cursor, tracking)


class SqlStore:
    def __init__(self, name: str, env: dict[str, str]) -> None:
        factory = InfrastructureFactory.construct(Environment(name, env))
        # The stores' PERSISTENCE_MODULE is eventsourcing.sqlite or eventsourcing.postgres.
        self.recorder = cast(
            "SQLiteTrackingRecorder | PostgresTrackingRecorder", factory.tracking_recorder()
        )
        self.is_postgres = postgres_loaded() and not isinstance(
            self.recorder, SQLiteTrackingRecorder
        )
        self._factory = factory
        # Tables whose scrub could not finish yet (tried again after the next write).
        self._unscrubbed: set[str] = set()

    def dialect(self, statement: str) -> str:
        if self.is_postgres:
            return statement.replace("%", "%%").replace("?", "%s")
        return statement

    @property
    def tracking_table(self) -> str:
        recorder = self.recorder
        return (
            "tracking"
            if isinstance(recorder, SQLiteTrackingRecorder)
            else recorder.tracking_table_name
        )

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[SqlTx]:
        with self.recorder.datastore.transaction(commit=commit) as cursor:
            recorder = self.recorder
            if not isinstance(recorder, SQLiteTrackingRecorder):
                from psycopg import sql as pgsql

                cursor.execute(
                    pgsql.SQL("SET LOCAL search_path TO {}, public").format(
                        pgsql.Identifier(recorder.datastore.schema)
                    )
                )
            elif commit:
                # What a write deletes or overwrites is zeroed, not left in free space.
                cursor.execute("PRAGMA secure_delete=ON")
            tx = SqlTx(self, cursor)
            yield tx
        if commit and (tx.scrubbed_tables or self._unscrubbed):
            tables = tx.scrubbed_tables | self._unscrubbed
            self._unscrubbed = set() if self.scrub(sorted(tables)) else tables

    def scrub(self, tables: Sequence[str]) -> bool:
        """Leaves no old copy of rows that an erasure changed. SQLite (with secure_delete
        on for every write): the write-ahead log, which keeps earlier page images, is
        checkpointed and truncated. PostgreSQL: the tables are rewritten (`VACUUM FULL`),
        so no dead row version keeps the old values. False if it could not finish now
        (readers held the log): the store tries again after its next write."""
        if self.is_postgres:
            from eventsourcing.postgres import PostgresTrackingRecorder
            from psycopg import sql as pgsql

            recorder = self.recorder
            assert isinstance(recorder, PostgresTrackingRecorder)
            with recorder.datastore.get_connection() as connection:
                connection.autocommit = True
                try:
                    for table in tables:
                        connection.execute(
                            pgsql.SQL("VACUUM FULL {}.{}").format(
                                pgsql.Identifier(recorder.datastore.schema),
                                pgsql.Identifier(table),
                            )
                        )
                finally:
                    connection.autocommit = False
            return True
        recorder = self.recorder
        assert isinstance(recorder, SQLiteTrackingRecorder)
        return checkpoint_sqlite(recorder.datastore.pool.db_name)

    def read(self) -> Any:
        return self.transaction(commit=False)

    def max_tracking_id(self, upstream: str) -> int:
        return self.recorder.max_tracking_id(upstream) or 0

    def forget_tracking(self, tx: SqlTx, upstream: str) -> None:
        """Forgets the position of one upstream, or of every upstream when it is ""."""
        if upstream:
            tx.execute(f"DELETE FROM {self.tracking_table} WHERE application_name = ?", (upstream,))
        else:
            tx.execute(f"DELETE FROM {self.tracking_table}")

    def close(self) -> None:
        self._factory.close()
