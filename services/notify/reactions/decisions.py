"""What notify's reactions and use cases share: the read models they need (the ports
`Registry`, `Directory` and `Preferences`, given with the schedules to `connect`),
`Batch` (the aggregates one decision loads and changes), and how a decision is saved,
and digests collect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from services.common.application import Clock, CopnetApplication
from services.common.errors import FailedPrecondition
from services.notify.domain import (
    DigestPeriod,
    Frequency,
    Kind,
    Notification,
    PreferenceSettings,
    digest_period,
    notification_id,
)

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Aggregate)

MAX_DECISION_ATTEMPTS = 5


class Registry(Protocol):
    """What notify's decisions read of the registry (the contract's `RegistryTables`)."""

    def community(self, community_id: UUID) -> dict[str, Any] | None: ...
    def is_known_member(self, member_id: UUID) -> bool: ...
    def is_active_member(self, community_id: UUID, member_id: UUID) -> bool: ...
    def active_members(self, community_id: UUID) -> list[UUID]: ...
    def holds_role(
        self, community_id: UUID, member_id: UUID, roles: Iterable[str], day: date
    ) -> bool: ...
    def communities_of(
        self, member_id: UUID, day: date, roles: Iterable[str] = ()
    ) -> list[UUID]: ...


class Directory(Protocol):
    """Communities and people as notify knows them (`services.notify.directory`)."""

    @property
    def registry(self) -> Registry: ...
    def community_name(self, community_id: UUID) -> str: ...


class Preferences(Protocol):
    """Members' notification choices (`services.notify.views.PreferencesView`)."""

    def settings_for(self, member_ids: Iterable[UUID]) -> dict[UUID, PreferenceSettings]: ...
    def following(self, tags: Iterable[str], community_id: str) -> set[UUID]: ...


@dataclass(frozen=True)
class Schedules:
    """The node's notification schedule settings (from NotifySettings)."""

    reminder_hours_before: int = 24
    digest_hour: int = 7
    max_trigger_age: timedelta = timedelta(days=7)


class Batch:
    """The aggregates one decision loads and changes, each once, saved together."""

    def __init__(self, app: NotifyDecisions) -> None:
        self.app = app
        self.aggregates: dict[UUID, Aggregate] = {}

    def find(self, aggregate_id: UUID, cls: type[T]) -> T | None:
        found = self.aggregates.get(aggregate_id)
        if found is None:
            found = self.app._find(aggregate_id, cls)
            if found is None:
                return None
            self.aggregates[aggregate_id] = found
        return found if isinstance(found, cls) else None

    def add(self, aggregate: Aggregate) -> None:
        self.aggregates[aggregate.id] = aggregate

    def __iter__(self) -> Iterator[Aggregate]:
        return iter(self.aggregates.values())


class NotifyDecisions(CopnetApplication):
    """The notify application's wiring, and how it decides: each decision runs on fresh
    state and saves what it changed with the tracking of the event that caused it. The
    reactions (`ConveningReactions`, `LearningReactions`) and the use cases
    (`services.notify.application.Notify`) build on it."""

    def __init__(self, env: dict[str, str] | None = None, clock: Clock | None = None) -> None:
        super().__init__(env, clock)
        self.node_id = self.env.get("COPNET_NODE_ID") or "dev"
        self._directory_port: Directory | None = None
        self._preferences_port: Preferences | None = None
        self.schedules = Schedules()

    def connect(self, directory: Directory, preferences: Preferences, schedules: Schedules) -> None:
        """Gives the decisions the read models they need, and the node's schedules."""
        self._directory_port = directory
        self._preferences_port = preferences
        self.schedules = schedules

    # Triggers: each records the tracking of the integration event that caused it.

    def decide(self, tracking: Tracking, decision: Callable[[Batch], None]) -> bool:
        """Runs a decision on fresh state and saves what it changed with the tracking;
        decides again when a concurrent write (the dispatcher) got in first. False when
        this tracking was recorded before (a redelivered event): nothing is saved."""
        for attempt in range(MAX_DECISION_ATTEMPTS):
            batch = Batch(self)
            decision(batch)
            try:
                return self.save_processed(tracking, *batch) is not None
            except IntegrityError:
                if attempt == MAX_DECISION_ATTEMPTS - 1:
                    raise
                log.info("notify: %s conflicted with a concurrent write; deciding again", tracking)
        return False  # pragma: no cover

    def skip_event(self, tracking: Tracking) -> bool:
        return self.save_processed(tracking) is not None

    def is_fresh(self, occurred_at: datetime) -> bool:
        """Whether an event is recent enough to notify anyone about."""
        age = self.schedules.max_trigger_age
        return not age or self.clock.now() - occurred_at <= age

    # Digests

    def _period(self, frequency: Frequency, now: datetime) -> DigestPeriod:
        return digest_period(frequency, now, self.clock.zone, self.schedules.digest_hour)

    def _add_to_digest(
        self,
        batch: Batch,
        member: UUID,
        frequency: Frequency,
        now: datetime,
        entry: dict[str, Any],
    ) -> None:
        """Adds to the member's digest collecting now (or the next, if it is going out)."""
        entry = {**entry, "at": now.astimezone(UTC).isoformat()}
        moment = now
        for _ in range(3):
            period = self._period(frequency, moment)
            key = f"digest:{frequency.value}:{period.key}"
            digest = batch.find(notification_id(key, member), Notification)
            if digest is None:
                label = "daily" if frequency is Frequency.DAILY_DIGEST else "weekly"
                digest = Notification.create(
                    key,
                    member,
                    Kind.DIGEST,
                    None,
                    period.due_at,
                    f"Your {label} digest",
                    digest=period,
                )
                batch.add(digest)
            if digest.is_collecting:
                digest.add_entry(entry)
                return
            moment = period.due_at
        raise FailedPrecondition(f"no digest of {member} is collecting")  # pragma: no cover

    # The read models

    def _directory(self) -> Directory:
        assert self._directory_port is not None, "no directory is connected"
        return self._directory_port

    def _preferences_view(self) -> Preferences:
        assert self._preferences_port is not None, "no preferences view is connected"
        return self._preferences_port
