"""A projection whose schema changed drops its tables and is rebuilt from the events."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from services.common.projection import Projection
from services.common.settings import NodeSettings
from services.common.sqlstore import SqlStore, SqlTx


class NotesV1(Projection):
    name = "notes"
    upstream = "Notes"
    schema_version = 1
    tables = ("CREATE TABLE IF NOT EXISTS notes (note_id TEXT PRIMARY KEY)",)
    table_names = ("notes",)

    def apply(self, domain_event: Any, tx: SqlTx) -> None:
        raise NotImplementedError


class NotesV2(NotesV1):
    schema_version = 2
    tables = ("CREATE TABLE IF NOT EXISTS notes (note_id TEXT PRIMARY KEY, text TEXT NOT NULL)",)


def open_store(settings: NodeSettings) -> SqlStore:
    settings.stores.prepare("unit")
    return SqlStore("unit_notes", settings.stores.tracking_env("unit", "notes"))


@pytest.mark.both_stores
def test_a_new_schema_version_recreates_the_tables_and_forgets_the_position(
    node_settings: NodeSettings,
):
    old = NotesV1(open_store(node_settings))
    with old.store.transaction() as tx:
        tx.execute("INSERT INTO notes (note_id) VALUES (?)", ("a",))
        tx.track(Tracking(notification_id=7, application_name="Notes"))
    assert old.position() == 7

    reopened = NotesV1(open_store(node_settings))
    assert reopened.position() == 7, "the same version keeps what it has"

    new = NotesV2(open_store(node_settings))
    assert new.position() == 0
    with new.store.transaction() as tx:
        assert tx.all("SELECT * FROM notes") == []
        tx.execute("INSERT INTO notes (note_id, text) VALUES (?, ?)", ("b", "has a text now"))
    with new.store.read() as tx:
        assert tx.all("SELECT note_id, text FROM notes") == [
            {"note_id": "b", "text": "has a text now"}
        ]
