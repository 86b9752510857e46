"""The events service's read model, `Schedule`: convenings, sign-ups, feedback and plans,
projected from the service's own log exactly once with tracking.

Counts per convening are kept by applying each sign-up event's change (old bucket
minus one, new bucket plus one); each event is applied once, so the counts stay
exact. Its lists (`queries`) use keyset paging; its figures (`analytics`) group
these rows by community, topic, format or period.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from services.common.projection import Projection
from services.common.sqlstore import SqlTx, time_text, update_row
from services.contracts.erasure import MemberErasure
from services.events.domain import Convening, MeetingPlan
from services.events.values import Attendance, ConveningStatus, SignUpStatus, local_time
from services.events.views.analytics import ScheduleAnalytics
from services.events.views.evidence import MemberQueries
from services.events.views.queries import ScheduleQueries
from services.events.views.records import topic_key

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


class Schedule(ScheduleQueries, ScheduleAnalytics, MemberQueries, Projection):
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
        update_row(tx, "convenings", "convening_id", e, **fields)

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

    @apply.register(Convening.CpdCreditSet)
    def _(self, e: Any, tx: SqlTx) -> None:
        # Nothing listed here; the change shows in a member's feed (its certificate links).
        self._touch(tx, e)

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

    @apply.register(MemberErasure.Recorded)
    def _(self, e: Any, tx: SqlTx) -> None:
        # Ratings and counts stay (community figures); the words go.
        tx.execute("UPDATE feedback SET comment = '' WHERE member_id = ?", (str(e.member_id),))
        tx.scrub("feedback")

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
        update_row(tx, "plans", "plan_id", e, ended=1, end_reason=e.reason)


def _periods(day: date) -> tuple[str, str, str, str]:
    """(local date, month, quarter, year) labels of a day."""
    return (
        day.isoformat(),
        f"{day.year:04d}-{day.month:02d}",
        f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}",
        f"{day.year:04d}",
    )
