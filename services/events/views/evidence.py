"""What a member keeps, as read models: `Evidence` (a projection of calendar feeds) and
`MemberQueries` (the schedule's lists of one member's convenings: the ones their feed
shows, the ones they attended).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from services.common.paging import Page
from services.common.projection import Projection
from services.common.sqlstore import SqlStore, SqlTx, Where, page_rows, text_time, time_text
from services.contracts.erasure import MemberErasure
from services.events.domain import CalendarFeed
from services.events.values import Attendance, SignUpStatus
from services.events.views.records import ConveningRecord, convening_from_row, optional_uuid

FEED_STATUSES = (SignUpStatus.REGISTERED.value, SignUpStatus.WAITLISTED.value)


@dataclass(frozen=True)
class FeedRecord:
    feed_id: UUID
    member_id: UUID
    kind: str
    community_id: UUID | None
    revoked: bool
    revoke_reason: str
    rotations: int
    version: int
    created_at: datetime
    updated_at: datetime


class Evidence(Projection):
    name = "evidence"
    upstream = "Events"
    schema_version = 1
    tables = (
        "CREATE TABLE IF NOT EXISTS calendar_feeds ("
        " feed_id TEXT PRIMARY KEY, member_id TEXT NOT NULL, kind TEXT NOT NULL,"
        " community_id TEXT, revoked INTEGER NOT NULL, revoke_reason TEXT NOT NULL,"
        " rotations INTEGER NOT NULL, version INTEGER NOT NULL, created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS calendar_feeds_by_member"
        " ON calendar_feeds (member_id, created_at, feed_id)",
    )
    table_names = ("calendar_feeds",)

    @singledispatchmethod
    def apply(self, domain_event: Any, tx: SqlTx) -> None:
        """Every other event changes nothing here."""

    @apply.register(CalendarFeed.Issued)
    def _(self, e: Any, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO calendar_feeds (feed_id, member_id, kind, community_id, revoked,"
            " revoke_reason, rotations, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 0, '', 0, ?, ?, ?) ON CONFLICT (feed_id) DO NOTHING",
            (
                str(e.originator_id),
                str(e.member_id),
                e.kind,
                str(e.community_id) if e.community_id else None,
                e.originator_version,
                time_text(e.timestamp),
                time_text(e.timestamp),
            ),
        )

    @apply.register(CalendarFeed.Rotated)
    def _(self, e: Any, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE calendar_feeds SET rotations = rotations + 1, version = ?, updated_at = ?"
            " WHERE feed_id = ? AND version < ?",
            (e.originator_version, time_text(e.timestamp), str(e.originator_id),
             e.originator_version),
        )  # fmt: skip

    @apply.register(CalendarFeed.Revoked)
    def _(self, e: Any, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE calendar_feeds SET revoked = 1, revoke_reason = ?, version = ?,"
            " updated_at = ? WHERE feed_id = ? AND version < ?",
            (e.reason, e.originator_version, time_text(e.timestamp), str(e.originator_id),
             e.originator_version),
        )  # fmt: skip

    @apply.register(MemberErasure.Recorded)
    def _(self, e: Any, tx: SqlTx) -> None:
        # Their URLs already answer 404 (the application checks the erasure): say so here.
        tx.execute(
            "UPDATE calendar_feeds SET revoked = 1, revoke_reason = 'member erased'"
            " WHERE member_id = ?",
            (str(e.member_id),),
        )

    # Reading

    def member_data(self, member_id: UUID) -> dict[str, list[dict[str, Any]]]:
        """A member's calendar feeds, for their subject access export (never the URLs)."""
        with self.store.read() as tx:
            feeds = tx.all(
                "SELECT feed_id, kind, community_id, revoked, revoke_reason, rotations,"
                " created_at, updated_at FROM calendar_feeds WHERE member_id = ?"
                " ORDER BY created_at, feed_id",
                (str(member_id),),
            )
        return {"calendar_feeds": feeds}

    def list_feeds(
        self, page: Page, member_id: UUID, include_revoked: bool
    ) -> tuple[list[FeedRecord], str]:
        where = Where()
        where.add("member_id = ?", str(member_id))
        if not include_revoked:
            where.add("revoked = ?", 0)
        with self.store.read() as tx:
            rows, token = page_rows(
                tx, page, "SELECT * FROM calendar_feeds", where, ("created_at", "feed_id")
            )
        return [_feed(r) for r in rows], token


