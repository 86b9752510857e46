"""Analytics over the schedule: what happened to groups of convenings (by community,
topic, format or period) and how well a meeting plan was kept. Sign-up figures count
held convenings only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from services.common.paging import Page
from services.common.sqlstore import SqlStore, Where, text_time, time_text
from services.events.values import ConveningStatus, local_time


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


class ScheduleAnalytics:
    """The schedule's figures: how a plan was kept, and metrics per group of convenings."""

    store: SqlStore

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
        where = Where()
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
        outer = Where()
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
