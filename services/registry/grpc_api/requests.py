"""Reading RegistryService requests: each parser records the violations of the fields it
reads (`Violations`) and returns the parsed value, or None when it is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from services.common.errors import Violations
from services.common.servicer import uuid_list

# The most organisations that may host one community.
MAX_HOSTS = 20


def host_organisation_ids(values: Iterable[str], v: Violations) -> list[UUID]:
    return uuid_list(
        "host_organisation_ids", values, v, "must not repeat an organisation", MAX_HOSTS
    )
