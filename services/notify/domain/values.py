"""What notify's notifications are about, how often members want them, and where
their delivery stands.
"""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    # Invitations to, and changes of, the convenings of one's communities.
    INVITATIONS = "invitations"
    # Reminders, place offers and changes for convenings one signed up to.
    MY_SIGN_UPS = "my_sign_ups"
    LEARNING = "learning"
    NEWSLETTERS = "newsletters"


class Frequency(StrEnum):
    IMMEDIATELY = "immediately"
    DAILY_DIGEST = "daily_digest"
    WEEKLY_DIGEST = "weekly_digest"
    NEVER = "never"

    @property
    def is_digest(self) -> bool:
        return self in (Frequency.DAILY_DIGEST, Frequency.WEEKLY_DIGEST)


class Kind(StrEnum):
    INVITATION = "invitation"
    CONVENING_UPDATE = "convening_update"
    CONVENING_CANCELLED = "convening_cancelled"
    REMINDER = "reminder"
    PLACE_CONFIRMED = "place_confirmed"
    LEARNING = "learning"
    DIGEST = "digest"
    NEWSLETTER = "newsletter"
    # The code confirming a requested new address, mailed to that address: no topic (not
    # subject to preferences), no unsubscribe link.
    ADDRESS_CONFIRMATION = "address_confirmation"


CONVENING_KINDS = frozenset(
    {
        Kind.INVITATION,
        Kind.CONVENING_UPDATE,
        Kind.CONVENING_CANCELLED,
        Kind.REMINDER,
        Kind.PLACE_CONFIRMED,
    }
)


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class AttemptOutcome(StrEnum):
    OPEN = "open"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary_failure"
    PERMANENT_FAILURE = "permanent_failure"
    IN_DOUBT = "in_doubt"
