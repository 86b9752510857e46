"""The notify service's domain, a module per aggregate.

- `preferences.MemberPreferences`: what a member wants to hear about, and how often.
- `notification.Notification`: one message to one member (an invitation, a reminder, a
  digest...), with its due time and every delivery attempt. Its id derives from
  what caused it and who it is for, so the same cause can never create a second
  one; its state machine lets at most one attempt be open and never starts an
  attempt after one whose outcome is unknown.
- `convening.TrackedConvening`: what notify knows of a convening (from the events
  service's events): its details, who signed up, and who was told what.
- `learning.LearningNotice`: a learning item notify has announced, and its latest state.
- `newsletter.Newsletter`: a community's newsletter, drafted then sent once.
- `values`: topics, frequencies, kinds and delivery statuses.

Public methods check the rules and raise; `@event` methods only record. Events
stored before this package existed name `services.notify.domain:<class>`:
`services.notify.topics` keeps those topics resolving.
"""

from services.notify import topics  # noqa: F401  (old topics of these classes)
from services.notify.domain.convening import (
    FOLLOWING,
    Told,
    TrackedConvening,
    convening_mail_key,
    convening_subject,
    reminder_key,
    when_text,
)
from services.notify.domain.learning import (
    LearningNotice,
    LearningSummary,
)
from services.notify.domain.newsletter import (
    MAX_NEWSLETTER_BODY,
    Newsletter,
    NewsletterStatus,
    parse_newsletter_body,
    parse_subject,
)
from services.notify.domain.notification import (
    Attempt,
    DigestPeriod,
    Notification,
    backoff,
    digest_period,
    notification_id,
)
from services.notify.domain.preferences import (
    DEFAULT_PREFERENCES,
    MAX_LIST,
    MAX_REMINDER_HOURS,
    MemberPreferences,
    PreferenceSettings,
    UnsubscribeScope,
    Unsubscription,
    parse_community_ids,
    parse_domains,
    parse_reminder_hours,
)
from services.notify.domain.values import (
    CONVENING_KINDS,
    AttemptOutcome,
    Frequency,
    Kind,
    Status,
    Topic,
)

__all__ = [
    "CONVENING_KINDS",
    "DEFAULT_PREFERENCES",
    "FOLLOWING",
    "MAX_LIST",
    "MAX_NEWSLETTER_BODY",
    "MAX_REMINDER_HOURS",
    "Attempt",
    "AttemptOutcome",
    "DigestPeriod",
    "Frequency",
    "Kind",
    "LearningNotice",
    "LearningSummary",
    "MemberPreferences",
    "Newsletter",
    "NewsletterStatus",
    "Notification",
    "PreferenceSettings",
    "Status",
    "Told",
    "Topic",
    "TrackedConvening",
    "UnsubscribeScope",
    "Unsubscription",
    "backoff",
    "convening_mail_key",
    "convening_subject",
    "digest_period",
    "notification_id",
    "parse_community_ids",
    "parse_domains",
    "parse_newsletter_body",
    "parse_reminder_hours",
    "parse_subject",
    "reminder_key",
    "when_text",
]
