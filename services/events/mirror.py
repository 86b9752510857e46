"""The events service's own picture of communities, members and roles.

`CommunityMirror` is fed by the registry's integration events from NATS (the
node stream, both federated and node-local subjects), each applied exactly
once with its tracking record. The events service authorises from it and
never calls the registry or reads its store. It is eventually consistent: it
is as current as the last registry event applied (`registry_position`).

It keeps only what the events service needs: communities (name, joining
policy, lifecycle), which member ids exist (and their display names, for
calendar organisers), membership statuses and role terms.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from copnet.registry.v1 import registry_events_pb2 as registry_events
from copnet.registry.v1 import registry_pb2
from services.common.inbox import InboxView, IntegrationMessage
from services.common.sqlstore import SqlTx
from services.events.values import Community, CommunityLifecycle, JoiningPolicy, OrganiserRole

REGISTRY_SERVICE = "registry"


def _enum_value(enum_type: Any, number: int) -> str:
    """'ROLE_CO_LEAD' -> 'co_lead'; 'unknown' for numbers this build does not know."""
    try:
        name = enum_type.Name(number)
    except ValueError:
        return "unknown"
    prefix = "".join(f"_{c}" if c.isupper() else c.upper() for c in enum_type.DESCRIPTOR.name)
    return name.removeprefix(prefix.lstrip("_") + "_").lower()


class CommunityMirror(InboxView):
    name = "community_mirror"
    schema_version = 1
    tables = (
        "CREATE TABLE IF NOT EXISTS mirror_communities ("
        " community_id TEXT PRIMARY KEY, slug TEXT NOT NULL, name TEXT NOT NULL,"
        " joining_policy TEXT NOT NULL, lifecycle TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS mirror_members ("
        " member_id TEXT PRIMARY KEY, display_name TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS mirror_memberships ("
        " community_id TEXT NOT NULL, member_id TEXT NOT NULL, status TEXT NOT NULL,"
        " PRIMARY KEY (community_id, member_id))",
        "CREATE TABLE IF NOT EXISTS mirror_role_terms ("
        " community_id TEXT NOT NULL, member_id TEXT NOT NULL, position BIGINT NOT NULL,"
        " role TEXT NOT NULL, start_date TEXT NOT NULL, end_date TEXT,"
        " PRIMARY KEY (community_id, member_id, position))",
        "CREATE INDEX IF NOT EXISTS mirror_role_terms_by_role"
        " ON mirror_role_terms (community_id, role)",
    )
    table_names = (
        "mirror_role_terms",
        "mirror_memberships",
        "mirror_members",
        "mirror_communities",
    )

    # Writing

    def apply(self, message: IntegrationMessage, tx: SqlTx) -> None:
        if message.envelope.service != REGISTRY_SERVICE:
            return
        payload = message.payload
        handler = self._handlers.get(type(payload))
        if handler is not None:
            handler(self, payload, message, tx)

    def _community_created(self, p: Any, message: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO mirror_communities (community_id, slug, name, joining_policy, lifecycle)"
            " VALUES (?, ?, ?, ?, 'forming') ON CONFLICT (community_id) DO NOTHING",
            (
                p.community_id,
                p.slug,
                p.name,
                _enum_value(registry_pb2.JoiningPolicy, p.joining_policy),
            ),
        )

    def _community_details_changed(self, p: Any, message: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_communities SET name = ? WHERE community_id = ?",
            (p.name, p.community_id),
        )

    def _joining_policy_changed(self, p: Any, message: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_communities SET joining_policy = ? WHERE community_id = ?",
            (_enum_value(registry_pb2.JoiningPolicy, p.joining_policy), p.community_id),
        )

    def _lifecycle_changed(self, p: Any, message: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_communities SET lifecycle = ? WHERE community_id = ?",
            (_enum_value(registry_pb2.CommunityLifecycle, p.lifecycle), p.community_id),
        )

    def _member_registered(self, p: Any, message: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO mirror_members (member_id, display_name) VALUES (?, ?)"
            " ON CONFLICT (member_id) DO UPDATE SET display_name = excluded.display_name",
            (p.member_id, p.display_name),
        )

    def _member_details_changed(self, p: Any, message: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_members SET display_name = ? WHERE member_id = ?",
            (p.display_name, p.member_id),
        )

    def _membership_status_changed(self, p: Any, message: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO mirror_memberships (community_id, member_id, status) VALUES (?, ?, ?)"
            " ON CONFLICT (community_id, member_id) DO UPDATE SET status = excluded.status",
            (p.community_id, p.member_id, _enum_value(registry_pb2.MembershipStatus, p.status)),
        )

    def _role_assigned(self, p: Any, message: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO mirror_role_terms (community_id, member_id, position, role, start_date)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, member_id, position) DO NOTHING",
            (
                p.community_id,
                p.member_id,
                message.envelope.position,
                _enum_value(registry_pb2.Role, p.role),
                p.start_date,
            ),
        )

    def _role_ended(self, p: Any, message: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_role_terms SET end_date = ? WHERE community_id = ? AND member_id = ?"
            " AND role = ? AND end_date IS NULL AND position < ?",
            (
                p.end_date,
                p.community_id,
                p.member_id,
                _enum_value(registry_pb2.Role, p.role),
                message.envelope.position,
            ),
        )

    _handlers: dict[type, Any] = {
        registry_events.CommunityCreated: _community_created,
        registry_events.CommunityDetailsChanged: _community_details_changed,
        registry_events.CommunityJoiningPolicyChanged: _joining_policy_changed,
        registry_events.CommunityLifecycleChanged: _lifecycle_changed,
        registry_events.MemberRegistered: _member_registered,
        registry_events.MemberDetailsChanged: _member_details_changed,
        registry_events.MembershipStatusChanged: _membership_status_changed,
        registry_events.RoleAssigned: _role_assigned,
        registry_events.RoleEnded: _role_ended,
    }

    # Reading

    def registry_position(self) -> int:
        """The position, in the registry's log, of the last registry event applied."""
        with self.store.read() as tx:
            table = self.store.tracking_table
            row = tx.one(f"SELECT MAX(notification_id) AS position FROM {table}")
        return int(row["position"] or 0) if row else 0

    def community(self, community_id: UUID) -> Community | None:
        with self.store.read() as tx:
            row = tx.one(
                "SELECT * FROM mirror_communities WHERE community_id = ?", (str(community_id),)
            )
        if row is None:
            return None
        return Community(
            community_id=UUID(row["community_id"]),
            slug=row["slug"],
            name=row["name"],
            joining_policy=_known(JoiningPolicy, row["joining_policy"], JoiningPolicy.INVITE_ONLY),
            lifecycle=_known(CommunityLifecycle, row["lifecycle"], CommunityLifecycle.ACTIVE),
        )

    def is_known_member(self, member_id: UUID) -> bool:
        with self.store.read() as tx:
            row = tx.one(
                "SELECT 1 AS found FROM mirror_members WHERE member_id = ?", (str(member_id),)
            )
        return row is not None

    def is_active_member(self, community_id: UUID, member_id: UUID) -> bool:
        with self.store.read() as tx:
            row = tx.one(
                "SELECT status FROM mirror_memberships WHERE community_id = ? AND member_id = ?",
                (str(community_id), str(member_id)),
            )
        return row is not None and row["status"] == "active"

    def holds_role(
        self, community_id: UUID, member_id: UUID, roles: Iterable[OrganiserRole], day: date
    ) -> bool:
        names = [role.value for role in roles]
        marks = ", ".join("?" for _ in names)
        with self.store.read() as tx:
            row = tx.one(
                "SELECT 1 AS found FROM mirror_role_terms WHERE community_id = ? AND member_id = ?"
                f" AND role IN ({marks}) AND start_date <= ?"
                " AND (end_date IS NULL OR end_date > ?)",
                (str(community_id), str(member_id), *names, day.isoformat(), day.isoformat()),
            )
        return row is not None

    def organisers(self, community_id: UUID, day: date) -> list[UUID]:
        """Active members holding co-lead or facilitator on `day`, in the order they started."""
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT t.member_id, MIN(t.position) AS first FROM mirror_role_terms t"
                " JOIN mirror_memberships m ON m.community_id = t.community_id"
                " AND m.member_id = t.member_id AND m.status = 'active'"
                " WHERE t.community_id = ? AND t.role IN (?, ?) AND t.start_date <= ?"
                " AND (t.end_date IS NULL OR t.end_date > ?)"
                " GROUP BY t.member_id ORDER BY first",
                (
                    str(community_id),
                    OrganiserRole.CO_LEAD.value,
                    OrganiserRole.FACILITATOR.value,
                    day.isoformat(),
                    day.isoformat(),
                ),
            )
        return [UUID(r["member_id"]) for r in rows]

    def display_names(self, member_ids: Iterable[UUID]) -> dict[UUID, str]:
        ids = [str(m) for m in member_ids]
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        with self.store.read() as tx:
            rows = tx.all(
                f"SELECT member_id, display_name FROM mirror_members WHERE member_id IN ({marks})",
                ids,
            )
        return {UUID(r["member_id"]): r["display_name"] for r in rows}


def _known(enum_type: Any, value: str, fallback: Any) -> Any:
    """A value from a newer registry that this build does not know is treated cautiously."""
    try:
        return enum_type(value)
    except ValueError:
        return fallback
