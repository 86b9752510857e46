"""Reading the report page as a client does: HTTPS checked against the demo's CA, a bearer
token, and the numbers out of the page's tables (every chart's numbers are in one)."""

from __future__ import annotations

import http.client
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def fetch(url: str, ca_file: Path, token: str = "", timeout: float = 60.0) -> Answer:
    context = ssl.create_default_context(cafile=str(ca_file))
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as reply:
            return Answer(reply.status, _lower(reply.headers.items()), reply.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, _lower(error.headers.items()), error.read().decode())


def report_urls(demo_output: str) -> dict[str, str]:
    """The addresses `copnet demo` printed under "The report pages"."""
    _, _, tail = demo_output.partition("The report pages")
    return dict(re.findall(r"^  ([a-z0-9-]+): (https://\S+/)$", tail, re.M))


@dataclass
class _Tables(HTMLParser):
    """Each table's rows, keyed by its chart's key (`data-chart`) or its own id."""

    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    _keys: list[str] = field(default_factory=list)
    _current: list[list[str]] | None = None
    _cell: list[str] | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "figure" and values.get("data-chart"):
            self._keys.append(values["data-chart"] or "")
        elif tag == "table":
            key = values.get("id") or (self._keys[-1] if self._keys else f"t{len(self.tables)}")
            self._current = self.tables.setdefault(key or "", [])
        elif tag == "tr" and self._current is not None:
            self._current.append([])
        elif tag in ("td", "th") and self._current is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._current:
            self._current[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def table(page: str, prefix: str) -> list[list[str]]:
    """The rows (header first) of the one table whose key starts with `prefix`."""
    found = [rows for key, rows in tables(page).items() if key.startswith(prefix)]
    assert len(found) == 1, f"{len(found)} tables start with {prefix!r}: {list(tables(page))}"
    return found[0]


def row(rows: list[list[str]], first: str) -> dict[str, str]:
    """The row whose first cell starts with `first`, by column name."""
    header = rows[0]
    for cells in rows[1:]:
        if cells and cells[0].startswith(first):
            return dict(zip(header, cells, strict=True))
    raise AssertionError(f"no row {first!r} in {rows}")


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names as HTTP/1.1 servers may send them: in any case."""
    return {name.lower(): value for name, value in headers}


def post_form(url: str, ca_file: Path, body: bytes, timeout: float = 30.0) -> Answer:
    """A form posted as a browser does, redirects not followed (to see the cookie)."""
    parts = urllib.parse.urlsplit(url)
    context = ssl.create_default_context(cafile=str(ca_file))
    connection = http.client.HTTPSConnection(
        parts.hostname or "", parts.port, timeout=timeout, context=context
    )
    try:
        connection.request(
            "POST", parts.path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        reply = connection.getresponse()
        return Answer(reply.status, _lower(reply.getheaders()), reply.read().decode())
    finally:
        connection.close()
