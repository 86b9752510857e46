"""The registry as other services of the node see it: a read model of its integration events.

A service that must know communities, memberships and roles (to decide who may
do what) keeps this mirror, fed by an inbox on the registry's subjects of the
node stream. It never reads the registry's store or calls its API. The mirror
is eventually consistent: `position()` says how far it has read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from copnet.registry.v1 import registry_events_pb2 as registry_events
from services.common.inbox import InboxView, IntegrationMessage
from services.common.messaging import NodeIdentity
from services.common.sqlstore import SqlTx
from services.registry import codecs

REGISTRY_ORIGIN_SUFFIX = ".registry"


class RegistryMirror(InboxView):
    name = "registry_mirror"
    schema_version = 1
    tables = (
        "CREATE TABLE IF NOT EXISTS mirror_organisations ("
        " organisation_id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,"
        " region TEXT NOT NULL, retired INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS mirror_communities ("
        " community_id TEXT PRIMARY KEY, slug TEXT NOT NULL, name TEXT NOT NULL,"
        " domain TEXT NOT NULL, region TEXT NOT NULL, joining_policy TEXT NOT NULL,"
        " lifecycle TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS mirror_members ("
        " member_id TEXT PRIMARY KEY, display_name TEXT NOT NULL,"
        " home_organisation_id TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS mirror_memberships ("
        " community_id TEXT NOT NULL, member_id TEXT NOT NULL, status TEXT NOT NULL,"
        " PRIMARY KEY (community_id, member_id))",
        "CREATE TABLE IF NOT EXISTS mirror_role_terms ("
        " community_id TEXT NOT NULL, member_id TEXT NOT NULL, seq INTEGER NOT NULL,"
        " role TEXT NOT NULL, start_date TEXT NOT NULL, end_date TEXT,"
        " PRIMARY KEY (community_id, member_id, seq))",
    )
    table_names = (
        "mirror_role_terms",
        "mirror_memberships",
        "mirror_members",
        "mirror_communities",
        "mirror_organisations",
    )

    def apply(self, message: IntegrationMessage, tx: SqlTx) -> None:
        handler = getattr(self, f"_on_{message.event_type}", None)
        if handler is None and isinstance(message.payload, registry_events.MembershipStatusChanged):
            handler = self._on_membership_status_changed
        if handler is not None:
            handler(message.payload, message, tx)

    # Organisations

    def _on_organisation_registered(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO mirror_organisations (organisation_id, name, kind, region, retired)"
            " VALUES (?, ?, ?, ?, 0) ON CONFLICT (organisation_id) DO UPDATE SET"
            " name = excluded.name, kind = excluded.kind, region = excluded.region",
            (e.organisation_id, e.name, codecs.ORGANISATION_KIND.to_domain(e.kind).value, e.region),
        )

    def _on_organisation_renamed(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_organisations SET name = ? WHERE organisation_id = ?",
            (e.name, e.organisation_id),
        )

    def _on_organisation_kind_changed(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_organisations SET kind = ? WHERE organisation_id = ?",
            (codecs.ORGANISATION_KIND.to_domain(e.kind).value, e.organisation_id),
        )

    def _on_organisation_region_changed(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_organisations SET region = ? WHERE organisation_id = ?",
            (e.region, e.organisation_id),
        )

    def _on_organisation_retired(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_organisations SET retired = 1 WHERE organisation_id = ?",
            (e.organisation_id,),
        )

    # Communities

    def _on_community_created(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO mirror_communities (community_id, slug, name, domain, region,"
            " joining_policy, lifecycle) VALUES (?, ?, ?, ?, ?, ?, 'forming')"
            " ON CONFLICT (community_id) DO NOTHING",
            (
                e.community_id,
                e.slug,
                e.name,
                e.domain,
                e.region,
                codecs.JOINING_POLICY.to_domain(e.joining_policy).value,
            ),
        )

    def _on_community_details_changed(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_communities SET name = ?, domain = ?, region = ? WHERE community_id = ?",
            (e.name, e.domain, e.region, e.community_id),
        )

    def _on_community_joining_policy_changed(
        self, e: Any, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        tx.execute(
            "UPDATE mirror_communities SET joining_policy = ? WHERE community_id = ?",
            (codecs.JOINING_POLICY.to_domain(e.joining_policy).value, e.community_id),
        )

    def _on_community_lifecycle_changed(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_communities SET lifecycle = ? WHERE community_id = ?",
            (codecs.LIFECYCLE.to_domain(e.lifecycle).value, e.community_id),
        )

    # Members and memberships

    def _on_member_registered(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO mirror_members (member_id, display_name, home_organisation_id)"
            " VALUES (?, ?, ?) ON CONFLICT (member_id) DO NOTHING",
            (e.member_id, e.display_name, e.home_organisation_id),
        )

    def _on_member_details_changed(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_members SET display_name = ? WHERE member_id = ?",
            (e.display_name, e.member_id),
        )

    def _on_member_home_organisation_changed(
        self, e: Any, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        tx.execute(
            "UPDATE mirror_members SET home_organisation_id = ? WHERE member_id = ?",
            (e.home_organisation_id, e.member_id),
        )

    def _on_membership_status_changed(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO mirror_memberships (community_id, member_id, status) VALUES (?, ?, ?)"
            " ON CONFLICT (community_id, member_id) DO UPDATE SET status = excluded.status",
            (e.community_id, e.member_id, codecs.MEMBERSHIP_STATUS.to_domain(e.status).value),
        )

    def _on_role_assigned(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO mirror_role_terms (community_id, member_id, seq, role, start_date)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, member_id, seq) DO NOTHING",
            (
                e.community_id,
                e.member_id,
                m.envelope.aggregate_version,
                codecs.ROLE.to_domain(e.role).value,
                e.start_date,
            ),
        )

    def _on_role_ended(self, e: Any, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_role_terms SET end_date = ? WHERE community_id = ? AND member_id = ?"
            " AND role = ? AND end_date IS NULL AND seq < ?",
            (
                e.end_date,
                e.community_id,
                e.member_id,
                codecs.ROLE.to_domain(e.role).value,
                m.envelope.aggregate_version,
            ),
        )

    # Queries

    def organisation(self, organisation_id: str) -> dict[str, Any] | None:
        with self.store.read() as tx:
            return tx.one(
                "SELECT * FROM mirror_organisations WHERE organisation_id = ?", (organisation_id,)
            )

    def community(self, community_id: str) -> dict[str, Any] | None:
        with self.store.read() as tx:
            return tx.one(
                "SELECT * FROM mirror_communities WHERE community_id = ?", (community_id,)
            )

    def member(self, member_id: str) -> dict[str, Any] | None:
        with self.store.read() as tx:
            return tx.one("SELECT * FROM mirror_members WHERE member_id = ?", (member_id,))

    def membership_status(self, community_id: str, member_id: str) -> str | None:
        with self.store.read() as tx:
            row = tx.one(
                "SELECT status FROM mirror_memberships WHERE community_id = ? AND member_id = ?",
                (community_id, member_id),
            )
        return row["status"] if row else None

    def roles_on(self, community_id: str, member_id: str, day: date) -> set[str]:
        """The roles a member held in a community on a day."""
        iso = day.isoformat()
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT role FROM mirror_role_terms WHERE community_id = ? AND member_id = ?"
                " AND start_date <= ? AND (end_date IS NULL OR end_date > ?)",
                (community_id, member_id, iso, iso),
            )
        return {row["role"] for row in rows}

    def position(self, node_id: str) -> int:
        """How far the mirror has read the registry of `node_id` (its log position)."""
        return self.store.max_tracking_id(node_id + REGISTRY_ORIGIN_SUFFIX)


def registry_subjects(identity: NodeIdentity) -> list[str]:
    """What a mirror's inbox consumes: the registry's events on the node stream."""
    return identity.service_subjects("registry")
