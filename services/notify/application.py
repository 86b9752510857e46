"""The notify service's use cases.

Commands (from the API): preferences, unsubscribing, newsletters, resending.
Who may do what:
- preferences and notifications: the member themselves, or the node operator;
- newsletters: the community's co-leads (on today's date, active membership), or
  the operator; resending: the operator.

Triggers (from other services' integration events, through `policy.NotifyPolicy`):
each decides which notifications a cause creates (one per member, with an id
derived from the cause, so a replay finds it and creates nothing) and saves
them with the inbox's tracking record in one transaction (`save_processed`).

Delivery (from the dispatcher): claim an attempt, then record its outcome.

Communities, memberships, roles and addresses come from the notify directory
(the registry's events); members' choices from the preferences view. Both may
lag their sources by a moment; the dispatcher re-checks preferences when it sends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from services.common.application import (
    Changes,
    CopnetApplication,
    Outcome,
    check_expected_version,
)
from services.common.errors import FailedPrecondition, NotFound, PermissionDenied
from services.common.idempotency import Command
from services.common.identity import Caller
from services.notify.directory import NotifyDirectory
from services.notify.domain import (
    DEFAULT_PREFERENCES,
    Frequency,
    Kind,
    LearningNotice,
    LearningSummary,
    MemberPreferences,
    Newsletter,
    Notification,
    PreferenceSettings,
    Topic,
    TrackedConvening,
    Unsubscription,
    convening_mail_key,
    convening_subject,
    digest_period,
    notification_id,
    reminder_key,
    when_text,
)
from services.notify.views import PreferencesView

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Aggregate)

MAX_DECISION_ATTEMPTS = 5
# How long a notification waits for its member's e-mail address to arrive (the
# registry's events may lag the events service's) before it is skipped.
ADDRESS_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Schedules:
    """The node's notification schedule settings (from NotifySettings)."""

    reminder_hours_before: int = 24
    digest_hour: int = 7
    max_trigger_age: timedelta = timedelta(days=7)


class Batch:
    """The aggregates one decision loads and changes, each once, saved together."""

    def __init__(self, app: Notify) -> None:
        self.app = app
        self.aggregates: dict[UUID, Aggregate] = {}

    def find(self, aggregate_id: UUID, cls: type[T]) -> T | None:
        found = self.aggregates.get(aggregate_id)
        if found is None:
            found = self.app._find(aggregate_id, cls)
            if found is None:
                return None
            self.aggregates[aggregate_id] = found
        return found if isinstance(found, cls) else None

    def add(self, aggregate: Aggregate) -> None:
        self.aggregates[aggregate.id] = aggregate

    def __iter__(self):
        return iter(self.aggregates.values())


def _require_self_or_operator(caller: Caller, member_id: UUID, action: str) -> None:
    if not (caller.is_operator or caller.is_member(member_id)):
        raise PermissionDenied(f"only the member themselves or the node operator may {action}")


