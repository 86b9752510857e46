"""The event-sourced application base of every copnet service.

It adds to `eventsourcing.application.Application`:
- idempotent command execution on request ids (`execute`),
- retries of optimistic-concurrency conflicts, and ABORTED when they persist,
- unique-key claims saved atomically with their owners,
- a signal that wakes this process's log followers (relay, projections),
- group commit: concurrent saves share one write transaction (`groupcommit`),
- a date transcoding and a clock that tests can drive.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Notification,
    ProcessRecorder,
    Recording,
    Tracking,
    Transcoding,
)
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from services.common.aggregate import acting_as
from services.common.batching import Batching
from services.common.claims import UniqueClaim
from services.common.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    CopnetError,
    InvalidArgument,
    NotFound,
)
from services.common.groupcommit import GroupCommitter
from services.common.idempotency import Command, CommandReceipt
from services.common.keystore import SubjectKeys
from services.common.shredding import PersonalFields, ShreddingMapper
from services.common.signals import ChangeSignal
from services.common.stores import notification_position
from services.common.unsampled import current_unsampled

log = logging.getLogger(__name__)
tracer = trace.get_tracer("copnet.store")

TAggregate = TypeVar("TAggregate", bound=Aggregate)
T = TypeVar("T")

# Passed for an optional field that the caller did not set (use cases and servicers).
KEEP: Any = object()


def _position(recordings: Sequence[Any]) -> int:
    """A command's position: its last domain event (saved just before its receipt), or the
    receipt's when the command changed nothing but claims."""
    for recording in reversed(recordings[:-1]):
        if not isinstance(recording.domain_event, UniqueClaim.Event):
            return int(recording.notification.id)
    return int(recordings[-1].notification.id)


def or_current(value: T, current: T) -> T:
    """What an update sets a field to: `current` when the caller passed KEEP."""
    return current if value is KEEP else value


MAX_CONFLICT_RETRIES = 5
DEFAULT_TIME_ZONE = "Europe/London"


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class Changes:
    """What a command decided: the aggregates to save, and the one it answers with."""

    primary: Aggregate
    others: Sequence[Aggregate] = ()

    @property
    def aggregates(self) -> list[Aggregate]:
        return [self.primary, *self.others]


@dataclass(frozen=True)
class Outcome:
    """The result of a command: the entity it answers with, at the version it produced.

    `entity` is the aggregate itself when the command ran now; a replayed
    outcome carries only its id and version (see `entity_at`).
    """

    entity_id: UUID
    version: int
    position: int
    replayed: bool
    entity: Aggregate | None = None


class Clock:
    """Wall-clock time, and 'today' in the node's time zone."""

    def __init__(self, time_zone: str = DEFAULT_TIME_ZONE) -> None:
        self.zone = ZoneInfo(time_zone)

    def now(self) -> datetime:
        return datetime.now(tz=UTC)

    def today(self) -> date:
        return self.now().astimezone(self.zone).date()


