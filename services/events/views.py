"""The events service's read model: convenings, sign-ups, feedback and plans, for lists,
calendars and analytics.

`Schedule` is projected from the service's own log, exactly once with
tracking. Counts per convening are kept by applying each sign-up event's
change (old bucket minus one, new bucket plus one); each event is applied
once, so the counts stay exact. Analytics group these rows by community,
topic, format or period; lists use keyset paging.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from services.common.paging import Page
from services.common.projection import Projection
from services.common.sqlstore import SqlTx, text_time, time_text
from services.events.domain import Convening, MeetingPlan, Reschedule, SignUp
from services.events.values import (
    Attendance,
    ConveningStatus,
    LearningOutcome,
    SignUpStatus,
    TimeSlot,
    local_time,
)


def _uuid(value: str | None) -> UUID | None:
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


@dataclass
class Metrics:
    """What happened to a group of convenings. Sign-up figures count held convenings only."""

    key: str = ""
    label: str = ""
    held: int = 0
    cancelled: int = 0
    upcoming: int = 0
    unrecorded: int = 0
    signed_up: int = 0
    attended: int = 0
    no_shows: int = 0
    attendance_unrecorded: int = 0
    waitlisted: int = 0
    attendee_count: int = 0
    feedback_count: int = 0
    feedback_sum: int = 0
    planned: int = 0
    planned_held: int = 0
    planned_cancelled: int = 0

    @property
    def conversion_rate(self) -> float:
        return self.attended / self.signed_up if self.signed_up else 0.0

    @property
    def feedback_average(self) -> float:
        return self.feedback_sum / self.feedback_count if self.feedback_count else 0.0


@dataclass
class Adherence:
    planned: int = 0
    held: int = 0
    cancelled: int = 0
    to_come: int = 0
    unrecorded: int = 0

    @property
    def rate(self) -> float:
        """Held, of the planned meetings whose time has come."""
        due = self.planned - self.to_come
        return self.held / due if due else 0.0


GROUPINGS = {
    "community": ("community_id", "community_id"),
    "topic": ("topic_key", "topic"),
    "format": ("format", "format"),
    "month": ("local_month", "local_month"),
    "quarter": ("local_quarter", "local_quarter"),
    "year": ("local_year", "local_year"),
}

_STATUS_COUNTS = {
    SignUpStatus.REGISTERED.value: "registered",
    SignUpStatus.WAITLISTED.value: "waitlisted",
    SignUpStatus.PENDING_APPROVAL.value: "pending",
}


def _buckets(status: str | None, attendance: str | None) -> dict[str, int]:
    """The count columns one sign-up contributes to."""
    if status is None:
        return {}
    buckets = {}
    if status in _STATUS_COUNTS:
        buckets[_STATUS_COUNTS[status]] = 1
    if status == SignUpStatus.REGISTERED.value and attendance == Attendance.ATTENDED.value:
        buckets["attended"] = 1
    if status == SignUpStatus.REGISTERED.value and attendance == Attendance.NO_SHOW.value:
        buckets["no_shows"] = 1
    return buckets


@dataclass
class _Where:
    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, condition: str, *values: Any) -> None:
        self.conditions.append(condition)
        self.params.extend(values)

    def add_if(self, wanted: Any, condition: str, *values: Any) -> None:
        if wanted:
            self.add(condition, *values)

    def after(self, page: Page, condition: str) -> None:
        if page.after is not None:
            self.add(condition, *page.after)

    def __str__(self) -> str:
        return "WHERE " + " AND ".join(self.conditions) if self.conditions else ""


class Schedule(Projection):
    name = "schedule"
    upstream = "Events"
    schema_version = 2
    tables = (
        "CREATE TABLE IF NOT EXISTS convenings ("
        " convening_id TEXT PRIMARY KEY, community_id TEXT NOT NULL, plan_id TEXT,"
        " title TEXT NOT NULL, topic TEXT NOT NULL, topic_key TEXT NOT NULL,"
        " description TEXT NOT NULL, format TEXT NOT NULL, venue TEXT NOT NULL,"
        " join_link TEXT NOT NULL, starts_at TEXT NOT NULL, ends_at TEXT NOT NULL,"
        " time_zone TEXT NOT NULL, local_date TEXT NOT NULL, local_month TEXT NOT NULL,"
        " local_quarter TEXT NOT NULL, local_year TEXT NOT NULL, planned_starts_at TEXT NOT NULL,"
        " capacity INTEGER, registration_opens_at TEXT, registration_closes_at TEXT,"
        " status TEXT NOT NULL, sequence INTEGER NOT NULL, organiser_ids TEXT NOT NULL,"
        " cancel_reason TEXT NOT NULL, reschedules TEXT NOT NULL, outcomes TEXT NOT NULL,"
        " attendee_count INTEGER, registered INTEGER NOT NULL, waitlisted INTEGER NOT NULL,"
        " pending INTEGER NOT NULL, attended INTEGER NOT NULL, no_shows INTEGER NOT NULL,"
        " feedback_count INTEGER NOT NULL, feedback_sum INTEGER NOT NULL,"
        " from_records INTEGER NOT NULL DEFAULT 0,"
        " version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS convenings_by_start ON convenings (starts_at, convening_id)",
        "CREATE INDEX IF NOT EXISTS convenings_by_community"
        " ON convenings (community_id, starts_at, convening_id)",
        "CREATE INDEX IF NOT EXISTS convenings_by_plan ON convenings (plan_id, starts_at)",
        "CREATE TABLE IF NOT EXISTS sign_ups ("
        " convening_id TEXT NOT NULL, member_id TEXT NOT NULL, community_id TEXT NOT NULL,"
        " status TEXT NOT NULL, attendance TEXT, seq INTEGER NOT NULL, queue INTEGER NOT NULL,"
        " feedback_given INTEGER NOT NULL, signed_up_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
        " PRIMARY KEY (convening_id, member_id))",
        "CREATE INDEX IF NOT EXISTS sign_ups_by_seq ON sign_ups (convening_id, seq)",
        "CREATE INDEX IF NOT EXISTS sign_ups_by_member"
        " ON sign_ups (member_id, signed_up_at, convening_id)",
        "CREATE TABLE IF NOT EXISTS feedback ("
        " convening_id TEXT NOT NULL, member_id TEXT NOT NULL, rating INTEGER NOT NULL,"
        " comment TEXT NOT NULL, given_at TEXT NOT NULL, PRIMARY KEY (convening_id, member_id))",
        "CREATE TABLE IF NOT EXISTS plans ("
        " plan_id TEXT PRIMARY KEY, community_id TEXT NOT NULL, title TEXT NOT NULL,"
        " sort_title TEXT NOT NULL, description TEXT NOT NULL, time_zone TEXT NOT NULL,"
        " rule TEXT NOT NULL, format TEXT NOT NULL, venue TEXT NOT NULL, join_link TEXT NOT NULL,"
        " capacity INTEGER, duration_minutes INTEGER NOT NULL, ended INTEGER NOT NULL,"
        " end_reason TEXT NOT NULL, occurrences INTEGER NOT NULL, version INTEGER NOT NULL,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS plans_by_community ON plans (community_id, created_at)",
    )
    table_names = ("feedback", "sign_ups", "convenings", "plans")

    # Writing

    @singledispatchmethod
    def apply(self, domain_event: Any, tx: SqlTx) -> None:
        """Receipts and other events that change nothing listed are ignored."""

    def _touch(self, tx: SqlTx, e: Any, **fields: Any) -> None:
        assignments = "".join(f"{name} = ?, " for name in fields)
        tx.execute(
            f"UPDATE convenings SET {assignments}version = ?, updated_at = ?"
            " WHERE convening_id = ? AND version < ?",
            (
                *fields.values(),
                e.originator_version,
                time_text(e.timestamp),
                str(e.originator_id),
                e.originator_version,
            ),
        )

    @apply.register(Convening.Scheduled)
    def _(self, e: Any, tx: SqlTx) -> None:
        local = local_time(e.starts_at, e.time_zone)
        tx.execute(
            "INSERT INTO convenings (convening_id, community_id, plan_id, title, topic, topic_key,"
            " description, format, venue, join_link, starts_at, ends_at, time_zone, local_date,"
            " local_month, local_quarter, local_year, planned_starts_at, capacity,"
            " registration_opens_at, registration_closes_at, status, sequence, organiser_ids,"
            " cancel_reason, reschedules, outcomes, attendee_count, registered, waitlisted,"
            " pending, attended, no_shows, feedback_count, feedback_sum, version, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " 'scheduled', 0, '', '', '[]', '[]', NULL, 0, 0, 0, 0, 0, 0, 0, ?, ?, ?)"
            " ON CONFLICT (convening_id) DO NOTHING",
            (
                str(e.originator_id),
                str(e.community_id),
                str(e.plan_id) if e.plan_id else None,
                e.title,
                e.topic,
                topic_key(e.topic),
                e.description,
                e.format,
                e.venue,
                "",
                time_text(e.starts_at),
                time_text(e.ends_at),
                e.time_zone,
                *_periods(local.date()),
                time_text(e.starts_at),
                e.capacity,
                time_text(e.registration_opens_at),
                time_text(e.registration_closes_at),
                e.originator_version,
                time_text(e.timestamp),
                time_text(e.timestamp),
            ),
        )

    @apply.register(Convening.DetailsChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._touch(
            tx,
            e,
            title=e.title,
            topic=e.topic,
            topic_key=topic_key(e.topic),
            description=e.description,
            format=e.format,
            venue=e.venue,
            sequence=self._sequence_after(tx, e),
        )

    @apply.register(Convening.JoinLinkChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        if e.initial:
            self._touch(tx, e, join_link=e.join_link)
        else:
            self._touch(tx, e, join_link=e.join_link, sequence=self._sequence_after(tx, e))

    def _sequence_after(self, tx: SqlTx, e: Any) -> int:
        row = tx.one(
            "SELECT sequence FROM convenings WHERE convening_id = ?", (str(e.originator_id),)
        )
        return (row["sequence"] if row else 0) + 1

    @apply.register(Convening.CapacityChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._touch(tx, e, capacity=e.capacity)

    @apply.register(Convening.RegistrationWindowChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._touch(
            tx,
            e,
            registration_opens_at=time_text(e.opens_at),
            registration_closes_at=time_text(e.closes_at),
        )

    @apply.register(Convening.OrganisersChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        organisers = ",".join(str(m) for m in e.organiser_ids)
        if e.initial:
            self._touch(tx, e, organiser_ids=organisers)
        else:
            self._touch(tx, e, organiser_ids=organisers, sequence=self._sequence_after(tx, e))

    @apply.register(Convening.Rescheduled)
    def _(self, e: Any, tx: SqlTx) -> None:
        row = tx.one(
            "SELECT starts_at, ends_at, time_zone, reschedules, sequence FROM convenings"
            " WHERE convening_id = ?",
            (str(e.originator_id),),
        )
        if row is None:
            return
        history = json.loads(row["reschedules"])
        history.append(
            {
                "starts_at": row["starts_at"],
                "ends_at": row["ends_at"],
                "time_zone": row["time_zone"],
                "reason": e.reason,
                "at": time_text(e.at),
            }
        )
        local = local_time(e.starts_at, e.time_zone)
        local_date, month, quarter, year = _periods(local.date())
        self._touch(
            tx,
            e,
            starts_at=time_text(e.starts_at),
            ends_at=time_text(e.ends_at),
            time_zone=e.time_zone,
            local_date=local_date,
            local_month=month,
            local_quarter=quarter,
            local_year=year,
            status=ConveningStatus.RESCHEDULED.value,
            reschedules=json.dumps(history),
            sequence=row["sequence"] + 1,
        )

    @apply.register(Convening.Cancelled)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._touch(
            tx,
            e,
            status=ConveningStatus.CANCELLED.value,
            cancel_reason=e.reason,
            sequence=self._sequence_after(tx, e),
        )

    @apply.register(Convening.Held)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._touch(tx, e, status=ConveningStatus.HELD.value)

    @apply.register(Convening.Closed)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._touch(
            tx,
            e,
            status=ConveningStatus.CLOSED.value,
            outcomes=json.dumps(e.outcomes),
            attendee_count=e.attendee_count,
        )

    @apply.register(Convening.ClosedFromRecords)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._touch(
            tx,
            e,
            status=ConveningStatus.CLOSED.value,
            outcomes=json.dumps(e.outcomes),
            attendee_count=e.attendee_count,
            registered=e.signed_up,
            attended=e.attended,
            no_shows=e.no_shows,
            from_records=1,
        )

    @apply.register(Convening.SignedUp)
    def _(self, e: Any, tx: SqlTx) -> None:
        convening_id, member_id = str(e.originator_id), str(e.member_id)
        old = tx.one(
            "SELECT status, attendance FROM sign_ups WHERE convening_id = ? AND member_id = ?",
            (convening_id, member_id),
        )
        tx.execute(
            "INSERT INTO sign_ups (convening_id, member_id, community_id, status, attendance,"
            " seq, queue, feedback_given, signed_up_at, updated_at)"
            " VALUES (?, ?, ?, ?, NULL, ?, ?, 0, ?, ?)"
            " ON CONFLICT (convening_id, member_id) DO UPDATE SET status = excluded.status,"
            " attendance = NULL, seq = excluded.seq, queue = excluded.queue, feedback_given = 0,"
            " signed_up_at = excluded.signed_up_at, updated_at = excluded.updated_at",
            (
                convening_id,
                member_id,
                str(e.community_id),
                e.status,
                e.originator_version,
                e.originator_version,
                time_text(e.at),
                time_text(e.at),
            ),
        )
        self._count(
            tx,
            e,
            _buckets(old["status"], old["attendance"]) if old else {},
            _buckets(e.status, None),
        )

    @apply.register(Convening.SignUpApproved)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._move(tx, e, e.status)

    @apply.register(Convening.SignUpDeclined)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._move(tx, e, SignUpStatus.DECLINED.value)

    @apply.register(Convening.SignUpCancelled)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._move(tx, e, SignUpStatus.CANCELLED.value)

    @apply.register(Convening.Promoted)
    def _(self, e: Any, tx: SqlTx) -> None:
        self._move(tx, e, SignUpStatus.REGISTERED.value)

    def _move(self, tx: SqlTx, e: Any, status: str) -> None:
        key = (str(e.originator_id), str(e.member_id))
        old = tx.one(
            "SELECT status, attendance FROM sign_ups WHERE convening_id = ? AND member_id = ?", key
        )
        if old is None:
            return
        tx.execute(
            "UPDATE sign_ups SET status = ?, queue = ?, updated_at = ?"
            " WHERE convening_id = ? AND member_id = ?",
            (status, e.originator_version, time_text(e.at), *key),
        )
        self._count(
            tx, e, _buckets(old["status"], old["attendance"]), _buckets(status, old["attendance"])
        )

    @apply.register(Convening.AttendanceRecorded)
    def _(self, e: Any, tx: SqlTx) -> None:
        removed: dict[str, int] = {}
        added: dict[str, int] = {}
        for entry in e.entries:
            key = (str(e.originator_id), str(entry["member_id"]))
            old = tx.one(
                "SELECT status, attendance FROM sign_ups WHERE convening_id = ? AND member_id = ?",
                key,
            )
            if old is None:
                continue
            tx.execute(
                "UPDATE sign_ups SET attendance = ?, updated_at = ?"
                " WHERE convening_id = ? AND member_id = ?",
                (entry["attendance"], time_text(e.at), *key),
            )
            for column, n in _buckets(old["status"], old["attendance"]).items():
                removed[column] = removed.get(column, 0) + n
            for column, n in _buckets(old["status"], entry["attendance"]).items():
                added[column] = added.get(column, 0) + n
        self._count(tx, e, removed, added)

    @apply.register(Convening.FeedbackGiven)
    def _(self, e: Any, tx: SqlTx) -> None:
        key = (str(e.originator_id), str(e.member_id))
        tx.execute(
            "INSERT INTO feedback (convening_id, member_id, rating, comment, given_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (convening_id, member_id) DO NOTHING",
            (*key, e.rating, e.comment, time_text(e.at)),
        )
        tx.execute(
            "UPDATE sign_ups SET feedback_given = 1 WHERE convening_id = ? AND member_id = ?", key
        )
        self._touch(tx, e)
        tx.execute(
            "UPDATE convenings SET feedback_count = feedback_count + 1,"
            " feedback_sum = feedback_sum + ? WHERE convening_id = ?",
            (e.rating, key[0]),
        )

    def _count(self, tx: SqlTx, e: Any, removed: dict[str, int], added: dict[str, int]) -> None:
        columns = ("registered", "waitlisted", "pending", "attended", "no_shows")
        deltas = {c: added.get(c, 0) - removed.get(c, 0) for c in columns}
        self._touch(tx, e)
        changed = {c: d for c, d in deltas.items() if d}
        if changed:
            assignments = ", ".join(f"{c} = {c} + ?" for c in changed)
            tx.execute(
                f"UPDATE convenings SET {assignments} WHERE convening_id = ?",
                (*changed.values(), str(e.originator_id)),
            )

    @apply.register(MeetingPlan.Planned)
    def _(self, e: Any, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO plans (plan_id, community_id, title, sort_title, description, time_zone,"
            " rule, format, venue, join_link, capacity, duration_minutes, ended, end_reason,"
            " occurrences, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', 0, ?, ?, ?)"
            " ON CONFLICT (plan_id) DO NOTHING",
            (
                str(e.originator_id),
                str(e.community_id),
                e.title,
                e.title.lower(),
                e.description,
                e.time_zone,
                e.rule,
                e.format,
                e.venue,
                e.join_link,
                e.capacity,
                e.duration_minutes,
                e.originator_version,
                time_text(e.timestamp),
                time_text(e.timestamp),
            ),
        )

    @apply.register(MeetingPlan.OccurrencesAdded)
    def _(self, e: Any, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE plans SET occurrences = occurrences + ?, version = ?, updated_at = ?"
            " WHERE plan_id = ? AND version < ?",
            (
                len(e.occurrences),
                e.originator_version,
                time_text(e.timestamp),
                str(e.originator_id),
                e.originator_version,
            ),
        )

    @apply.register(MeetingPlan.Ended)
    def _(self, e: Any, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE plans SET ended = 1, end_reason = ?, version = ?, updated_at = ?"
            " WHERE plan_id = ? AND version < ?",
            (
                e.reason,
                e.originator_version,
                time_text(e.timestamp),
                str(e.originator_id),
                e.originator_version,
            ),
        )

    # Reading: convenings

    def list_convenings(
        self,
        page: Page,
        community_id: str = "",
        plan_id: str = "",
        status: str = "",
        starts_from: datetime | None = None,
        starts_before: datetime | None = None,
    ) -> tuple[list[ConveningRecord], str]:
        where = _Where()
        where.add_if(community_id, "community_id = ?", community_id)
        where.add_if(plan_id, "plan_id = ?", plan_id)
        where.add_if(status, "status = ?", status)
        where.add_if(starts_from, "starts_at >= ?", time_text(starts_from))
        where.add_if(starts_before, "starts_at < ?", time_text(starts_before))
        where.after(page, "(starts_at, convening_id) > (?, ?)")
        with self.store.read() as tx:
            rows = tx.all(
                f"SELECT * FROM convenings {where} ORDER BY starts_at, convening_id LIMIT ?",
                (*where.params, page.size),
            )
        return [_convening(r) for r in rows], page.next_token(
            rows, lambda r: (r["starts_at"], r["convening_id"])
        )

    def registered_convenings(self, member_id: UUID, convening_ids: list[UUID]) -> set[UUID]:
        """Which of these convenings the member holds a place at."""
        if not convening_ids:
            return set()
        marks = ", ".join("?" for _ in convening_ids)
        with self.store.read() as tx:
            rows = tx.all(
                f"SELECT convening_id FROM sign_ups WHERE member_id = ? AND status = ?"
                f" AND convening_id IN ({marks})",
                (str(member_id), SignUpStatus.REGISTERED.value, *map(str, convening_ids)),
            )
        return {UUID(r["convening_id"]) for r in rows}

    # Reading: sign-ups and feedback

    def list_sign_ups(
        self,
        page: Page,
        convening_id: str = "",
        member_id: str = "",
        status: str = "",
    ) -> tuple[list[SignUpRecord], str]:
        where = _Where()
        where.add_if(convening_id, "s.convening_id = ?", convening_id)
        where.add_if(member_id, "s.member_id = ?", member_id)
        where.add_if(status, "s.status = ?", status)
        if convening_id:
            order, key = "s.seq, s.member_id", lambda r: (r["seq"], r["member_id"])
            where.after(page, "(s.seq, s.member_id) > (?, ?)")
        else:
            order = "s.signed_up_at, s.convening_id"
            key = lambda r: (r["signed_up_at"], r["convening_id"])  # noqa: E731
            where.after(page, "(s.signed_up_at, s.convening_id) > (?, ?)")
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT s.*, CASE WHEN s.status = 'waitlisted' THEN"
                " (SELECT COUNT(*) FROM sign_ups w"
                " WHERE w.convening_id = s.convening_id AND w.status = 'waitlisted'"
                " AND w.queue <= s.queue) ELSE 0 END AS waitlist_position"
                f" FROM sign_ups s {where} ORDER BY {order} LIMIT ?",
                (*where.params, page.size),
            )
        records = [
            SignUpRecord(
                UUID(r["convening_id"]),
                UUID(r["community_id"]),
                UUID(r["member_id"]),
                r["status"],
                r["attendance"],
                int(r["waitlist_position"]),
                bool(r["feedback_given"]),
                text_time(r["signed_up_at"]),
                text_time(r["updated_at"]),
            )
            for r in rows
        ]
        return records, page.next_token(rows, key)

    def list_feedback(self, page: Page, convening_id: str) -> tuple[list[FeedbackRecord], str]:
        where = _Where()
        where.add("convening_id = ?", convening_id)
        where.after(page, "(given_at, member_id) > (?, ?)")
        with self.store.read() as tx:
            rows = tx.all(
                f"SELECT * FROM feedback {where} ORDER BY given_at, member_id LIMIT ?",
                (*where.params, page.size),
            )
        records = [
            FeedbackRecord(r["rating"], r["comment"], text_time(r["given_at"])) for r in rows
        ]
        return records, page.next_token(rows, lambda r: (r["given_at"], r["member_id"]))

    # Reading: plans

    def list_plans(self, page: Page, community_id: str = "") -> tuple[list[PlanRecord], str]:
        where = _Where()
        where.add_if(community_id, "community_id = ?", community_id)
        where.after(page, "(created_at, plan_id) > (?, ?)")
        with self.store.read() as tx:
            rows = tx.all(
                f"SELECT * FROM plans {where} ORDER BY created_at, plan_id LIMIT ?",
                (*where.params, page.size),
            )
        records = [
            PlanRecord(
                UUID(r["plan_id"]),
                UUID(r["community_id"]),
                r["title"],
                r["description"],
                r["time_zone"],
                r["rule"],
                r["format"],
                r["venue"],
                r["join_link"],
                r["capacity"],
                r["duration_minutes"],
                bool(r["ended"]),
                r["end_reason"],
                r["occurrences"],
                r["version"],
                text_time(r["created_at"]),
                text_time(r["updated_at"]),
            )
            for r in rows
        ]
        return records, page.next_token(rows, lambda r: (r["created_at"], r["plan_id"]))

    def adherence(
        self, plan_id: UUID, now: datetime, planned_from: date | None, planned_before: date | None
    ) -> Adherence:
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT status, starts_at, planned_starts_at, time_zone FROM convenings"
                " WHERE plan_id = ?",
                (str(plan_id),),
            )
        result = Adherence()
        for r in rows:
            planned_day = local_time(text_time(r["planned_starts_at"]), r["time_zone"]).date()
            if planned_from and planned_day < planned_from:
                continue
            if planned_before and planned_day >= planned_before:
                continue
            result.planned += 1
            status = r["status"]
            if status in (ConveningStatus.HELD.value, ConveningStatus.CLOSED.value):
                result.held += 1
            elif status == ConveningStatus.CANCELLED.value:
                result.cancelled += 1
            elif r["starts_at"] > time_text(now):
                result.to_come += 1
            else:
                result.unrecorded += 1
        return result

    # Reading: analytics

    def analytics(
        self,
        page: Page,
        grouping: str,
        now: datetime,
        community_id: str = "",
        on_or_after: date | None = None,
        before: date | None = None,
    ) -> tuple[list[Metrics], Metrics, str]:
        """Metrics per group (keyset-paged by group key) and over everything selected."""
        key_column, label_column = GROUPINGS[grouping]
        where = _Where()
        where.add_if(community_id, "community_id = ?", community_id)
        where.add_if(on_or_after, "local_date >= ?", on_or_after.isoformat() if on_or_after else "")
        where.add_if(before, "local_date < ?", before.isoformat() if before else "")
        held = "status IN ('held', 'closed')"
        upcoming = "status IN ('scheduled', 'rescheduled')"
        measures = (
            f"SUM(CASE WHEN {held} THEN 1 ELSE 0 END) AS held,"
            " SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,"
            f" SUM(CASE WHEN {upcoming} AND starts_at > ? THEN 1 ELSE 0 END) AS upcoming,"
            f" SUM(CASE WHEN {upcoming} AND starts_at <= ? THEN 1 ELSE 0 END) AS unrecorded,"
            f" SUM(CASE WHEN {held} THEN registered ELSE 0 END) AS signed_up,"
            f" SUM(CASE WHEN {held} THEN attended ELSE 0 END) AS attended,"
            f" SUM(CASE WHEN {held} THEN no_shows ELSE 0 END) AS no_shows,"
            f" SUM(CASE WHEN {held} THEN registered - attended - no_shows ELSE 0 END)"
            " AS attendance_unrecorded,"
            f" SUM(CASE WHEN {held} THEN waitlisted ELSE 0 END) AS waitlisted,"
            f" SUM(CASE WHEN {held} THEN COALESCE(attendee_count, attended) ELSE 0 END)"
            " AS attendee_count,"
            " SUM(feedback_count) AS feedback_count, SUM(feedback_sum) AS feedback_sum,"
            " SUM(CASE WHEN plan_id IS NOT NULL THEN 1 ELSE 0 END) AS planned,"
            f" SUM(CASE WHEN plan_id IS NOT NULL AND {held} THEN 1 ELSE 0 END) AS planned_held,"
            " SUM(CASE WHEN plan_id IS NOT NULL AND status = 'cancelled' THEN 1 ELSE 0 END)"
            " AS planned_cancelled"
        )
        now_text = time_text(now)
        outer = _Where()
        outer.after(page, "g.group_key > ?")
        with self.store.read() as tx:
            rows = tx.all(
                f"SELECT * FROM (SELECT {key_column} AS group_key, MIN({label_column}) AS label,"
                f" {measures} FROM convenings {where} GROUP BY {key_column}) g {outer}"
                " ORDER BY g.group_key LIMIT ?",
                (now_text, now_text, *where.params, *outer.params, page.size),
            )
            total = tx.one(
                f"SELECT '' AS group_key, '' AS label, {measures} FROM convenings {where}",
                (now_text, now_text, *where.params),
            )
        groups = [_metrics(r) for r in rows]
        return groups, _metrics(total or {}), page.next_token(rows, lambda r: (r["group_key"],))


def _metrics(row: dict[str, Any]) -> Metrics:
    def number(name: str) -> int:
        return int(row.get(name) or 0)

    return Metrics(
        key=str(row.get("group_key") or ""),
        label=str(row.get("label") or ""),
        **{
            name: number(name)
            for name in Metrics.__dataclass_fields__
            if name not in ("key", "label")
        },
    )


def _periods(day: date) -> tuple[str, str, str, str]:
    """(local date, month, quarter, year) labels of a day."""
    return (
        day.isoformat(),
        f"{day.year:04d}-{day.month:02d}",
        f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}",
        f"{day.year:04d}",
    )


def _convening(r: dict[str, Any]) -> ConveningRecord:
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
        plan_id=_uuid(r["plan_id"]),
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
