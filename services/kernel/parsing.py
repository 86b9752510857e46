"""One set of rules for the values people type: text, names, slugs, dates and links.

Each parser returns the canonical value or raises ValueError with a description
the caller can act on (a servicer turns it into a field violation of the field it
read). Services build their own values on these (a convening's title, a learning
item's summary) by choosing a length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from urllib.parse import urlsplit

MAX_NAME_LENGTH = 200
MAX_TEXT_LENGTH = 4000
MAX_SLUG_LENGTH = 64
MAX_LINK_LENGTH = 2000
# Every date and time a request gives (dates, local times, Timestamps) lies in these years.
MIN_YEAR = 1900
MAX_YEAR = 2200
YEARS = f"between the years {MIN_YEAR} and {MAX_YEAR}"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def check_printable(value: str) -> None:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")


def parse_line(value: str, max_length: int = MAX_NAME_LENGTH, required: bool = True) -> str:
    """One line of text (a name, a title): whitespace collapsed, no line breaks."""
    check_printable(value)
    if "\n" in value or "\r" in value:
        raise ValueError("must be a single line")
    line = " ".join(value.split())
    if required and not line:
        raise ValueError("is required")
    if len(line) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return line


def parse_name(value: str) -> str:
    """A required name of at most 200 characters."""
    return parse_line(value, MAX_NAME_LENGTH)


def parse_text(value: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    """Free text (paragraphs allowed), trimmed; may be empty."""
    check_printable(value)
    text = value.strip()
    if len(text) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return text


def parse_slug(value: str) -> str:
    """Lower-case letters and digits joined by single hyphens (slugs, domain tags)."""
    slug = value.strip()
    if not slug:
        raise ValueError("is required")
    if len(slug) > MAX_SLUG_LENGTH or not _SLUG.match(slug):
        raise ValueError(
            f"must be lower-case letters and digits joined by single hyphens, "
            f"at most {MAX_SLUG_LENGTH} characters (e.g. 'south-east-london')"
        )
    return slug


def check_years(value: date) -> None:
    """Raises ValueError unless the date (or a datetime's date) lies in MIN_YEAR..MAX_YEAR."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"must be {YEARS}")


def parse_date(value: str) -> date:
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be an ISO 8601 date such as '2024-03-01'") from None
    check_years(parsed)
    return parsed


def parse_local_datetime(value: str) -> datetime:
    """A wall-clock date and time without offset, e.g. '2024-06-18T19:00'."""
    text = value.strip()
    if not text:
        raise ValueError("is required")
    try:
        parsed = datetime.fromisoformat(text) if len(text) > 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError("must be a local date and time such as '2024-06-18T19:00'")
    if parsed.tzinfo is not None:
        raise ValueError(
            "must be a local date and time without an offset; give the zone in time_zone"
        )
    check_years(parsed)
    return parsed


def parse_optional_date(value: str) -> date | None:
    """A date, or None for an empty field (a filter or a date the caller may leave out)."""
    return parse_date(value) if value else None


def parse_link(value: str, required: bool = False) -> str:
    """An absolute http(s) URL without spaces, or "" when not required."""
    link = value.strip()
    if not link:
        if required:
            raise ValueError("is required")
        return ""
    if len(link) > MAX_LINK_LENGTH:
        raise ValueError(f"must be at most {MAX_LINK_LENGTH} characters")
    check_printable(link)
    if any(c.isspace() for c in link):
        raise ValueError("must not contain spaces")
    parts = urlsplit(link)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError("must be an http or https address such as 'https://meet.nhs.uk/abc'")
    return link


# Errors name at most this many ids (or other values) of a list; the rest are counted.
MAX_LISTED = 10


def listing(values: Sequence[object], limit: int = MAX_LISTED) -> str:
    """Values for a message, bounded: 'a, b, c' or 'a, b, ..., j and 397 more'."""
    shown = ", ".join(str(v) for v in values[:limit])
    rest = len(values) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown
