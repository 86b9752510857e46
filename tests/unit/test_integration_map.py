"""Which subjects and message ids an event gets, by its audience."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import uuid4

from google.protobuf.wrappers_pb2 import StringValue

from services.common.integration import Audience, IntegrationMap
from services.common.messaging import NodeIdentity

GUYS = NodeIdentity("guys", "sel")


class Shared:  # a stand-in domain event class with the attributes the map reads
    pass


def event(**fields):
    e = Shared()
    e.__dict__.update(
        originator_id=uuid4(), originator_version=3, timestamp=datetime.now(tz=UTC), **fields
    )
    return e


def test_region_node_and_partner_audiences():
    integration = IntegrationMap("learning")
    integration.publishes(Shared, "item_shared", audience=lambda e: e.audience)(
        lambda e: StringValue(value="x")
    )

    region = integration.publications(event(audience=Audience.whole_region()), 9, GUYS)
    assert [p.subject for p in region] == ["copnet.sel.guys.learning.item_shared"]

    node = integration.publications(event(audience=Audience.node()), 9, GUYS)
    assert [p.subject for p in node] == ["copnet-local.guys.learning.item_shared"]

    partners = integration.publications(
        event(audience=Audience.to_partners(["kings", "lewisham", "guys", "kings"])), 9, GUYS
    )
    assert [(p.subject, p.headers["Nats-Msg-Id"]) for p in partners] == [
        ("copnet-local.guys.learning.item_shared", "guys.learning.9"),
        ("copnet-partners.guys.kings.learning.item_shared", "guys.learning.9.for.kings"),
        ("copnet-partners.guys.lewisham.learning.item_shared", "guys.learning.9.for.lewisham"),
    ]
    assert {p.envelope.event_id for p in partners} == {"guys.learning.9"}
    assert {p.headers["copnet-position"] for p in partners} == {"9"}

    # For the partners only: the node keeps no local copy (what its services do not read).
    only = integration.publications(
        event(audience=Audience.to_partners(["kings", "guys"], local_copy=False)), 9, GUYS
    )
    assert [(p.subject, p.headers["Nats-Msg-Id"]) for p in only] == [
        ("copnet-partners.guys.kings.learning.item_shared", "guys.learning.9.for.kings"),
    ]
    # ... unless no partner remains (only itself): then the node's copy is all there is.
    alone = integration.publications(
        event(audience=Audience.to_partners(["guys"], local_copy=False)), 9, GUYS
    )
    assert [p.subject for p in alone] == ["copnet-local.guys.learning.item_shared"]
    # With the region as well, the region's copy stays.
    both = integration.publications(
        event(audience=Audience(region=True, partners=("kings",), local_copy=False)), 9, GUYS
    )
    assert [p.subject for p in both] == [
        "copnet.sel.guys.learning.item_shared",
        "copnet-partners.guys.kings.learning.item_shared",
    ]


def test_region_and_partners_together_and_state_aware_mappings():
    integration = IntegrationMap("learning")
    integration.publishes(
        Shared, "item_shared", with_state=True, audience=lambda e, state: state.audience
    )(lambda e, state: StringValue(value=state.title))
    state = SimpleNamespace(audience=Audience(region=True, partners=("kings",)), title="GDm-Health")
    loaded = []

    def load(e):
        loaded.append(e.originator_version)
        return state

    publications = integration.publications(event(), 4, GUYS, load)
    assert [p.subject for p in publications] == [
        "copnet.sel.guys.learning.item_shared",
        "copnet-partners.guys.kings.learning.item_shared",
    ]
    value = StringValue()
    publications[0].envelope.payload.Unpack(value)
    assert value.value == "GDm-Health" and loaded == [3]


def test_unmapped_events_are_not_published():
    assert IntegrationMap("learning").publications(SimpleNamespace(), 1, GUYS) == []
