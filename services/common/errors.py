"""Errors that domain and application code raise.

They say what went wrong in the caller's terms and know nothing of gRPC;
the gRPC server (`services.common.grpc_server`) maps each one to a status code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ParamSpec, TypeVar, cast

P = ParamSpec("P")
T = TypeVar("T")


class CopnetError(Exception):
    """Base class of every error a caller can cause."""


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class InvalidArgument(CopnetError):
    """One or more request fields are malformed."""

    def __init__(self, violations: list[FieldViolation]):
        self.violations = violations
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))

    @classmethod
    def single(cls, field: str, description: str) -> InvalidArgument:
        return cls([FieldViolation(field, description)])


class NotFound(CopnetError):
    """The named entity does not exist."""


class AlreadyExists(CopnetError):
    """A unique key (slug, ODS code, e-mail address...) is already taken."""


class FailedPrecondition(CopnetError):
    """The entity is not in a state that allows the command."""


class ConcurrencyConflict(CopnetError):
    """The entity changed since the caller read it, or a concurrent write won."""


class PermissionDenied(CopnetError):
    """The caller is known but may not do this."""


class Unauthenticated(CopnetError):
    """The caller could not be identified."""


class Unavailable(CopnetError):
    """A dependency (database, message bus) is temporarily out of reach; retry later."""


def stand_in(kind: type[T]) -> T:
    """What a request reader answers in place of a value it recorded a violation for: None,
    typed as that value for its callers, who call `Violations.raise_if_any()` before any use."""
    return cast(T, None)


class Violations:
    """Collects every field violation of a request before raising them together.

    Parsers raise ValueError with a description; `check` turns that into a
    violation of the named field and returns None so that validation goes on. The
    caller calls `raise_if_any()` before it uses any value `check` returned.
    """

    def __init__(self) -> None:
        self._violations: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self._violations.append(FieldViolation(field, description))

    def check(self, field: str, parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return parse(*args, **kwargs)
        except ValueError as error:
            self.add(field, str(error))
            return cast(T, None)  # a stand_in of whatever parse returns

    @contextmanager
    def field(self, name: str) -> Iterator[None]:
        try:
            yield
        except ValueError as error:
            self.add(name, str(error))

    def raise_if_any(self) -> None:
        if self._violations:
            raise InvalidArgument(list(self._violations))

    def __bool__(self) -> bool:
        return bool(self._violations)
