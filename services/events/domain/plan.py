"""`MeetingPlan`: a community's plan of meetings, each occurrence a convening of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.events.values import Format, local_text


@dataclass(frozen=True)
class PlannedOccurrence:
    convening_id: UUID
    starts_at: datetime
    topic: str


class MeetingPlan(TracedAggregate):
    """A community's plan of meetings: a recurrence rule or explicit dates.

    Each occurrence is a convening of its own; the plan remembers which, so
    that what was planned can be compared with what was held.
    """

    class Event(TracedAggregate.Event):
        community_id: UUID

    class Created(Event, TracedAggregate.Created):
        pass

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs.setdefault("community_id", self.community_id)
        super().trigger_event(event_class, **kwargs)

    @event("Planned")
    def __init__(
        self,
        community_id: UUID,
        title: str,
        description: str,
        time_zone: str,
        rule: str,
        format: str,
        venue: str,
        join_link: str,
        capacity: int | None,
        duration_minutes: int,
    ):
        self.community_id = community_id
        self.title = title
        self.description = description
        self.time_zone = time_zone
        self.rule = rule
        self.format = Format(format)
        self.venue = venue
        self.join_link = join_link
        self.capacity = capacity
        self.duration_minutes = duration_minutes
        self.occurrences: list[PlannedOccurrence] = []
        # The convenings the latest command placed (to answer it, also when replayed).
        self.last_added: list[UUID] = []
        self.ended = False
        self.end_reason = ""
        self.cancelled_at_end: list[UUID] = []

    def add_occurrences(self, occurrences: list[PlannedOccurrence]) -> None:
        if self.ended:
            raise FailedPrecondition(f"meeting plan '{self.title}' has ended")
        planned = {o.starts_at for o in self.occurrences}
        clashes = [o for o in occurrences if o.starts_at in planned]
        if clashes:
            raise FailedPrecondition(
                "the plan already has a meeting at "
                f"{local_text(clashes[0].starts_at, self.time_zone)}"
            )
        self._occurrences_added(
            occurrences=[
                {"convening_id": o.convening_id, "starts_at": o.starts_at, "topic": o.topic}
                for o in occurrences
            ],
            time_zone=self.time_zone,
        )

    def end(self, reason: str, cancelled: list[UUID]) -> None:
        """Ends the plan; `cancelled` are its convenings cancelled with it."""
        if self.ended:
            raise FailedPrecondition(f"meeting plan '{self.title}' has already ended")
        self._ended(reason=reason, cancelled_convening_ids=list(cancelled))

    @event("OccurrencesAdded")
    def _occurrences_added(self, occurrences: list[dict[str, Any]], time_zone: str) -> None:
        for o in occurrences:
            occurrence = PlannedOccurrence(o["convening_id"], o["starts_at"], o["topic"])
            self.occurrences.append(occurrence)
        self.occurrences.sort(key=lambda o: o.starts_at)
        self.last_added = [o["convening_id"] for o in occurrences]

    @event("Ended")
    def _ended(self, reason: str, cancelled_convening_ids: list[UUID]) -> None:
        self.ended = True
        self.end_reason = reason
        self.cancelled_at_end = list(cancelled_convening_ids)
