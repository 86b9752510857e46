"""What the notify service publishes: node-local events only (they name members).

Deliveries, final failures, deliveries in doubt, preference changes and sent
newsletters, for the node's own services and the operator's tooling. No
payload carries an e-mail address.
"""

from __future__ import annotations

from typing import Any

from copnet.notify.v1 import notify_events_pb2 as events
from copnet.notify.v1 import notify_pb2 as pb
from services.common.integration import IntegrationMap
from services.common.protoconv import timestamp
from services.notify import codecs
from services.notify.domain import MemberPreferences, Newsletter, Notification

NOTIFY = IntegrationMap("notify")


def _who(n: Notification) -> dict[str, Any]:
    return {
        "notification_id": str(n.id),
        "member_id": str(n.member_id),
        "kind": codecs.KIND.to_pb(n.kind),
    }


@NOTIFY.publishes(Notification.Delivered, "notification_delivered", local=True, with_state=True)
def _(e: Any, n: Notification) -> events.NotificationDelivered:
    return events.NotificationDelivered(
        **_who(n), attempt=n.attempts[-1].number, delivered_at=timestamp(e.at)
    )


@NOTIFY.publishes(Notification.Failed, "notification_failed", local=True, with_state=True)
def _(e: Any, n: Notification) -> events.NotificationFailed:
    return events.NotificationFailed(**_who(n), reason=e.detail)


@NOTIFY.publishes(Notification.WentInDoubt, "notification_in_doubt", local=True, with_state=True)
def _(e: Any, n: Notification) -> events.NotificationInDoubt:
    return events.NotificationInDoubt(**_who(n), reason=e.detail)


def preferences_pb(member_id: Any, settings: Any, version: int) -> pb.Preferences:
    return pb.Preferences(
        member_id=str(member_id),
        invitations=codecs.FREQUENCY.to_pb(settings.invitations),
        my_sign_ups=codecs.FREQUENCY.to_pb(settings.my_sign_ups),
        learning=codecs.FREQUENCY.to_pb(settings.learning),
        newsletters=codecs.FREQUENCY.to_pb(settings.newsletters),
        learning_domains=list(settings.learning_domains),
        learning_communities=list(settings.learning_communities),
        learning_from_my_communities=settings.learning_from_my_communities,
        newsletter_opt_outs=list(settings.newsletter_opt_outs),
        reminder_hours_before=settings.reminder_hours_before,
        version=version,
    )


@NOTIFY.publishes(MemberPreferences.Changed, "preferences_changed", local=True, with_state=True)
def _(e: Any, p: MemberPreferences) -> events.PreferencesChanged:
    return events.PreferencesChanged(preferences=preferences_pb(p.member_id, p.settings, p.version))


@NOTIFY.publishes(Newsletter.Sent, "newsletter_sent", local=True, with_state=True)
def _(e: Any, n: Newsletter) -> events.NewsletterSent:
    return events.NewsletterSent(
        newsletter_id=str(n.id), community_id=str(n.community_id), recipients=n.recipients
    )
