"""The registry as notify sees it: the node's registry mirror, plus members' e-mail addresses.

Addresses come from the registry's node-local `member_registered` and
`member_email_changed` events, consumed from the node's own stream, and are
kept only in this read model (the `contacts` table of notify's directory store).
They are never written to notify's event store, never published, and never
logged: the dispatcher looks one up at the moment it hands a message to the
mail server.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from copnet.registry.v1 import registry_events_pb2 as registry_events
from services.common.inbox import IntegrationMessage
from services.common.sqlstore import SqlTx
from services.registry.mirror import REGISTRY_SERVICE, RegistryMirror


class NotifyDirectory(RegistryMirror):
    name = "directory"
    # Rebuilt when the mirror's tables change, and when the contacts table does.
    schema_version = RegistryMirror.schema_version * 1000 + 1
    tables = (
        *RegistryMirror.tables,
        "CREATE TABLE IF NOT EXISTS contacts (member_id TEXT PRIMARY KEY, email TEXT NOT NULL)",
    )
    table_names = ("contacts", *RegistryMirror.table_names)

    def apply(self, message: IntegrationMessage, tx: SqlTx) -> None:
        super().apply(message, tx)
        if message.envelope.service != REGISTRY_SERVICE:
            return
        payload = message.payload
        if isinstance(
            payload, (registry_events.MemberRegistered, registry_events.MemberEmailChanged)
        ):
            tx.execute(
                "INSERT INTO contacts (member_id, email) VALUES (?, ?)"
                " ON CONFLICT (member_id) DO UPDATE SET email = excluded.email",
                (payload.member_id, payload.email),
            )

    def email_of(self, member_id: Any) -> str | None:
        with self.store.read() as tx:
            row = tx.one("SELECT email FROM contacts WHERE member_id = ?", (str(member_id),))
        return row["email"] if row else None

    def person(self, member_id: Any) -> tuple[str, str | None]:
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

    def community_name(self, community_id: Any) -> str:
        row = self.community(community_id)
        return row["name"] if row else ""

    def display_name(self, member_id: Any) -> str:
        return self.display_names([member_id]).get(UUID(str(member_id)), "")