def _feed(r: dict[str, Any]) -> FeedRecord:
    return FeedRecord(
        UUID(r["feed_id"]),
        UUID(r["member_id"]),
        r["kind"],
        optional_uuid(r["community_id"]),
        bool(r["revoked"]),
        r["revoke_reason"],
        r["rotations"],
        r["version"],
        text_time(r["created_at"]),
        text_time(r["updated_at"]),
    )


class MemberQueries:
    """The schedule's lists of one member's convenings (a base of `Schedule`)."""

    store: SqlStore

    def member_convenings(
        self, member_id: UUID, starts_from: datetime, limit: int
    ) -> tuple[list[ConveningRecord], set[UUID], set[UUID]]:
        """The convenings the member holds a place at or waits for (starting from
        `starts_from`), which of them they hold a place at, and which they attended."""
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT c.*, s.status AS sign_up_status, s.attendance AS sign_up_attendance"
                " FROM sign_ups s JOIN convenings c"
                " ON c.convening_id = s.convening_id WHERE s.member_id = ?"
                " AND s.status IN (?, ?) AND c.starts_at >= ?"
                " ORDER BY c.starts_at, c.convening_id LIMIT ?",
                (str(member_id), *FEED_STATUSES, time_text(starts_from), limit),
            )
        registered = {
            UUID(r["convening_id"])
            for r in rows
            if r["sign_up_status"] == SignUpStatus.REGISTERED.value
        }
        attended = {
            UUID(r["convening_id"])
            for r in rows
            if r["sign_up_attendance"] == Attendance.ATTENDED.value
        }
        return [convening_from_row(r) for r in rows], registered, attended

    def member_fingerprint(self, member_id: UUID) -> tuple[Any, ...]:
        """Changes whenever the member's feed may: a sign-up of theirs or a convening of
        theirs changed."""
        with self.store.read() as tx:
            row = tx.one(
                "SELECT COUNT(*) AS n, MAX(s.updated_at) AS signed, MAX(c.updated_at) AS changed"
                " FROM sign_ups s JOIN convenings c ON c.convening_id = s.convening_id"
                " WHERE s.member_id = ?",
                (str(member_id),),
            )
        return (row["n"], row["signed"], row["changed"]) if row else ()

    def community_fingerprint(self, community_id: UUID) -> tuple[Any, ...]:
        with self.store.read() as tx:
            row = tx.one(
                "SELECT COUNT(*) AS n, MAX(updated_at) AS changed FROM convenings"
                " WHERE community_id = ?",
                (str(community_id),),
            )
        return (row["n"], row["changed"]) if row else ()

    def attended_convenings(
        self, member_id: UUID, from_date: date | None, before_date: date | None, limit: int
    ) -> list[ConveningRecord]:
        """The convenings the member is recorded as attending, by local start date."""
        where = Where()
        where.add("s.member_id = ?", str(member_id))
        where.add("s.status = ?", SignUpStatus.REGISTERED.value)
        where.add("s.attendance = ?", Attendance.ATTENDED.value)
        where.add_if(from_date, "c.local_date >= ?", from_date.isoformat() if from_date else "")
        where.add_if(
            before_date, "c.local_date < ?", before_date.isoformat() if before_date else ""
        )
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT c.* FROM sign_ups s JOIN convenings c"
                f" ON c.convening_id = s.convening_id {where}"
                " ORDER BY c.starts_at, c.convening_id LIMIT ?",
                (*where.params, limit),
            )
        return [convening_from_row(r) for r in rows]
