"""Conversions between protobuf values and domain values, shared by servicers and relays."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar, cast, overload

from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

TEnum = TypeVar("TEnum", bound=StrEnum)
TPb = TypeVar("TPb", bound=int)


class ProtoEnum(Protocol):
    """A generated protobuf enum class (its metaclass, EnumTypeWrapper, answers these)."""

    DESCRIPTOR: EnumDescriptor

    def Name(self, number: int) -> str: ...
    def Value(self, name: str) -> int: ...


def enum_prefix(pb_enum: ProtoEnum) -> str:
    """What every value name of a protobuf enum starts with: Role -> 'ROLE_'."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", pb_enum.DESCRIPTOR.name).upper() + "_"


def enum_value(pb_enum: ProtoEnum, number: int) -> str:
    """A protobuf enum number as the lower-case value a domain enum or a table keeps:
    ROLE_CO_LEAD -> 'co_lead'; 'unknown' for numbers this build does not know."""
    try:
        name = pb_enum.Name(number)
    except ValueError:
        return "unknown"
    return name.removeprefix(enum_prefix(pb_enum)).lower()


class EnumCodec(Generic[TPb, TEnum]):
    """Pairs a protobuf enum with a domain enum by name: ROLE_CO_LEAD <-> Role.CO_LEAD."""

    def __init__(self, pb_enum: type[TPb], domain_enum: type[TEnum]) -> None:
        # A generated enum class is both: its values' type, and (its metaclass) a ProtoEnum.
        wrapper = cast(ProtoEnum, pb_enum)
        self.domain_enum = domain_enum
        self.prefix = enum_prefix(wrapper)
        self._to_pb: dict[TEnum, TPb] = {
            member: cast(TPb, wrapper.Value(self.prefix + member.name)) for member in domain_enum
        }
        self._to_domain: dict[int, TEnum] = {
            number: member for member, number in self._to_pb.items()
        }

    def to_pb(self, value: TEnum | str) -> TPb:
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


@overload
def timestamp(value: datetime) -> Timestamp: ...
@overload
def timestamp(value: None) -> None: ...
def timestamp(value: datetime | None) -> Timestamp | None:
    """A protobuf Timestamp of a time; None (an unset field) for None."""
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


# The Timestamps a request may carry: 1900-01-01T00:00:00Z up to the end of 2200 (UTC),
# the years the kernel's dates allow (`services.kernel.parsing.MIN_YEAR`, `MAX_YEAR`).
MIN_TIMESTAMP_SECONDS = -2208988800
MAX_TIMESTAMP_SECONDS = 7289654399


def checked_time(stamp: Timestamp) -> datetime:
    """The time of a request's Timestamp (UTC); ValueError outside 1900 to 2200 or with
    nanos outside 0..999,999,999 (what protobuf's own conversion would fail on)."""
    if not 0 <= stamp.nanos <= 999_999_999:
        raise ValueError("must have nanos between 0 and 999999999")
    if not MIN_TIMESTAMP_SECONDS <= stamp.seconds <= MAX_TIMESTAMP_SECONDS:
        raise ValueError("must be between the years 1900 and 2200 (UTC)")
    return stamp.ToDatetime(UTC)


def optional_time(message: Message, field: str) -> datetime | None:
    """The time in a message's optional Timestamp field (UTC); None when it is unset.
    Raises ValueError (`checked_time`) for one out of range: read it with `Violations.check`."""
    if not message.HasField(field):
        return None
    return checked_time(cast(Timestamp, getattr(message, field)))


def date_text(value: date | None) -> str:
    return value.isoformat() if value else ""
