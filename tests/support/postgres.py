"""Cleaning up after tests and benchmarks that ran on PostgreSQL."""

from __future__ import annotations

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
