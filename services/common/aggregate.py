"""The aggregate base class of every copnet service.

Each stored event records who caused it (`actor`) and the W3C trace context of
the command that caused it (`trace_context`), so that the relay, running later
and elsewhere, can continue the trace into NATS.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import field
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, MetaAggregate
from opentelemetry import propagate

_current_actor: ContextVar[str] = ContextVar("copnet_actor", default="system")


def current_trace_carrier() -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    token = _current_actor.set(actor)
    try:
        yield
    finally:
        _current_actor.reset(token)


if TYPE_CHECKING:

    class _AggregateClass(MetaAggregate[Any]):
        """What the type checker knows of an aggregate class: `@event("Renamed")` makes
        its event class (`Organisation.Renamed`) when the class is created, unseen by
        mypy, so any attribute it does not know is taken for an event class."""

        def __getattr__(cls, name: str) -> type[Aggregate.Event]: ...

else:
    _AggregateClass = MetaAggregate


class TracedAggregate(Aggregate, metaclass=_AggregateClass):
    class Event(Aggregate.Event):
        trace_context: dict[str, str] = field(default_factory=current_trace_carrier, init=False)
        actor: str = field(default_factory=_current_actor.get, init=False)

    class Created(Event, Aggregate.Created):
        pass


def copy_containers(aggregate: Any, memo: dict[int, Any]) -> Any:
    """A deep copy (for `__deepcopy__`) of an aggregate whose every value is immutable
    (frozen dataclasses, enums, UUIDs, datetimes, strings): copying its lists, dicts and
    sets makes the copy independent, in time linear in their sizes. The repository copies
    cached aggregates for each command; a convening or a community of thousands stays fast.
    """
    copy = object.__new__(type(aggregate))
    for name, value in aggregate.__dict__.items():
        if isinstance(value, (list, dict, set)):
            value = type(value)(value)
        copy.__dict__[name] = value
    memo[id(aggregate)] = copy
    return copy
