"""Reading EventsService requests: each parser records the violations of the fields it
reads (`Violations`) and returns the parsed value, or None (or an empty value) when
something is wrong, so that every violation of a request is reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from copnet.events.v1 import events_pb2 as pb
from services.common.errors import Violations, stand_in
from services.common.servicer import uuid_list
from services.events import codecs
from services.events.commands import PlanEntry
from services.events.recurrence import MAX_OCCURRENCES, expand, parse_rule
from services.events.values import (
    MAX_LINKS_PER_OUTCOME,
    MAX_ORGANISERS,
    MAX_OUTCOME_TEXT_LENGTH,
    MAX_OUTCOMES,
    LearningOutcome,
    RegistrationWindow,
    TimeSlot,
    parse_local_datetime,
    parse_topic,
    to_instant,
)
from services.kernel.parsing import parse_line, parse_link, parse_text

MAX_REASON_LENGTH = 1000
DEFAULT_DURATION_MINUTES = 90


def organiser_ids(values: Iterable[str], v: Violations) -> list[UUID]:
    return uuid_list("organiser_ids", values, v, "must not name anyone twice", MAX_ORGANISERS)


def parse_instant(v: Violations, field: str, value: str, zone: str | None) -> datetime | None:
    local = v.check(field, parse_local_datetime, value)
    if local is None or zone is None:
        return None
    return v.check(field, to_instant, local, zone)


def parse_slot(v: Violations, start: str, end: str, zone: str | None) -> TimeSlot:
    """The time slot of a request (a `stand_in` when it is wrong)."""
    starts_at = parse_instant(v, "start", start, zone)
    ends_at = parse_instant(v, "end", end, zone)
    if starts_at is None or ends_at is None or zone is None:
        return stand_in(TimeSlot)
    if ends_at <= starts_at:
        v.add("end", "must be after the start")
        return stand_in(TimeSlot)
    if ends_at - starts_at > timedelta(days=14):
        v.add("end", "must be at most 14 days after the start")
        return stand_in(TimeSlot)
    return TimeSlot(starts_at, ends_at, zone)


def parse_window(v: Violations, opens: str, closes: str, zone: str | None) -> RegistrationWindow:
    opens_at = parse_instant(v, "registration_opens", opens, zone) if opens else None
    closes_at = parse_instant(v, "registration_closes", closes, zone) if closes else None
    return RegistrationWindow(opens_at, closes_at)


def parse_reason(v: Violations, value: str, required: bool = False) -> str:
    reason = v.check("reason", parse_text, value, MAX_REASON_LENGTH)
    if required and reason == "":
        v.add("reason", "is required")
    return reason or ""


def parse_outcomes(
    v: Violations, outcomes: Iterable[pb.LearningOutcome], field: str = "outcomes"
) -> list[LearningOutcome]:
    parsed = []
    items = list(outcomes)
    if len(items) > MAX_OUTCOMES:
        v.add(field, f"must be at most {MAX_OUTCOMES}")
    for i, o in enumerate(items[:MAX_OUTCOMES]):
        kind = v.check(f"{field}[{i}].kind", codecs.OUTCOME_KIND.to_domain, o.kind)
        text = v.check(f"{field}[{i}].text", parse_text, o.text, MAX_OUTCOME_TEXT_LENGTH)
        if text == "":
            v.add(f"{field}[{i}].text", "is required: say what was produced")
        if len(o.links) > MAX_LINKS_PER_OUTCOME:
            v.add(f"{field}[{i}].links", f"must be at most {MAX_LINKS_PER_OUTCOME}")
        links = [
            v.check(f"{field}[{i}].links[{j}]", parse_link, link, True)
            for j, link in enumerate(o.links[:MAX_LINKS_PER_OUTCOME])
        ]
        if kind is not None and text:
            parsed.append(LearningOutcome(kind, text, tuple(link for link in links if link)))
    return parsed


def parse_plan_entries(
    v: Violations,
    recurrence: pb.Recurrence | None,
    occurrences: Iterable[pb.PlanOccurrence],
    zone: str | None,
    may_be_empty: bool = False,
) -> tuple[str, list[PlanEntry]]:
    """(the canonical rule or "", the occurrences) of a plan request."""
    items = list(occurrences)
    if recurrence is None and not items and may_be_empty:
        return "", []
    if (recurrence is None) == (not items):
        wanted = "at most" if may_be_empty else "exactly"
        v.add("recurrence", f"give {wanted} one of recurrence and occurrences")
        return "", []
    if recurrence is not None:
        if zone is None:
            return "", []
        rule = v.check("recurrence.rule", parse_rule, recurrence.rule, zone)
        first = v.check("recurrence.first_start", parse_local_datetime, recurrence.first_start)
        if rule is None or first is None:
            return "", []
        starts = v.check("recurrence.rule", expand, rule, first)
        return rule, [
            PlanEntry(start, field=f"recurrence (occurrence {i + 1}, {start:%Y-%m-%d})")
            for i, start in enumerate(starts or [])
        ]
    if len(items) > MAX_OCCURRENCES:
        v.add("occurrences", f"must be at most {MAX_OCCURRENCES}; add more with AddPlanOccurrences")
    entries = []
    for i, o in enumerate(items[:MAX_OCCURRENCES]):
        start = v.check(f"occurrences[{i}].start", parse_local_datetime, o.start)
        topic = v.check(f"occurrences[{i}].topic", parse_topic, o.topic)
        title = v.check(f"occurrences[{i}].title", parse_line, o.title, 200, False)
        if start is not None and topic is not None and title is not None:
            entries.append(PlanEntry(start, topic, title, f"occurrences[{i}].start"))
    starts = [e.start for e in entries]
    if len(set(starts)) != len(starts):
        v.add("occurrences", "must not repeat a start")
    return "", sorted(entries, key=lambda e: e.start)


def parse_duration(minutes: int) -> int:
    if minutes == 0:
        return DEFAULT_DURATION_MINUTES
    if minutes > 1440:
        raise ValueError("must be from 1 to 1440")
    return minutes
