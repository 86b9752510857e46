"""Stores written by earlier code still open: every stored event loads, every aggregate
rebuilds, every read model rebuilds, and the relay can publish every event.

tests/fixtures/legacy-stores/ holds each service's event store as the code before
the code-shape moves wrote it (tests/fixtures/make_legacy_stores.py; classes added
since, by tests/fixtures/extend_legacy_stores.py): at least one event of every
aggregate and event class, under the topics (`<module>:<class>`) of that time. Moving a
domain class must keep those topics resolving (`services/<service>/topics.py`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, DomainEvent

from services.common.aggregate import TracedAggregate
from services.common.application import CopnetApplication
from services.common.inbox import read_message
from services.common.messaging import NodeIdentity
from services.common.projection import ProjectionFollower
from services.common.service import ServiceDefinition
from services.common.sqlstore import SqlStore
from services.common.stores import StoreSettings
from services.contracts.erasure import MemberErasure
from services.events.service import DEFINITION as EVENTS
from services.learning.service import DEFINITION as LEARNING
from services.notify.service import DEFINITION as NOTIFY
from services.registry.domain import Member
from services.registry.service import DEFINITION as REGISTRY

FIXTURE = Path(__file__).parents[1] / "fixtures" / "legacy-stores"
# Event classes added after the fixture was written (they have no older topic to keep);
# erasure's are exercised by tests/node/test_erasure.py.
# The requested-address event likewise (tests/messaging/test_email_change.py).
NEWER_THAN_FIXTURE: set[type] = {
    Member.Erased,
    MemberErasure.Recorded,
    Member.EmailChangeRequested,
}
NEWER_EVENT_TYPES = {"member_erased", "member_erasure_recorded", "member_email_change_requested"}
# Tables that only an erasure, or a requested address, fills.
NEWER_TABLES = {"erased_members", "pending_addresses"}
IDENTITY = NodeIdentity("legacy", "legacy-region")
DEFINITIONS = {d.name: d for d in (REGISTRY, EVENTS, LEARNING, NOTIFY)}


@pytest.fixture
def stores(tmp_path: Path) -> StoreSettings:
    """A copy of the fixture (opening a store may write to it)."""
    shutil.copytree(FIXTURE, tmp_path / "data")
    return StoreSettings(data_dir=tmp_path / "data")


@pytest.fixture
def apps(stores: StoreSettings) -> Iterator[dict[str, CopnetApplication]]:
    opened = {
        name: d.application(env={**stores.application_env(name), "COPNET_NODE_ID": "legacy"})
        for name, d in DEFINITIONS.items()
    }
    yield opened
    for app in opened.values():
        app.close()


def stored(app: CopnetApplication) -> list[tuple[Any, int]]:
    notifications = app.recorder.select_notifications(start=0, limit=1_000_000)
    return [(app.mapper.to_domain_event(n), n.id) for n in notifications]


def aggregate_classes() -> set[type[Aggregate]]:
    """The services' aggregates (not those other tests define, e.g. test_batching's)."""
    found: set[type[Aggregate]] = set()
    pending: list[type[Aggregate]] = [TracedAggregate]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass.__module__.startswith("services."):
                found.add(subclass)
            pending.append(subclass)
    return found


def event_classes(aggregate: type[Aggregate]) -> set[type[DomainEvent]]:
    """The event classes an aggregate stores (not its base `Event`, and not the generic
    `Created` when its creation event has a name of its own)."""
    members = vars(aggregate)
    found = {
        value
        for name, value in members.items()
        if isinstance(value, type) and issubclass(value, DomainEvent) and name != "Event"
    }
    if len({e for e in found if issubclass(e, Aggregate.Created)}) > 1:
        found.discard(members["Created"])
    return found


def test_every_stored_event_and_aggregate_loads(apps: dict[str, CopnetApplication]) -> None:
    seen: set[type] = set()
    for app in apps.values():
        events = stored(app)
        assert events, f"{app.name} has no stored events"
        versions: dict[Any, int] = {}
        for event, _ in events:
            seen.add(type(event))
            versions[event.originator_id] = event.originator_version
        for originator_id, version in versions.items():
            assert app.repository.get(originator_id).version == version
    expected = set().union(*(event_classes(a) for a in aggregate_classes())) - NEWER_THAN_FIXTURE
    missing = sorted(f"{e.__module__}:{e.__qualname__}" for e in expected - seen)
    assert not missing, f"the fixture has no stored event of {missing}"


def view_store(stores: StoreSettings, service: str, name: str) -> SqlStore:
    return SqlStore(f"{service}_{name}", stores.tracking_env(service, name))


def row_counts(store: SqlStore, tables: Any) -> dict[str, int]:
    with store.read() as tx:
        return {t: tx.one(f"SELECT COUNT(*) AS n FROM {t}")["n"] for t in tables}  # type: ignore[index]


@pytest.mark.parametrize("service", list(DEFINITIONS))
def test_read_models_rebuild(
    service: str, stores: StoreSettings, apps: dict[str, CopnetApplication]
) -> None:
    definition: ServiceDefinition = DEFINITIONS[service]
    app = apps[service]
    last = stored(app)[-1][1]
    for projection_class in definition.projections:
        store = view_store(stores, service, f"rebuilt_{projection_class.name}")
        try:
            view = projection_class(store)
            follower = ProjectionFollower(app, view)
            follower.catch_up()
            assert follower.position == last
            counts = row_counts(store, view.table_names)
            assert all(counts.values()), f"{projection_class.name}: empty tables in {counts}"
        finally:
            store.close()


@pytest.mark.parametrize("service", [d.name for d in DEFINITIONS.values() if d.inboxes])
def test_registry_mirrors_rebuild(
    service: str, stores: StoreSettings, apps: dict[str, CopnetApplication]
) -> None:
    """What other services keep of the registry, from its (legacy) events."""
    registry = apps["registry"]
    views = [i.view for i in DEFINITIONS[service].inboxes if i.view is not None]
    assert views
    for view_class in views:
        store = view_store(stores, service, f"rebuilt_{view_class.name}")
        try:
            view = view_class(store)
            applied = 0
            for event, position in stored(registry):
                for p in REGISTRY.integration.publications(event, position, IDENTITY):
                    message = read_message(p.subject, p.headers, p.envelope.SerializeToString())
                    applied += view.handle(message)
            assert applied
            counts = row_counts(store, set(view.table_names) - NEWER_TABLES)
            assert all(counts.values()), f"{view_class.name}: empty tables in {counts}"
        finally:
            store.close()


@pytest.mark.parametrize("service", list(DEFINITIONS))
def test_the_relay_publishes_stored_events(
    service: str, apps: dict[str, CopnetApplication]
) -> None:
    app = apps[service]

    def load_state(event: Any) -> Any:
        return app.repository.get(event.originator_id, version=event.originator_version)

    integration = DEFINITIONS[service].integration
    published = [
        p
        for event, position in stored(app)
        for p in integration.publications(event, position, IDENTITY, load_state)
    ]
    assert published
    assert {p.envelope.event_type for p in published} == (
        integration.event_types - NEWER_EVENT_TYPES
    )
