"""What notify's reactions and use cases share: the application's wiring (directory,
preferences, schedules), `Batch` (the aggregates one decision loads and changes), and
how a decision is saved, and digests collect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from services.common.application import CopnetApplication
from services.common.errors import FailedPrecondition
from services.notify.directory import NotifyDirectory
from services.notify.domain import Frequency, Kind, Notification, digest_period, notification_id
from services.notify.views import PreferencesView

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Aggregate)

MAX_DECISION_ATTEMPTS = 5


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

    def __iter__(self):
        return iter(self.aggregates.values())


class NotifyDecisions(CopnetApplication):
    """The notify application's wiring, and how it decides: each decision runs on fresh
    state and saves what it changed with the tracking of the event that caused it. The
    reactions (`ConveningReactions`, `LearningReactions`) and the use cases
    (`services.notify.application.Notify`) build on it."""

    def __init__(self, env: dict[str, str] | None = None, clock: Any = None) -> None:
        super().__init__(env, clock)
        self.node_id = self.env.get("COPNET_NODE_ID") or "dev"
        self.directory: NotifyDirectory | None = None
        self.preferences_view: PreferencesView | None = None
        self.schedules = Schedules()

    def wire(
        self, directory: NotifyDirectory, preferences: PreferencesView, schedules: Schedules
    ) -> None:
        self.directory = directory
        self.preferences_view = preferences
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

    def _period(self, frequency: Frequency, now: datetime):
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

    # Wiring

    def _directory(self) -> NotifyDirectory:
        assert self.directory is not None, "the directory is not wired to the application"
        return self.directory

    def _preferences_view(self) -> PreferencesView:
        assert self.preferences_view is not None, "the preferences view is not wired"
        return self.preferences_view
