"""`MemberPreferences`: what a member wants to hear about, and how often; and what one
unsubscribe link turns off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import ConcurrencyConflict
from services.kernel.parsing import parse_slug
from services.notify.domain.values import Frequency, Topic

MAX_LIST = 50
MAX_REMINDER_HOURS = 24 * 14


def parse_domains(values: list[str]) -> tuple[str, ...]:
    tags: list[str] = []
    for value in values:
        tag = parse_slug(value)
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_LIST:
        raise ValueError(f"at most {MAX_LIST} domain tags")
    return tuple(tags)


def parse_community_ids(values: list[str]) -> tuple[str, ...]:
    ids: list[str] = []
    for value in values:
        try:
            text = str(UUID(value.strip()))
        except ValueError:
            raise ValueError(f"{value!r} is not a community id (a UUID)") from None
        if text not in ids:
            ids.append(text)
    if len(ids) > MAX_LIST:
        raise ValueError(f"at most {MAX_LIST} communities")
    return tuple(ids)


def parse_reminder_hours(value: int) -> int:
    if value < 0 or value > MAX_REMINDER_HOURS:
        raise ValueError(f"must be between 0 (the node's default) and {MAX_REMINDER_HOURS}")
    return value


@dataclass(frozen=True)
class PreferenceSettings:
    """A member's choices. The defaults: invitations, sign-up notices and newsletters
    as they happen; learning from one's own communities in a weekly digest."""

    invitations: Frequency = Frequency.IMMEDIATELY
    my_sign_ups: Frequency = Frequency.IMMEDIATELY
    learning: Frequency = Frequency.WEEKLY_DIGEST
    newsletters: Frequency = Frequency.IMMEDIATELY
    learning_domains: tuple[str, ...] = ()
    learning_communities: tuple[str, ...] = ()
    learning_from_my_communities: bool = True
    newsletter_opt_outs: tuple[str, ...] = ()
    # 0: the node's default.
    reminder_hours_before: int = 0

    def __post_init__(self) -> None:
        if self.my_sign_ups.is_digest:
            raise ValueError(
                "my_sign_ups can only be IMMEDIATELY or NEVER: a reminder or a place offer "
                "in a later digest would come too late"
            )

    def frequency(self, topic: Topic) -> Frequency:
        return getattr(self, topic.value)

    def wants_newsletter_of(self, community_id: UUID | str) -> bool:
        return (
            self.newsletters is not Frequency.NEVER
            and str(community_id) not in self.newsletter_opt_outs
        )

    def reminder_lead(self, default_hours: int) -> timedelta:
        return timedelta(hours=self.reminder_hours_before or default_hours)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("invitations", "my_sign_ups", "learning", "newsletters"):
            data[name] = data[name].value
        for name in ("learning_domains", "learning_communities", "newsletter_opt_outs"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreferenceSettings:
        return cls(
            invitations=Frequency(data["invitations"]),
            my_sign_ups=Frequency(data["my_sign_ups"]),
            learning=Frequency(data["learning"]),
            newsletters=Frequency(data["newsletters"]),
            learning_domains=tuple(data["learning_domains"]),
            learning_communities=tuple(data["learning_communities"]),
            learning_from_my_communities=bool(data["learning_from_my_communities"]),
            newsletter_opt_outs=tuple(data["newsletter_opt_outs"]),
            reminder_hours_before=int(data["reminder_hours_before"]),
        )


DEFAULT_PREFERENCES = PreferenceSettings()


class MemberPreferences(TracedAggregate):
    @staticmethod
    def create_id(member_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:notify:preferences:{member_id}")

    @event("Created")
    def __init__(self, member_id: UUID):
        self.member_id = member_id
        self.settings = DEFAULT_PREFERENCES

    @property
    def changes(self) -> int:
        """The preferences' version as members see it: how many times they changed (the
        aggregate's own version also counts its creation, saved with the first change)."""
        return max(self.version - 1, 0)

    def check_changes(self, expected: int) -> None:
        """Optimistic concurrency on `changes` (0: whatever the version): ABORTED otherwise."""
        if expected and self.changes != expected:
            raise ConcurrencyConflict(
                f"the preferences are at version {self.changes}, not {expected}; "
                "read them again and retry"
            )

    def change(self, settings: PreferenceSettings, via: str) -> bool:
        """False when nothing changes (no event)."""
        if settings == self.settings:
            return False
        self._changed(settings=settings.as_dict(), via=via)
        return True

    @event("Changed")
    def _changed(self, settings: dict[str, Any], via: str) -> None:
        self.settings = PreferenceSettings.from_dict(settings)


# Unsubscribing: what one link turns off.


class UnsubscribeScope(StrEnum):
    TOPIC = "topic"
    NEWSLETTER = "newsletter"
    DIGEST = "digest"


@dataclass(frozen=True)
class Unsubscription:
    member_id: UUID
    scope: UnsubscribeScope
    # The topic (TOPIC), the community id (NEWSLETTER) or the frequency (DIGEST).
    target: str

    def applied_to(self, settings: PreferenceSettings) -> PreferenceSettings:
        if self.scope is UnsubscribeScope.TOPIC:
            return _replace(settings, **{Topic(self.target).value: Frequency.NEVER})
        if self.scope is UnsubscribeScope.NEWSLETTER:
            opt_outs = settings.newsletter_opt_outs
            if self.target in opt_outs:
                return settings
            return _replace(settings, newsletter_opt_outs=(*opt_outs, self.target))
        frequency = Frequency(self.target)
        changes = {
            topic.value: Frequency.NEVER
            for topic in Topic
            if settings.frequency(topic) is frequency
        }
        return _replace(settings, **changes)


def _replace(settings: PreferenceSettings, **changes: Any) -> PreferenceSettings:
    return PreferenceSettings(**{**settings.__dict__, **changes})
