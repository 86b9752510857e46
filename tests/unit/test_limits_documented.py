"""README's table of limits says what the code enforces: each row's value is its constant's."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.common import protoconv
from services.kernel import parsing

README = Path(__file__).resolve().parents[2] / "README.md"


def limit_rows() -> list[tuple[str, str, str]]:
    text = README.read_text()
    table = text[text.index("#### Limits") :]
    rows = []
    for line in table.splitlines():
        if not line.startswith("| ") or line.startswith("| limit") or line.startswith("|---"):
            if rows and not line.startswith("|"):
                break
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append((cells[0], cells[1], cells[3].strip("`")))
    return rows


def constant(path: str) -> object:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_every_limit_in_the_readme_is_the_code_s():
    rows = limit_rows()
    assert len(rows) > 30
    for what, value, path in rows:
        if not path:
            continue
        number = float(re.match(r"[\d.]+", value.replace(",", "")).group())  # type: ignore[union-attr]
        actual = constant(path)
        if isinstance(actual, timedelta):
            unit = value.split()[1]
            actual = actual.total_seconds() / {"days": 86400, "seconds": 1, "hours": 3600}[unit]
        assert actual == number, (what, value, path, actual)


def test_timestamps_and_dates_share_one_range():
    first = datetime(parsing.MIN_YEAR, 1, 1, tzinfo=UTC)
    last = datetime(parsing.MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert int(first.timestamp()) == protoconv.MIN_TIMESTAMP_SECONDS
    assert int(last.timestamp()) == protoconv.MAX_TIMESTAMP_SECONDS


def test_errors_list_a_bounded_number_of_values():
    assert parsing.listing(["a", "b"]) == "a, b"
    many = parsing.listing([str(n) for n in range(407)])
    assert many.startswith("0, 1, 2") and many.endswith("9 and 397 more")
