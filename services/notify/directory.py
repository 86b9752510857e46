"""What notify knows of the registry: the node's registry tables, plus members' e-mail
addresses, in one read model (the `directory` store) fed by one inbox.

The registry tables (`services.contracts.registry_mirror.RegistryTables`, reached
as `directory.registry`) are the same every consumer keeps. The addresses are
notify's own: they come from the registry's node-local `member_registered` and
`member_email_changed` events, consumed from the node's own stream, and are kept
only in this read model (its `contacts` table). They are never written to
notify's event store, never published, and never logged: the dispatcher looks one
up at the moment it hands a message to the mail server. When a member is erased
(`member_erased`) their address is deleted (and the file's old pages scrubbed), and
they are listed in `erased_members` until the dispatcher has removed their outbox
files.
"""

from __future__ import annotations

from uuid import UUID

from copnet.registry.v1 import registry_events_pb2 as registry_events
from services.common.inbox import InboxView, IntegrationMessage
from services.common.sqlstore import SqlStore, SqlTx
from services.contracts.registry_mirror import REGISTRY_SERVICE, RegistryTables

CONTACTS_SCHEMA_VERSION = 1


class NotifyDirectory(InboxView):
    name = "directory"
    # Rebuilt when the registry tables change, and when the contacts table does.
    schema_version = RegistryTables.schema_version * 1000 + CONTACTS_SCHEMA_VERSION
    tables = (
        *RegistryTables.tables,
        "CREATE TABLE IF NOT EXISTS contacts (member_id TEXT PRIMARY KEY, email TEXT NOT NULL)",
        # Erased members, and whether the dispatcher has removed their outbox files yet
        # (a new table: made at start, so no rebuild of the directory is needed).
        "CREATE TABLE IF NOT EXISTS erased_members ("
        " member_id TEXT PRIMARY KEY, swept INTEGER NOT NULL DEFAULT 0)",
    )
    table_names = ("erased_members", "contacts", *RegistryTables.table_names)

    def __init__(self, store: SqlStore) -> None:
        super().__init__(store)
        self.registry = RegistryTables(store)

    def apply(self, message: IntegrationMessage, tx: SqlTx) -> None:
        self.registry.apply(message, tx)
        if message.envelope.service != REGISTRY_SERVICE:
            return
        payload = message.payload
        if isinstance(payload, registry_events.MemberErased):
            tx.execute("DELETE FROM contacts WHERE member_id = ?", (payload.member_id,))
            tx.execute(
                "INSERT INTO erased_members (member_id) VALUES (?)"
                " ON CONFLICT (member_id) DO NOTHING",
                (payload.member_id,),
            )
            tx.scrub("contacts")
        elif isinstance(
            payload, (registry_events.MemberRegistered, registry_events.MemberEmailChanged)
        ):
            tx.execute(
                "INSERT INTO contacts (member_id, email) VALUES (?, ?)"
                " ON CONFLICT (member_id) DO UPDATE SET email = excluded.email",
                (payload.member_id, payload.email),
            )

    def person(self, member_id: UUID | str) -> tuple[str, str | None]:
        """A member's display name ("" if unknown) and e-mail address (None if unknown)."""
        with self.store.read() as tx:
            row = tx.one(
                "SELECT m.display_name, c.email FROM contacts c"
                " LEFT JOIN mirror_members m ON m.member_id = c.member_id"
                " WHERE c.member_id = ?",
                (str(member_id),),
            )
        if row is None:
            return self.display_name(member_id), None
        return row["display_name"] or "", row["email"]

    def is_erased(self, member_id: UUID | str) -> bool:
        with self.store.read() as tx:
            row = tx.one("SELECT 1 AS x FROM erased_members WHERE member_id = ?", (str(member_id),))
        return row is not None

    def erased_unswept(self) -> list[UUID]:
        """Erased members whose outbox files may still be on disk."""
        with self.store.read() as tx:
            rows = tx.all("SELECT member_id FROM erased_members WHERE swept = 0")
        return [UUID(r["member_id"]) for r in rows]

    def mark_swept(self, member_id: UUID) -> None:
        with self.store.transaction() as tx:
            tx.execute("UPDATE erased_members SET swept = 1 WHERE member_id = ?", (str(member_id),))

    def community_name(self, community_id: UUID | str) -> str:
        row = self.registry.community(community_id)
        return row["name"] if row else ""

    def display_name(self, member_id: UUID | str) -> str:
        return self.registry.display_names([member_id]).get(UUID(str(member_id)), "")
