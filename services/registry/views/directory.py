"""The registry's directory: the read model behind every List call.

Rows are written by `Directory.apply` from the registry's events (exactly once,
with tracking) and read by the list queries with keyset paging. Every update
is guarded by the entity's version, so applying an event twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from services.common.paging import Page
from services.common.projection import Projection
from services.common.sqlstore import (
    SqlTx,
    Where,
    page_rows,
    rows_by,
    text_time,
    time_text,
    update_row,
)
from services.kernel.erasure import ERASED_NAME
from services.registry.domain import (
    Community,
    Member,
    Membership,
    MembershipStatus,
    Organisation,
    Role,
    RoleTerm,
)
from services.registry.views.records import (
    CommunityRecord,
    MemberRecord,
    MembershipRecord,
    OrganisationRecord,
)

_STATUS_AFTER = {
    Membership.Joined: MembershipStatus.ACTIVE,
    Membership.RequestApproved: MembershipStatus.ACTIVE,
    Membership.InvitationAccepted: MembershipStatus.ACTIVE,
    Membership.Requested: MembershipStatus.REQUESTED,
    Membership.RequestRejected: MembershipStatus.REJECTED,
    Membership.Invited: MembershipStatus.INVITED,
    Membership.InvitationDeclined: MembershipStatus.DECLINED,
    Membership.Left: MembershipStatus.LEFT,
    Membership.Removed: MembershipStatus.REMOVED,
}


class Directory(Projection):
    name = "directory"
    upstream = "Registry"
    schema_version = 1
    tables = (
        "CREATE TABLE IF NOT EXISTS organisations ("
        " organisation_id TEXT PRIMARY KEY, name TEXT NOT NULL, sort_name TEXT NOT NULL,"
        " kind TEXT NOT NULL, region TEXT NOT NULL, ods_code TEXT, retired INTEGER NOT NULL,"
        " version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS organisations_by_name"
        " ON organisations (sort_name, organisation_id)",
        "CREATE TABLE IF NOT EXISTS communities ("
        " community_id TEXT PRIMARY KEY, slug TEXT NOT NULL, name TEXT NOT NULL,"
        " sort_name TEXT NOT NULL, domain TEXT NOT NULL, purpose TEXT NOT NULL,"
        " region TEXT NOT NULL, joining_policy TEXT NOT NULL, lifecycle TEXT NOT NULL,"
        " version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS communities_by_name ON communities (sort_name, community_id)",
        "CREATE TABLE IF NOT EXISTS community_hosts ("
        " community_id TEXT NOT NULL, organisation_id TEXT NOT NULL, ordinal INTEGER NOT NULL,"
        " PRIMARY KEY (community_id, organisation_id))",
        "CREATE TABLE IF NOT EXISTS members ("
        " member_id TEXT PRIMARY KEY, display_name TEXT NOT NULL, sort_name TEXT NOT NULL,"
        " profession TEXT NOT NULL, home_organisation_id TEXT NOT NULL, email TEXT NOT NULL,"
        " version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS members_by_name ON members (sort_name, member_id)",
        "CREATE TABLE IF NOT EXISTS memberships ("
        " membership_id TEXT PRIMARY KEY, community_id TEXT NOT NULL, member_id TEXT NOT NULL,"
        " status TEXT NOT NULL, version INTEGER NOT NULL, created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS memberships_by_community ON memberships (community_id)",
        "CREATE INDEX IF NOT EXISTS memberships_by_member ON memberships (member_id)",
        "CREATE TABLE IF NOT EXISTS role_terms ("
        " membership_id TEXT NOT NULL, seq INTEGER NOT NULL, community_id TEXT NOT NULL,"
        " member_id TEXT NOT NULL, role TEXT NOT NULL, start_date TEXT NOT NULL, end_date TEXT,"
        " PRIMARY KEY (membership_id, seq))",
        "CREATE INDEX IF NOT EXISTS role_terms_by_community ON role_terms (community_id, role)",
    )
    table_names = (
        "role_terms",
        "memberships",
        "members",
        "community_hosts",
        "communities",
        "organisations",
    )

    # Writing

    @singledispatchmethod
    def apply(self, domain_event: Any, tx: SqlTx) -> None:
        """Events that change nothing listed (receipts, key claims) are ignored."""

    @apply.register(Organisation.Registered)
    def _(self, e: Any, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO organisations (organisation_id, name, sort_name, kind, region, ods_code,"
            " retired, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"
            " ON CONFLICT (organisation_id) DO NOTHING",
            (
                str(e.originator_id),
                e.name,
                e.name.lower(),
                e.kind,
                e.region,
                e.ods_code,
                e.originator_version,
                time_text(e.timestamp),
                time_text(e.timestamp),
            ),
        )

    @apply.register(Organisation.Renamed)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "organisations", "organisation_id", e, name=e.name, sort_name=e.name.lower())

    @apply.register(Organisation.KindChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "organisations", "organisation_id", e, kind=e.kind)

    @apply.register(Organisation.RegionChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "organisations", "organisation_id", e, region=e.region)

    @apply.register(Organisation.OdsCodeChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "organisations", "organisation_id", e, ods_code=e.ods_code)

    @apply.register(Organisation.Retired)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "organisations", "organisation_id", e, retired=1)

    @apply.register(Community.Created)
    def _(self, e: Any, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO communities (community_id, slug, name, sort_name, domain, purpose, region,"
            " joining_policy, lifecycle, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'forming', ?, ?, ?)"
            " ON CONFLICT (community_id) DO NOTHING",
            (
                str(e.originator_id),
                e.slug,
                e.name,
                e.name.lower(),
                e.domain,
                e.purpose,
                e.region,
                e.joining_policy,
                e.originator_version,
                time_text(e.timestamp),
                time_text(e.timestamp),
            ),
        )
        self._replace_hosts(tx, e.originator_id, e.host_organisation_ids)

    @apply.register(Community.DetailsChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(
            tx,
            "communities",
            "community_id",
            e,
            name=e.name,
            sort_name=e.name.lower(),
            domain=e.domain,
            purpose=e.purpose,
            region=e.region,
        )

    @apply.register(Community.HostsChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "communities", "community_id", e)
        self._replace_hosts(tx, e.originator_id, e.host_organisation_ids)

    @apply.register(Community.JoiningPolicyChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "communities", "community_id", e, joining_policy=e.joining_policy)

    @apply.register(Community.LifecycleChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "communities", "community_id", e, lifecycle=e.lifecycle)

    def _replace_hosts(self, tx: SqlTx, community_id: UUID, hosts: Sequence[UUID]) -> None:
        tx.execute("DELETE FROM community_hosts WHERE community_id = ?", (str(community_id),))
        for ordinal, host in enumerate(hosts):
            tx.execute(
                "INSERT INTO community_hosts (community_id, organisation_id, ordinal)"
                " VALUES (?, ?, ?)",
                (str(community_id), str(host), ordinal),
            )

    @apply.register(Member.Registered)
    def _(self, e: Any, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO members (member_id, display_name, sort_name, profession,"
            " home_organisation_id, email, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (member_id) DO NOTHING",
            (
                str(e.originator_id),
                e.display_name,
                e.display_name.lower(),
                e.profession,
                str(e.home_organisation_id),
                e.email,
                e.originator_version,
                time_text(e.timestamp),
                time_text(e.timestamp),
            ),
        )

    @apply.register(Member.DetailsChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(
            tx,
            "members",
            "member_id",
            e,
            display_name=e.display_name,
            sort_name=e.display_name.lower(),
            profession=e.profession,
        )

    @apply.register(Member.EmailChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "members", "member_id", e, email=e.email)

    @apply.register(Member.Erased)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(
            tx,
            "members",
            "member_id",
            e,
            display_name=ERASED_NAME,
            sort_name=ERASED_NAME.lower(),
            email="",
        )
        tx.scrub("members")

    @apply.register(Member.HomeOrganisationChanged)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "members", "member_id", e, home_organisation_id=str(e.home_organisation_id))

    @apply.register(Membership.Opened)
    def _(self, e: Any, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO memberships (membership_id, community_id, member_id, status, version,"
            " created_at, updated_at) VALUES (?, ?, ?, '', ?, ?, ?)"
            " ON CONFLICT (membership_id) DO NOTHING",
            (
                str(e.originator_id),
                str(e.community_id),
                str(e.member_id),
                e.originator_version,
                time_text(e.timestamp),
                time_text(e.timestamp),
            ),
        )

    @apply.register(Membership.Joined)
    @apply.register(Membership.RequestApproved)
    @apply.register(Membership.InvitationAccepted)
    @apply.register(Membership.Requested)
    @apply.register(Membership.RequestRejected)
    @apply.register(Membership.Invited)
    @apply.register(Membership.InvitationDeclined)
    @apply.register(Membership.Left)
    @apply.register(Membership.Removed)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "memberships", "membership_id", e, status=_STATUS_AFTER[type(e)].value)

    @apply.register(Membership.RoleAssigned)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "memberships", "membership_id", e)
        tx.execute(
            "INSERT INTO role_terms (membership_id, seq, community_id, member_id, role,"
            " start_date) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (membership_id, seq) DO NOTHING",
            (
                str(e.originator_id),
                e.originator_version,
                str(e.community_id),
                str(e.member_id),
                e.role,
                e.start_date.isoformat(),
            ),
        )

    @apply.register(Membership.RoleEnded)
    def _(self, e: Any, tx: SqlTx) -> None:
        update_row(tx, "memberships", "membership_id", e)
        tx.execute(
            "UPDATE role_terms SET end_date = ? WHERE membership_id = ? AND role = ?"
            " AND end_date IS NULL AND seq < ?",
            (e.end_date.isoformat(), str(e.originator_id), e.role, e.originator_version),
        )

    # Reading

    def list_organisations(
        self, page: Page, region: str = "", kind: str = "", include_retired: bool = False
    ) -> tuple[list[OrganisationRecord], str]:
        where = Where()
        where.add_if(region, "region = ?", region)
        where.add_if(kind, "kind = ?", kind)
        where.add_if(not include_retired, "retired = 0")
        with self.store.read() as tx:
            rows, token = page_rows(
                tx, page, "SELECT * FROM organisations", where, ("sort_name", "organisation_id")
            )
        records = [
            OrganisationRecord(
                UUID(r["organisation_id"]),
                r["name"],
                r["kind"],
                r["region"],
                r["ods_code"],
                bool(r["retired"]),
                r["version"],
                text_time(r["created_at"]),
                text_time(r["updated_at"]),
            )
            for r in rows
        ]
        return records, token

    def list_communities(
        self,
        page: Page,
        region: str = "",
        domain: str = "",
        organisation_id: str = "",
        lifecycle: str = "",
    ) -> tuple[list[CommunityRecord], str]:
        where = Where()
        where.add_if(region, "c.region = ?", region)
        where.add_if(domain, "c.domain = ?", domain)
        where.add_if(lifecycle, "c.lifecycle = ?", lifecycle)
        where.add_if(
            organisation_id,
            "EXISTS (SELECT 1 FROM community_hosts h"
            " WHERE h.community_id = c.community_id AND h.organisation_id = ?)",
            organisation_id,
        )
        with self.store.read() as tx:
            rows, token = page_rows(
                tx, page, "SELECT * FROM communities c", where, ("c.sort_name", "c.community_id")
            )
            hosts = self._hosts_of(tx, [r["community_id"] for r in rows])
        records = [
            CommunityRecord(
                UUID(r["community_id"]),
                r["slug"],
                r["name"],
                r["domain"],
                r["purpose"],
                r["region"],
                hosts.get(r["community_id"], []),
                r["joining_policy"],
                r["lifecycle"],
                r["version"],
                text_time(r["created_at"]),
                text_time(r["updated_at"]),
            )
            for r in rows
        ]
        return records, token

    def _hosts_of(self, tx: SqlTx, community_ids: list[str]) -> dict[str, list[UUID]]:
        groups = rows_by(tx, "community_hosts", "community_id", community_ids, "ordinal")
        return {key: [UUID(r["organisation_id"]) for r in rows] for key, rows in groups.items()}

    def list_members(
        self, page: Page, organisation_id: str = "", profession: str = ""
    ) -> tuple[list[MemberRecord], str]:
        where = Where()
        where.add_if(organisation_id, "home_organisation_id = ?", organisation_id)
        where.add_if(profession, "profession = ?", profession)
        with self.store.read() as tx:
            rows, token = page_rows(
                tx, page, "SELECT * FROM members", where, ("sort_name", "member_id")
            )
        records = [
            MemberRecord(
                UUID(r["member_id"]),
                r["display_name"],
                r["profession"],
                UUID(r["home_organisation_id"]),
                r["email"],
                r["version"],
                text_time(r["created_at"]),
                text_time(r["updated_at"]),
            )
            for r in rows
        ]
        return records, token

    def list_memberships(
        self,
        page: Page,
        community_id: str = "",
        member_id: str = "",
        status: str = "",
        role: str = "",
        as_of: date | None = None,
    ) -> tuple[list[MembershipRecord], str]:
        where = Where()
        where.add("m.status <> ''")
        where.add_if(community_id, "m.community_id = ?", community_id)
        where.add_if(member_id, "m.member_id = ?", member_id)
        where.add_if(status, "m.status = ?", status)
        if role:
            day = (as_of or datetime.now(tz=UTC).date()).isoformat()
            where.add(
                "EXISTS (SELECT 1 FROM role_terms t WHERE t.membership_id = m.membership_id"
                " AND t.role = ? AND t.start_date <= ? AND (t.end_date IS NULL OR t.end_date > ?))",
                role,
                day,
                day,
            )
        with self.store.read() as tx:
            rows, token = page_rows(
                tx, page, "SELECT * FROM memberships m", where, ("m.created_at", "m.membership_id")
            )
            terms = self._terms_of(tx, [r["membership_id"] for r in rows])
        records = [
            MembershipRecord(
                UUID(r["membership_id"]),
                UUID(r["community_id"]),
                UUID(r["member_id"]),
                r["status"],
                terms.get(r["membership_id"], []),
                r["version"],
                text_time(r["created_at"]),
                text_time(r["updated_at"]),
            )
            for r in rows
        ]
        return records, token

    def _terms_of(self, tx: SqlTx, membership_ids: list[str]) -> dict[str, list[RoleTerm]]:
        groups = rows_by(tx, "role_terms", "membership_id", membership_ids, "seq")
        return {key: [_role_term(r) for r in rows] for key, rows in groups.items()}


def _role_term(row: dict[str, Any]) -> RoleTerm:
    end = date.fromisoformat(row["end_date"]) if row["end_date"] else None
    return RoleTerm(Role(row["role"]), date.fromisoformat(row["start_date"]), end)
