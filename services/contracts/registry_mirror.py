"""The registry as other services of a node see it: a read model of its integration events.

A service that must know organisations, communities, memberships and roles (to
decide who may do what, or to name things) keeps these tables, fed by an inbox on
the registry's subjects of the node stream; each event applies exactly once with
its tracking record. It never reads the registry's store or calls its API. The
mirror is eventually consistent: `registry_position()` says how far it has read
the registry's log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeAlias
from uuid import UUID

from google.protobuf.message import Message

from copnet.registry.v1 import registry_events_pb2 as registry_events
from copnet.registry.v1 import registry_pb2
from services.common.inbox import InboxView, IntegrationMessage
from services.common.messaging import NodeIdentity
from services.common.protoconv import enum_value
from services.common.sqlstore import SqlStore, SqlTx
from services.kernel.erasure import ERASED_NAME

REGISTRY_SERVICE = "registry"
# Readers take ids as UUIDs or as text.
Id: TypeAlias = UUID | str
# How one payload type changes the tables (each takes its own type, which Any stands for).
Applier: TypeAlias = Callable[["RegistryTables", Any, IntegrationMessage, SqlTx], None]
ORGANISER_ROLES = ("co_lead", "facilitator")


def registry_subjects(identity: NodeIdentity) -> list[str]:
    """What a mirror's inbox consumes: the registry's events on the node stream."""
    return identity.service_subjects(REGISTRY_SERVICE)


class RegistryTables:
    """The registry's entities in tables of a consumer's store: how its events change
    them (`apply`, inside the consumer's transaction) and how to read them."""

    schema_version = 2
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
        "mirror_organisations",
    )

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    # Writing

    def apply(self, message: IntegrationMessage, tx: SqlTx) -> None:
        if message.envelope.service != REGISTRY_SERVICE:
            return
        payload = message.payload
        handler = self._handlers.get(type(payload)) if payload is not None else None
        if handler is not None:
            handler(self, payload, message, tx)

    def _organisation_registered(
        self, p: registry_events.OrganisationRegistered, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        tx.execute(
            "INSERT INTO mirror_organisations (organisation_id, name, kind, region, retired)"
            " VALUES (?, ?, ?, ?, 0) ON CONFLICT (organisation_id) DO NOTHING",
            (p.organisation_id, p.name, enum_value(registry_pb2.OrganisationKind, p.kind),
             p.region),
        )  # fmt: skip

    def _organisation_renamed(
        self, p: registry_events.OrganisationRenamed, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        self._set(tx, "mirror_organisations", "organisation_id", p.organisation_id, name=p.name)

    def _organisation_kind_changed(
        self, p: registry_events.OrganisationKindChanged, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        kind = enum_value(registry_pb2.OrganisationKind, p.kind)
        self._set(tx, "mirror_organisations", "organisation_id", p.organisation_id, kind=kind)

    def _organisation_region_changed(
        self, p: registry_events.OrganisationRegionChanged, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        self._set(tx, "mirror_organisations", "organisation_id", p.organisation_id, region=p.region)

    def _organisation_retired(
        self, p: registry_events.OrganisationRetired, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        self._set(tx, "mirror_organisations", "organisation_id", p.organisation_id, retired=1)

    def _community_created(
        self, p: registry_events.CommunityCreated, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        tx.execute(
            "INSERT INTO mirror_communities (community_id, slug, name, domain, region,"
            " joining_policy, lifecycle) VALUES (?, ?, ?, ?, ?, ?, 'forming')"
            " ON CONFLICT (community_id) DO NOTHING",
            (p.community_id, p.slug, p.name, p.domain, p.region,
             enum_value(registry_pb2.JoiningPolicy, p.joining_policy)),
        )  # fmt: skip

    def _community_details_changed(
        self, p: registry_events.CommunityDetailsChanged, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        self._set(
            tx, "mirror_communities", "community_id", p.community_id,
            name=p.name, domain=p.domain, region=p.region,
        )  # fmt: skip

    def _joining_policy_changed(
        self, p: registry_events.CommunityJoiningPolicyChanged, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        policy = enum_value(registry_pb2.JoiningPolicy, p.joining_policy)
        self._set(tx, "mirror_communities", "community_id", p.community_id, joining_policy=policy)

    def _lifecycle_changed(
        self, p: registry_events.CommunityLifecycleChanged, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        lifecycle = enum_value(registry_pb2.CommunityLifecycle, p.lifecycle)
        self._set(tx, "mirror_communities", "community_id", p.community_id, lifecycle=lifecycle)

    def _member_registered(
        self, p: registry_events.MemberRegistered, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        tx.execute(
            "INSERT INTO mirror_members (member_id, display_name, home_organisation_id)"
            " VALUES (?, ?, ?) ON CONFLICT (member_id) DO NOTHING",
            (p.member_id, p.display_name, p.home_organisation_id),
        )

    def _member_details_changed(
        self, p: registry_events.MemberDetailsChanged, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        self._set(tx, "mirror_members", "member_id", p.member_id, display_name=p.display_name)

    def _member_moved(
        self, p: registry_events.MemberHomeOrganisationChanged, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        home = p.home_organisation_id
        self._set(tx, "mirror_members", "member_id", p.member_id, home_organisation_id=home)

    def _member_erased(
        self, p: registry_events.MemberErased, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        self._set(tx, "mirror_members", "member_id", p.member_id, display_name=ERASED_NAME)
        tx.scrub("mirror_members")

    def _membership_status_changed(
        self, p: registry_events.MembershipStatusChanged, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        tx.execute(
            "INSERT INTO mirror_memberships (community_id, member_id, status) VALUES (?, ?, ?)"
            " ON CONFLICT (community_id, member_id) DO UPDATE SET status = excluded.status",
            (p.community_id, p.member_id, enum_value(registry_pb2.MembershipStatus, p.status)),
        )

    def _role_assigned(
        self, p: registry_events.RoleAssigned, m: IntegrationMessage, tx: SqlTx
    ) -> None:
        tx.execute(
            "INSERT INTO mirror_role_terms (community_id, member_id, position, role, start_date)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, member_id, position) DO NOTHING",
            (p.community_id, p.member_id, m.envelope.position,
             enum_value(registry_pb2.Role, p.role), p.start_date),
        )  # fmt: skip

    def _role_ended(self, p: registry_events.RoleEnded, m: IntegrationMessage, tx: SqlTx) -> None:
        tx.execute(
            "UPDATE mirror_role_terms SET end_date = ? WHERE community_id = ? AND member_id = ?"
            " AND role = ? AND end_date IS NULL AND position < ?",
            (p.end_date, p.community_id, p.member_id, enum_value(registry_pb2.Role, p.role),
             m.envelope.position),
        )  # fmt: skip

    @staticmethod
    def _set(tx: SqlTx, table: str, key: str, key_value: str, **fields: Any) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        tx.execute(
            f"UPDATE {table} SET {assignments} WHERE {key} = ?", (*fields.values(), key_value)
        )

    # Each payload type with what applies it (to its own type: Any stands for each).
    _handlers: dict[
        type[Message], Callable[[RegistryTables, Any, IntegrationMessage, SqlTx], None]
    ] = {
        registry_events.OrganisationRegistered: _organisation_registered,
        registry_events.OrganisationRenamed: _organisation_renamed,
        registry_events.OrganisationKindChanged: _organisation_kind_changed,
        registry_events.OrganisationRegionChanged: _organisation_region_changed,
        registry_events.OrganisationRetired: _organisation_retired,
        registry_events.CommunityCreated: _community_created,
        registry_events.CommunityDetailsChanged: _community_details_changed,
        registry_events.CommunityJoiningPolicyChanged: _joining_policy_changed,
        registry_events.CommunityLifecycleChanged: _lifecycle_changed,
        registry_events.MemberRegistered: _member_registered,
        registry_events.MemberDetailsChanged: _member_details_changed,
        registry_events.MemberHomeOrganisationChanged: _member_moved,
        registry_events.MemberErased: _member_erased,
        registry_events.MembershipStatusChanged: _membership_status_changed,
        registry_events.RoleAssigned: _role_assigned,
        registry_events.RoleEnded: _role_ended,
    }

    # Reading (ids may be given as UUIDs or text)

    def registry_position(self) -> int:
        """The position, in the registry's log, of the last registry event applied."""
        with self.store.read() as tx:
            table = self.store.tracking_table
            row = tx.one(f"SELECT MAX(notification_id) AS position FROM {table}")
        return int(row["position"] or 0) if row else 0

    def _row(self, table: str, key: str, value: Id) -> dict[str, Any] | None:
        with self.store.read() as tx:
            return tx.one(f"SELECT * FROM {table} WHERE {key} = ?", (str(value),))

    def organisation(self, organisation_id: Id) -> dict[str, Any] | None:
        return self._row("mirror_organisations", "organisation_id", organisation_id)

    def community(self, community_id: Id) -> dict[str, Any] | None:
        return self._row("mirror_communities", "community_id", community_id)

    def member(self, member_id: Id) -> dict[str, Any] | None:
        return self._row("mirror_members", "member_id", member_id)

    def is_known_member(self, member_id: Id) -> bool:
        return self.member(member_id) is not None

    def membership_status(self, community_id: Id, member_id: Id) -> str | None:
        with self.store.read() as tx:
            row = tx.one(
                "SELECT status FROM mirror_memberships WHERE community_id = ? AND member_id = ?",
                (str(community_id), str(member_id)),
            )
        return row["status"] if row else None

    def is_active_member(self, community_id: Id, member_id: Id) -> bool:
        return self.membership_status(community_id, member_id) == "active"

    def active_members(self, community_id: Id) -> list[UUID]:
        """Every member whose membership of the community is active, in id order."""
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT member_id FROM mirror_memberships WHERE community_id = ?"
                " AND status = 'active' ORDER BY member_id",
                (str(community_id),),
            )
        return [UUID(r["member_id"]) for r in rows]

    def roles_on(self, community_id: Id, member_id: Id, day: date) -> set[str]:
        """The roles a member held in a community on a day."""
        iso = day.isoformat()
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT role FROM mirror_role_terms WHERE community_id = ? AND member_id = ?"
                " AND start_date <= ? AND (end_date IS NULL OR end_date > ?)",
                (str(community_id), str(member_id), iso, iso),
            )
        return {row["role"] for row in rows}

    def holds_role(self, community_id: Id, member_id: Id, roles: Iterable[str], day: date) -> bool:
        wanted = {str(getattr(role, "value", role)) for role in roles}
        return bool(self.roles_on(community_id, member_id, day) & wanted)

    def organisers(
        self, community_id: Id, day: date, roles: Iterable[str] = ORGANISER_ROLES
    ) -> list[UUID]:
        """Active members holding one of `roles` on `day`, in the order they started."""
        names = list(roles)
        marks = ", ".join("?" for _ in names)
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT t.member_id, MIN(t.position) AS first FROM mirror_role_terms t"
                " JOIN mirror_memberships m ON m.community_id = t.community_id"
                " AND m.member_id = t.member_id AND m.status = 'active'"
                f" WHERE t.community_id = ? AND t.role IN ({marks}) AND t.start_date <= ?"
                " AND (t.end_date IS NULL OR t.end_date > ?)"
                " GROUP BY t.member_id ORDER BY first",
                (str(community_id), *names, day.isoformat(), day.isoformat()),
            )
        return [UUID(r["member_id"]) for r in rows]

    def display_names(self, member_ids: Iterable[Id]) -> dict[UUID, str]:
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


class RegistryMirror(InboxView, RegistryTables):
    """The mirror as a read model of its own: the events and learning services keep one,
    fed by an inbox on the registry's subjects. (Notify's directory composes
    `RegistryTables` with its own contact table instead.)"""

    name = "registry_mirror"
    schema_version = RegistryTables.schema_version
    tables = RegistryTables.tables
    table_names = RegistryTables.table_names

    def apply(self, message: IntegrationMessage, tx: SqlTx) -> None:
        RegistryTables.apply(self, message, tx)
