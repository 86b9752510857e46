"""`StatesAfter`: the states a relay batch and a projection batch build along their events
are the states the store gives, and they are built with far fewer reads of the store.

A learning application with real stores receives other nodes' items (created,
receipt reported, updated, retracted, interleaved across items and origins), and a
registry (which has personal data) records members. Every stored event's state, and
every message the relay would publish for it, is compared with what
`repository.get(id, version=...)` gives.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.persistence import Tracking

from services.common.application import CopnetApplication
from services.common.messaging import NodeIdentity
from services.common.projection import ProjectionFollower
from services.common.settings import NodeSettings
from services.common.sqlstore import SqlStore, SqlTx
from services.common.stateafter import StatesAfter
from services.learning.application import Learning
from services.learning.domain import ReceivedItem
from services.learning.integration import LEARNING
from services.learning.views import Catalogue
from services.registry.application import Registry
from tests.support.registry_load import RegistryLoad

IDENTITY = NodeIdentity("testnode", "test-region")


def snapshot(origin: str, item_id: str, version: int, title: str) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "origin_node": origin,
        "kind": "resource",
        "status": "published",
        "revision": version,
        "title": title,
        "summary": "",
        "body": f"body {version}",
        "links": [],
        "domain_tags": ["sepsis"],
        "community_id": str(uuid.uuid4()),
        "community_name": "Sepsis",
        "organisation_id": str(uuid.uuid4()),
        "organisation_name": "Trust",
        "contributors": [],
        "visibility": "region",
        "partner_nodes": [],
        "presentations": [],
        "adoptions": [],
        "adoption_history": [],
        "receptions": [],
        "revisions": [],
        "published_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "version": version,
        "withdrawn_reason": "",
    }


def received_items(settings: NodeSettings) -> Learning:
    settings.stores.prepare("learning")
    app = Learning(env=settings.stores.application_env("learning"))
    positions = {"node-a": 0, "node-b": 0}
    items = {origin: [str(uuid.uuid4()) for _ in range(3)] for origin in positions}

    def track(origin: str) -> Tracking:
        positions[origin] += 1
        return Tracking(f"{origin}.learning", positions[origin])

    for version in (1, 2, 3):
        for origin, ids in items.items():
            for n, item_id in enumerate(ids):
                title = f"{origin} item {n} v{version}"
                app.receive_snapshot(
                    track(origin), origin, snapshot(origin, item_id, version, title), False
                )
    app.receive_retraction(track("node-a"), "node-a", items["node-a"][0], 9)
    app.receive_snapshot(
        track("node-a"), "node-a", snapshot("node-a", items["node-a"][0], 10, "back"), False
    )
    return app


def stored_events(app: CopnetApplication, start: int = 0) -> list[tuple[Any, int]]:
    notifications = app.recorder.select_notifications(start, 10_000, inclusive_of_start=False)
    return [(app.mapper.to_domain_event(n), n.id) for n in notifications]


def from_store(app: CopnetApplication) -> Any:
    return lambda e: app.repository.get(e.originator_id, version=e.originator_version)


def test_states_built_along_a_run_are_the_stored_states(node_settings: NodeSettings) -> None:
    app = received_items(node_settings)
    events = stored_events(app)
    # 6 items: received and receipt reported, updated twice; one retracted and back.
    assert len(events) == 6 * 2 + 6 * 2 + 2
    load = from_store(app)
    states = StatesAfter(load)
    for event, _ in events:
        built = states(event)
        assert states(event) is built, "the same event asked again: the same state"
        expected = load(event)
        assert type(built) is type(expected)
        assert built.__dict__ == expected.__dict__, (
            f"{type(event).__qualname__} v{event.originator_version}"
        )
    # Each item's first event makes it from the event alone; the rest follow on.
    assert states.loaded == 0


def test_a_run_that_starts_mid_history_reads_each_aggregate_once(
    node_settings: NodeSettings,
) -> None:
    app = received_items(node_settings)
    everything = stored_events(app)
    later = stored_events(app, start=everything[len(everything) // 2][1])
    states = StatesAfter(from_store(app))
    for event, _ in later:
        assert states(event).__dict__ == from_store(app)(event).__dict__
    aggregates = {event.originator_id for event, _ in later}
    created_in_run = {e.originator_id for e, _ in later if e.originator_version == 1}
    assert states.loaded == len(aggregates - created_in_run)
    assert states.loaded > 0, "the run should start in the middle of some items' histories"


def test_states_from_the_loader_are_never_changed(node_settings: NodeSettings) -> None:
    """A loader may hand out states others read too (notify's `RecentStates` does): the
    run copies one before applying the next event to it."""
    app = received_items(node_settings)
    everything = stored_events(app)
    later = stored_events(app, start=everything[len(everything) // 2][1])
    handed: dict[tuple[Any, int], Any] = {}

    def shared(e: Any) -> Any:
        state = from_store(app)(e)
        handed[(e.originator_id, e.originator_version)] = state
        return state

    states = StatesAfter(shared)
    for event, _ in later:
        assert states(event).__dict__ == from_store(app)(event).__dict__
    assert handed, "some states came from the loader"
    for (aggregate_id, version), state in handed.items():
        assert state.version == version
        assert state.__dict__ == app.repository.get(aggregate_id, version=version).__dict__


def test_relay_publications_with_built_states_are_byte_for_byte_the_same(
    node_settings: NodeSettings,
) -> None:
    app = received_items(node_settings)
    states = StatesAfter(from_store(app))
    published = 0
    for event, position in stored_events(app):
        built = LEARNING.publications(event, position, IDENTITY, states)
        expected = LEARNING.publications(event, position, IDENTITY, from_store(app))
        assert [(p.subject, p.headers, p.envelope.SerializeToString()) for p in built] == [
            (p.subject, p.headers, p.envelope.SerializeToString()) for p in expected
        ]
        published += len(built)
    assert published >= 20, "item_arrived and item_received for every item"


def test_an_application_with_personal_data_reads_every_state_from_the_store(
    node_settings: NodeSettings,
) -> None:
    node_settings.stores.prepare("registry")
    registry = Registry(env=node_settings.stores.application_env("registry"))
    assert registry.personal_data, "the registry seals members' personal fields"
    load = RegistryLoad(registry)
    for _ in range(3):
        load.step()
    events = stored_events(registry)
    states = StatesAfter(from_store(registry), reuse=not registry.personal_data)
    for event, _ in events:
        assert states(event).__dict__ == from_store(registry)(event).__dict__
    assert states.loaded == len(events)


class SeenCatalogue(Catalogue):
    """The catalogue, noting each event it is handed."""

    def __init__(self, store: SqlStore) -> None:
        super().__init__(store)
        self.seen: list[type] = []

    def apply(self, domain_event: Any, tx: SqlTx) -> None:
        self.seen.append(type(domain_event))
        super().apply(domain_event, tx)


def test_a_follower_decodes_only_the_events_its_projection_reads(
    node_settings: NodeSettings,
) -> None:
    app = received_items(node_settings)
    node_settings.stores.prepare("unit")
    catalogue = SeenCatalogue(
        SqlStore("unit_catalogue", node_settings.stores.tracking_env("unit", "catalogue"))
    )
    # Small batches, so that some end with a receipt the catalogue does not read.
    follower = ProjectionFollower(app, catalogue, batch_size=3)
    follower.catch_up()
    last = app.recorder.max_notification_id()
    assert catalogue.position() == follower.position == last
    assert ReceivedItem.ReceiptReported not in catalogue.seen
    assert len(catalogue.seen) == len(stored_events(app)) - 6, "all but the 6 receipts"
    entries = {
        e.snapshot["title"]
        for e in (
            catalogue.entry(ev.item_id)
            for ev, _ in stored_events(app)
            if ev.originator_version == 1
        )
        if e is not None
    }
    assert {t for t in entries if t.endswith("v3")} == {
        f"{origin} item {n} v3" for origin in ("node-a", "node-b") for n in (1, 2)
    } | {"node-b item 0 v3"}
    assert "back" in entries, "retracted, then back with a newer snapshot"

    # Started again, it carries on from the tracking: nothing is handed twice.
    again = SeenCatalogue(catalogue.store)
    ProjectionFollower(app, again, batch_size=3).catch_up()
    assert again.seen == []


def test_the_catalogue_reads_what_it_handles() -> None:
    """Its `reads` (what the follower decodes for it) names every class its `apply`
    dispatches on, so a handler added later cannot be starved by the follower."""
    handled = set(Catalogue.__dict__["apply"].dispatcher.registry) - {object}
    assert handled == set(Catalogue.reads)
