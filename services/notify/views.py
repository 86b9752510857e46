"""The notify service's read models, projected from its own log exactly once.

- `PreferencesView`: every member's preferences, indexed by the domain tags and
  communities they follow (whom does a learning item interest?).
- `Mailbox`: every notification with its delivery status (what the API lists and
  what the dispatcher finds due), and every newsletter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from services.common.paging import Page
from services.common.projection import Projection
from services.common.sqlstore import SqlTx, Where, page_rows, text_time, time_text
from services.notify.domain import (
    DEFAULT_PREFERENCES,
    Attempt,
    AttemptOutcome,
    MemberPreferences,
    Newsletter,
    Notification,
    PreferenceSettings,
)

UPSTREAM = "Notify"


class PreferencesView(Projection):
    name = "preferences"
    upstream = UPSTREAM
    schema_version = 1
    reads = (MemberPreferences.Changed,)
    tables = (
        "CREATE TABLE IF NOT EXISTS preferences ("
        " member_id TEXT PRIMARY KEY, settings TEXT NOT NULL, version INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS preference_domains ("
        " tag TEXT NOT NULL, member_id TEXT NOT NULL, PRIMARY KEY (tag, member_id))",
        "CREATE TABLE IF NOT EXISTS preference_communities ("
        " community_id TEXT NOT NULL, member_id TEXT NOT NULL,"
        " PRIMARY KEY (community_id, member_id))",
    )
    table_names = ("preference_communities", "preference_domains", "preferences")

    def apply(self, domain_event: Any, tx: SqlTx) -> None:
        if not isinstance(domain_event, MemberPreferences.Changed):
            return
        preferences = self.state_after(domain_event)
        member = str(preferences.member_id)
        settings: PreferenceSettings = preferences.settings
        tx.execute(
            "INSERT INTO preferences (member_id, settings, version) VALUES (?, ?, ?)"
            " ON CONFLICT (member_id) DO UPDATE SET settings = excluded.settings,"
            " version = excluded.version",
            (member, json.dumps(settings.as_dict()), domain_event.originator_version),
        )
        tx.execute("DELETE FROM preference_domains WHERE member_id = ?", (member,))
        tx.execute("DELETE FROM preference_communities WHERE member_id = ?", (member,))
        for tag in settings.learning_domains:
            tx.execute(
                "INSERT INTO preference_domains (tag, member_id) VALUES (?, ?)", (tag, member)
            )
        for community in settings.learning_communities:
            tx.execute(
                "INSERT INTO preference_communities (community_id, member_id) VALUES (?, ?)",
                (community, member),
            )

    def settings_for(self, member_ids: Iterable[Any]) -> dict[UUID, PreferenceSettings]:
        """Each member's settings: the defaults for those who never changed any."""
        ids = [str(m) for m in member_ids]
        if not ids:  # (most items: nobody on this node follows them)
            return {}
        found: dict[UUID, PreferenceSettings] = {}
        with self.store.read() as tx:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                rows = tx.all(
                    f"SELECT member_id, settings FROM preferences WHERE member_id IN ({marks})",
                    chunk,
                )
                for row in rows:
                    found[UUID(row["member_id"])] = PreferenceSettings.from_dict(
                        json.loads(row["settings"])
                    )
        return {UUID(m): found.get(UUID(m), DEFAULT_PREFERENCES) for m in ids}

    def following(self, tags: Iterable[str], community_id: str) -> set[UUID]:
        """Members who follow any of these domain tags, or this community's learning."""
        tags = list(tags)
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT member_id FROM preference_communities WHERE community_id = ?",
                (community_id,),
            )
            if tags:
                marks = ", ".join("?" for _ in tags)
                rows += tx.all(
                    f"SELECT member_id FROM preference_domains WHERE tag IN ({marks})", tags
                )
        return {UUID(r["member_id"]) for r in rows}


@dataclass(frozen=True)
class NotificationRecord:
    notification_id: UUID
    member_id: UUID
    kind: str
    topic: str
    subject: str
    status: str
    status_reason: str
    due_at: datetime
    retry_at: datetime | None
    message_id: str
    attempts: list[Attempt]
    convening_id: str
    newsletter_id: str
    item_id: str
    digest_frequency: str
    digest_period: str
    entry_count: int
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, n: Notification) -> NotificationRecord:
        return cls(
            notification_id=n.id,
            member_id=n.member_id,
            kind=n.kind.value,
            topic=n.topic.value if n.topic else "",
            subject=n.subject,
            status=n.status.value,
            status_reason=n.status_reason,
            due_at=n.due_at,
            retry_at=n.retry_at,
            message_id=n.attempts[-1].message_id if n.attempts else "",
            attempts=list(n.attempts),
            convening_id=str(n.refs.get("convening_id", "")),
            newsletter_id=str(n.refs.get("newsletter_id", "")),
            item_id=str(n.refs.get("item_id", "")),
            digest_frequency=(n.digest or {}).get("frequency", ""),
            digest_period=(n.digest or {}).get("period", ""),
            entry_count=len(n.entries),
            created_at=n.created_on,
            updated_at=n.modified_on,
            version=n.version,
        )


