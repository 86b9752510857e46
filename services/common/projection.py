"""Read models projected from an application's log, exactly once.

A `Projection` owns some SQL tables. `ProjectionFollower` reads the followed
application's notification log after the projection's tracked position and
hands batches to `Projection.process`, which writes the batch's effects and
the tracking record of its last event in one transaction. A crash anywhere
leaves either both or neither, so restarting simply carries on.

A projection can be rebuilt from the events at any time: `reset()` forgets the
tables and the position, and the follower replays the log from the start. A
change of `schema_version` triggers the same rebuild at start-up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import resolve_topic
from opentelemetry import propagate, trace
from opentelemetry.trace import Link

from services.common.application import CopnetApplication
from services.common.health import Backoff, Progress
from services.common.sqlstore import SqlStore, SqlTx
from services.common.stateafter import StatesAfter

log = logging.getLogger(__name__)
tracer = trace.get_tracer("copnet.projection")
# A batch's span links the traces of at most this many of its other events.
MAX_LINKS = 16

_META_TABLE = (
    "CREATE TABLE IF NOT EXISTS projection_meta ("
    "name TEXT PRIMARY KEY, schema_version INTEGER NOT NULL)"
)


class Projection:
    """Subclasses set `name`, `upstream`, `schema_version`, `tables` and implement `apply`."""

    name: str = ""
    upstream: str = ""
    schema_version: int = 1
    tables: Sequence[str] = ()
    # Tables in the order they can be emptied.
    table_names: Sequence[str] = ()
    # The event classes (or their bases) `apply` reads; the follower decodes no other
    # event (it only moves the tracking past it). Empty: every event.
    reads: tuple[type, ...] = ()

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._load_state: Any = None
        # Whether a batch may build states along its events (`StatesAfter`): not for an
        # application with personal data. Set with `_load_state` by the follower.
        self._reuse_states = False
        self._states: StatesAfter | None = None
        # Rebuilding from the events (a new schema, or `reset`): not ready until caught up.
        self.rebuilding = False
        with store.transaction() as tx:
            tx.execute(_META_TABLE)
            row = tx.one("SELECT schema_version FROM projection_meta WHERE name = ?", (self.name,))
            changed = row is not None and row["schema_version"] != self.schema_version
            if changed:
                log.warning("%s schema changed: rebuilding from the events", self.name)
                for table in self.table_names:
                    tx.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in self.tables:
                tx.execute(statement)
            if row is None or changed:
                self._forget(tx)
        self.rebuilding = changed

    def position(self) -> int:
        return self.store.max_tracking_id(self.upstream)

    def state_after(self, domain_event: Any) -> Any:
        """The aggregate as it was right after an event (for views that keep whole entities)."""
        assert self._load_state is not None, "the projection is not attached to its application"
        states = self._states
        return states(domain_event) if states is not None else self._load_state(domain_event)

    def process(self, batch: Sequence[tuple[Any, int]], position: int | None = None) -> bool:
        """Applies a batch of (domain event, notification id) and tracks `position` (the
        batch's last notification, which may be an event it does not read: by default the
        last of the batch); False if already applied."""
        position = position if position is not None else (batch[-1][1] if batch else 0)
        if not position:
            return True
        if not batch:  # only events it does not read: the tracking moves past them
            return self._process(batch, position)
        with _batch_span(self.name, batch):
            return self._process(batch, position)

    def _process(self, batch: Sequence[tuple[Any, int]], position: int) -> bool:
        if self._load_state is not None:  # states built along this batch, then dropped
            self._states = StatesAfter(self._load_state, reuse=self._reuse_states)
        try:
            with self.store.transaction() as tx:
                tx.track(Tracking(self.upstream, position))
                for domain_event, _ in batch:
                    self.apply(domain_event, tx)
        except IntegrityError:
            log.info("%s: batch up to %s was already applied", self.name, position)
            return False
        finally:
            self._states = None
        return True

    def apply(self, domain_event: Any, tx: SqlTx) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        with self.store.transaction() as tx:
            self._forget(tx)
        self.rebuilding = True

    def _forget(self, tx: SqlTx) -> None:
        for table in self.table_names:
            tx.execute(f"DELETE FROM {table}")
        self.store.forget_tracking(tx, self.upstream)
        tx.execute("DELETE FROM projection_meta WHERE name = ?", (self.name,))
        tx.execute(
            "INSERT INTO projection_meta (name, schema_version) VALUES (?, ?)",
            (self.name, self.schema_version),
        )


def _batch_span(name: str, batch: Sequence[tuple[Any, int]]) -> AbstractContextManager[trace.Span]:
    """A span for a batch applied to a read model: a child of the trace of its last event
    (the command that caused it), linked to the traces of (some of) the others."""
    contexts = [
        trace.get_current_span(propagate.extract(carrier)).get_span_context()
        for carrier in (getattr(event, "trace_context", None) for event, _ in batch)
        if carrier
    ]
    contexts = [context for context in contexts if context.is_valid]
    parent = trace.set_span_in_context(trace.NonRecordingSpan(contexts[-1])) if contexts else None
    others = {c.trace_id: c for c in contexts[:-1] if c.trace_id != contexts[-1].trace_id}
    return tracer.start_as_current_span(
        f"project {name}",
        context=parent,
        links=[Link(context) for context in list(others.values())[:MAX_LINKS]],
        attributes={
            "copnet.read_model": name,
            "copnet.events": len(batch),
            "copnet.position": batch[-1][1],
        },
    )


class ProjectionFollower:
    """A thread that keeps one projection up to date with one application's log."""

    def __init__(
        self,
        app: CopnetApplication,
        projection: Projection,
        batch_size: int = 200,
        poll_interval: float = 0.5,
    ) -> None:
        self.app = app
        self.projection = projection
        projection._load_state = lambda e: app.repository.get(
            e.originator_id, version=e.originator_version
        )
        projection._reuse_states = not app.personal_data
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._stopping = threading.Event()
        self._advanced = threading.Condition()
        self._loaded = False
        self._position = 0
        self._rebuild_to: int | None = None
        self._topics: dict[str, bool] = {}
        self.progress = Progress(f"read model {projection.name}")
        self._thread = threading.Thread(
            target=self._run, name=f"follow-{projection.name}", daemon=True
        )

    @property
    def position(self) -> int:
        return self._position

    def start(self) -> None:
        """Follows in a thread of its own; the position is read there (with retries). A
        projection rebuilding is not ready from the start until it has caught up."""
        if self.projection.rebuilding:
            self.progress.hold("rebuilding from the events")
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self.app.changes.wake_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wait_for(self, position: int, timeout: float) -> bool:
        """Blocks until the projection has applied `position`; False on timeout."""
        with self._advanced:
            return self._advanced.wait_for(lambda: self._position >= position, timeout=timeout)

    def catch_up(self) -> None:
        """Applies everything recorded so far, in the calling thread (start-up, tests)."""
        while self._step():
            pass

    def _run(self) -> None:
        backoff = Backoff(base=0.2, cap=5.0)
        while not self._stopping.is_set():
            try:
                if not self._step():
                    self.app.changes.wait(self._position, self.poll_interval)
                self.progress.ok()
                backoff.reset()
            except Exception as error:
                delay = backoff.next_delay()
                self.progress.failing(error, delay)
                self._stopping.wait(delay)

    def _step(self) -> bool:
        if not self._loaded:
            self._advance(self.projection.position())
            self._loaded = True
            if self.projection.rebuilding:
                self._rebuild_to = self.app.recorder.max_notification_id() or 0
        if self._rebuild_to is not None:
            self._rebuilt()
        notifications = self.app.recorder.select_notifications(
            start=self._position, limit=self.batch_size, inclusive_of_start=False
        )
        if not notifications:
            return False
        batch = [
            (self.app.mapper.to_domain_event(n), n.id)
            for n in notifications
            if self._reads(n.topic)
        ]
        started = time.perf_counter()
        if not self.projection.process(batch, notifications[-1].id):
            # Someone else applied it (another process): carry on from the stored position.
            self._advance(max(self.projection.position(), notifications[-1].id))
            return True
        log.debug(
            "%s applied %d events in %.1f ms",
            self.projection.name,
            len(batch),
            (time.perf_counter() - started) * 1000,
        )
        self._advance(notifications[-1].id)
        return True

    def _reads(self, topic: str) -> bool:
        """Whether the projection reads events of this topic (decoded only if so)."""
        reads = self.projection.reads
        if not reads:
            return True
        known = self._topics.get(topic)
        if known is None:
            try:
                cls = resolve_topic(topic)
            except Exception:  # decoded, and failing there, as before
                known = True
            else:
                known = isinstance(cls, type) and issubclass(cls, reads)
            self._topics[topic] = known
        return known

    def _rebuilt(self) -> None:
        """While rebuilding, NOT_SERVING (its lists would be partial) until caught up."""
        target = self._rebuild_to or 0
        if self._position >= target:
            self._rebuild_to = None
            self.projection.rebuilding = False
            self.progress.release()
        else:
            self.progress.hold(f"rebuilding from the events ({self._position} of {target})")

    def _advance(self, position: int) -> None:
        with self._advanced:
            self._position = position
            self._advanced.notify_all()
