"""Group commit: concurrent commands of a service saved in shared transactions, on real
SQLite files and PostgreSQL schemas.

To form a group on purpose, another connection holds the events table's write lock
(SQLite: BEGIN IMMEDIATE; PostgreSQL: LOCK TABLE ... IN EXCLUSIVE MODE, as every insert
takes it): the first command leads and waits in the store, the next ones queue behind
it, and when the lock is released they are saved together in the next transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder
from google.protobuf.wrappers_pb2 import StringValue
from psycopg import sql

from copnet.integration.v1 import envelope_pb2
from services.common.application import Outcome
from services.common.batching import BatchedPolicy
from services.common.envelopes import IntegrationMessage
from services.common.idempotency import Command, CommandReceipt
from services.common.identity import Caller
from services.common.settings import NodeSettings
from services.common.stores import notification_position
from services.registry.application import Registry
from services.registry.domain import Organisation, OrganisationKind
from tests.support.waiting import eventually

OPERATOR = Caller.operator()
TRUST = OrganisationKind.NHS_TRUST


def cmd(request_id: str | None = None) -> Command:
    request_id = request_id or str(uuid.uuid4())
    return Command("Test", request_id, OPERATOR, f"fp-{request_id}")


@pytest.fixture
def registry(node_settings: NodeSettings) -> Iterator[Registry]:
    node_settings.stores.prepare("registry")
    app = Registry(env=node_settings.stores.application_env("registry"))
    yield app
    app.close()


@pytest.fixture
def threads() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(16) as pool:
        yield pool


class Store:
    """Another connection to the registry's events table."""

    def __init__(self, app: Registry, settings: NodeSettings) -> None:
        self.recorder = app.recorder
        self.postgres = isinstance(self.recorder, PostgresApplicationRecorder)
        self.dsn = settings.stores.postgres_dsn
        self.sqlite_file = str(app.env.get("SQLITE_DBNAME"))

    def table(self) -> sql.Composed:
        schema = self.recorder.datastore.schema  # type: ignore[attr-defined]
        return sql.SQL("{}.{}").format(
            sql.Identifier(schema), sql.Identifier(self.recorder.events_table_name)
        )

    @contextmanager
    def writes_held(self) -> Iterator[None]:
        if self.postgres:
            with psycopg.connect(self.dsn) as connection:
                connection.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(self.table()))
                yield
                connection.rollback()
            return
        connection = sqlite3.connect(self.sqlite_file, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield
            connection.execute("ROLLBACK")
        finally:
            connection.close()

    def fail_inserts_of(self, marker: str) -> None:
        """From now on, inserting an event whose state holds `marker` fails inside the
        transaction as a store failure does (PostgreSQL: disk full; SQLite: an error of
        the SQL engine), after the rows before it in the transaction were inserted."""
        if self.postgres:
            schema = sql.Identifier(self.recorder.datastore.schema)  # type: ignore[attr-defined]
            with psycopg.connect(self.dsn, autocommit=True) as connection:
                connection.execute(
                    sql.SQL(
                        "CREATE FUNCTION {}.fail_marked() RETURNS trigger LANGUAGE plpgsql AS "
                        "$$ BEGIN IF position({} in convert_from(NEW.state, 'UTF8')) > 0 THEN "
                        "RAISE EXCEPTION 'no space left' USING ERRCODE = 'disk_full'; END IF; "
                        "RETURN NEW; END $$"
                    ).format(schema, sql.Literal(marker))
                )
                connection.execute(
                    sql.SQL(
                        "CREATE TRIGGER fail_marked BEFORE INSERT ON {} FOR EACH ROW "
                        "EXECUTE FUNCTION {}.fail_marked()"
                    ).format(self.table(), schema)
                )
            return
        with sqlite3.connect(self.sqlite_file, isolation_level=None) as connection:
            connection.execute(
                "CREATE TRIGGER fail_marked BEFORE INSERT ON stored_events "
                f"WHEN instr(CAST(NEW.state AS TEXT), '{marker}') > 0 "
                "BEGIN SELECT json('the store failed'); END"
            )
        connection.close()


@pytest.fixture
def store(registry: Registry, node_settings: NodeSettings) -> Store:
    return Store(registry, node_settings)


def in_one_group(
    registry: Registry,
    store: Store,
    threads: ThreadPoolExecutor,
    leader: Callable[[], Any],
    group: list[Callable[[], Any]],
) -> tuple[Future[Any], list[Future[Any]]]:
    """Runs `leader` while the store is held, queues `group` behind it (in order), then
    lets the store go: `group` is then saved in one transaction."""
    committer = registry.group_commit
    with store.writes_held():
        first = threads.submit(leader)
        eventually(lambda: committer.committing == 1, 10, message="the leader in the store")
        queued = []
        for n, call in enumerate(group, start=1):
            queued.append(threads.submit(call))
            eventually(lambda n=n: committer.waiting == n, 10, message=f"{n} queued")
    return first, queued


def create(registry: Registry, name: str, request_id: str | None = None) -> Callable[[], Any]:
    return lambda: registry.create_organisation(cmd(request_id), name, TRUST, "london", None)


def receipt_position(registry: Registry, request_id: str) -> int | None:
    rid = CommandReceipt.create_id(OPERATOR.actor, request_id)
    return notification_position(registry.recorder, rid, 1)


def save_spans(spans: Any) -> list[Any]:
    return [s for s in spans.get_finished_spans() if s.name == "save Registry"]


@pytest.mark.both_stores
def test_concurrent_commands_all_commit_with_their_own_consecutive_positions(
    registry: Registry, threads: ThreadPoolExecutor
) -> None:
    names = [f"Trust {n}" for n in range(80)]
    request_ids = [str(uuid.uuid4()) for _ in names]
    outcomes: list[Outcome] = list(
        threads.map(lambda n: create(registry, names[n], request_ids[n])(), range(len(names)))
    )

    positions = [o.position for o in outcomes]
    assert len(set(positions)) == len(names)
    for name, request_id, outcome in zip(names, request_ids, outcomes, strict=True):
        assert not outcome.replayed
        organisation = registry.load(outcome.entity_id, Organisation, "organisation")
        assert (organisation.name, organisation.version) == (name, outcome.version)
        # The answer's position is the organisation's event; its receipt follows at once.
        assert outcome.position == notification_position(registry.recorder, outcome.entity_id, 1)
        assert receipt_position(registry, request_id) == outcome.position + 1
    log = registry.recorder.select_notifications(start=1, limit=1000)
    assert [n.id for n in log] == list(range(1, 2 * len(names) + 1))  # nothing missing
    assert registry.group_commit.writes == len(names)


@pytest.mark.both_stores
def test_a_group_commits_in_one_transaction_and_answers_each_command(
    registry: Registry, store: Store, threads: ThreadPoolExecutor, spans: Any
) -> None:
    request_ids = [str(uuid.uuid4()) for _ in range(5)]
    first, group = in_one_group(
        registry,
        store,
        threads,
        create(registry, "Leader Trust"),
        [create(registry, f"Trust {n}", request_ids[n]) for n in range(5)],
    )
    assert first.result(timeout=20).position == 1
    outcomes = [f.result(timeout=20) for f in group]
    assert [o.position for o in outcomes] == [3, 5, 7, 9, 11]  # in the order they queued
    for n, outcome in enumerate(outcomes):
        assert registry.load(outcome.entity_id, Organisation, "organisation").name == f"Trust {n}"
        assert receipt_position(registry, request_ids[n]) == outcome.position + 1
    sizes = sorted(s.attributes["copnet.group.size"] for s in save_spans(spans))
    assert sizes == [1, 5, 5, 5, 5, 5]
    assert (registry.group_commit.groups, registry.group_commit.largest) == (2, 5)


@pytest.mark.both_stores
def test_a_version_conflict_in_a_group_decides_only_that_command_again(
    registry: Registry,
    store: Store,
    threads: ThreadPoolExecutor,
    spans: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    trust = registry.create_organisation(cmd(), "Trust", TRUST, "london", None).entity_id

    def rename(name: str) -> Callable[[], Outcome]:
        return lambda: registry.update_organisation(cmd(), trust, 0, name=name)

    caplog.set_level(logging.INFO, logger="services.common.application")
    # Both renames decide on version 1; the leader's is stored first.
    first, group = in_one_group(
        registry,
        store,
        threads,
        rename("First name"),
        [create(registry, "Before"), rename("Second name"), create(registry, "After")],
    )
    assert first.result(timeout=20).version == 2
    before, second, after = (f.result(timeout=20) for f in group)
    assert second.version == 3  # decided again, on the first rename
    assert registry.load(trust, Organisation, "organisation").name == "Second name"
    for outcome, name in ((before, "Before"), (after, "After")):
        assert not outcome.replayed
        assert registry.load(outcome.entity_id, Organisation, "organisation").name == name
    conflicts = [r for r in caplog.records if "deciding again" in r.getMessage()]
    assert len(conflicts) == 1, conflicts
    assert "Test" in conflicts[0].getMessage()
    assert sum(bool(s.attributes.get("copnet.conflict")) for s in save_spans(spans)) == 1


@pytest.mark.both_stores
def test_the_same_request_twice_in_a_group_is_saved_once_and_replayed(
    registry: Registry, store: Store, threads: ThreadPoolExecutor
) -> None:
    same = str(uuid.uuid4())
    first, group = in_one_group(
        registry,
        store,
        threads,
        create(registry, "Leader Trust"),
        [
            create(registry, "Twice", same),
            create(registry, "Twice", same),
            create(registry, "Other"),
        ],
    )
    first.result(timeout=20)
    once, again, other = (f.result(timeout=20) for f in group)
    assert (once.replayed, again.replayed) == (False, True)
    assert (again.entity_id, again.version, again.position) == (
        once.entity_id,
        once.version,
        once.position,
    )
    assert registry.load(other.entity_id, Organisation, "organisation").name == "Other"
    names = [
        o.name
        for n in registry.recorder.select_notifications(start=1, limit=100)
        if (o := registry._find(n.originator_id, Organisation)) is not None
    ]
    assert sorted(names) == ["Leader Trust", "Other", "Twice"]  # one "Twice" stored


@pytest.mark.both_stores
def test_a_store_failure_in_a_group_fails_every_command_of_it_and_stores_none(
    registry: Registry, store: Store, threads: ThreadPoolExecutor
) -> None:
    store.fail_inserts_of("Poisoned")
    request_ids = [str(uuid.uuid4()) for _ in range(3)]
    first, group = in_one_group(
        registry,
        store,
        threads,
        create(registry, "Leader Trust"),
        [
            create(registry, "Trust 1", request_ids[0]),
            create(registry, "Trust 2", request_ids[1]),
            create(registry, "Poisoned Trust", request_ids[2]),  # inserted last
        ],
    )
    assert first.result(timeout=20).position == 1
    for future in group:
        with pytest.raises(OperationalError):
            future.result(timeout=30)
    assert registry.recorder.max_notification_id() == 2  # the leader's two events only
    assert [receipt_position(registry, r) for r in request_ids] == [None, None, None]
    # Each command applies when tried again (nothing of it was stored).
    again = create(registry, "Trust 1", request_ids[0])()
    assert not again.replayed
    assert receipt_position(registry, request_ids[0]) == again.position + 1
    assert registry.load(again.entity_id, Organisation, "organisation").name == "Trust 1"


def test_a_save_on_a_batch_s_thread_stays_in_the_batch_s_transaction(
    registry: Registry, threads: ThreadPoolExecutor
) -> None:
    """A policy's batch holds the store's write transaction on its thread (on SQLite, the
    pool's one writer): a save there goes into that transaction. Queued behind a leader
    that waits for the batch's writer it would wait for ever."""
    outside: list[Future[Outcome]] = []

    class Policy(BatchedPolicy[Registry]):
        app = registry

        def handle(self, message: IntegrationMessage) -> bool:
            outside.append(threads.submit(create(registry, "Outside")))
            eventually(lambda: registry.group_commit.committing == 1, 10)
            inside = Organisation(name="Inside", kind=TRUST.value, region="london", ods_code=None)
            registry.save(inside)
            return registry.save_processed(message.tracking) is not None

    envelope = envelope_pb2.Envelope(origin_node="a", service="tally", position=1)
    batch = [IntegrationMessage("copnet-local.a.tally.x", envelope, StringValue(value="x"))]
    assert Policy().handle_batch(batch) == [True]
    assert outside[0].result(timeout=20).position == 2  # after the batch's one event
    [first] = registry.recorder.select_notifications(start=1, limit=1)
    assert registry.load(first.originator_id, Organisation, "organisation").name == "Inside"
