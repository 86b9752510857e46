"""Where each store of a service lives, as eventsourcing environment settings.

A service has several stores: its application's events, and tracking stores
for its relay, its projections and its inbox consumers.
- SQLite (the embedded default): one file per store under
  `<data_dir>/<service>/`, because the library's SQLite tables have fixed names.
- PostgreSQL: one schema per service (`<schema_prefix><service>`) in the
  database the DSN names; tables are named after each store.
"""

from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.sqlite import SQLiteApplicationRecorder

# PostgreSQL's driver (psycopg, its pool, eventsourcing.postgres: about 12 MB) is imported
# only by a process that uses PostgreSQL: where a store's settings name it, and where one of
# its objects is handled (no such object exists in a process that never imported it).

# The longest wait between a connection pool's attempts to reconnect to PostgreSQL.
MAX_RECONNECT_DELAY = 2.0


def _cap_reconnect_delay() -> None:
    """psycopg_pool waits 1, 2, 4, 8, ... seconds between reconnection attempts, with no
    ceiling short of its five-minute give-up: after a 30-second outage the next attempt
    can come half a minute after the database is back, and every call waits for it. Its
    `AttemptWithBackoff` has no setting for a ceiling, so one is added here, once (before
    any pool exists: with the first PostgreSQL store's settings)."""
    from psycopg_pool.base import AttemptWithBackoff

    original = AttemptWithBackoff.update_delay
    if getattr(original, "copnet_capped", False):
        return

    def update_delay(self: AttemptWithBackoff, now: float) -> None:
        original(self, now)
        self.delay = min(self.delay, MAX_RECONNECT_DELAY)

    update_delay.copnet_capped = True  # type: ignore[attr-defined]
    AttemptWithBackoff.update_delay = update_delay  # type: ignore[method-assign]


def postgres_errors(name: str = "Error") -> tuple[type[Exception], ...]:
    """psycopg's error class `name` (e.g. Error, OperationalError) when this process uses
    PostgreSQL, else none (a process that never imported psycopg cannot meet one)."""
    psycopg = sys.modules.get("psycopg")
    return (getattr(psycopg, name),) if psycopg is not None else ()


def postgres_loaded() -> bool:
    """Whether this process loaded eventsourcing's PostgreSQL recorders (no recorder of
    theirs exists in one that did not)."""
    return "eventsourcing.postgres" in sys.modules


def check_failures() -> tuple[type[Exception], ...]:
    """What `StoreSettings.check_reachable` raises when the store does not answer."""
    return (OSError, sqlite3.Error, TimeoutError, *postgres_errors())


def store_outages() -> tuple[type[Exception], ...]:
    """What a store raises while it is unreachable (or locked): retry later, it is not a bug."""
    return (
        OperationalError,
        InterfaceError,
        *postgres_errors("OperationalError"),  # PoolTimeout included
        sqlite3.OperationalError,
    )


@dataclass(frozen=True)
class StoreSettings:
    data_dir: Path
    postgres_dsn: str = ""
    schema_prefix: str = "copnet_"
    pool_size: int = 2
    pool_max_overflow: int = 6
    lock_timeout_seconds: int = 5
    # How long to wait for a PostgreSQL connection (also a pool checkout).
    connect_timeout_seconds: int = 3

    @property
    def uses_postgres(self) -> bool:
        return bool(self.postgres_dsn)

    @property
    def connections(self) -> int:
        """How many calls a store serves at once: the size of the API's thread pool."""
        return self.pool_size + self.pool_max_overflow

    def schema(self, service: str) -> str:
        return f"{self.schema_prefix}{service}"

    def application_env(self, service: str) -> dict[str, str]:
        return self._env(service, "events")

    def tracking_env(self, service: str, store: str) -> dict[str, str]:
        """Settings for a tracking store, e.g. store="relay" or "directory"."""
        return self._env(service, store)

    def _env(self, service: str, store: str) -> dict[str, str]:
        if self.uses_postgres:
            return self._postgres_env(service)
        directory = self.data_dir / service
        directory.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(directory / f"{store}.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "10",
        }

    def _postgres_env(self, service: str) -> dict[str, str]:
        from psycopg.conninfo import conninfo_to_dict

        _cap_reconnect_delay()
        params = conninfo_to_dict(self.postgres_dsn)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(params.get("dbname") or "postgres"),
            "POSTGRES_HOST": str(params.get("host") or "localhost"),
            "POSTGRES_PORT": str(params.get("port") or "5432"),
            "POSTGRES_USER": str(params.get("user") or "postgres"),
            # eventsourcing requires a password setting; trust and peer auth ignore it.
            "POSTGRES_PASSWORD": str(params.get("password") or ""),
            "POSTGRES_SCHEMA": self.schema(service),
            "POSTGRES_POOL_SIZE": str(self.pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.pool_max_overflow),
            "POSTGRES_LOCK_TIMEOUT": str(self.lock_timeout_seconds),
            "POSTGRES_CONNECT_TIMEOUT": str(self.connect_timeout_seconds),
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_CONN_MAX_AGE": "1800",
        }

    def check_reachable(self, service: str, timeout: float = 2.0) -> None:
        """Raises OSError (or psycopg.Error) unless the service's store answers now."""
        if self.uses_postgres:
            import psycopg

            with psycopg.connect(
                self.postgres_dsn,
                connect_timeout=max(1, round(timeout)),
                autocommit=True,
                options=f"-c statement_timeout={round(timeout * 1000)}",
            ) as connection:
                connection.execute("SELECT 1")
            return
        events = self.data_dir / service / "events.sqlite"
        if not events.exists():
            raise OSError(f"{events} is missing")
        with sqlite3.connect(f"file:{events}?mode=ro", uri=True, timeout=timeout) as connection:
            connection.execute("SELECT 1")

    def prepare(self, service: str) -> None:
        """Creates what the library does not: the service's schema on PostgreSQL."""
        if not self.uses_postgres:
            (self.data_dir / service).mkdir(parents=True, exist_ok=True)
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.postgres_dsn, autocommit=True) as connection:
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(self.schema(service))
                )
            )


def notification_position(recorder: object, originator_id: UUID, version: int) -> int | None:
    """The notification id (log position) of one stored event, or None if there is none
    (or the recorder keeps no log: the in-memory one)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT rowid AS n FROM {recorder.events_table_name}"
                " WHERE originator_id = ? AND originator_version = ?",
                (originator_id.hex, version),
            )
            row = cursor.fetchone()
        return int(row["n"]) if row else None
    if not postgres_loaded():
        return None
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg import sql

    if isinstance(recorder, PostgresApplicationRecorder):
        statement = sql.SQL(
            "SELECT notification_id AS n FROM {schema}.{table}"
            " WHERE originator_id = %s AND originator_version = %s"
        ).format(
            schema=sql.Identifier(recorder.datastore.schema),
            table=sql.Identifier(recorder.events_table_name),
        )
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(statement, (originator_id, version))
            found = cursor.fetchone()
        return int(found["n"]) if found else None
    return None
