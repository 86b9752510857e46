"""What notify does when convenings change and people sign up (the events service's
integration events): invitations, updates, cancellations, reminders and place offers,
one mail per member per calendar version of the convening (its SEQUENCE), as each
member's preferences say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from services.notify.domain import (
    Frequency,
    Kind,
    Notification,
    Topic,
    TrackedConvening,
    convening_mail_key,
    convening_subject,
    notification_id,
    reminder_key,
    when_text,
)
from services.notify.reactions.decisions import Batch, NotifyDecisions


class ConveningReactions(NotifyDecisions):
    def convening_scheduled(
        self,
        tracking: Tracking,
        convening_id: UUID,
        community_id: UUID,
        details: dict[str, str],
        starts_at: datetime,
        ends_at: datetime,
        time_zone: str,
        sequence: int,
        occurred_at: datetime,
    ) -> bool:
        def decision(batch: Batch) -> None:
            convening_key = TrackedConvening.create_id(convening_id)
            if batch.find(convening_key, TrackedConvening) is not None:
                return
            convening = TrackedConvening(
                convening_id=convening_id,
                community_id=community_id,
                details=details,
                starts_at=starts_at,
                ends_at=ends_at,
                time_zone=time_zone,
                sequence=sequence,
                at=occurred_at,
            )
            batch.add(convening)
            if self.is_fresh(occurred_at) and not convening.has_started(self.clock.now()):
                members = self._directory().registry.active_members(community_id)
                self._tell(batch, convening, Kind.INVITATION, members)

        return self.decide(tracking, decision)

    def _convening(
        self, tracking: Tracking, convening_id: UUID, change: Callable[[Batch, Any], None]
    ) -> bool:
        """Applies a change to a convening notify knows (one scheduled before notify's
        history began is ignored: there is nobody to tell)."""

        def decision(batch: Batch) -> None:
            convening = batch.find(TrackedConvening.create_id(convening_id), TrackedConvening)
            if convening is not None:
                change(batch, convening)

        return self.decide(tracking, decision)

    def _may_tell(self, convening: TrackedConvening, occurred_at: datetime) -> bool:
        return self.is_fresh(occurred_at) and not convening.has_started(self.clock.now())

    def convening_details_changed(
        self,
        tracking: Tracking,
        convening_id: UUID,
        details: dict[str, str],
        sequence: int,
        occurred_at: datetime,
    ) -> bool:
        """Those signed up hear of new details."""

        def change(batch: Batch, convening: TrackedConvening) -> None:
            tell = self._may_tell(convening, occurred_at) and convening.is_upcoming
            if convening.change_details(details, sequence, occurred_at) and tell:
                self._tell(
                    batch,
                    convening,
                    Kind.CONVENING_UPDATE,
                    convening.following(),
                    {"change": "details"},
                )

        return self._convening(tracking, convening_id, change)

    def convening_join_link_changed(
        self, tracking: Tracking, convening_id: UUID, join_link: str, sequence: int, at: datetime
    ) -> bool:
        """Those holding a place hear of a new joining link (not of the first one)."""

        def change(batch: Batch, convening: TrackedConvening) -> None:
            before = convening.sequence
            tell = self._may_tell(convening, at) and convening.is_upcoming
            changed = convening.change_join_link(join_link, sequence, at)
            if changed and tell and convening.sequence > before:
                self._tell(
                    batch,
                    convening,
                    Kind.CONVENING_UPDATE,
                    convening.place_holders(),
                    {"change": "join_link"},
                )

        return self._convening(tracking, convening_id, change)

    def convening_organisers_changed(
        self,
        tracking: Tracking,
        convening_id: UUID,
        organisers: list[UUID],
        sequence: int,
        at: datetime,
    ) -> bool:
        """Only recorded: invitations name the first organiser."""
        return self._convening(
            tracking,
            convening_id,
            lambda batch, convening: convening.change_organisers(organisers, sequence, at),
        )

    def convening_rescheduled(
        self,
        tracking: Tracking,
        convening_id: UUID,
        starts_at: datetime,
        ends_at: datetime,
        time_zone: str,
        reason: str,
        sequence: int,
        at: datetime,
    ) -> bool:
        """Reminders move to the new time; members and those signed up hear of it."""

        def change(batch: Batch, convening: TrackedConvening) -> None:
            previous = convening.starts_at
            if not convening.reschedule(starts_at, ends_at, time_zone, reason, sequence, at):
                return
            for member in convening.place_holders():
                self._cancel(
                    batch,
                    reminder_key(convening_id, previous),
                    member,
                    "the convening moved to a new time",
                )
                self._remind(batch, convening, member)
            if self._may_tell(convening, at):
                members = set(self._directory().registry.active_members(convening.community_id))
                members.update(convening.following())
                extras = {
                    "change": "time",
                    "reason": reason,
                    "previous_starts_at": previous.isoformat(),
                }
                self._tell(batch, convening, Kind.CONVENING_UPDATE, sorted(members), extras)

        return self._convening(tracking, convening_id, change)

    def convening_cancelled(
        self, tracking: Tracking, convening_id: UUID, reason: str, sequence: int, at: datetime
    ) -> bool:
        """Reminders are cancelled; those told of it (still members) and those signed up
        hear that it is off."""

        def change(batch: Batch, convening: TrackedConvening) -> None:
            tell = self._may_tell(convening, at)
            if not convening.cancel(reason, sequence, at):
                return
            for member in convening.place_holders():
                self._cancel(
                    batch,
                    reminder_key(convening_id, convening.starts_at),
                    member,
                    "the convening was cancelled",
                )
            if tell:
                active = set(self._directory().registry.active_members(convening.community_id))
                members = {m for m in convening.told if m in active}
                members.update(convening.following())
                self._tell(
                    batch, convening, Kind.CONVENING_CANCELLED, sorted(members), {"reason": reason}
                )

        return self._convening(tracking, convening_id, change)

    def convening_ended(
        self, tracking: Tracking, convening_id: UUID, status: str, at: datetime
    ) -> bool:
        """Held or closed: recorded (its reminders are past their use)."""
        return self._convening(
            tracking, convening_id, lambda batch, convening: convening.end(status, at)
        )

    def sign_up_changed(
        self,
        tracking: Tracking,
        convening_id: UUID,
        member_id: UUID,
        status: str,
        how: str,
        occurred_at: datetime,
    ) -> bool:
        """`how`: signed_up, sign_up_approved, sign_up_declined, sign_up_cancelled,
        sign_up_promoted."""

        def decision(batch: Batch) -> None:
            convening = batch.find(TrackedConvening.create_id(convening_id), TrackedConvening)
            if convening is None:
                return
            had_place = convening.holds_place(member_id)
            convening.sign_up_changed(member_id, status)
            now = self.clock.now()
            key = reminder_key(convening_id, convening.starts_at)
            if status == "registered" and convening.is_upcoming:
                self._remind(batch, convening, member_id)
                gained = how in ("sign_up_promoted", "sign_up_approved") and not had_place
                if gained and self.is_fresh(occurred_at) and not convening.has_started(now):
                    promoted = how == "sign_up_promoted"
                    self._place_confirmed(batch, convening, member_id, tracking, promoted)
            elif status in ("cancelled", "declined"):
                self._cancel(batch, key, member_id, f"the sign-up was {status}")

        return self.decide(tracking, decision)

    def _tell(
        self,
        batch: Batch,
        convening: TrackedConvening,
        kind: Kind,
        members: Iterable[UUID],
        extras: dict[str, Any] | None = None,
    ) -> None:
        """Tells each member of a convening's new state, as their preferences say: one mail
        per member per SEQUENCE, superseding one of theirs that has not gone out yet."""
        members = list(members)
        if not members:
            return
        now = self.clock.now()
        settings = self._preferences_view().settings_for(members)
        following = set(convening.following())
        community_name = self._directory().community_name(convening.community_id)
        when = when_text(convening.starts_at, convening.ends_at, convening.time_zone)
        subject = convening_subject(kind, convening.details.get("title", ""), when)
        told, heard_before = [], []
        for member in members:
            topic = Topic.MY_SIGN_UPS if member in following else Topic.INVITATIONS
            frequency = settings[member].frequency(topic)
            if frequency is Frequency.NEVER:
                continue
            previous = convening.told.get(member)
            heard = False
            if previous is not None and previous.sequence != convening.sequence:
                key = convening_mail_key(convening.convening_id, previous.sequence)
                earlier = batch.find(notification_id(key, member), Notification)
                superseded = earlier is not None and earlier.cancel("superseded by a later update")
                # A mail not superseded is out (or on its way, or in a digest).
                heard = previous.heard_before or not superseded
            if kind is Kind.CONVENING_CANCELLED and not heard and member not in following:
                continue  # nothing about it reached them: no need to hear it is off
            key = convening_mail_key(convening.convening_id, convening.sequence)
            if frequency.is_digest:
                entry = {
                    "topic": topic.value,
                    "kind": kind.value,
                    "ref": str(convening.convening_id),
                    "title": convening.details.get("title", ""),
                    "community_id": str(convening.community_id),
                    "community_name": community_name,
                    "when": when,
                    "starts_at": convening.starts_at.isoformat(),
                    "note": _convening_note(kind, extras or {}),
                }
                self._add_to_digest(batch, member, frequency, now, entry)
            elif previous is None or batch.find(notification_id(key, member), Notification) is None:
                # Never told of this convening: no mail of it can exist for the member yet.
                batch.add(
                    Notification.create(
                        key,
                        member,
                        kind,
                        topic,
                        now,
                        subject,
                        refs={
                            "convening_id": str(convening.convening_id),
                            "community_id": str(convening.community_id),
                            "sequence": convening.sequence,
                        },
                        context=extras or {},
                    )
                )
            told.append(member)
            if heard:
                heard_before.append(member)
        convening.record_told(told, kind, heard_before)

    def _remind(self, batch: Batch, convening: TrackedConvening, member: UUID) -> None:
        """The reminder of a member's place, due the member's lead time before the start."""
        preferences = self._preferences_view().settings_for([member])[member]
        if preferences.my_sign_ups is Frequency.NEVER:
            return
        due = convening.starts_at - preferences.reminder_lead(self.schedules.reminder_hours_before)
        key = reminder_key(convening.convening_id, convening.starts_at)
        existing = batch.find(notification_id(key, member), Notification)
        if existing is not None:
            existing.reinstate(due)
            return
        when = when_text(convening.starts_at, convening.ends_at, convening.time_zone)
        batch.add(
            Notification.create(
                key,
                member,
                Kind.REMINDER,
                Topic.MY_SIGN_UPS,
                due,
                convening_subject(Kind.REMINDER, convening.details.get("title", ""), when),
                refs={
                    "convening_id": str(convening.convening_id),
                    "community_id": str(convening.community_id),
                    "starts_at": convening.starts_at.isoformat(),
                },
            )
        )

    def _place_confirmed(
        self,
        batch: Batch,
        convening: TrackedConvening,
        member: UUID,
        tracking: Tracking,
        promoted: bool,
    ) -> None:
        preferences = self._preferences_view().settings_for([member])[member]
        if preferences.my_sign_ups is Frequency.NEVER:
            return
        when = when_text(convening.starts_at, convening.ends_at, convening.time_zone)
        key = f"place:{convening.convening_id}:{tracking.notification_id}"
        if batch.find(notification_id(key, member), Notification) is None:
            batch.add(
                Notification.create(
                    key,
                    member,
                    Kind.PLACE_CONFIRMED,
                    Topic.MY_SIGN_UPS,
                    self.clock.now(),
                    convening_subject(
                        Kind.PLACE_CONFIRMED, convening.details.get("title", ""), when
                    ),
                    refs={
                        "convening_id": str(convening.convening_id),
                        "community_id": str(convening.community_id),
                    },
                    context={"how": "promoted" if promoted else "approved"},
                )
            )

    @staticmethod
    def _cancel(batch: Batch, key: str, member: UUID, reason: str) -> None:
        existing = batch.find(notification_id(key, member), Notification)
        if existing is not None:
            existing.cancel(reason)


def _convening_note(kind: Kind, extras: dict[str, Any]) -> str:
    if kind is Kind.CONVENING_CANCELLED:
        reason = extras.get("reason", "")
        return f"Cancelled{': ' + reason if reason else ''}"
    if kind is Kind.CONVENING_UPDATE:
        change = extras.get("change")
        if change == "time":
            return "Moved to a new time"
        if change == "join_link":
            return "New joining link"
        return "Details changed"
    return "New"