class Notify(CopnetApplication):
    name = "Notify"
    env = {"AGGREGATE_CACHE_MAXSIZE": "2000"}

    def __init__(self, env: dict[str, str] | None = None, clock: Any = None) -> None:
        super().__init__(env, clock)
        self.node_id = self.env.get("COPNET_NODE_ID") or "dev"
        self.directory: NotifyDirectory | None = None
        self.preferences_view: PreferencesView | None = None
        self.schedules = Schedules()

    def wire(
        self, directory: NotifyDirectory, preferences: PreferencesView, schedules: Schedules
    ) -> None:
        self.directory = directory
        self.preferences_view = preferences
        self.schedules = schedules

    # Reading

    def preferences_of(self, member_id: UUID) -> tuple[PreferenceSettings, int, datetime | None]:
        """A member's settings, their version (0: never changed) and when they last changed."""
        found = self._find(MemberPreferences.create_id(member_id), MemberPreferences)
        if found is None:
            return DEFAULT_PREFERENCES, 0, None
        return found.settings, found.version, found.modified_on

    def read_preferences(
        self, caller: Caller, member_id: UUID
    ) -> tuple[PreferenceSettings, int, Any]:
        _require_self_or_operator(caller, member_id, "see these preferences")
        self._known_member(member_id)
        return self.preferences_of(member_id)

    def read_notification(self, caller: Caller, notification_id_: UUID) -> Notification:
        found = self._find(notification_id_, Notification)
        if found is None or not (caller.is_operator or caller.is_member(found.member_id)):
            # Someone else's notification is as good as absent.
            raise NotFound(f"notification {notification_id_} not found")
        return found

    def read_newsletter(self, newsletter_id: UUID) -> Newsletter:
        return self.load(newsletter_id, Newsletter, "newsletter")

    def open_digests(self, caller: Caller, member_id: UUID) -> list[Notification]:
        """The member's digests still collecting now (daily and weekly)."""
        _require_self_or_operator(caller, member_id, "preview these digests")
        digests = []
        for frequency in (Frequency.DAILY_DIGEST, Frequency.WEEKLY_DIGEST):
            period = self._period(frequency, self.clock.now())
            key = f"digest:{frequency.value}:{period.key}"
            digest = self._find(notification_id(key, member_id), Notification)
            if digest is not None and digest.is_collecting:
                digests.append(digest)
        return digests

    # Preferences

    def set_preferences(
        self,
        command: Command,
        member_id: UUID,
        change: Callable[[PreferenceSettings], PreferenceSettings],
        expected_version: int,
    ) -> Outcome:
        def decide() -> Changes:
            _require_self_or_operator(command.caller, member_id, "change these preferences")
            self._known_member(member_id)
            preferences = self._preferences(member_id)
            check_expected_version(preferences, expected_version, "the preferences")
            preferences.change(change(preferences.settings), via="api")
            return Changes(preferences)

        return self.execute(command, decide, serialise_on=member_id)

    def unsubscribe(self, command: Command, unsubscription: Unsubscription) -> Outcome:
        """Applies a signed unsubscribe link (the token is the authority: no login)."""

        def decide() -> Changes:
            self._known_member(unsubscription.member_id)
            preferences = self._preferences(unsubscription.member_id)
            preferences.change(unsubscription.applied_to(preferences.settings), via="link")
            return Changes(preferences)

        return self.execute(command, decide, serialise_on=unsubscription.member_id)

    def _preferences(self, member_id: UUID) -> MemberPreferences:
        found = self._find(MemberPreferences.create_id(member_id), MemberPreferences)
        return found or MemberPreferences(member_id=member_id)

    def _known_member(self, member_id: UUID) -> None:
        if not self._directory().registry.is_known_member(member_id):
            raise FailedPrecondition(
                f"member {member_id} is not known to the notify service (yet): registered on "
                "this node? If just registered, retry shortly"
            )

    # Newsletters

    def compose_newsletter(
        self, command: Command, community_id: UUID, subject: str, body: str
    ) -> Outcome:
        def decide() -> Changes:
            community = self._community(community_id)
            self._require_co_lead(command.caller, community_id, community["name"])
            newsletter = Newsletter(
                community_id=community_id,
                community_name=community["name"],
                subject=subject,
                body=body,
                author_member_id=command.caller.member_id,
                at=self.clock.now(),
            )
            return Changes(newsletter)

        return self.execute(command, decide)

    def send_newsletter(self, command: Command, newsletter_id: UUID, expected_version: int):
        def decide() -> Changes:
            newsletter = self.load(newsletter_id, Newsletter, "newsletter")
            self._require_co_lead(
                command.caller, newsletter.community_id, newsletter.community_name
            )
            check_expected_version(newsletter, expected_version, "the newsletter")
            community = self._community(newsletter.community_id)
            now = self.clock.now()
            batch = Batch(self)
            members = self._directory().registry.active_members(newsletter.community_id)
            settings = self._preferences_view().settings_for(members)
            recipients = 0
            for member in members:
                preferences = settings[member]
                if not preferences.wants_newsletter_of(newsletter.community_id):
                    continue
                recipients += 1
                if preferences.newsletters.is_digest:
                    self._add_to_digest(
                        batch,
                        member,
                        preferences.newsletters,
                        now,
                        {
                            "topic": Topic.NEWSLETTERS.value,
                            "kind": "newsletter",
                            "ref": str(newsletter.id),
                            "title": newsletter.subject,
                            "community_id": str(newsletter.community_id),
                            "community_name": community["name"],
                            "body": newsletter.body,
                        },
                    )
                    continue
                batch.add(
                    Notification.create(
                        f"newsletter:{newsletter.id}",
                        member,
                        Kind.NEWSLETTER,
                        Topic.NEWSLETTERS,
                        now,
                        newsletter.subject,
                        refs={
                            "newsletter_id": str(newsletter.id),
                            "community_id": str(newsletter.community_id),
                        },
                    )
                )
            newsletter.send(now, recipients)
            return Changes(newsletter, list(batch))

        return self.execute(command, decide, serialise_on=newsletter_id)

    def _community(self, community_id: UUID) -> dict[str, Any]:
        community = self._directory().registry.community(community_id)
        if community is None:
            raise FailedPrecondition(
                f"community {community_id} is not known to the notify service (yet); "
                "if it was just created, retry shortly"
            )
        return community

    def _require_co_lead(self, caller: Caller, community_id: UUID, name: str) -> None:
        if caller.is_operator:
            return
        registry = self._directory().registry
        if (
            caller.member_id is not None
            and registry.is_active_member(community_id, caller.member_id)
            and registry.holds_role(community_id, caller.member_id, ["co_lead"], self.clock.today())
        ):
            return
        raise PermissionDenied(f"only the co-leads of '{name}' or the operator may do this")

    # Resending

    def resend(self, command: Command, notification_id_: UUID) -> Outcome:
        def decide() -> Changes:
            if not command.caller.is_operator:
                raise PermissionDenied("only the node operator may resend a notification")
            notification = self.load(notification_id_, Notification, "notification")
            notification.resend(self.clock.now())
            return Changes(notification)

        return self.execute(command, decide, serialise_on=notification_id_)

    # Delivery (the dispatcher)

    def notification(self, notification_id_: UUID) -> Notification | None:
        return self._find(notification_id_, Notification)

    def save_delivery(self, *notifications: Notification) -> None:
        """Saves what the dispatcher decided (claims, outcomes, skips) in one transaction;
        IntegrityError when one of them changed since it was read."""
        self.save(*notifications)

    def record(
        self, notification_id_: UUID, change: Callable[[Notification, datetime], Any]
    ) -> Notification:
        """Records an outcome on the notification as the store holds it."""
        for _ in range(MAX_DECISION_ATTEMPTS):
            notification = self.load(notification_id_, Notification, "notification")
            change(notification, self.clock.now())
            try:
                self.save(notification)
                return notification
            except IntegrityError:
                continue
        raise IntegrityError(f"could not record the outcome of {notification_id_}")

    # Triggers: each records the tracking of the integration event that caused it.

    def decide(self, tracking: Tracking, decision: Callable[[Batch], None]) -> bool:
        """Runs a decision on fresh state and saves what it changed with the tracking;
        decides again when a concurrent write (the dispatcher) got in first. False when
        this tracking was recorded before (a redelivered event): nothing is saved."""
        for attempt in range(MAX_DECISION_ATTEMPTS):
            batch = Batch(self)
            decision(batch)
            try:
                return self.save_processed(tracking, *batch) is not None
            except IntegrityError:
                if attempt == MAX_DECISION_ATTEMPTS - 1:
                    raise
                log.info("notify: %s conflicted with a concurrent write; deciding again", tracking)
        return False  # pragma: no cover

    def skip_event(self, tracking: Tracking) -> bool:
        return self.save_processed(tracking) is not None

    def is_fresh(self, occurred_at: datetime) -> bool:
        """Whether an event is recent enough to notify anyone about."""
        age = self.schedules.max_trigger_age
        return not age or self.clock.now() - occurred_at <= age

    # Convenings

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

    # Learning

    def learning_seen(
        self, tracking: Tracking, summary: LearningSummary, contributors: list[str], at: datetime
    ) -> bool:
        """A learning item was published, revised or withdrawn here, or arrived from
        another node: announce each new published revision once to those it interests."""

        def decision(batch: Batch) -> None:
            notice_id = LearningNotice.create_id(summary.item_id)
            notice = batch.find(notice_id, LearningNotice)
            if notice is None:
                notice = LearningNotice(
                    origin_node=summary.origin_node,
                    item_id=summary.item_id,
                    summary=summary.as_dict(),
                )
                batch.add(notice)
            else:
                notice.see(summary)
            if not notice.should_announce():
                return
            revised = notice.announced_revision > 0
            notice.announce()
            if not self.is_fresh(at):
                return
            self._announce(batch, summary, revised, set(contributors))

        return self.decide(tracking, decision)

    def learning_withdrawn(self, tracking: Tracking, item_id: str) -> bool:
        def decision(batch: Batch) -> None:
            notice = batch.find(LearningNotice.create_id(item_id), LearningNotice)
            if notice is not None:
                notice.withdraw()

        return self.decide(tracking, decision)

    def interested_in(self, summary: LearningSummary) -> dict[UUID, PreferenceSettings]:
        """Members whose preferences match an item, with those preferences."""
        view = self._preferences_view()
        candidates = view.following(summary.domain_tags, summary.community_id)
        try:
            community = UUID(summary.community_id)
        except ValueError:
            community = None
        community_members: set[UUID] = set()
        if summary.origin_node == self.node_id and community is not None:
            community_members = set(self._directory().registry.active_members(community))
        settings = view.settings_for(candidates | community_members)
        tags = set(summary.domain_tags)
        return {
            member: preferences
            for member, preferences in settings.items()
            if preferences.learning is not Frequency.NEVER
            and (
                tags & set(preferences.learning_domains)
                or summary.community_id in preferences.learning_communities
                or (member in community_members and preferences.learning_from_my_communities)
            )
        }

    def _announce(
        self, batch: Batch, summary: LearningSummary, revised: bool, contributors: set[str]
    ) -> None:
        now = self.clock.now()
        key = f"learning:{summary.origin_node}:{summary.item_id}:{summary.revision}"
        verb = "Revised" if revised else "New"
        subject = f"{verb} learning: {summary.title}"
        for member, preferences in sorted(self.interested_in(summary).items()):
            if str(member) in contributors:
                continue  # they wrote it
            if preferences.learning.is_digest:
                self._add_to_digest(
                    batch,
                    member,
                    preferences.learning,
                    now,
                    {
                        "topic": Topic.LEARNING.value,
                        "kind": "learning",
                        "ref": f"{summary.origin_node}:{summary.item_id}",
                        "title": summary.title,
                        "community_id": summary.community_id,
                        "community_name": summary.community_name,
                        "origin_node": summary.origin_node,
                        "local": summary.origin_node == self.node_id,
                        "summary": summary.summary,
                        "item_kind": summary.kind,
                        "organisation_name": summary.organisation_name,
                        "revision": summary.revision,
                        "revised": revised,
                        "domain_tags": list(summary.domain_tags),
                    },
                )
            elif batch.find(notification_id(key, member), Notification) is None:
                batch.add(
                    Notification.create(
                        key,
                        member,
                        Kind.LEARNING,
                        Topic.LEARNING,
                        now,
                        subject,
                        refs={"item_id": summary.item_id, "origin_node": summary.origin_node},
                        context={"summary": summary.as_dict(), "revised": revised},
                    )
                )

    # Digests

    def _period(self, frequency: Frequency, now: datetime):
        return digest_period(frequency, now, self.clock.zone, self.schedules.digest_hour)

    def _add_to_digest(
        self,
        batch: Batch,
        member: UUID,
        frequency: Frequency,
        now: datetime,
        entry: dict[str, Any],
    ) -> None:
        """Adds to the member's digest collecting now (or the next, if it is going out)."""
        entry = {**entry, "at": now.astimezone(UTC).isoformat()}
        moment = now
        for _ in range(3):
            period = self._period(frequency, moment)
            key = f"digest:{frequency.value}:{period.key}"
            digest = batch.find(notification_id(key, member), Notification)
            if digest is None:
                label = "daily" if frequency is Frequency.DAILY_DIGEST else "weekly"
                digest = Notification.create(
                    key,
                    member,
                    Kind.DIGEST,
                    None,
                    period.due_at,
                    f"Your {label} digest",
                    digest=period,
                )
                batch.add(digest)
            if digest.is_collecting:
                digest.add_entry(entry)
                return
            moment = period.due_at
        raise FailedPrecondition(f"no digest of {member} is collecting")  # pragma: no cover

    # Wiring

    def _directory(self) -> NotifyDirectory:
        assert self.directory is not None, "the directory is not wired to the application"
        return self.directory

    def _preferences_view(self) -> PreferencesView:
        assert self.preferences_view is not None, "the preferences view is not wired"
        return self.preferences_view


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
