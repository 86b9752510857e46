"""Conversions between protobuf values and domain values, shared by servicers and relays."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Generic, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

TEnum = TypeVar("TEnum", bound=StrEnum)


def _upper_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


class EnumCodec(Generic[TEnum]):
    """Pairs a protobuf enum with a domain enum by name: ROLE_CO_LEAD <-> Role.CO_LEAD."""

    def __init__(self, pb_enum, domain_enum: type[TEnum]) -> None:
        self.pb_enum = pb_enum
        self.domain_enum = domain_enum
        self.prefix = _upper_snake(pb_enum.DESCRIPTOR.name) + "_"
        self._to_pb = {member: pb_enum.Value(self.prefix + member.name) for member in domain_enum}
        self._to_domain = {number: member for member, number in self._to_pb.items()}

    def to_pb(self, value: TEnum | str) -> int:
        return self._to_pb[self.domain_enum(value)]

    def to_domain(self, number: int) -> TEnum:
        """Raises ValueError for UNSPECIFIED or unknown numbers, naming the allowed values."""
        try:
            return self._to_domain[number]
        except KeyError:
            allowed = ", ".join(self.prefix + member.name for member in self.domain_enum)
            raise ValueError(f"must be one of {allowed}") from None

    def to_domain_or_none(self, number: int) -> TEnum | None:
        """For filters, where UNSPECIFIED means 'any'."""
        return None if number == 0 else self.to_domain(number)


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def date_text(value: date | None) -> str:
    return value.isoformat() if value else ""
