"""The catalogue: every learning item this node knows, searchable.

One projection over the learning service's own log. Local items are read from
their aggregates' snapshots, received items from the snapshots their origin
sent; both become the same rows. What a search shows:
- this node's items, and items a partner addressed to this node,
- other nodes' region-wide items while this node subscribes to their node
  (and, when the subscription names tags, share one of those tags),
- never drafts, retracted items, or withdrawn ones unless asked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from services.common.paging import Page
from services.common.projection import Projection
from services.common.sqlstore import SqlTx, Where, page_rows
from services.learning.domain import Adoption, LearningItem, ReceivedItem, Subscription
from services.learning.snapshots import Snapshot, snapshot_of

ADOPTION_STATES = ("exploring", "piloting", "adopted", "abandoned")


@dataclass(frozen=True)
class CatalogueEntry:
    snapshot: Snapshot
    local: bool
    received_at: str
    retracted: bool


@dataclass(frozen=True)
class SearchFilters:
    text: str = ""
    domain_tag: str = ""
    kind: str = ""
    origin_node: str = ""
    organisation_id: str = ""
    published_from: str = ""
    published_until: str = ""
    include_withdrawn: bool = False


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


# Which items a search may show (see the module docstring).
_VISIBLE = (
    "i.retracted = 0 AND i.status <> 'draft' AND (i.local = 1 OR i.addressed = 1 OR EXISTS ("
    " SELECT 1 FROM subscriptions s WHERE s.node_id = i.origin_node AND s.active = 1 AND ("
    "  NOT EXISTS (SELECT 1 FROM subscription_tags st WHERE st.node_id = s.node_id)"
    "  OR EXISTS (SELECT 1 FROM subscription_tags st JOIN item_tags it ON it.tag = st.tag"
    "   WHERE st.node_id = s.node_id AND it.item_id = i.item_id))))"
)


class Catalogue(Projection):
    name = "catalogue"
    upstream = "Learning"
    schema_version = 1
    # What `apply` handles (not receipts: one of a received item's two events).
    reads = (
        LearningItem.Event,
        ReceivedItem.Received,
        ReceivedItem.Updated,
        ReceivedItem.Retracted,
        Adoption.StatusDeclared,
        Subscription.Event,
    )
    tables = (
        "CREATE TABLE IF NOT EXISTS items ("
        " item_id TEXT PRIMARY KEY, origin_node TEXT NOT NULL, local INTEGER NOT NULL,"
        " addressed INTEGER NOT NULL, retracted INTEGER NOT NULL, kind TEXT NOT NULL,"
        " status TEXT NOT NULL, title TEXT NOT NULL, search_text TEXT NOT NULL,"
        " organisation_id TEXT NOT NULL, published_at TEXT NOT NULL, received_at TEXT NOT NULL,"
        " arrived_at TEXT NOT NULL, version INTEGER NOT NULL, snapshot TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS items_by_date ON items (published_at, item_id)",
        "CREATE TABLE IF NOT EXISTS item_tags ("
        " item_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (item_id, tag))",
        "CREATE INDEX IF NOT EXISTS item_tags_by_tag ON item_tags (tag)",
        "CREATE TABLE IF NOT EXISTS adoptions ("
        " item_id TEXT NOT NULL, node_id TEXT NOT NULL, organisation_id TEXT NOT NULL,"
        " organisation_name TEXT NOT NULL, status TEXT NOT NULL, evidence TEXT NOT NULL,"
        " effective_on TEXT NOT NULL, reported_at TEXT NOT NULL,"
        " PRIMARY KEY (item_id, node_id, organisation_id))",
        "CREATE TABLE IF NOT EXISTS subscriptions ("
        " node_id TEXT PRIMARY KEY, active INTEGER NOT NULL, since TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS subscription_tags ("
        " node_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (node_id, tag))",
    )
    table_names = ("subscription_tags", "subscriptions", "adoptions", "item_tags", "items")

    def member_data(self, member_id: UUID) -> dict[str, list[dict]]:
        """The catalogue's items that name a member among their contributors."""
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT item_id, origin_node, title, status, published_at, snapshot FROM items"
                " WHERE snapshot LIKE ? ORDER BY published_at, item_id",
                (f"%{member_id}%",),
            )
        contributed = [
            {key: row[key] for key in ("item_id", "origin_node", "title", "status", "published_at")}
            for row in rows
            if str(member_id) in json.loads(row["snapshot"]).get("contributors", [])
        ]
        return {"contributed_items": contributed}

    # Writing

    @singledispatchmethod
    def apply(self, domain_event: Any, tx: SqlTx) -> None:
        """Receipts, key claims and other events change nothing here."""

    @apply.register(LearningItem.Event)
    def _(self, e: Any, tx: SqlTx) -> None:
        item = self.state_after(e)
        self._upsert(
            tx,
            snapshot_of(item),
            local=True,
            addressed=False,
            received_at="",
            arrived_at=_utc(e.timestamp),
        )

    @apply.register(ReceivedItem.Received)
    @apply.register(ReceivedItem.Updated)
    def _(self, e: Any, tx: SqlTx) -> None:
        received = self.state_after(e)
        self._upsert(
            tx,
            received.snapshot,
            local=False,
            addressed=received.addressed,
            received_at=_utc(received.received_at),
            arrived_at=_utc(e.timestamp),
        )

    @apply.register(ReceivedItem.Retracted)
    def _(self, e: Any, tx: SqlTx) -> None:
        received = self.state_after(e)
        tx.execute("UPDATE items SET retracted = 1 WHERE item_id = ?", (received.item_id,))

    @apply.register(Adoption.StatusDeclared)
    def _(self, e: Any, tx: SqlTx) -> None:
        report = self.state_after(e).report()
        self._upsert_adoption(
            tx,
            str(self.state_after(e).item_id),
            {
                "node_id": report.node_id,
                "organisation_id": report.organisation_id,
                "organisation_name": report.organisation_name,
                "status": report.status.value,
                "evidence": report.evidence,
                "effective_on": report.effective_on.isoformat(),
                "reported_at": report.reported_at.isoformat(),
            },
        )

    @apply.register(Subscription.Event)
    def _(self, e: Any, tx: SqlTx) -> None:
        subscription = self.state_after(e)
        tx.execute(
            "INSERT INTO subscriptions (node_id, active, since) VALUES (?, ?, ?)"
            " ON CONFLICT (node_id) DO UPDATE SET active = excluded.active, since = excluded.since",
            (subscription.node_id, int(subscription.active), _utc(subscription.since)),
        )
        tx.execute("DELETE FROM subscription_tags WHERE node_id = ?", (subscription.node_id,))
        for tag in subscription.domain_tags:
            tx.execute(
                "INSERT INTO subscription_tags (node_id, tag) VALUES (?, ?)",
                (subscription.node_id, tag),
            )

    def _upsert(
        self,
        tx: SqlTx,
        s: Snapshot,
        local: bool,
        addressed: bool,
        received_at: str,
        arrived_at: str,
    ) -> None:
        search_text = " ".join([s["title"], s["summary"], s["body"]]).lower()
        tx.execute(
            "INSERT INTO items (item_id, origin_node, local, addressed, retracted, kind, status,"
            " title, search_text, organisation_id, published_at, received_at, arrived_at, version,"
            " snapshot) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (item_id) DO UPDATE SET addressed = excluded.addressed, retracted = 0,"
            " kind = excluded.kind, status = excluded.status, title = excluded.title,"
            " search_text = excluded.search_text, organisation_id = excluded.organisation_id,"
            " published_at = excluded.published_at, arrived_at = excluded.arrived_at,"
            " version = excluded.version, snapshot = excluded.snapshot",
            (
                s["item_id"],
                s["origin_node"],
                int(local),
                int(addressed),
                s["kind"],
                s["status"],
                s["title"],
                search_text,
                s["organisation_id"],
                s["published_at"],
                received_at,
                arrived_at,
                s["version"],
                json.dumps(s),
            ),
        )
        tx.execute("DELETE FROM item_tags WHERE item_id = ?", (s["item_id"],))
        for tag in s["domain_tags"]:
            tx.execute("INSERT INTO item_tags (item_id, tag) VALUES (?, ?)", (s["item_id"], tag))
        for adoption in s["adoptions"]:
            self._upsert_adoption(tx, s["item_id"], adoption)

    def _upsert_adoption(self, tx: SqlTx, item_id: str, a: dict[str, Any]) -> None:
        """The newest report of each organisation wins, whichever route it came by."""
        tx.execute(
            "INSERT INTO adoptions (item_id, node_id, organisation_id, organisation_name, status,"
            " evidence, effective_on, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (item_id, node_id, organisation_id) DO UPDATE SET"
            " organisation_name = excluded.organisation_name, status = excluded.status,"
            " evidence = excluded.evidence, effective_on = excluded.effective_on,"
            " reported_at = excluded.reported_at"
            " WHERE adoptions.reported_at <= excluded.reported_at",
            (
                item_id,
                a["node_id"],
                a["organisation_id"],
                a["organisation_name"],
                a["status"],
                a["evidence"],
                a["effective_on"],
                a["reported_at"],
            ),
        )

    # Reading

    def entry(self, item_id: str) -> CatalogueEntry | None:
        with self.store.read() as tx:
            row = tx.one("SELECT * FROM items WHERE item_id = ?", (item_id,))
            adoptions = tx.all("SELECT * FROM adoptions WHERE item_id = ?", (item_id,))
        return self._entry(row, adoptions) if row else None

    def _entry(self, row: dict[str, Any], adoptions: list[dict[str, Any]]) -> CatalogueEntry:
        snapshot = json.loads(row["snapshot"])
        snapshot["adoptions"] = [
            {
                k: a[k]
                for k in (
                    "node_id",
                    "organisation_id",
                    "organisation_name",
                    "status",
                    "evidence",
                    "effective_on",
                    "reported_at",
                )
            }
            for a in adoptions
        ]
        return CatalogueEntry(
            snapshot, bool(row["local"]), row["received_at"], bool(row["retracted"])
        )

    def search(self, page: Page, filters: SearchFilters) -> tuple[list[CatalogueEntry], str]:
        where = Where()
        where.add(_VISIBLE)
        where.add_if(not filters.include_withdrawn, "i.status <> 'withdrawn'")
        for word in filters.text.lower().split():
            where.add("i.search_text LIKE ?", f"%{word}%")
        where.add_if(filters.kind, "i.kind = ?", filters.kind)
        where.add_if(filters.origin_node, "i.origin_node = ?", filters.origin_node)
        where.add_if(filters.organisation_id, "i.organisation_id = ?", filters.organisation_id)
        where.add_if(
            filters.domain_tag,
            "EXISTS (SELECT 1 FROM item_tags t WHERE t.item_id = i.item_id AND t.tag = ?)",
            filters.domain_tag,
        )
        where.add_if(filters.published_from, "i.published_at >= ?", filters.published_from)
        where.add_if(filters.published_until, "i.published_at < ?", filters.published_until)
        with self.store.read() as tx:
            rows, token = page_rows(
                tx,
                page,
                "SELECT * FROM items i",
                where,
                ("i.published_at", "i.item_id"),
                descending=True,
            )
            entries = [
                self._entry(
                    row, tx.all("SELECT * FROM adoptions WHERE item_id = ?", (row["item_id"],))
                )
                for row in rows
            ]
        return entries, token

    def adoption_summary(self, domain_tag: str = "") -> list[dict[str, Any]]:
        condition, params = _VISIBLE, []
        if domain_tag:
            condition += (
                " AND EXISTS (SELECT 1 FROM item_tags t WHERE t.item_id = i.item_id AND t.tag = ?)"
            )
            params.append(domain_tag)
        counts = ", ".join(
            f"SUM(CASE WHEN a.status = '{state}' THEN 1 ELSE 0 END) AS {state}"
            for state in ADOPTION_STATES
        )
        with self.store.read() as tx:
            return tx.all(
                f"SELECT i.item_id, i.origin_node, i.title, {counts} FROM items i"
                f" JOIN adoptions a ON a.item_id = i.item_id WHERE {condition}"
                " GROUP BY i.item_id, i.origin_node, i.title ORDER BY i.title, i.item_id",
                params,
            )

    def subscribed_nodes(self) -> list[str]:
        """The nodes whose region-wide learning this node receives."""
        with self.store.read() as tx:
            rows = tx.all("SELECT node_id FROM subscriptions WHERE active = 1 ORDER BY node_id")
        return [row["node_id"] for row in rows]

    def subscriptions(self) -> list[dict[str, Any]]:
        with self.store.read() as tx:
            rows = tx.all("SELECT * FROM subscriptions ORDER BY node_id")
            for row in rows:
                row["domain_tags"] = [
                    r["tag"]
                    for r in tx.all(
                        "SELECT tag FROM subscription_tags WHERE node_id = ? ORDER BY tag",
                        (row["node_id"],),
                    )
                ]
                last = tx.one(
                    "SELECT MAX(arrived_at) AS at FROM items WHERE origin_node = ? AND local = 0",
                    (row["node_id"],),
                )
                row["last_received_at"] = last["at"] if last and last["at"] else ""
                row["active"] = bool(row["active"])
        return rows