@dataclass(frozen=True)
class NewsletterReaders:
    """Whose newsletters a member may read: sent ones of the communities they belong to,
    drafts too of those they co-lead."""

    sent: tuple[UUID, ...]
    drafts: tuple[UUID, ...]


@dataclass(frozen=True)
class NewsletterRecord:
    newsletter_id: UUID
    community_id: UUID
    community_name: str
    subject: str
    body: str
    status: str
    author_member_id: UUID | None
    recipients: int
    created_at: datetime
    sent_at: datetime | None
    version: int

    @classmethod
    def of(cls, n: Newsletter) -> NewsletterRecord:
        return cls(
            newsletter_id=n.id,
            community_id=n.community_id,
            community_name=n.community_name,
            subject=n.subject,
            body=n.body,
            status=n.status.value,
            author_member_id=n.author_member_id,
            recipients=n.recipients,
            created_at=n.created_at,
            sent_at=n.sent_at,
            version=n.version,
        )


def _attempts_json(attempts: list[Attempt]) -> str:
    return json.dumps(
        [
            {
                "number": a.number,
                "started_at": time_text(a.started_at),
                "message_id": a.message_id,
                "outcome": a.outcome.value,
                "finished_at": time_text(a.finished_at),
                "detail": a.detail,
            }
            for a in attempts
        ]
    )


def _attempts(text: str) -> list[Attempt]:
    return [
        Attempt(
            a["number"],
            text_time(a["started_at"]),
            a["message_id"],
            AttemptOutcome(a["outcome"]),
            text_time(a["finished_at"]),
            a["detail"],
        )
        for a in json.loads(text)
    ]


