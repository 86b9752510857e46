"""What the events service's read model answers with: a record per convening, sign-up,
feedback and meeting plan, built from an aggregate (answers to commands) or from a row
(lists).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from services.common.sqlstore import text_time
from services.events.domain import Convening, MeetingPlan, Reschedule, SignUp
from services.events.values import LearningOutcome, TimeSlot


def optional_uuid(value: str | None) -> UUID | None:
    return UUID(value) if value else None


def topic_key(topic: str) -> str:
    return " ".join(topic.lower().split())


@dataclass(frozen=True)
class ConveningRecord:
    convening_id: UUID
    community_id: UUID
    plan_id: UUID | None
    title: str
    topic: str
    description: str
    format: str
    venue: str
    join_link: str
    slot: TimeSlot
    planned_starts_at: datetime
    capacity: int | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime
    status: str
    sequence: int
    organiser_ids: list[UUID]
    cancel_reason: str
    reschedules: list[Reschedule]
    outcomes: list[LearningOutcome]
    attendee_count: int | None
    places_taken: int
    waitlist_length: int
    pending_approvals: int
    attended: int
    no_shows: int
    feedback_count: int
    feedback_sum: int
    version: int
    created_at: datetime
    updated_at: datetime
    # Closed with the community's own figures (ImportConvening), not copnet's sign-ups.
    from_records: bool = False

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.places_taken, 0)

    @classmethod
    def of(cls, c: Convening) -> ConveningRecord:
        ratings = [s.rating for s in c.signups.values() if s.rating is not None]
        figures = c.figures
        return cls(
            convening_id=c.id,
            community_id=c.community_id,
            plan_id=c.plan_id,
            title=c.details.title,
            topic=c.details.topic,
            description=c.details.description,
            format=c.details.format.value,
            venue=c.details.venue,
            join_link=c.details.join_link,
            slot=c.slot,
            planned_starts_at=c.planned_slot.starts_at,
            capacity=c.capacity,
            registration_opens_at=c.window.opens_at,
            registration_closes_at=c.registration_closes_at,
            status=c.status.value,
            sequence=c.sequence,
            organiser_ids=list(c.organiser_ids),
            cancel_reason=c.cancel_reason,
            reschedules=list(c.reschedules),
            outcomes=list(c.outcomes),
            attendee_count=c.attendee_count,
            places_taken=figures.signed_up,
            waitlist_length=len(c.waitlist),
            pending_approvals=c.pending_approvals,
            attended=figures.attended,
            no_shows=figures.no_shows,
            feedback_count=len(ratings),
            feedback_sum=sum(ratings),
            version=c.version,
            created_at=c.created_on,
            updated_at=c.modified_on,
            from_records=c.recorded_figures is not None,
        )


@dataclass(frozen=True)
class SignUpRecord:
    convening_id: UUID
    community_id: UUID
    member_id: UUID
    status: str
    attendance: str | None
    waitlist_position: int
    feedback_given: bool
    signed_up_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, c: Convening, s: SignUp) -> SignUpRecord:
        return cls(
            c.id,
            c.community_id,
            s.member_id,
            s.status.value,
            s.attendance.value if s.attendance else None,
            c.waitlist_position(s.member_id),
            s.rating is not None,
            s.signed_up_at,
            s.updated_at,
        )


@dataclass(frozen=True)
class FeedbackRecord:
    rating: int
    comment: str
    given_at: datetime


@dataclass(frozen=True)
class PlanRecord:
    plan_id: UUID
    community_id: UUID
    title: str
    description: str
    time_zone: str
    rule: str
    format: str
    venue: str
    join_link: str
    capacity: int | None
    duration_minutes: int
    ended: bool
    end_reason: str
    occurrences: int
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, p: MeetingPlan) -> PlanRecord:
        return cls(
            p.id,
            p.community_id,
            p.title,
            p.description,
            p.time_zone,
            p.rule,
            p.format.value,
            p.venue,
            p.join_link,
            p.capacity,
            p.duration_minutes,
            p.ended,
            p.end_reason,
            len(p.occurrences),
            p.version,
            p.created_on,
            p.modified_on,
        )


def convening_from_row(r: dict[str, Any]) -> ConveningRecord:
    """A convening's record from its row in the schedule."""
    slot = TimeSlot(text_time(r["starts_at"]), text_time(r["ends_at"]), r["time_zone"])
    closes = text_time(r["registration_closes_at"]) or slot.starts_at
    reschedules = [
        Reschedule(
            TimeSlot(text_time(h["starts_at"]), text_time(h["ends_at"]), h["time_zone"]),
            h["reason"],
            text_time(h["at"]),
        )
        for h in json.loads(r["reschedules"])
    ]
    return ConveningRecord(
        convening_id=UUID(r["convening_id"]),
        community_id=UUID(r["community_id"]),
        plan_id=optional_uuid(r["plan_id"]),
        title=r["title"],
        topic=r["topic"],
        description=r["description"],
        format=r["format"],
        venue=r["venue"],
        join_link=r["join_link"],
        slot=slot,
        planned_starts_at=text_time(r["planned_starts_at"]),
        capacity=r["capacity"],
        registration_opens_at=text_time(r["registration_opens_at"]),
        registration_closes_at=closes,
        status=r["status"],
        sequence=r["sequence"],
        organiser_ids=[UUID(m) for m in r["organiser_ids"].split(",") if m],
        cancel_reason=r["cancel_reason"],
        reschedules=reschedules,
        outcomes=[LearningOutcome.from_dict(o) for o in json.loads(r["outcomes"])],
        attendee_count=r["attendee_count"],
        places_taken=r["registered"],
        waitlist_length=r["waitlisted"],
        pending_approvals=r["pending"],
        attended=r["attended"],
        no_shows=r["no_shows"],
        feedback_count=r["feedback_count"],
        feedback_sum=r["feedback_sum"],
        version=r["version"],
        created_at=text_time(r["created_at"]),
        updated_at=text_time(r["updated_at"]),
        from_records=bool(r["from_records"]),
    )
