"""Lists of the schedule: convenings, sign-ups, feedback and meeting plans, keyset-paged."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.common.paging import Page
from services.common.sqlstore import SqlStore, Where, text_time, time_text
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
        where.after(page, "(starts_at, convening_id) > (?, ?)")
        with self.store.read() as tx:
            rows = tx.all(
                f"SELECT * FROM convenings {where} ORDER BY starts_at, convening_id LIMIT ?",
                (*where.params, page.size),
            )
        return [convening_from_row(r) for r in rows], page.next_token(
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
        where = Where()
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
        where = Where()
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
        where = Where()
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
