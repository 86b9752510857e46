"""Old topics of moved domain classes, so that stored events keep loading.

A stored event names its class by topic, `<module>:<qualified name>` (for
example `services.events.domain:Convening.Scheduled`), and a created event also
names its aggregate's class. When a domain class moves to another module, every
topic already stored must still resolve: each service declares, in
`services/<service>/topics.py` (imported by its domain), the modules its
aggregates used to live in, and `keep_old_topics` registers the old topics of
each aggregate class and of each of its event classes.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import register_topic


def stored_classes(aggregate: type[Aggregate]) -> dict[str, type]:
    """The aggregate class and its event classes, by qualified name."""
    found: dict[str, type] = {aggregate.__qualname__: aggregate}
    for name, value in vars(aggregate).items():
        if isinstance(value, type) and issubclass(value, DomainEvent):
            found[f"{aggregate.__qualname__}.{name}"] = value
    return found


def keep_old_topics(old_module: str, *aggregates: type[Aggregate]) -> None:
    """Makes `<old_module>:<class>` resolve to each aggregate and event class."""
    for aggregate in aggregates:
        for qualname, cls in stored_classes(aggregate).items():
            register_topic(f"{old_module}:{qualname}", cls)
