"""Keyset paging with opaque page tokens.

A token carries the sort key of the last item returned and a digest of the
filters it was issued for, so a token reused with other filters is refused
instead of silently returning the wrong page.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

R = TypeVar("R")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Page:
    size: int
    after: tuple[Any, ...] | None
    filters_digest: str

    def next_token(self, rows: Sequence[R], key_of: Callable[[R], Iterable[object]]) -> str:
        """A token for the page after `rows`, or "" when this was the last page."""
        if len(rows) < self.size:
            return ""
        payload = {"after": list(key_of(rows[-1])), "filters": self.filters_digest}
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _digest(filters: dict[str, Any]) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def parse_page_size(page_size: int) -> int:
    if page_size < 0:
        raise ValueError("must not be negative")
    if page_size > MAX_PAGE_SIZE:
        raise ValueError(f"must be at most {MAX_PAGE_SIZE}")
    return page_size or DEFAULT_PAGE_SIZE


def parse_page_token(size: int, page_token: str, filters: dict[str, Any]) -> Page:
    """Raises ValueError when the token is not one this service issued for these filters."""
    digest = _digest(filters)
    if not page_token:
        return Page(size=size, after=None, filters_digest=digest)
    try:
        padded = page_token + "=" * (-len(page_token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = tuple(payload["after"])
        issued_for = payload["filters"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("is not a page token this service issued") from None
    if issued_for != digest:
        raise ValueError("was issued for different filters; start again without a page_token")
    return Page(size=size, after=after, filters_digest=digest)
