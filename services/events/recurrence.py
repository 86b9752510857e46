"""Meeting plans as RFC 5545 recurrence rules, expanded with dateutil.

A rule is expanded in wall-clock time (the plan's zone) from a first local
start, so "the last Tuesday of February, April, June, September and November
at 19:00" stays at 19:00 in London through summer time. Rules must end (COUNT
or UNTIL): each occurrence becomes a convening of its own.
"""

from __future__ import annotations

from datetime import MAXYEAR, UTC, datetime
from itertools import islice

from dateutil.rrule import rrule, rrulestr

from services.events.values import local_time
from services.kernel.parsing import MAX_YEAR, YEARS, check_years

MAX_OCCURRENCES = 60
# Occurrences are looked for this many years ahead of the first start, no further.
HORIZON_YEARS = 10
# The Gregorian calendar repeats every 400 years (146097 days, 20871 whole weeks).
CYCLE_YEARS = 400
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


def expand(
    rule: str,
    first_start: datetime,
    limit: int = MAX_OCCURRENCES,
    horizon_years: int = HORIZON_YEARS,
) -> list[datetime]:
    """The rule's local start times from `first_start` (naive, wall-clock), at most `limit`,
    all within `horizon_years` of it and no later than the year MAX_YEAR.

    The work is bounded: dateutil looks for a rule's next occurrence until year 9999, and a
    rule that never matches (`FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=5`) would have it scan
    eight millennia. So the rule is expanded whole 400-year cycles later (same weekdays,
    same leap years), where at most horizon + 400 years remain before 9999, and the times
    are moved back. A COUNT that the occurrences found there do not reach, or an UNTIL
    past the end, means the rule reaches past the end.
    """
    horizon = _years_later(first_start, horizon_years)
    last = datetime(MAX_YEAR, 12, 31, 23, 59, 59)
    end = min(horizon, last)

    def beyond(what: str) -> ValueError:
        if end == last and horizon > last:
            return ValueError(f"{what} falls after {MAX_YEAR}: dates must be {YEARS}")
        return ValueError(f"{what} is more than {horizon_years} years past the first start")

    shift = max(0, (MAXYEAR - horizon_years - first_start.year) // CYCLE_YEARS) * CYCLE_YEARS
    try:
        parsed = rrulestr(rule, dtstart=_years_later(first_start, shift))
        if not isinstance(parsed, rrule):
            raise ValueError("not a single rule")
        until: datetime | None = getattr(parsed, "_until", None)
        count: int | None = getattr(parsed, "_count", None)
        if until is not None:
            if until > end:
                raise beyond("UNTIL")
            parsed = parsed.replace(until=_years_later(until, shift))
        found = [_years_later(o, -shift) for o in islice(parsed, limit + 1)]
    except (TypeError, OverflowError) as error:
        raise ValueError(f"is not a valid recurrence rule: {error}") from None
    except ValueError as error:
        if "past the first start" in str(error) or "falls after" in str(error):
            raise
        raise ValueError(f"is not a valid recurrence rule: {error}") from None
    if not found:
        raise ValueError(f"gives no occurrences within {horizon_years} years of the first start")
    if len(found) > limit:
        raise ValueError(f"gives more than {limit} occurrences; add them in several steps")
    for index, start in enumerate(found):
        if start > end:
            raise beyond(f"occurrence {index + 1} ({start:%Y-%m-%d})")
        try:
            check_years(start)
        except ValueError as error:
            raise ValueError(f"occurrence {index + 1} ({start:%Y-%m-%d}) {error}") from None
    if count is not None and len(found) < count:  # the rest lie past the end
        raise beyond(f"occurrence {len(found) + 1}")
    return found


def _years_later(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February, moved a number of years that is not a multiple of 4
        return moment.replace(year=moment.year + years, day=28)