class KeyedLocks:
    """One lock per key (an aggregate id), created on demand and dropped when idle."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[UUID, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: UUID) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


class CopnetApplication(Application):
    # Personal fields of stored events, encrypted per data subject (see `shredding`).
    personal_data: ClassVar[Mapping[type, PersonalFields]] = {}
    # Event classes that record a subject's erasure, and the attribute naming the subject.
    erasure_events: ClassVar[Mapping[type, str]] = {}
    subject_keys: SubjectKeys

    def __init__(self, env: dict[str, str] | None = None, clock: Clock | None = None) -> None:
        super().__init__(env)
        self.changes = ChangeSignal()
        # Integration events applied in batches, one transaction each (see `batching`).
        self.batching = Batching(self)
        self._aggregate_locks = KeyedLocks()
        self.clock = clock or Clock(self.env.get("COPNET_TIME_ZONE") or DEFAULT_TIME_ZONE)
        # Saves without tracking (commands, policies) share transactions when concurrent;
        # COPNET_GROUP_COMMIT=off gives each its own (for comparisons: bench/).
        self.group_commit = GroupCommitter(self.recorder.insert_events)
        setting = (self.env.get("COPNET_GROUP_COMMIT") or "on").strip().lower()
        self.group_commit_enabled = setting not in {"off", "0", "no", "false"}

    def construct_mapper(self) -> Mapper[UUID]:
        if self.personal_data and self.factory.is_snapshotting_enabled():
            # A snapshot holds an aggregate's whole state, personal fields unsealed.
            raise ValueError(f"{self.name} seals personal data: snapshots would not be sealed")
        self.subject_keys = SubjectKeys.for_environment(self.env)
        return ShreddingMapper(
            self.construct_transcoder(),
            self.subject_keys,
            self.personal_data,
            self.erasure_events,
        )

    def close(self) -> None:
        super().close()
        self.subject_keys.close()

    def construct_recorder(self) -> ApplicationRecorder:
        # A process recorder also records tracking in the events' transaction,
        # which consumers of other services' events need (see `save_processed`).
        return self.factory.process_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def save_processed(self, tracking: Tracking, *aggregates: Aggregate) -> int | None:
        """Saves what an integration event caused, with its tracking, in one transaction.

        Returns the position of the last event, or None if this tracking was
        already recorded (the integration event was processed before).
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(tracking=tracking)
        processing_event.collect_events(*aggregates)
        try:
            recordings = self._record(processing_event)
        except IntegrityError:
            recorder = self.recorder
            assert isinstance(recorder, ProcessRecorder), "construct_recorder makes one"
            if recorder.has_tracking_id(tracking.application_name, tracking.notification_id):
                return None
            raise
        self._notify(recordings)
        return recordings[-1].notification.id if recordings else 0

    def _record(self, processing_event: ProcessingEvent[Any]) -> list[Any]:
        """Every write of events (commands, policies), as a CLIENT span of the store (none
        under an unsampled trace: it would record nothing).

        A write without tracking joins this process's concurrent writes in one
        transaction (`group_commit`); the span says how many shared it."""
        if current_unsampled():
            return self._store(processing_event, None)
        database = self.env.get("PERSISTENCE_MODULE", "").rpartition(".")[2] or "sqlite"
        with tracer.start_as_current_span(
            f"save {self.name}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": "postgresql" if database == "postgres" else database,
                "db.operation.name": "save",
                "db.collection.name": self.name,
                "copnet.events": len(processing_event.events),
            },
            set_status_on_exception=False,
        ) as span:
            try:
                recordings = self._store(processing_event, span)
            except IntegrityError:  # a race or a repeat, decided by the caller
                span.set_attribute("copnet.conflict", True)
                raise
            except Exception as error:
                span.set_status(trace.Status(trace.StatusCode.ERROR, str(error)[:200]))
                raise
            if recordings:
                span.set_attribute("copnet.position", recordings[-1].notification.id)
            return recordings

    def _store(
        self, processing_event: ProcessingEvent[Any], span: trace.Span | None
    ) -> list[Recording[Any]]:
        if self._joins_group(processing_event):
            return self._record_in_group(processing_event, span)
        return super()._record(processing_event)

    def _joins_group(self, processing_event: ProcessingEvent[Any]) -> bool:
        # A batch's thread writes in the batch's open transaction (see `batching`).
        return (
            self.group_commit_enabled
            and not self.batching.active
            and processing_event.tracking is None
            and not processing_event.saved_kwargs
            and bool(processing_event.events)
        )

    def _record_in_group(
        self, processing_event: ProcessingEvent[Any], span: trace.Span | None
    ) -> list[Recording[Any]]:
        """`Application._record` through the group committer: the events are mapped
        (and personal fields sealed) here, on the caller's thread, then stored."""
        events = processing_event.events
        stored = [self.mapper.to_stored_event(event) for event in events]
        committed = self.group_commit.commit(stored)
        if span is not None:
            span.set_attribute("copnet.group.size", committed.group_size)
        ids = committed.notification_ids
        recordings = []
        if ids:
            for event, s, notification_id in zip(events, stored, ids, strict=True):
                notification = Notification(
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                    id=notification_id,
                )
                recordings.append(Recording(event, notification))
        if self.repository.cache and not self.repository.fastforward:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        return recordings

    def _notify(self, recordings: list[Any]) -> None:
        if recordings:
            position = recordings[-1].notification.id
            if not self.batching.changed(position):  # a batch's is raised at its commit
                self.changes.notify(position)

    # Commands

    def execute(
        self,
        command: Command,
        decide: Callable[[], Changes],
        serialise_on: UUID | None = None,
    ) -> Outcome:
        """Runs `decide` and saves its changes with a receipt of the request id.

        A retry of a request that succeeded returns the first outcome. A write
        that loses a race is decided again on fresh state, a few times, before
        the conflict is reported. `serialise_on` (a hot aggregate's id) queues
        this process's commands on that aggregate instead of letting them race.
        """
        if serialise_on is None:
            return self._execute(command, decide)
        with self._aggregate_locks.hold(serialise_on):
            return self._execute(command, decide)

    def _execute(self, command: Command, decide: Callable[[], Changes]) -> Outcome:
        # No look-up of the receipt first: a retry's receipt collides with the first
        # one on saving (its id derives from the request id), and a retry whose
        # decision now fails (the change is already made) is caught below; both then
        # replay the first outcome. So the common case costs no extra read.
        rid = CommandReceipt.create_id(command.actor, command.request_id)
        for attempt in range(MAX_CONFLICT_RETRIES):
            with acting_as(command.actor):
                try:
                    changes = decide()
                except CopnetError:
                    # A concurrent attempt of this very request may have just
                    # succeeded, which is why deciding again fails: replay it.
                    receipt = self._find(rid, CommandReceipt)
                    if receipt is not None:
                        return self._replay(receipt, command)
                    raise
                primary = changes.primary
                # Unique-key claims first, the receipt last: the command's position is its
                # last domain event (one the service publishes, which other services'
                # mirrors reach; never a claim or a receipt), just before the receipt.
                claims = [a for a in changes.others if isinstance(a, UniqueClaim)]
                domain = [a for a in changes.aggregates if not isinstance(a, UniqueClaim)]
                receipt = CommandReceipt(
                    scope=command.actor,
                    request_id=command.request_id,
                    command=command.name,
                    fingerprint=command.fingerprint,
                    entity_id=primary.id,
                    entity_version=primary.version,
                    after_changes=any(a.pending_events for a in domain),
                )
            try:
                recordings = self.save(*claims, *domain, receipt)
            except IntegrityError:
                earlier = self._find(rid, CommandReceipt)
                if earlier is not None:
                    return self._replay(earlier, command)
                log.info("write conflict on %s, deciding again", command.name)
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
                continue
            return Outcome(
                entity_id=primary.id,
                version=primary.version,
                position=_position(recordings),
                replayed=False,
                entity=primary,
            )
        raise ConcurrencyConflict(
            f"{command.name} kept conflicting with concurrent changes; retry later"
        )

    def _replay(self, receipt: CommandReceipt, command: Command) -> Outcome:
        if receipt.command != command.name or receipt.fingerprint != command.fingerprint:
            raise InvalidArgument.single(
                "request_id", "was already used for a different request; use a new request_id"
            )
        return Outcome(
            entity_id=receipt.entity_id,
            version=receipt.entity_version,
            position=self._first_position(receipt),
            replayed=True,
        )

    def _first_position(self, receipt: CommandReceipt) -> int:
        """The position the first outcome answered with: the last domain event, saved just
        before the receipt in the same transaction (whose positions are consecutive), or the
        receipt's own (a command that changed nothing but claims, and receipts written
        before they said which: `after_changes` None)."""
        own = notification_position(self.recorder, receipt.id, receipt.version)
        if own is None:
            return self.recorder.max_notification_id() or 0
        return own - 1 if receipt.after_changes else own

    # Reading aggregates

    def _find(
        self, aggregate_id: UUID, cls: type[TAggregate] | tuple[type[TAggregate], ...]
    ) -> TAggregate | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def load(self, aggregate_id: UUID, cls: type[TAggregate], what: str) -> TAggregate:
        aggregate = self._find(aggregate_id, cls)
        if aggregate is None:
            raise NotFound(f"{what} {aggregate_id} not found")
        return aggregate

    def trace_of(self, aggregate_id: UUID) -> dict[str, str]:
        """The trace context stored with an aggregate's first event: the trace of what
        caused it (e.g. for the span of work done on it much later)."""
        first = next(iter(self.events.get(aggregate_id, lte=1)), None)
        return dict(getattr(first, "trace_context", None) or {})

    def entity_at(self, outcome: Outcome) -> Aggregate:
        """The entity a command answered with, as it was right after the command."""
        if outcome.entity is not None:
            return outcome.entity
        return self.repository.get(outcome.entity_id, version=outcome.version)

    def history(self, aggregate_id: UUID, after_version: int, limit: int) -> list[Any]:
        return list(self.events.get(aggregate_id, gt=after_version or None, limit=limit))

    # Unique keys

    def claim(self, kind: str, key: str, owner_id: UUID, taken_message: str) -> UniqueClaim:
        """Claims `key` for `owner_id`; AlreadyExists when someone else holds it."""
        claim = self._find(UniqueClaim.create_id(kind, key), UniqueClaim)
        if claim is None:
            return UniqueClaim(kind=kind, key=key, owner_id=owner_id)
        if claim.owner_id == owner_id:
            return claim
        if claim.is_held:
            raise AlreadyExists(taken_message)
        claim.reclaim(owner_id)
        return claim

    def release(self, kind: str, key: str, owner_id: UUID) -> UniqueClaim | None:
        claim = self._find(UniqueClaim.create_id(kind, key), UniqueClaim)
        if claim is None or claim.owner_id != owner_id:
            return None
        claim.release()
        return claim

    def move_claim(
        self, kind: str, old_key: str | None, new_key: str | None, owner_id: UUID, taken: str
    ) -> list[UniqueClaim]:
        """Moves `owner_id`'s unique key from `old_key` to `new_key` (either may be empty):
        claims the new one (AlreadyExists, with `taken`, when someone else holds it) and
        releases the old one. The claims to save with the change."""
        claims = [self.claim(kind, new_key, owner_id, taken)] if new_key else []
        released = self.release(kind, old_key, owner_id) if old_key else None
        return claims + ([released] if released else [])

    def holder_of(self, kind: str, key: str) -> UUID | None:
        claim = self._find(UniqueClaim.create_id(kind, key), UniqueClaim)
        return claim.owner_id if claim is not None else None


def check_expected_version(aggregate: Aggregate, expected_version: int, what: str) -> None:
    """Optimistic concurrency for clients: ABORTED when the entity has moved on."""
    if expected_version and aggregate.version != expected_version:
        raise ConcurrencyConflict(
            f"{what} is at version {aggregate.version}, not {expected_version}; "
            "read it again and retry"
        )
