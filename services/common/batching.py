"""Applying a batch of integration events to an application in one transaction.

A policy (a handler that turns other services' events into this application's
events, e.g. notify's or learning's) applies each message with
`CopnetApplication.save_processed`, one transaction each. `Batching.apply` runs
a batch of them on one thread inside one transaction of the application's
store, so the commit (and SQLite's write lock, PostgreSQL's table lock) is paid
once per batch:

- the recorder's datastore hands every transaction opened on that thread the
  batch's open one (`SharedTransaction`), so each message sees what the ones
  before it wrote; other threads (the API, the relay, read-model followers) see
  committed state only, as before;
- tracking is a high-water mark per route: a message at or below its route's
  mark (read once per route, then advanced as the batch goes) is a repeat and
  its handler is not called;
- the aggregate cache is not used on the batch's thread (an aggregate fast-
  forwarded to events that are then rolled back must never be seen by others);
- the application's change signal is raised after the commit, not before;
- any exception rolls the whole batch back (the inbox then applies the
  messages one at a time); a batch commits at least every `MAX_HOLD` seconds,
  so the API's writers never wait long for the write lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from eventsourcing.persistence import ProcessRecorder
from opentelemetry.context import Context, attach, detach

from services.common.envelopes import IntegrationMessage
from services.common.stores import postgres_loaded

if TYPE_CHECKING:
    from services.common.application import CopnetApplication

# A batch's transaction commits and a new one begins after this many seconds.
MAX_HOLD = 0.25


def _is_postgres(datastore: Any) -> bool:
    from eventsourcing.postgres import PostgresDatastore  # loaded: postgres_loaded()

    return isinstance(datastore, PostgresDatastore)


class SharedTransaction:
    """Makes a datastore's work on one thread go through one open transaction.

    eventsourcing's SQLite recorders open every transaction with
    `datastore.transaction(commit=...)`; its PostgreSQL recorders take a connection with
    `datastore.get_connection()` and open their own (nested in the batch's, psycopg makes
    them savepoints). So on SQLite the first is shared, on PostgreSQL the second. A
    recorder without a datastore (eventsourcing's in-memory one, in tests) has no
    transactions to share: a batch there is each message's own save, one after another."""

    def __init__(self, datastore: Any) -> None:
        self._local = threading.local()
        self._datastore = datastore
        self._postgres = postgres_loaded() and _is_postgres(datastore)
        if datastore is None:
            pass
        elif self._postgres:
            self._original = datastore.get_connection
            datastore.get_connection = self._connection
        else:
            self._original = datastore.transaction
            datastore.transaction = self._transaction

    @property
    def active(self) -> bool:
        return getattr(self._local, "held", None) is not None

    @contextmanager
    def _transaction(self, *, commit: bool = False) -> Iterator[Any]:
        held = getattr(self._local, "held", None)
        if held is None:
            with self._original(commit=commit) as opened:
                yield opened
        else:
            yield held

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        held = getattr(self._local, "held", None)
        if held is None:
            with self._original() as connection:
                yield connection
        else:
            yield held

    @contextmanager
    def hold(self) -> Iterator[None]:
        """One write transaction for everything this thread does until the block ends."""
        with self._holding() as held:
            self._local.held = held
            try:
                yield
            finally:
                self._local.held = None

    @contextmanager
    def _holding(self) -> Iterator[Any]:
        if self._datastore is None:
            yield self  # nothing to hold; `active` still says a batch is under way
        elif self._postgres:
            with self._original() as connection, connection.transaction():
                yield connection
        else:
            with self._original(commit=True) as cursor:
                yield cursor


class _CacheOffOnBatchThread:
    """The repository's aggregate cache, as seen from a batch's thread: absent."""

    def __init__(self, cache: Any, shared: SharedTransaction) -> None:
        self._cache = cache
        self._shared = shared

    def __bool__(self) -> bool:
        return not self._shared.active and bool(self._cache)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cache, name)


App = TypeVar("App", bound="CopnetApplication")


class BatchedPolicy(Generic[App]):
    """A policy's `handle_batch`: its `handle`, message by message, in one transaction."""

    app: App

    def handle(self, message: IntegrationMessage) -> bool:
        raise NotImplementedError

    def handle_batch(
        self, messages: Sequence[IntegrationMessage], contexts: Sequence[Context] = ()
    ) -> list[bool]:
        by_message = dict(zip(map(id, messages), contexts, strict=False))

        def handle(message: IntegrationMessage) -> bool:
            context = by_message.get(id(message))
            if context is None:
                return self.handle(message)
            token = attach(context)  # what it saves continues the message's trace
            try:
                return self.handle(message)
            finally:
                detach(token)

        return self.app.batching.apply(messages, handle)


class Batching:
    def __init__(self, app: CopnetApplication) -> None:
        self.app = app
        self.shared = SharedTransaction(getattr(app.recorder, "datastore", None))
        repository = app.repository
        if repository.cache:
            repository.cache = _CacheOffOnBatchThread(repository.cache, self.shared)  # type: ignore[assignment]
        self._local = threading.local()

    @property
    def active(self) -> bool:
        return self.shared.active

    def changed(self, position: int) -> bool:
        """Holds a change notice until the batch commits; False outside a batch."""
        if not self.active:
            return False
        self._local.position = max(getattr(self._local, "position", 0), position)
        return True

    def apply(
        self,
        messages: Sequence[IntegrationMessage],
        handle: Callable[[IntegrationMessage], bool],
    ) -> list[bool]:
        """Applies the messages in order, in one transaction (or a few, see `MAX_HOLD`)."""
        recorder = cast(ProcessRecorder, self.app.recorder)
        outcomes: list[bool] = []
        remaining = list(messages)
        while remaining:
            self._local.position = 0
            marks: dict[str, int] = {}
            started = time.monotonic()
            with self.shared.hold():
                while remaining and time.monotonic() - started < MAX_HOLD:
                    message = remaining.pop(0)
                    route = message.tracking.application_name
                    position = message.tracking.notification_id
                    if route not in marks:
                        marks[route] = recorder.max_tracking_id(route) or 0
                    if position <= marks[route]:
                        outcomes.append(False)
                        continue
                    outcomes.append(handle(message))
                    marks[route] = position
            if self._local.position:
                self.app.changes.notify(self._local.position)
        return outcomes
