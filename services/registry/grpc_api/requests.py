"""Reading RegistryService requests: each parser records the violations of the fields it
reads (`Violations`) and returns the parsed value, or None when it is wrong.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from services.common.errors import Violations
from services.common.servicer import parse_uuid
from services.kernel.parsing import parse_date
from services.registry.application import KEEP


def optional(request: Any, field: str, v: Violations, parse: Any) -> Any:
    """KEEP when the optional field is unset, else its parsed value."""
    if not request.HasField(field):
        return KEEP
    return v.check(field, parse, getattr(request, field))


def required_uuid(field: str, value: str) -> UUID:
    v = Violations()
    parsed = v.check(field, parse_uuid, value)
    v.raise_if_any()
    return parsed


def uuid_list(field: str, values: Any, v: Violations) -> list:
    parsed = []
    for index, value in enumerate(values):
        item = v.check(f"{field}[{index}]", parse_uuid, value)
        if item is not None:
            parsed.append(item)
    if len(set(parsed)) != len(parsed):
        v.add(field, "must not repeat an organisation")
    return parsed


def optional_date(field: str, value: str, v: Violations) -> date | None:
    if not value:
        return None
    return v.check(field, parse_date, value)
