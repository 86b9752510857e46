"""Lists of the schedule: convenings, sign-ups, feedback and meeting plans, keyset-paged."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.common.paging import Page
from services.common.sqlstore import SqlStore, Where, page_rows, text_time, time_text
from services.events.values import SignUpStatus
from services.events.views.records import (
    ConveningRecord,
    FeedbackRecord,
    PlanRecord,
    SignUpRecord,
    convening_from_row,
)


class ScheduleQueries:
    """The schedule's lists, keyset-paged."""

    store: SqlStore

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
        where = Where()
        where.add_if(community_id, "community_id = ?", community_id)
        where.add_if(plan_id, "plan_id = ?", plan_id)
        where.add_if(status, "status = ?", status)
        where.add_if(starts_from, "starts_at >= ?", time_text(starts_from))
        where.add_if(starts_before, "starts_at < ?", time_text(starts_before))
        with self.store.read() as tx:
            rows, token = page_rows(
                tx, page, "SELECT * FROM convenings", where, ("starts_at", "convening_id")
            )
        return [convening_from_row(r) for r in rows], token

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
        where = Where()
        where.add_if(convening_id, "s.convening_id = ?", convening_id)
        where.add_if(member_id, "s.member_id = ?", member_id)
        where.add_if(status, "s.status = ?", status)
        order = ("s.seq", "s.member_id") if convening_id else ("s.signed_up_at", "s.convening_id")
        with self.store.read() as tx:
            rows, token = page_rows(
                tx,
                page,
                "SELECT s.*, CASE WHEN s.status = 'waitlisted' THEN"
                " (SELECT COUNT(*) FROM sign_ups w"
                " WHERE w.convening_id = s.convening_id AND w.status = 'waitlisted'"
                " AND w.queue <= s.queue) ELSE 0 END AS waitlist_position"
                " FROM sign_ups s",
                where,
                order,
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
        return records, token

    def list_feedback(self, page: Page, convening_id: str) -> tuple[list[FeedbackRecord], str]:
        where = Where()
        where.add("convening_id = ?", convening_id)
        with self.store.read() as tx:
            rows, token = page_rows(
                tx, page, "SELECT * FROM feedback", where, ("given_at", "member_id")
            )
        records = [
            FeedbackRecord(r["rating"], r["comment"], text_time(r["given_at"])) for r in rows
        ]
        return records, token

    # Reading: plans

    def list_plans(self, page: Page, community_id: str = "") -> tuple[list[PlanRecord], str]:
        where = Where()
        where.add_if(community_id, "community_id = ?", community_id)
        with self.store.read() as tx:
            rows, token = page_rows(
                tx, page, "SELECT * FROM plans", where, ("created_at", "plan_id")
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
        return records, token

    # Subject access

    def member_data(self, member_id: UUID) -> dict[str, list[dict]]:
        """Every row of the schedule about a member: sign-ups (with attendance) and feedback."""
        key = (str(member_id),)
        with self.store.read() as tx:
            return {
                "sign_ups": tx.all(
                    "SELECT convening_id, community_id, status, attendance, signed_up_at,"
                    " updated_at, feedback_given FROM sign_ups WHERE member_id = ?"
                    " ORDER BY signed_up_at, convening_id",
                    key,
                ),
                "feedback": tx.all(
                    "SELECT convening_id, rating, comment, given_at FROM feedback"
                    " WHERE member_id = ? ORDER BY given_at, convening_id",
                    key,
                ),
            }
