"""The learning exchange across a region: a real hub and three real nodes on loopback."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import grpc
import pytest

from copnet.integration.v1 import envelope_pb2
from copnet.learning.v1 import learning_events_pb2 as events
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.registry.v1 import registry_pb2 as rpb
from services.common.messaging import NodeIdentity
from services.common.region import DIRECTORY_STREAM
from services.learning.domain import ReceivedItem
from tests.support.region import REGION, Region, item_envelope, rid
from tests.support.streams import read_stream
from tests.support.waiting import eventually

NODES = ["guys", "kings", "lewisham"]


@pytest.fixture
def region(tmp_path: Path):
    region = Region(tmp_path, NODES)
    yield region
    region.close()


@pytest.mark.postgres
def test_on_postgresql_learning_spreads_and_adoptions_flow_back(
    tmp_path: Path, postgres_dsn: str, schema_prefix: str
):
    region = Region(tmp_path, ["guys", "kings"], postgres_dsn, schema_prefix)
    try:
        guys = region.community("guys", "dip-cop")
        kings = region.community("kings", "maternity-cop")
        subscribe(region, "kings", "guys")
        item = region.publish(guys, "GDm-Health remote monitoring", tags=["diabetes"])
        eventually(
            lambda: region.titles("kings", text="gdm", domain_tag="diabetes") == {item.title}
        )
        kings.node.learning(
            "DeclareAdoption",
            lpb.DeclareAdoptionRequest(
                request_id=rid(), item_id=item.item_id, status=lpb.ADOPTION_STATUS_PILOTING
            ),
            kings.lead_token,
        )

        def piloting() -> list[tuple[str, int]]:
            summary = guys.node.learning("GetAdoptionSummary", lpb.GetAdoptionSummaryRequest())
            return [(c.title, c.piloting) for c in summary.items]

        eventually(lambda: piloting() == [(item.title, 1)])
    finally:
        region.close()


def subscribe(region: Region, node: str, to: str, tags: list[str] | None = None) -> None:
    region[node].learning(
        "Subscribe", lpb.SubscribeRequest(request_id=rid(), node_id=to, domain_tags=tags or [])
    )


def files_containing(root: Path, marker: bytes) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and marker in path.read_bytes()]


def test_learning_reaches_the_nodes_that_subscribe_and_no_others(region):
    guys = region.community("guys", "dip-cop")
    region.publish(guys, "GDm-Health remote monitoring", tags=["diabetes-in-pregnancy"])
    region.publish(guys, "Cancer rehab pathway", tags=["cancer-care"])
    time.sleep(1.5)
    assert region.titles("kings") == set() and region.titles("lewisham") == set()

    subscribe(region, "kings", "guys")
    subscribe(region, "lewisham", "guys", ["cancer-care"])
    eventually(
        lambda: region.titles("kings") == {"GDm-Health remote monitoring", "Cancer rehab pathway"}
    )
    eventually(lambda: region.titles("lewisham") == {"Cancer rehab pathway"})
    arrived = [
        m
        for m in read_stream(region["kings"].nats.url, "COPNET_KINGS")
        if m.envelope.event_type == "item_arrived"
    ]
    assert arrived and all(m.subject.startswith("copnet-local.kings.learning.") for m in arrived)
    snapshot = events.ItemSnapshot()
    arrived[0].envelope.payload.Unpack(snapshot)
    assert snapshot.item.origin_node == "guys" and snapshot.item.title
    found = region.search("kings", text="remote gdm", domain_tag="diabetes-in-pregnancy")
    assert [i.title for i in found] == ["GDm-Health remote monitoring"]
    assert found[0].origin_node == "guys" and not found[0].local
    assert found[0].organisation_name == "Trust of guys"

    region["kings"].learning(
        "Unsubscribe", lpb.UnsubscribeRequest(request_id=rid(), node_id="guys")
    )
    eventually(lambda: region.titles("kings") == set())
    states = region["lewisham"].learning("ListSubscriptions", lpb.ListSubscriptionsRequest())
    [state] = states.subscriptions
    assert state.node_id == "guys" and state.active and state.connected
    assert list(state.domain_tags) == ["cancer-care"] and state.HasField("last_received_at")


def test_revisions_and_withdrawal_propagate(region):
    guys = region.community("guys", "dip-cop")
    subscribe(region, "kings", "guys")
    item = region.publish(guys, "GDm-Health remote monitoring")
    eventually(lambda: region.titles("kings") == {item.title})
    guys.node.learning(
        "ReviseItem",
        lpb.ReviseItemRequest(
            request_id=rid(), item_id=item.item_id, body="Now with SMS.", note="added SMS reminders"
        ),
        guys.lead_token,
    )

    def revised() -> bool:
        found = region["kings"].learning("GetItem", lpb.GetItemRequest(item_id=item.item_id)).item
        return found.revision == 2 and found.body == "Now with SMS."

    eventually(revised)

    def revisions() -> list[tuple[int, str, str]]:
        listed = region["kings"].learning(
            "ListRevisions", lpb.ListRevisionsRequest(item_id=item.item_id)
        )
        return [(r.revision, r.body, r.note) for r in listed.revisions]

    expected = [
        (1, "How GDm-Health remote monitoring works.", ""),
        (2, "Now with SMS.", "added SMS reminders"),
    ]
    eventually(lambda: revisions() == expected, message=lambda: f"{revisions()}")
    guys.node.learning(
        "WithdrawItem",
        lpb.WithdrawItemRequest(request_id=rid(), item_id=item.item_id, reason="superseded"),
        guys.lead_token,
    )
    eventually(lambda: region.titles("kings") == set())
    [withdrawn] = region.search("kings", include_withdrawn=True)
    assert withdrawn.status == lpb.ITEM_STATUS_WITHDRAWN
    assert withdrawn.withdrawn_reason == "superseded"


def test_adoptions_flow_back_to_the_origin_and_on_to_subscribers(region):
    guys = region.community("guys", "dip-cop")
    kings = region.community("kings", "maternity-cop", name="King's College Hospital")
    subscribe(region, "kings", "guys")
    subscribe(region, "lewisham", "guys")
    item = region.publish(guys, "GDm-Health remote monitoring")
    eventually(lambda: region.titles("kings") == {item.title})
    eventually(lambda: region.titles("lewisham") == {item.title})
    kings.node.learning(
        "DeclareAdoption",
        lpb.DeclareAdoptionRequest(
            request_id=rid(),
            item_id=item.item_id,
            status=lpb.ADOPTION_STATUS_ADOPTED,
            evidence="live on two wards",
            effective_on="2024-05-01",
        ),
        kings.lead_token,
    )

    def adopters(node: str) -> set[tuple[str, str, int]]:
        found = region[node].learning("GetItem", lpb.GetItemRequest(item_id=item.item_id)).item
        return {(a.node_id, a.organisation_name, a.status) for a in found.adoptions}

    expected = {("kings", "King's College Hospital", lpb.ADOPTION_STATUS_ADOPTED)}
    eventually(lambda: adopters("guys") == expected)
    eventually(lambda: adopters("lewisham") == expected)

    def spread() -> list[lpb.SpreadStep]:
        request = lpb.GetSpreadRequest(item_id=item.item_id)
        return list(guys.node.learning("GetSpread", request).steps)

    wanted = {("received", "kings"), ("received", "lewisham"), ("adoption", "kings")}
    eventually(lambda: {(s.kind, s.node_id) for s in spread()} >= wanted)
    # Receipts are recorded on the origin and stay there: the receivers' federation streams
    # hold the item's own changes only (no copy per receipt, which grows with the region).
    receipts = [
        m.subject
        for m in read_stream(region["guys"].nats.url, "COPNET_GUYS")
        if m.envelope.event_type == "item_reception_recorded"
    ]
    assert len(receipts) == 2 and all(s.startswith("copnet-local.guys.") for s in receipts)
    for receiver in ("kings", "lewisham"):
        stream = NodeIdentity(receiver, REGION).federation_stream_name
        received = Counter(
            m.envelope.event_type for m in read_stream(region[receiver].nats.url, stream)
        )
        assert received["item_published"] == 1 and received["item_reception_recorded"] == 0
    spread = spread()
    assert (spread[0].kind, spread[0].node_id) == ("published", "guys")
    assert [s.at.ToDatetime() for s in spread] == sorted(s.at.ToDatetime() for s in spread)
    summary = (
        region["lewisham"].learning("GetAdoptionSummary", lpb.GetAdoptionSummaryRequest()).items
    )
    assert [(c.title, c.adopted, c.piloting) for c in summary] == [(item.title, 1, 0)]


def test_node_and_partner_visibility_keep_items_where_they_belong(region):
    guys = region.community("guys", "dip-cop")
    subscribe(region, "kings", "guys")
    subscribe(region, "lewisham", "guys")
    node_only = b"NODE-ONLY-MARKER-7f3a"
    for_kings = b"PARTNERS-ONLY-MARKER-9c1d"
    region.publish(guys, "Internal audit", body=node_only.decode(), visibility=lpb.VISIBILITY_NODE)
    region.publish(
        guys,
        "Shared with King's",
        body=for_kings.decode(),
        visibility=lpb.VISIBILITY_PARTNERS,
        partners=["kings"],
    )
    region.publish(guys, "For everyone")
    eventually(lambda: region.titles("kings") == {"Shared with King's", "For everyone"})
    eventually(lambda: region.titles("lewisham") == {"For everyone"})
    assert region.titles("guys") == {"Internal audit", "Shared with King's", "For everyone"}
    time.sleep(1)
    base = region.base
    assert files_containing(base / "guys", node_only), "the marker is on its own node"
    for elsewhere in ("hub", "kings", "lewisham"):
        assert not files_containing(base / elsewhere, node_only), elsewhere
    assert files_containing(base / "kings", for_kings)
    for elsewhere in ("hub", "lewisham"):
        assert not files_containing(base / elsewhere, for_kings), elsewhere


def test_narrowing_visibility_retracts_the_item(region):
    guys = region.community("guys", "dip-cop")
    subscribe(region, "kings", "guys")
    subscribe(region, "lewisham", "guys")
    item = region.publish(guys, "Shared model")
    eventually(lambda: region.titles("lewisham") == {"Shared model"})
    guys.node.learning(
        "ChangeVisibility",
        lpb.ChangeVisibilityRequest(
            request_id=rid(),
            item_id=item.item_id,
            visibility=lpb.VISIBILITY_PARTNERS,
            partner_nodes=["kings"],
        ),
        guys.lead_token,
    )
    eventually(lambda: region.titles("lewisham") == set())

    def kings_holds_the_narrowed_item() -> bool:
        # King's held the item all along (region-wide), and may briefly hold the retraction
        # before the new snapshot arrives by its own route: wait for the new version itself.
        held = region.search("kings")
        return [(i.title, i.visibility, list(i.partner_nodes)) for i in held] == [
            ("Shared model", lpb.VISIBILITY_PARTNERS, ["kings"])
        ]

    eventually(kings_holds_the_narrowed_item)


def test_the_hub_down_while_a_node_publishes_then_everything_arrives_once_in_order(region):
    guys = region.community("guys", "dip-cop")
    subscribe(region, "kings", "guys")
    first = region.publish(guys, "Before the outage")
    eventually(lambda: region.titles("kings") == {first.title})

    region.hub.server.kill()
    items = [region.publish(guys, f"During the outage {i}") for i in range(5)]
    for item in items[:2]:
        guys.node.learning(
            "ReviseItem",
            lpb.ReviseItemRequest(request_id=rid(), item_id=item.item_id, body="revised offline"),
            guys.lead_token,
        )
    time.sleep(1)
    assert region.titles("kings") == {first.title}, "nothing crossed while the hub was down"
    assert region.titles("guys") >= {i.title for i in items}, "the origin kept working"

    region.hub.start()
    wanted = {first.title, *(i.title for i in items)}
    eventually(lambda: region.titles("kings") == wanted, timeout=90)

    def revised_twice() -> bool:
        revisions = {
            i.title: i.revision for i in region.search("kings") if i.title.startswith("During")
        }
        return sorted(revisions.values()) == [1, 1, 1, 2, 2]

    eventually(revised_twice, timeout=60)
    counts = region.received("kings")
    assert len(counts) == 6 and set(counts.values()) == {1}, counts
    app = region["kings"].runtime("learning").app
    versions: dict[str, list[int]] = {}
    for notification in app.recorder.select_notifications(0, 10_000, inclusive_of_start=False):
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, ReceivedItem.Received | ReceivedItem.Updated):
            versions.setdefault(event.snapshot["item_id"], []).append(event.snapshot["version"])
    assert all(v == sorted(set(v)) for v in versions.values()), versions


def test_a_node_that_was_down_catches_up(region):
    guys = region.community("guys", "dip-cop")
    subscribe(region, "lewisham", "guys")
    region.publish(guys, "Before")
    eventually(lambda: region.titles("lewisham") == {"Before"})
    lewisham = region["lewisham"]
    lewisham.stop_services()
    lewisham.nats.stop()
    for i in range(4):
        region.publish(guys, f"While Lewisham was down {i}")
    lewisham.nats.start()
    lewisham.start_services()
    eventually(lambda: len(region.titles("lewisham")) == 5, timeout=90)
    assert set(region.received("lewisham").values()) == {1}


def test_spoofed_origins_are_rejected(region):
    region.community("kings", "maternity-cop")
    subscribe(region, "lewisham", "kings")
    kings = NodeIdentity("kings", REGION)

    def forged(envelope_origin: str, item_origin: str, position: int) -> envelope_pb2.Envelope:
        return item_envelope(
            envelope_origin, item_origin, position, f"Forged {position}", lpb.VISIBILITY_REGION
        )

    async def publish_forgeries() -> None:
        client = await region["kings"].nats.connect()
        js = client.jetstream()
        subject = kings.federated_subject("learning", "item_published")
        for origin, item_origin, position in [("guys", "guys", 9001), ("kings", "guys", 9002)]:
            headers = {
                "Nats-Msg-Id": f"forged-{position}",
                "copnet-origin": origin,
                "copnet-service": "learning",
                "copnet-position": str(position),
            }
            await js.publish(
                subject, forged(origin, item_origin, position).SerializeToString(), headers=headers
            )
        await client.close()

    asyncio.run(publish_forgeries())
    inbox = next(
        i for i in region["lewisham"].runtime("learning").inboxes if i.name.endswith("federation")
    )
    eventually(lambda: inbox.stats.rejected == 2, timeout=30)
    assert not any(t.startswith("Forged") for t in region.titles("lewisham"))


def test_commands_refuse_bad_requests_with_clear_statuses(region):
    guys = region.community("guys", "dip-cop")
    node = guys.node
    outsider = node.registry(
        "RegisterMember",
        rpb.RegisterMemberRequest(
            request_id=rid(),
            display_name="Outsider",
            profession=rpb.PROFESSION_GP,
            home_organisation_id=guys.organisation_id,
            email="outsider@guys.nhs.net",
        ),
    ).member.member_id
    eventually(lambda: node.runtime("learning").projections["registry_mirror"].member(outsider))

    def code(method: str, request, token: str | None = None) -> grpc.StatusCode:
        with pytest.raises(grpc.RpcError) as error:
            node.learning(method, request, token)
        return error.value.code()

    assert code("CreateItem", lpb.CreateItemRequest(title="x")) == grpc.StatusCode.INVALID_ARGUMENT
    draft = lpb.CreateItemRequest(
        request_id=rid(),
        kind=lpb.ITEM_KIND_TOOLKIT,
        title="A toolkit",
        community_id=guys.community_id,
    )
    assert code("CreateItem", draft, node.authority.issue(outsider)) == (
        grpc.StatusCode.PERMISSION_DENIED
    ), "members only"
    member = rpb.JoinCommunityRequest(request_id=rid(), community_id=guys.community_id)
    node.registry("JoinCommunity", member, node.authority.issue(outsider))
    node.registry(
        "LeaveCommunity",
        rpb.LeaveCommunityRequest(request_id=rid(), community_id=guys.community_id),
        node.authority.issue(outsider),
    )
    mirror = node.runtime("learning").projections["registry_mirror"]
    eventually(lambda: mirror.membership_status(guys.community_id, outsider) == "left")
    assert code("CreateItem", draft, node.authority.issue(outsider)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    item = node.learning("CreateItem", draft, guys.lead_token).item
    assert (
        code("GetItem", lpb.GetItemRequest(item_id=item.item_id), node.authority.issue(outsider))
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        code("ReviseItem", lpb.ReviseItemRequest(request_id=rid(), item_id=item.item_id, body="x"))
        == grpc.StatusCode.FAILED_PRECONDITION
    )
    assert (
        code("Subscribe", lpb.SubscribeRequest(request_id=rid(), node_id="kings"), guys.lead_token)
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert code("Subscribe", lpb.SubscribeRequest(request_id=rid(), node_id="Not A Node")) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    stale = lpb.PublishItemRequest(request_id=rid(), item_id=item.item_id, expected_version=99)
    assert code("PublishItem", stale, guys.lead_token) == grpc.StatusCode.ABORTED
    for bad in ({"published_from": "yesterday"}, {"published_until": "2026-02-30"}):
        search = lpb.SearchCatalogueRequest(**bad)
        assert code("SearchCatalogue", search) == grpc.StatusCode.INVALID_ARGUMENT, bad
    nodes = node.learning("ListRegionNodes", lpb.ListRegionNodesRequest())
    assert {n.node_id for n in nodes.nodes} == set(NODES) and nodes.region == REGION


def test_an_empty_read_of_the_region_directory_keeps_the_partners(region):
    """The hub answering "nothing there" is not a region without nodes: no source is dropped."""
    guys = region.community("guys", "dip-cop")
    subscribe(region, "kings", "guys")
    region.publish(guys, "Before")
    eventually(lambda: region.titles("kings") == {"Before"})
    links = next(
        w
        for w in region["kings"].runtime("learning").workers
        if type(w).__name__ == "FederationLinks"
    )
    applied = list(links.applied_sources or [])
    assert ("guys", None) in applied

    async def empty_the_directory() -> None:
        client = await region.hub.admin_connect()
        try:
            await client.jetstream().purge_stream(DIRECTORY_STREAM)
        finally:
            await client.close()

    asyncio.run(empty_the_directory())
    rounds = links.rounds
    eventually(lambda: links.rounds >= rounds + 2, timeout=30)  # the empty directory was read
    assert links.applied_sources == applied, "the partners were kept"
    assert set(links.directory) == set(NODES)
    region.publish(guys, "After")
    eventually(lambda: region.titles("kings") == {"Before", "After"})
