"""NotifyService over gRPC: validation and translation only.

Rules live in the domain and the application; this module checks request
shapes (collecting every field violation), calls the application off the event
loop, and turns its answers into protobuf messages. No e-mail address is ever
returned.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import grpc
from google.protobuf import json_format

from copnet.notify.v1 import notify_pb2 as pb
from copnet.notify.v1 import notify_pb2_grpc as pb_grpc
from services.common.application import Outcome
from services.common.errors import PermissionDenied, Violations, stand_in
from services.common.grpc_server import current_caller
from services.common.identity import Caller
from services.common.projection import ProjectionFollower
from services.common.protoconv import timestamp
from services.common.servicer import (
    Context,
    command,
    member_export,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    run,
)
from services.notify import codecs
from services.notify.application import Notify
from services.notify.delivery.compose import Composer
from services.notify.directory import NotifyDirectory
from services.notify.domain import (
    Frequency,
    Newsletter,
    Notification,
    PreferenceSettings,
    parse_community_ids,
    parse_domains,
    parse_newsletter_body,
    parse_reminder_hours,
    parse_subject,
)
from services.notify.integration import preferences_pb
from services.notify.unsubscribe import UnsubscribeTokens
from services.notify.views import Mailbox, NewsletterRecord, NotificationRecord
from services.notify.web import describe

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["NotifyService"].full_name

FREQUENCY_FIELDS = ("invitations", "my_sign_ups", "learning", "newsletters")
PREFERENCE_FIELDS = (
    *FREQUENCY_FIELDS,
    "learning_domains",
    "learning_communities",
    "learning_from_my_communities",
    "newsletter_opt_outs",
    "reminder_hours_before",
)


def notification_pb(r: NotificationRecord) -> pb.Notification:
    return pb.Notification(
        notification_id=str(r.notification_id),
        member_id=str(r.member_id),
        kind=codecs.KIND.to_pb(r.kind),
        subject=r.subject,
        status=codecs.STATUS.to_pb(r.status),
        status_reason=r.status_reason,
        due_at=timestamp(r.due_at),
        retry_at=timestamp(r.retry_at),
        message_id=r.message_id,
        attempts=[
            pb.DeliveryAttempt(
                attempt=a.number,
                started_at=timestamp(a.started_at),
                finished_at=timestamp(a.finished_at),
                outcome=codecs.OUTCOME.to_pb(a.outcome),
                detail=a.detail,
            )
            for a in r.attempts
        ],
        convening_id=r.convening_id,
        newsletter_id=r.newsletter_id,
        item_id=r.item_id,
        digest_frequency=codecs.FREQUENCY.to_pb(r.digest_frequency)
        if r.digest_frequency
        else pb.FREQUENCY_UNSPECIFIED,
        digest_period=r.digest_period,
        entry_count=r.entry_count,
        created_at=timestamp(r.created_at),
        updated_at=timestamp(r.updated_at),
        version=r.version,
    )


def newsletter_pb(r: NewsletterRecord) -> pb.Newsletter:
    return pb.Newsletter(
        newsletter_id=str(r.newsletter_id),
        community_id=str(r.community_id),
        community_name=r.community_name,
        subject=r.subject,
        body=r.body,
        status=codecs.NEWSLETTER_STATUS.to_pb(r.status),
        author_member_id=str(r.author_member_id) if r.author_member_id else "",
        recipients=r.recipients,
        created_at=timestamp(r.created_at),
        sent_at=timestamp(r.sent_at),
        version=r.version,
    )


def _whose(value: str, caller: Caller, v: Violations) -> UUID:
    """The member a request is about: the one named, or the calling member (a `stand_in`
    when neither is there)."""
    member_id = v.check("member_id", parse_optional_uuid, value)
    if member_id is None and not v and caller.member_id is None:
        v.add("member_id", "is required for the operator")
    return member_id or caller.member_id or stand_in(UUID)


def _frequency(field: str, number: int, v: Violations) -> Frequency | None:
    frequency = v.check(field, codecs.FREQUENCY.to_domain, number)
    if field.endswith("my_sign_ups") and frequency is not None and frequency.is_digest:
        v.add(
            field,
            "must be FREQUENCY_IMMEDIATELY or FREQUENCY_NEVER: a reminder in a later digest "
            "would come too late",
        )
        return None
    return frequency


def parse_preference_changes(request: pb.SetPreferencesRequest, v: Violations) -> dict[str, Any]:
    """The fields to change (named by the update mask, or all), parsed."""
    given = request.preferences
    paths = list(request.update_mask.paths)
    unknown = [p for p in paths if p not in PREFERENCE_FIELDS]
    if unknown:
        known = ", ".join(PREFERENCE_FIELDS)
        v.add("update_mask", f"unknown fields {', '.join(unknown)}; the fields are {known}")
    fields = paths or list(PREFERENCE_FIELDS)
    changes: dict[str, Any] = {}
    value: object
    for name in fields:
        if name not in PREFERENCE_FIELDS:
            continue
        where = f"preferences.{name}"
        if name in FREQUENCY_FIELDS:
            number = getattr(given, name)
            if number == 0 and not paths:
                continue  # all fields, this one unspecified: keep it
            value = _frequency(where, number, v)
        elif name == "learning_domains":
            value = v.check(where, parse_domains, list(given.learning_domains))
        elif name in ("learning_communities", "newsletter_opt_outs"):
            value = v.check(where, parse_community_ids, list(getattr(given, name)))
        elif name == "reminder_hours_before":
            value = v.check(where, parse_reminder_hours, given.reminder_hours_before)
        else:
            value = bool(given.learning_from_my_communities)
        if value is not None:
            changes[name] = value
    return changes


class NotifyServicer(pb_grpc.NotifyServiceServicer):
    def __init__(
        self,
        app: Notify,
        mailbox: Mailbox,
        follower: ProjectionFollower,
        directory: NotifyDirectory,
        composer: Composer,
        tokens: UnsubscribeTokens,
        default_reminder_hours: int,
    ) -> None:
        self.app = app
        self.mailbox = mailbox
        self.directory = directory
        self.follower = follower
        self.composer = composer
        self.tokens = tokens
        self.default_reminder_hours = default_reminder_hours

    def add_to_server(self, server: grpc.aio.Server) -> None:
        pb_grpc.add_NotifyServiceServicer_to_server(self, server)

    def _preferences(self, member_id: UUID) -> pb.Preferences:
        settings, version, updated_at = self.app.preferences_of(member_id)
        message = preferences_pb(member_id, settings, version)
        message.default_reminder_hours_before = self.default_reminder_hours
        if updated_at is not None and version:
            message.updated_at.CopyFrom(timestamp(updated_at))
        return message

    # Preferences

    async def GetPreferences(
        self, request: pb.GetPreferencesRequest, context: Context
    ) -> pb.GetPreferencesResponse:
        v = Violations()
        caller = current_caller()
        member_id = _whose(request.member_id, caller, v)
        v.raise_if_any()
        await run(self.app.read_preferences, caller, member_id)
        return pb.GetPreferencesResponse(preferences=await run(self._preferences, member_id))

    async def SetPreferences(
        self, request: pb.SetPreferencesRequest, context: Context
    ) -> pb.SetPreferencesResponse:
        v = Violations()
        cmd = command(request, "SetPreferences", v)
        member_id = _whose(request.preferences.member_id, cmd.caller, v)
        changes = parse_preference_changes(request, v)
        v.raise_if_any()

        def change(current: PreferenceSettings) -> PreferenceSettings:
            return PreferenceSettings(**{**current.__dict__, **changes})

        outcome = await run(
            self.app.set_preferences, cmd, member_id, change, request.expected_version
        )
        return pb.SetPreferencesResponse(
            preferences=await run(self._preferences, member_id), position=outcome.position
        )

    async def Unsubscribe(
        self, request: pb.UnsubscribeRequest, context: Context
    ) -> pb.UnsubscribeResponse:
        v = Violations()
        cmd = command(request, "Unsubscribe", v)
        unsubscription = v.check("token", self.tokens.read, request.token)
        v.raise_if_any()
        outcome = await run(self.app.unsubscribe, cmd, unsubscription)
        what = await run(describe, unsubscription, self.directory)
        return pb.UnsubscribeResponse(
            preferences=await run(self._preferences, unsubscription.member_id),
            description=f"You will no longer receive {what}.",
            position=outcome.position,
        )

    # Notifications

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: Context
    ) -> pb.ListNotificationsResponse:
        v = Violations()
        caller = current_caller()
        member_id = v.check("member_id", parse_optional_uuid, request.member_id)
        status = v.check("status", codecs.STATUS.to_domain_or_none, request.status)
        kind = v.check("kind", codecs.KIND.to_domain_or_none, request.kind)
        if member_id is None and not caller.is_operator:
            member_id = caller.member_id
        filters = {
            "member_id": str(member_id or ""),
            "status": status.value if status else "",
            "kind": kind.value if kind else "",
        }
        paging = page(request, filters, v)
        v.raise_if_any()
        if not caller.is_operator and member_id != caller.member_id:
            raise PermissionDenied("members may list only their own notifications")
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(self.mailbox.list_notifications, paging, **filters)
        return pb.ListNotificationsResponse(
            notifications=[notification_pb(r) for r in records], next_page_token=token
        )

    async def GetNotification(
        self, request: pb.GetNotificationRequest, context: Context
    ) -> pb.GetNotificationResponse:
        v = Violations()
        notification_id = v.check("notification_id", parse_uuid, request.notification_id)
        v.raise_if_any()
        found = await run(self.app.read_notification, current_caller(), notification_id)
        return pb.GetNotificationResponse(
            notification=notification_pb(NotificationRecord.of(found))
        )

    async def ResendNotification(
        self, request: pb.ResendNotificationRequest, context: Context
    ) -> pb.ResendNotificationResponse:
        v = Violations()
        cmd = command(request, "ResendNotification", v)
        notification_id = v.check("notification_id", parse_uuid, request.notification_id)
        v.raise_if_any()
        outcome = await run(self.app.resend, cmd, notification_id)
        entity = await run(self.app.entity_at, outcome)
        assert isinstance(entity, Notification)
        return pb.ResendNotificationResponse(
            notification=notification_pb(NotificationRecord.of(entity)),
            position=outcome.position,
        )

    # Newsletters

    async def ComposeNewsletter(
        self, request: pb.ComposeNewsletterRequest, context: Context
    ) -> pb.ComposeNewsletterResponse:
        v = Violations()
        cmd = command(request, "ComposeNewsletter", v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        subject = v.check("subject", parse_subject, request.subject)
        body = v.check("body", parse_newsletter_body, request.body)
        v.raise_if_any()
        outcome = await run(self.app.compose_newsletter, cmd, community_id, subject, body)
        return pb.ComposeNewsletterResponse(
            newsletter=await self._newsletter(outcome), position=outcome.position
        )

    async def SendNewsletter(
        self, request: pb.SendNewsletterRequest, context: Context
    ) -> pb.SendNewsletterResponse:
        v = Violations()
        cmd = command(request, "SendNewsletter", v)
        newsletter_id = v.check("newsletter_id", parse_uuid, request.newsletter_id)
        v.raise_if_any()
        outcome = await run(self.app.send_newsletter, cmd, newsletter_id, request.expected_version)
        return pb.SendNewsletterResponse(
            newsletter=await self._newsletter(outcome), position=outcome.position
        )

    async def _newsletter(self, outcome: Outcome) -> pb.Newsletter:
        entity = await run(self.app.entity_at, outcome)
        assert isinstance(entity, Newsletter)
        return newsletter_pb(NewsletterRecord.of(entity))

    async def GetNewsletter(
        self, request: pb.GetNewsletterRequest, context: Context
    ) -> pb.GetNewsletterResponse:
        v = Violations()
        newsletter_id = v.check("newsletter_id", parse_uuid, request.newsletter_id)
        v.raise_if_any()
        found = await run(self.app.read_newsletter, newsletter_id)
        return pb.GetNewsletterResponse(newsletter=newsletter_pb(NewsletterRecord.of(found)))

    async def ListNewsletters(
        self, request: pb.ListNewslettersRequest, context: Context
    ) -> pb.ListNewslettersResponse:
        v = Violations()
        community_id = v.check("community_id", parse_optional_uuid, request.community_id)
        filters = {"community_id": str(community_id or "")}
        paging = page(request, filters, v)
        v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(self.mailbox.list_newsletters, paging, **filters)
        return pb.ListNewslettersResponse(
            newsletters=[newsletter_pb(r) for r in records], next_page_token=token
        )

    # Digests

    async def PreviewDigest(
        self, request: pb.PreviewDigestRequest, context: Context
    ) -> pb.PreviewDigestResponse:
        v = Violations()
        caller = current_caller()
        member_id = _whose(request.member_id, caller, v)
        v.raise_if_any()
        digests = await run(self.app.open_digests, caller, member_id)
        previews = []
        for digest in digests:
            mail = await run(self.composer.preview, digest, self.app.clock.now())
            previews.append(
                pb.DigestPreview(
                    frequency=codecs.FREQUENCY.to_pb((digest.digest or {})["frequency"]),
                    period=(digest.digest or {})["period"],
                    due_at=timestamp(digest.due_at),
                    entry_count=len(digest.entries),
                    subject=mail.subject if mail else "",
                    text=mail.text if mail else "",
                    html=mail.html if mail else "",
                )
            )
        return pb.PreviewDigestResponse(digests=previews)

    async def ExportMemberData(
        self, request: pb.ExportMemberDataRequest, context: Context
    ) -> pb.ExportMemberDataResponse:
        document = await member_export(request.member_id, self._member_data)
        return pb.ExportMemberDataResponse(document_json=document)

    def _member_data(self, member_id: UUID) -> dict[str, Any]:
        name, email = self.directory.person(member_id)
        notifications = [
            {
                "notification_id": str(notification_id),
                "kind": n.kind.value,
                "subject": n.subject,
                "status": n.status.value,
                "due_at": n.due_at.isoformat(),
                "attempts": [
                    {
                        "started_at": a.started_at.isoformat(),
                        "outcome": a.outcome.value,
                        "detail": a.detail,
                    }
                    for a in n.attempts
                ],
            }
            for notification_id in self.mailbox.notification_ids_of(member_id)
            if (n := self.app.notification(notification_id)) is not None
        ]
        return {
            "email": email,
            "display_name": name,
            "erased": self.directory.is_erased(member_id),
            "preferences": json_format.MessageToDict(self._preferences(member_id)),
            "notifications": notifications,
        }
