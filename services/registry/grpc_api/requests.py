"""Reading RegistryService requests: each parser records the violations of the fields it
reads (`Violations`) and returns the parsed value, or None when it is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID

from services.common.errors import Violations
from services.common.servicer import uuid_list
from services.kernel.parsing import parse_date


def host_organisation_ids(values: Iterable[str], v: Violations) -> list[UUID]:
    return uuid_list("host_organisation_ids", values, v, "must not repeat an organisation")


def optional_date(field: str, value: str, v: Violations) -> date | None:
    if not value:
        return None
    return v.check(field, parse_date, value)
