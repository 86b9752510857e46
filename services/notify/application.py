"""The notify service's use cases.

Commands (from the API): preferences, unsubscribing, newsletters, resending.
Who may do what:
- preferences and notifications: the member themselves, or the node operator;
- newsletters: the community's co-leads (on today's date, active membership), or
  the operator; resending: the operator.

Reactions to other services' integration events (`services.notify.reactions`, mixed
in here; `reactions.policy.NotifyPolicy` reads the messages): each decides which
notifications a cause creates (one per member, with an id derived from the cause, so
a replay finds it and creates nothing) and saves them with the inbox's tracking
record in one transaction (`save_processed`).

Delivery (from the dispatcher): claim an attempt, then record its outcome.

Communities, memberships, roles and addresses come from the notify directory
(the registry's events); members' choices from the preferences view. Both may
lag their sources by a moment; the dispatcher re-checks preferences when it sends.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent, Repository
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import strtobool

from services.common.application import Changes, Outcome, check_expected_version
from services.common.errors import NotFound, PermissionDenied
from services.common.idempotency import Command
from services.common.identity import Caller, require_self_or_operator
from services.notify.domain import (
    DEFAULT_PREFERENCES,
    Frequency,
    Kind,
    MemberPreferences,
    Newsletter,
    NewsletterStatus,
    Notification,
    PreferenceSettings,
    Topic,
    Unsubscription,
    notification_id,
)
from services.notify.reactions.convenings import ConveningReactions
from services.notify.reactions.decisions import MAX_DECISION_ATTEMPTS, Batch
from services.notify.reactions.learning import LearningReactions
from services.notify.views import NewsletterReaders

# How long a notification waits for its member's e-mail address to arrive (the
# registry's events may lag the events service's) before it is skipped.
ADDRESS_GRACE = timedelta(hours=1)


RECENT_STATES = 6000


class RecentStates(Repository):
    """The repository, remembering the notifications just saved, by version. The mailbox
    view and the relay ask for each of those states a moment later (`state_after`, for a
    delivery three times per e-mail), and would otherwise read and replay its events
    again; a saved state is exactly what the store's events up to its version give (notify
    keeps no personal fields that an erasure would seal). A copy is kept (the dispatcher
    goes on changing what it saved); a state asked for by version is only ever read (views,
    the relay, a command's answer), so that copy itself is handed out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recent: OrderedDict[tuple[UUID, int], Notification] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, saved: list[Notification]) -> None:
        copies = [((n.id, n.version), copy.deepcopy(n)) for n in saved]
        with self._lock:
            self._recent.update(copies)
            while len(self._recent) > RECENT_STATES:
                self._recent.popitem(last=False)

    def get(self, aggregate_id: Any, *, version: int | None = None, **kwargs: Any) -> Any:
        if version is not None and not kwargs:
            with self._lock:
                state = self._recent.get((aggregate_id, version))
            if state is not None:
                return state
        return super().get(aggregate_id, version=version, **kwargs)


class Notify(ConveningReactions, LearningReactions):
    def construct_repository(self) -> Repository:
        """The library's repository (with its cache of latest versions), as `RecentStates`."""
        size = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return RecentStates(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(size) if size else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(
                self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")
            ),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    def _record(self, processing_event: ProcessingEvent[Any]) -> list[Any]:
        recordings = super()._record(processing_event)
        repository = self.repository
        # Not inside a batch of integration events: its transaction may yet be rolled back.
        if isinstance(repository, RecentStates) and not self.batching.active:
            saved = processing_event.aggregates.values()
            repository.remember([a for a in saved if isinstance(a, Notification)])
        return recordings

    name = "Notify"
    env = {"AGGREGATE_CACHE_MAXSIZE": "2000"}

    # Reading

    def preferences_of(self, member_id: UUID) -> tuple[PreferenceSettings, int, datetime | None]:
        """A member's settings, their version (0: never changed) and when they last changed."""
        found = self._find(MemberPreferences.create_id(member_id), MemberPreferences)
        if found is None:
            return DEFAULT_PREFERENCES, 0, None
        return found.settings, found.changes, found.modified_on

    def read_preferences(
        self, caller: Caller, member_id: UUID
    ) -> tuple[PreferenceSettings, int, Any]:
        require_self_or_operator(caller, member_id, "see these preferences")
        self._known_member(member_id)
        return self.preferences_of(member_id)

    def read_notification(self, caller: Caller, notification_id_: UUID) -> Notification:
        found = self._find(notification_id_, Notification)
        if found is None or not (caller.is_operator or caller.is_member(found.member_id)):
            # Someone else's notification is as good as absent.
            raise NotFound(f"notification {notification_id_} not found")
        return found

    def read_newsletter(self, caller: Caller, newsletter_id: UUID) -> Newsletter:
        """A newsletter the caller may read (`newsletter_readers`); any other is as good as
        absent."""
        newsletter = self._find(newsletter_id, Newsletter)
        readers = self.newsletter_readers(caller)
        if newsletter is None or not (
            readers is None
            or newsletter.community_id in readers.drafts
            or (
                newsletter.status is NewsletterStatus.SENT
                and newsletter.community_id in readers.sent
            )
        ):
            raise NotFound(f"newsletter {newsletter_id} not found")
        return newsletter

    def newsletter_readers(self, caller: Caller) -> NewsletterReaders | None:
        """Which communities' newsletters the caller may read: drafts only as one of the
        community's co-leads (today, active membership), sent ones as an active member;
        the operator reads every one (None)."""
        if caller.is_operator:
            return None
        if caller.member_id is None:
            return NewsletterReaders((), ())
        registry = self._directory().registry
        today = self.clock.today()
        return NewsletterReaders(
            sent=tuple(registry.communities_of(caller.member_id, today)),
            drafts=tuple(registry.communities_of(caller.member_id, today, ["co_lead"])),
        )

    def open_digests(self, caller: Caller, member_id: UUID) -> list[Notification]:
        """The member's digests still collecting now (daily and weekly)."""
        require_self_or_operator(caller, member_id, "preview these digests")
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
            require_self_or_operator(command.caller, member_id, "change these preferences")
            self._known_member(member_id)
            preferences = self._preferences(member_id)
            preferences.check_changes(expected_version)
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
            raise NotFound(
                f"member {member_id} is not known to the notify service: registered on this "
                "node? If a moment ago, pass that `position` as min_registry_position"
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

    def send_newsletter(
        self, command: Command, newsletter_id: UUID, expected_version: int
    ) -> Outcome:
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
            raise NotFound(
                f"community {community_id} is not known to the notify service; if it was "
                "created a moment ago, pass that `position` as min_registry_position"
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

    # Confirming a new address

    def address_change_requested(
        self, tracking: Tracking, member_id: UUID, version: int, expires_at: datetime
    ) -> bool:
        """A member asked for a new address: one confirmation mail, to that address (the
        composer reads it and the code from the directory when it sends)."""

        def decision(batch: Batch) -> None:
            key = f"address:{version}"
            if expires_at <= self.clock.now():
                return
            if batch.find(notification_id(key, member_id), Notification) is None:
                batch.add(
                    Notification.create(
                        key,
                        member_id,
                        Kind.ADDRESS_CONFIRMATION,
                        None,
                        self.clock.now(),
                        "Confirm your new e-mail address",
                        refs={"version": version, "expires_at": expires_at.isoformat()},
                    )
                )

        return self.decide(tracking, decision)

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
