"""Turning a due notification into an e-mail, or deciding not to send it.

`Composer.prepare` runs just before an attempt is claimed and checks, on the
current state:
- the member's preferences: a topic turned off since (or a newsletter opted out
  of) skips the notification; a digest drops the entries of topics turned off;
- the late rule: any mail about a convening (invitation, update, cancellation,
  reminder, place offer) whose convening has started is skipped, as is a reminder
  of a cancelled convening or of a place given up; learning withdrawn since is
  skipped; digests and newsletters are always sent, however late;
- the address: looked up in the directory now; if the registry's events have not
  brought it yet the notification waits (up to an hour after it was due), then
  is skipped.
Then it renders the templates and builds the MIME message: text and HTML, the
iCalendar invitation for convenings, and the headers (a Message-ID derived from
the notification, RFC 8058 one-click List-Unsubscribe, List-Id for newsletters).
What the messages of one mailing share is rendered once (`TemplateLibrary.render`,
`Invitations`, `MailAssembler`) and personalised per member.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from uuid import UUID

from services.notify.application import ADDRESS_GRACE, Notify
from services.notify.delivery.ics import Invitations
from services.notify.delivery.mailing import Mail, MailAssembler
from services.notify.delivery.rendering import TOPIC_PHRASES, RenderedMail, TemplateLibrary, label
from services.notify.directory import NotifyDirectory
from services.notify.domain import (
    CONVENING_KINDS,
    Frequency,
    Kind,
    LearningNotice,
    Newsletter,
    Notification,
    PreferenceSettings,
    Topic,
    TrackedConvening,
    UnsubscribeScope,
    Unsubscription,
    when_text,
)
from services.notify.unsubscribe import UnsubscribeTokens

ICS_KINDS = frozenset(
    {Kind.INVITATION, Kind.CONVENING_UPDATE, Kind.CONVENING_CANCELLED, Kind.PLACE_CONFIRMED}
)
ADDRESS_RETRY = timedelta(minutes=1)


@dataclass(frozen=True)
class Ready:
    data: bytes  # the message as sent (`mailing.wire_bytes`)
    recipient: str
    subject: str
    message_id: str


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Postpone:
    until: datetime
    reason: str


Preparation = Ready | Skip | Postpone


def message_id(notification_id: UUID, sender: str) -> str:
    """Every attempt of a notification carries the same Message-ID, so a copy that does
    arrive twice (an operator's resend of one in doubt) is recognisable as one message."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "copnet.invalid"
    return f"<notification.{notification_id}@{domain}>"


class Composer:
    def __init__(
        self,
        app: Notify,
        directory: NotifyDirectory,
        library: TemplateLibrary,
        tokens: UnsubscribeTokens,
        sender: str,
        base_url: Callable[[], str],
    ) -> None:
        self.app = app
        self.directory = directory
        self.library = library
        self.tokens = tokens
        self.sender = sender
        self.base_url = base_url
        # What a mailing's messages share, built once: its calendar and MIME skeleton.
        self.invitations = Invitations()
        self.assembler = MailAssembler()

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]

    def message_id(self, notification: Notification) -> str:
        return message_id(notification.id, self.sender)

    # Deciding

    def prepare(self, n: Notification, now: datetime) -> Preparation:
        preferences, _, _ = self.app.preferences_of(n.member_id)
        entries: list[dict[str, Any]] = []
        if n.kind is Kind.DIGEST:
            entries = self._digest_entries(n, preferences)
            if not entries:
                return Skip("nothing left to send: every entry was turned off or withdrawn")
        elif n.kind is Kind.NEWSLETTER:
            if not preferences.wants_newsletter_of(n.refs.get("community_id", "")):
                return Skip("the member no longer wants these newsletters")
        elif n.topic is not None and preferences.frequency(n.topic) is Frequency.NEVER:
            return Skip(f"the member turned off {TOPIC_PHRASES[n.topic]}")
        convening = None
        if n.kind in CONVENING_KINDS:
            convening = self.app._find(
                TrackedConvening.create_id(UUID(n.refs["convening_id"])), TrackedConvening
            )
            reason = self._convening_obstacle(n, convening, now)
            if reason:
                return Skip(reason)
        if n.kind is Kind.LEARNING:
            notice = self.app._find(LearningNotice.create_id(n.refs["item_id"]), LearningNotice)
            if notice is not None and notice.withdrawn:
                return Skip("the learning item was withdrawn")
        if self.directory.is_erased(n.member_id):
            return Skip("the member was erased")
        if n.kind is Kind.ADDRESS_CONFIRMATION:
            return self._address_confirmation(n, now)
        name, address = self.directory.person(n.member_id)
        if not address:
            if now - n.due_at < ADDRESS_GRACE:
                return Postpone(now + ADDRESS_RETRY, "waiting for the member's e-mail address")
            return Skip("no e-mail address is known for the member")
        return self._compose(n, now, (name or "member", address), convening, entries)

    def _address_confirmation(self, n: Notification, now: datetime) -> Preparation:
        """To the requested address, with its code: both read from the directory now (the
        registry's node-local event), never stored in notify's events."""
        expires = datetime.fromisoformat(n.refs["expires_at"])
        if now >= expires:
            return Skip("the address change request expired")
        pending = self.directory.pending_address(n.member_id)
        version = int(n.refs["version"])
        if pending is None or pending.version != version:
            if pending is not None and pending.version > version:
                return Skip("a newer address change request replaced this one")
            if now - n.due_at < ADDRESS_GRACE:
                return Postpone(now + ADDRESS_RETRY, "waiting for the requested address")
            return Skip("the address change is no longer waiting for its code")
        code = "-".join(pending.code[i : i + 4] for i in range(0, len(pending.code), 4))
        extra = {"code": code, "expires": f"{expires:%d %B %Y, %H:%M} UTC"}
        name = self.directory.display_name(n.member_id) or "member"
        return self._compose(n, now, (name, pending.email), None, [], extra)

    @staticmethod
    def _convening_obstacle(
        n: Notification, convening: TrackedConvening | None, now: datetime
    ) -> str:
        if convening is None:
            return "the convening is not known here"
        if convening.has_started(now):
            return "the convening had started by the time it was due"
        if n.kind is not Kind.CONVENING_CANCELLED and convening.is_cancelled:
            return "the convening was cancelled"
        if not convening.is_upcoming and n.kind is not Kind.CONVENING_CANCELLED:
            return f"the convening is {convening.status}"
        if n.kind is Kind.REMINDER:
            if n.refs.get("starts_at") != convening.starts_at.isoformat():
                return "the convening moved to another time"
            if not convening.holds_place(n.member_id):
                return "the member no longer holds a place"
        return ""

    def _digest_entries(self, n: Notification, preferences: PreferenceSettings) -> list[dict]:
        """The entries still wanted, the latest of each subject, in the order they came."""
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in n.entries:
            topic = Topic(entry["topic"])
            if preferences.frequency(topic) is Frequency.NEVER:
                continue
            if topic is Topic.NEWSLETTERS and not preferences.wants_newsletter_of(
                entry["community_id"]
            ):
                continue
            group = "convening" if topic in (Topic.INVITATIONS, Topic.MY_SIGN_UPS) else topic.value
            key = (group, entry["ref"])
            latest.pop(key, None)
            latest[key] = entry
        kept = []
        for (group, ref), entry in latest.items():
            if group == Topic.LEARNING.value:
                item_id = ref.rpartition(":")[2]
                notice = self.app._find(LearningNotice.create_id(item_id), LearningNotice)
                if notice is not None and notice.withdrawn:
                    continue
            kept.append(entry)
        return kept

    # Composing

    def preview(self, n: Notification, now: datetime) -> RenderedMail | None:
        """A digest as it would be sent now (None when nothing in it is still wanted)."""
        preferences, _, _ = self.app.preferences_of(n.member_id)
        entries = self._digest_entries(n, preferences)
        if not entries:
            return None
        name = self.directory.display_name(n.member_id) or "member"
        return self._render(n, now, (name, ""), None, entries)[0]

    def _render(
        self,
        n: Notification,
        now: datetime,
        recipient: tuple[str, str],
        convening: TrackedConvening | None,
        entries: list[dict[str, Any]],
        extra: dict[str, Any] | None = None,
    ) -> tuple[RenderedMail, dict[str, Any], tuple[str, str] | None]:
        """(the mail, its context, (method, iCalendar text) or None)."""
        member_name, address = recipient
        community = ""
        if convening is not None:
            community = self.directory.community_name(convening.community_id)
        elif n.kind is Kind.NEWSLETTER:
            community = self.directory.community_name(n.refs["community_id"])
        unsubscription, label, reason = self._footer(n, community)
        unsubscribe_url = ""
        if n.kind is Kind.ADDRESS_CONFIRMATION:  # nothing to unsubscribe from
            reason = "You receive this because someone asked to use this address for copnet."
        else:
            token = self.tokens.issue(unsubscription)
            unsubscribe_url = f"{self.base_url()}/unsubscribe?token={token}"
        context: dict[str, Any] = {
            **(extra or {}),
            "member_name": member_name,
            "node_id": self.app.node_id,
            "unsubscribe_url": unsubscribe_url,
            "unsubscribe_label": label,
            "footer_reason": reason,
        }
        calendar = None
        if convening is not None:
            organisers = self.directory.registry.display_names(convening.organiser_ids)
            context.update(self._convening_context(n, convening, now, community, organisers))
            if n.kind in ICS_KINDS:
                calendar = self.invitations.invitation(
                    convening,
                    community,
                    organisers,
                    show_join_link=convening.holds_place(n.member_id),
                    attendee=(member_name, address),
                    organizer=self.sender,
                )
        elif n.kind is Kind.LEARNING:
            context.update(self._learning_context(n))
        elif n.kind is Kind.NEWSLETTER:
            newsletter = self.app.load(UUID(n.refs["newsletter_id"]), Newsletter, "newsletter")
            context["newsletter"] = {
                "subject": newsletter.subject,
                "body": newsletter.body,
                "community_name": newsletter.community_name,
            }
        elif n.kind is Kind.DIGEST:
            context.update(self._digest_context(n, entries))
        return self.library.render(n.kind, context), context, calendar

    def _compose(
        self,
        n: Notification,
        now: datetime,
        recipient: tuple[str, str],
        convening: TrackedConvening | None,
        entries: list[dict[str, Any]],
        extra: dict[str, Any] | None = None,
    ) -> Ready:
        mail = self.mail(n, now, recipient, convening, entries, extra)
        return Ready(
            self.assembler.wire(mail), recipient[1], mail.header("Subject"), self.message_id(n)
        )

    def mail(
        self,
        n: Notification,
        now: datetime,
        recipient: tuple[str, str],
        convening: TrackedConvening | None,
        entries: list[dict[str, Any]],
        extra: dict[str, Any] | None = None,
    ) -> Mail:
        """The e-mail: headers in order, text, HTML and the calendar (`mailing.build_message`
        makes it a MIME message)."""
        rendered, context, calendar = self._render(n, now, recipient, convening, entries, extra)
        member_name, address = recipient
        unsubscribe_url = context["unsubscribe_url"]
        headers = [
            ("From", self.sender),
            ("To", formataddr((member_name, address))),
            ("Subject", rendered.subject),
            ("Date", format_datetime(now)),
            ("Message-ID", self.message_id(n)),
        ]
        if unsubscribe_url:
            headers.append(("List-Unsubscribe", f"<{unsubscribe_url}>"))
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        headers.append(("X-Copnet-Notification", str(n.id)))
        if n.kind in (Kind.NEWSLETTER, Kind.DIGEST):
            headers.append(("Precedence", "bulk"))
        else:
            headers.append(("Auto-Submitted", "auto-generated"))
        if n.kind is Kind.NEWSLETTER:
            community = self.directory.registry.community(n.refs["community_id"]) or {}
            slug = community.get("slug", "community")
            domain = self.envelope_sender.rpartition("@")[2] or "copnet.invalid"
            headers.append(
                ("List-Id", f"{context['newsletter']['community_name']} <{slug}.{domain}>")
            )
        return Mail(tuple(headers), rendered.text, rendered.html, calendar)

    def _footer(self, n: Notification, community: str) -> tuple[Unsubscription, str, str]:
        member = n.member_id
        if n.kind is Kind.NEWSLETTER:
            community = community or "the community"
            return (
                Unsubscription(member, UnsubscribeScope.NEWSLETTER, n.refs["community_id"]),
                f"Unsubscribe from {community} newsletters",
                f"You receive this because you are on the mailing list of {community}.",
            )
        if n.kind is Kind.DIGEST:
            frequency = Frequency((n.digest or {})["frequency"])
            label = "daily" if frequency is Frequency.DAILY_DIGEST else "weekly"
            return (
                Unsubscription(member, UnsubscribeScope.DIGEST, frequency.value),
                f"Unsubscribe from the {label} digest",
                f"You receive this because you chose a {label} digest.",
            )
        topic = n.topic or Topic.INVITATIONS
        if topic is Topic.INVITATIONS and community:
            reason = f"You receive this because you are a member of {community}."
        elif topic is Topic.MY_SIGN_UPS:
            reason = "You receive this because you signed up to this meeting."
        else:
            reason = "You receive this because you asked to hear about new learning."
        return (
            Unsubscription(member, UnsubscribeScope.TOPIC, topic.value),
            f"Unsubscribe from {TOPIC_PHRASES[topic]}",
            reason,
        )

    def _convening_context(
        self,
        n: Notification,
        convening: TrackedConvening,
        now: datetime,
        community: str,
        names: dict[UUID, str],
    ) -> dict[str, Any]:
        details = convening.details
        holds_place = convening.holds_place(n.member_id)
        organisers = [names[m] for m in convening.organiser_ids if m in names]
        join_note = ""
        if details.get("format") in ("webinar", "hybrid") and not holds_place:
            join_note = "the joining link is sent to people holding a place"
        c = {
            "title": details.get("title", ""),
            "topic": details.get("topic", ""),
            "description": details.get("description", ""),
            "format_label": label(details.get("format", "")) or "Meeting",
            "venue": details.get("venue", ""),
            "join_link": convening.join_link if holds_place else "",
            "join_note": join_note,
            "community_name": community,
            "organisers": organisers,
            "when": when_text(convening.starts_at, convening.ends_at, convening.time_zone),
            "cancel_reason": convening.cancel_reason,
        }
        change = {
            "kind": n.context.get("change", ""),
            "reason": n.context.get("reason", ""),
            "previous_when": "",
        }
        previous = n.context.get("previous_starts_at")
        if previous:
            start = datetime.fromisoformat(previous)
            change["previous_when"] = when_text(
                start, start + (convening.ends_at - convening.starts_at), convening.time_zone
            )
        return {
            "c": c,
            "change": change,
            "how": n.context.get("how", "approved"),
            "starts_in": _starts_in(convening.starts_at - now),
        }

    def _learning_context(self, n: Notification) -> dict[str, Any]:
        summary = dict(n.context["summary"])
        return {
            "item": {
                **summary,
                "kind_label": label(summary["kind"]) or "Learning",
                "links": [tuple(link) for link in summary.get("links", [])],
            },
            "revised": bool(n.context.get("revised")),
            "local": summary["origin_node"] == self.app.node_id,
        }

    def _digest_context(self, n: Notification, entries: list[dict[str, Any]]) -> dict[str, Any]:
        frequency = Frequency((n.digest or {})["frequency"])
        sections = []
        for title, topics in (
            ("Meetings", (Topic.INVITATIONS, Topic.MY_SIGN_UPS)),
            ("New learning", (Topic.LEARNING,)),
            ("Newsletters", (Topic.NEWSLETTERS,)),
        ):
            groups: dict[str, list[dict[str, Any]]] = {}
            for entry in entries:
                if Topic(entry["topic"]) not in topics:
                    continue
                heading = entry.get("community_name") or "Other"
                if entry.get("origin_node") and not entry.get("local", True):
                    heading = f"{heading} (node {entry['origin_node']})"
                groups.setdefault(heading, []).append(_digest_entry(entry))
            if groups:
                sections.append(
                    {
                        "title": title,
                        "groups": [
                            {"heading": heading, "entries": items}
                            for heading, items in sorted(groups.items())
                        ],
                    }
                )
        return {
            "label": "daily" if frequency is Frequency.DAILY_DIGEST else "weekly",
            "entry_count": len(entries),
            "sections": sections,
        }


def _digest_entry(entry: dict[str, Any]) -> dict[str, Any]:
    kind = entry["kind"]
    note = entry.get("note", "")
    summary = entry.get("summary", "")
    if kind == "learning":
        note = f"revised, revision {entry['revision']}" if entry.get("revised") else ""
        note = ", ".join(part for part in (label(entry.get("item_kind", "")), note) if part)
    if kind == "newsletter":
        summary = entry.get("body", "")
    return {
        "title": entry["title"],
        "when": entry.get("when", ""),
        "note": note,
        "summary": summary,
    }


def _starts_in(delta: timedelta) -> str:
    hours = max(int(delta.total_seconds() // 3600), 0)
    if hours >= 48:
        return f"in {hours // 24} days"
    if hours >= 1:
        return f"in {hours} hour{'s' if hours != 1 else ''}"
    minutes = max(int(delta.total_seconds() // 60), 0)
    return f"in {minutes} minutes"