class Mailbox(Projection):
    name = "mailbox"
    upstream = UPSTREAM
    schema_version = 1
    reads = (Notification.Event, Newsletter.Event)
    tables = (
        "CREATE TABLE IF NOT EXISTS notifications ("
        " notification_id TEXT PRIMARY KEY, member_id TEXT NOT NULL, kind TEXT NOT NULL,"
        " topic TEXT NOT NULL, subject TEXT NOT NULL, status TEXT NOT NULL,"
        " status_reason TEXT NOT NULL, due_at TEXT NOT NULL, retry_at TEXT,"
        " next_due TEXT NOT NULL, message_id TEXT NOT NULL, attempts TEXT NOT NULL,"
        " convening_id TEXT NOT NULL, newsletter_id TEXT NOT NULL, item_id TEXT NOT NULL,"
        " digest_frequency TEXT NOT NULL, digest_period TEXT NOT NULL,"
        " entry_count INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
        " version INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS notifications_by_member"
        " ON notifications (member_id, created_at, notification_id)",
        "CREATE INDEX IF NOT EXISTS notifications_by_creation"
        " ON notifications (created_at, notification_id)",
        "CREATE INDEX IF NOT EXISTS notifications_due ON notifications (status, next_due)",
        "CREATE TABLE IF NOT EXISTS newsletters ("
        " newsletter_id TEXT PRIMARY KEY, community_id TEXT NOT NULL,"
        " community_name TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,"
        " status TEXT NOT NULL, author_member_id TEXT, recipients INTEGER NOT NULL,"
        " created_at TEXT NOT NULL, sent_at TEXT, version INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS newsletters_by_community"
        " ON newsletters (community_id, created_at, newsletter_id)",
    )
    table_names = ("notifications", "newsletters")

    # Writing

    def apply(self, domain_event: Any, tx: SqlTx) -> None:
        if isinstance(domain_event, Notification.Event):
            self._notification(NotificationRecord.of(self.state_after(domain_event)), tx)
        elif isinstance(domain_event, Newsletter.Event):
            self._newsletter(NewsletterRecord.of(self.state_after(domain_event)), tx)

    def _notification(self, r: NotificationRecord, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO notifications (notification_id, member_id, kind, topic, subject, status,"
            " status_reason, due_at, retry_at, next_due, message_id, attempts, convening_id,"
            " newsletter_id, item_id, digest_frequency, digest_period, entry_count, created_at,"
            " updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?) ON CONFLICT (notification_id) DO UPDATE SET subject = excluded.subject,"
            " status = excluded.status, status_reason = excluded.status_reason,"
            " due_at = excluded.due_at, retry_at = excluded.retry_at,"
            " next_due = excluded.next_due, message_id = excluded.message_id,"
            " attempts = excluded.attempts, entry_count = excluded.entry_count,"
            " updated_at = excluded.updated_at, version = excluded.version"
            " WHERE notifications.version < excluded.version",
            (
                str(r.notification_id),
                str(r.member_id),
                r.kind,
                r.topic,
                r.subject,
                r.status,
                r.status_reason,
                time_text(r.due_at),
                time_text(r.retry_at),
                time_text(r.retry_at or r.due_at),
                r.message_id,
                _attempts_json(r.attempts),
                r.convening_id,
                r.newsletter_id,
                r.item_id,
                r.digest_frequency,
                r.digest_period,
                r.entry_count,
                time_text(r.created_at),
                time_text(r.updated_at),
                r.version,
            ),
        )

    def _newsletter(self, r: NewsletterRecord, tx: SqlTx) -> None:
        tx.execute(
            "INSERT INTO newsletters (newsletter_id, community_id, community_name, subject, body,"
            " status, author_member_id, recipients, created_at, sent_at, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (newsletter_id) DO UPDATE SET"
            " status = excluded.status, recipients = excluded.recipients,"
            " sent_at = excluded.sent_at, version = excluded.version"
            " WHERE newsletters.version < excluded.version",
            (
                str(r.newsletter_id),
                str(r.community_id),
                r.community_name,
                r.subject,
                r.body,
                r.status,
                str(r.author_member_id) if r.author_member_id else None,
                r.recipients,
                time_text(r.created_at),
                time_text(r.sent_at),
                r.version,
            ),
        )

    # Reading

    def due(self, now: datetime, limit: int) -> list[UUID]:
        """Pending notifications whose (next) attempt is due, the longest due first."""
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT notification_id FROM notifications WHERE status = 'pending'"
                " AND next_due <= ? ORDER BY next_due, notification_id LIMIT ?",
                (time_text(now), limit),
            )
        return [UUID(r["notification_id"]) for r in rows]

    def queue(self) -> dict[str, int]:
        """How many notifications are waiting (`pending`) and under way (`sending`)."""
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT status, COUNT(*) AS n FROM notifications"
                " WHERE status IN ('pending', 'sending') GROUP BY status"
            )
        return {"pending": 0, "sending": 0, **{r["status"]: int(r["n"]) for r in rows}}

    def notification_ids_of(self, member_id: UUID) -> list[UUID]:
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT notification_id FROM notifications WHERE member_id = ?", (str(member_id),)
            )
        return [UUID(r["notification_id"]) for r in rows]

    def sending(self) -> list[UUID]:
        """Notifications with an attempt under way (or interrupted)."""
        with self.store.read() as tx:
            rows = tx.all("SELECT notification_id FROM notifications WHERE status = 'sending'")
        return [UUID(r["notification_id"]) for r in rows]

    def list_notifications(
        self, page: Page, member_id: str = "", status: str = "", kind: str = ""
    ) -> tuple[list[NotificationRecord], str]:
        """Newest first."""
        where = Where()
        where.add_if(member_id, "member_id = ?", member_id)
        where.add_if(status, "status = ?", status)
        where.add_if(kind, "kind = ?", kind)
        with self.store.read() as tx:
            rows, token = page_rows(
                tx,
                page,
                "SELECT * FROM notifications",
                where,
                ("created_at", "notification_id"),
                descending=True,
            )
        return [self._record(r) for r in rows], token

    @staticmethod
    def _record(r: dict[str, Any]) -> NotificationRecord:
        return NotificationRecord(
            notification_id=UUID(r["notification_id"]),
            member_id=UUID(r["member_id"]),
            kind=r["kind"],
            topic=r["topic"],
            subject=r["subject"],
            status=r["status"],
            status_reason=r["status_reason"],
            due_at=text_time(r["due_at"]),
            retry_at=text_time(r["retry_at"]),
            message_id=r["message_id"],
            attempts=_attempts(r["attempts"]),
            convening_id=r["convening_id"],
            newsletter_id=r["newsletter_id"],
            item_id=r["item_id"],
            digest_frequency=r["digest_frequency"],
            digest_period=r["digest_period"],
            entry_count=int(r["entry_count"]),
            created_at=text_time(r["created_at"]),
            updated_at=text_time(r["updated_at"]),
            version=int(r["version"]),
        )

    def list_newsletters(
        self, page: Page, community_id: str = "", readers: NewsletterReaders | None = None
    ) -> tuple[list[NewsletterRecord], str]:
        """Newest first; only what `readers` may read (every newsletter when None)."""
        where = Where()
        where.add_if(community_id, "community_id = ?", community_id)
        if readers is not None:
            sent = [str(c) for c in readers.sent] or [""]
            drafts = [str(c) for c in readers.drafts] or [""]
            where.add(
                f"((status = 'sent' AND community_id IN ({', '.join('?' for _ in sent)}))"
                f" OR community_id IN ({', '.join('?' for _ in drafts)}))",
                *sent,
                *drafts,
            )
        with self.store.read() as tx:
            rows, token = page_rows(
                tx,
                page,
                "SELECT * FROM newsletters",
                where,
                ("created_at", "newsletter_id"),
                descending=True,
            )
        records = [
            NewsletterRecord(
                newsletter_id=UUID(r["newsletter_id"]),
                community_id=UUID(r["community_id"]),
                community_name=r["community_name"],
                subject=r["subject"],
                body=r["body"],
                status=r["status"],
                author_member_id=UUID(r["author_member_id"]) if r["author_member_id"] else None,
                recipients=int(r["recipients"]),
                created_at=text_time(r["created_at"]),
                sent_at=text_time(r["sent_at"]),
                version=int(r["version"]),
            )
            for r in rows
        ]
        return records, token
