"""An item's snapshot: the whole item as plain data, and its protobuf form.

The origin publishes snapshots (so a node that hears of an item late has all
of it); a receiving node stores them in its `ReceivedItem`; the catalogue
builds its rows from them, for local and received items alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from copnet.learning.v1 import learning_events_pb2 as events
from copnet.learning.v1 import learning_pb2 as pb
from services.common.protoconv import timestamp
from services.common.sqlstore import text_time
from services.learning import codecs
from services.learning.domain import AdoptionReport, LearningItem

Snapshot = dict[str, Any]


def _iso(value: datetime | date | None) -> str:
    return value.isoformat() if value else ""


def _adoption(report: AdoptionReport) -> dict[str, Any]:
    return {
        "node_id": report.node_id,
        "organisation_id": report.organisation_id,
        "organisation_name": report.organisation_name,
        "status": report.status.value,
        "evidence": report.evidence,
        "effective_on": _iso(report.effective_on),
        "reported_at": _iso(report.reported_at),
    }


def snapshot_of(item: LearningItem) -> Snapshot:
    content = item.content
    return {
        "item_id": str(item.id),
        "origin_node": item.origin_node,
        "kind": item.kind.value,
        "status": item.status.value,
        "revision": item.revision,
        "title": content.title,
        "summary": content.summary,
        "body": content.body,
        "links": [list(link) for link in content.links],
        "domain_tags": list(content.domain_tags),
        "community_id": str(item.community_id),
        "community_name": item.community_name,
        "organisation_id": str(item.organisation_id),
        "organisation_name": item.organisation_name,
        "contributors": [str(c) for c in item.contributors],
        "visibility": item.visibility.value,
        "partner_nodes": list(item.partner_nodes),
        "presentations": [
            {"convening_id": p.convening_id, "title": p.title, "presented_on": _iso(p.presented_on)}
            for p in item.presentations
        ],
        "adoptions": [_adoption(r) for r in item.adoptions.values()],
        "adoption_history": [_adoption(r) for r in item.adoption_history],
        "receptions": [
            {"node_id": node, "received_at": _iso(at)} for node, at in item.receptions.items()
        ],
        "revisions": [
            {
                "revision": r.number,
                "title": r.content.title,
                "summary": r.content.summary,
                "body": r.content.body,
                "links": [list(link) for link in r.content.links],
                "domain_tags": list(r.content.domain_tags),
                "note": r.note,
                "revised_at": _iso(r.revised_at),
            }
            for r in item.revisions
        ],
        "published_at": _iso(item.published_at),
        "updated_at": _iso(item.modified_on),
        "version": item.version,
        "withdrawn_reason": item.withdrawn_reason,
    }


def _text(stamp: Timestamp, present: bool) -> str:
    return stamp.ToDatetime(tzinfo=UTC).isoformat() if present else ""


def _links_pb(links: list[list[str]]) -> list[pb.Link]:
    return [pb.Link(title=title, url=url) for title, url in links]


def _adoption_pb(a: dict[str, Any]) -> pb.Adoption:
    return pb.Adoption(
        node_id=a["node_id"],
        organisation_id=a["organisation_id"],
        organisation_name=a["organisation_name"],
        status=codecs.ADOPTION_STATUS.to_pb(a["status"]),
        evidence=a["evidence"],
        effective_on=a["effective_on"],
        reported_at=timestamp(text_time(a["reported_at"])),
    )


def item_pb(s: Snapshot, local: bool = False, received_at: str = "") -> pb.LearningItem:
    return pb.LearningItem(
        item_id=s["item_id"],
        origin_node=s["origin_node"],
        local=local,
        kind=codecs.ITEM_KIND.to_pb(s["kind"]),
        status=codecs.ITEM_STATUS.to_pb(s["status"]),
        revision=s["revision"],
        title=s["title"],
        summary=s["summary"],
        body=s["body"],
        links=_links_pb(s["links"]),
        domain_tags=s["domain_tags"],
        community_id=s["community_id"],
        community_name=s["community_name"],
        organisation_id=s["organisation_id"],
        organisation_name=s["organisation_name"],
        contributor_member_ids=s["contributors"],
        visibility=codecs.VISIBILITY.to_pb(s["visibility"]),
        partner_nodes=s["partner_nodes"],
        presentations=[pb.Presentation(**p) for p in s["presentations"]],
        adoptions=[_adoption_pb(a) for a in s["adoptions"]],
        published_at=timestamp(text_time(s["published_at"])),
        updated_at=timestamp(text_time(s["updated_at"])),
        received_at=timestamp(text_time(received_at)),
        version=s["version"],
        withdrawn_reason=s["withdrawn_reason"],
    )


def revision_pb(r: dict[str, Any]) -> pb.Revision:
    return pb.Revision(
        revision=r["revision"],
        title=r["title"],
        summary=r["summary"],
        body=r["body"],
        links=_links_pb(r["links"]),
        domain_tags=r["domain_tags"],
        note=r["note"],
        revised_at=timestamp(text_time(r["revised_at"])),
    )


def snapshot_pb(s: Snapshot) -> events.ItemSnapshot:
    return events.ItemSnapshot(
        item=item_pb(s),
        receptions=[
            pb.Reception(node_id=r["node_id"], received_at=timestamp(text_time(r["received_at"])))
            for r in s["receptions"]
        ],
        revisions=[revision_pb(r) for r in s["revisions"]],
        adoption_history=[_adoption_pb(a) for a in s["adoption_history"]],
    )


def _adoption_dict(a: pb.Adoption) -> dict[str, Any]:
    return {
        "node_id": a.node_id,
        "organisation_id": a.organisation_id,
        "organisation_name": a.organisation_name,
        "status": codecs.ADOPTION_STATUS.to_domain(a.status).value,
        "evidence": a.evidence,
        "effective_on": a.effective_on,
        "reported_at": _text(a.reported_at, a.HasField("reported_at")),
    }


def snapshot_from_pb(message: events.ItemSnapshot) -> Snapshot:
    """Raises ValueError when the snapshot does not make sense (unknown enum values)."""
    i = message.item
    return {
        "item_id": i.item_id,
        "origin_node": i.origin_node,
        "kind": codecs.ITEM_KIND.to_domain(i.kind).value,
        "status": codecs.ITEM_STATUS.to_domain(i.status).value,
        "revision": i.revision,
        "title": i.title,
        "summary": i.summary,
        "body": i.body,
        "links": [[link.title, link.url] for link in i.links],
        "domain_tags": list(i.domain_tags),
        "community_id": i.community_id,
        "community_name": i.community_name,
        "organisation_id": i.organisation_id,
        "organisation_name": i.organisation_name,
        "contributors": list(i.contributor_member_ids),
        "visibility": codecs.VISIBILITY.to_domain(i.visibility).value,
        "partner_nodes": list(i.partner_nodes),
        "presentations": [
            {"convening_id": p.convening_id, "title": p.title, "presented_on": p.presented_on}
            for p in i.presentations
        ],
        "adoptions": [_adoption_dict(a) for a in i.adoptions],
        "adoption_history": [_adoption_dict(a) for a in message.adoption_history],
        "receptions": [
            {"node_id": r.node_id, "received_at": _text(r.received_at, r.HasField("received_at"))}
            for r in message.receptions
        ],
        "revisions": [
            {
                "revision": r.revision,
                "title": r.title,
                "summary": r.summary,
                "body": r.body,
                "links": [[link.title, link.url] for link in r.links],
                "domain_tags": list(r.domain_tags),
                "note": r.note,
                "revised_at": _text(r.revised_at, r.HasField("revised_at")),
            }
            for r in message.revisions
        ],
        "published_at": _text(i.published_at, i.HasField("published_at")),
        "updated_at": _text(i.updated_at, i.HasField("updated_at")),
        "version": i.version,
        "withdrawn_reason": i.withdrawn_reason,
    }
