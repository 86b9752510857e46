"""Meeting plans as RFC 5545 recurrence rules, expanded with dateutil.

A rule is expanded in wall-clock time (the plan's zone) from a first local
start, so "the last Tuesday of February, April, June, September and November
at 19:00" stays at 19:00 in London through summer time. Rules must end (COUNT
or UNTIL): each occurrence becomes a convening of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice

from dateutil.rrule import rrulestr

from services.events.values import local_time
from services.kernel.parsing import check_years

MAX_OCCURRENCES = 60
_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
}


def parse_rule(text: str, time_zone: str) -> str:
    """The canonical RRULE value (without the 'RRULE:' prefix), checked.

    An UNTIL in UTC ('...Z') is turned into the plan's wall-clock time, so the
    rule can be expanded in local time.
    """
    value = text.strip()
    if value.upper().startswith("RRULE:"):
        value = value[len("RRULE:") :]
    if not value:
        raise ValueError("is required")
    if any(c.isspace() for c in value) or len(value) > 500:
        raise ValueError("must be one RRULE value such as 'FREQ=MONTHLY;BYDAY=2TU;COUNT=5'")
    parts: dict[str, str] = {}
    for item in value.upper().split(";"):
        name, equals, setting = item.partition("=")
        if not equals or not setting:
            raise ValueError(f"'{item}' is not NAME=VALUE")
        if name not in _PARTS:
            raise ValueError(f"{name} is not supported; use {', '.join(sorted(_PARTS))}")
        if name in parts:
            raise ValueError(f"{name} is given twice")
        parts[name] = setting
    if parts.get("FREQ") not in _FREQUENCIES:
        raise ValueError(f"FREQ must be one of {', '.join(sorted(_FREQUENCIES))}")
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise ValueError("must end: give exactly one of COUNT and UNTIL")
    if "UNTIL" in parts and parts["UNTIL"].endswith("Z"):
        try:
            until = datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(
                "UNTIL must be a date (20241231) or a time (20241231T235959Z)"
            ) from None
        check_years(until)
        parts["UNTIL"] = local_time(until, time_zone).strftime("%Y%m%dT%H%M%S")
    return ";".join(f"{name}={setting}" for name, setting in parts.items())


def expand(rule: str, first_start: datetime, limit: int = MAX_OCCURRENCES) -> list[datetime]:
    """The rule's local start times from `first_start` (naive, wall-clock), at most `limit`."""
    try:
        occurrences = list(islice(rrulestr(rule, dtstart=first_start), limit + 1))
    except (ValueError, TypeError) as error:
        raise ValueError(f"is not a valid recurrence rule: {error}") from None
    if not occurrences:
        raise ValueError("gives no occurrences from the first start")
    if len(occurrences) > limit:
        raise ValueError(f"gives more than {limit} occurrences; add them in several steps")
    for index, start in enumerate(occurrences):
        try:
            check_years(start)
        except ValueError as error:
            raise ValueError(f"occurrence {index + 1} ({start:%Y-%m-%d}) {error}") from None
    return occurrences
