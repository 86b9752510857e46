"""`Newsletter`: a community's newsletter, drafted then sent once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.kernel.parsing import parse_name, parse_text

MAX_NEWSLETTER_BODY = 50_000


def parse_subject(value: str) -> str:
    return parse_name(value)


def parse_newsletter_body(value: str) -> str:
    body = parse_text(value.replace("\r\n", "\n"), MAX_NEWSLETTER_BODY)
    if not body:
        raise ValueError("is required")
    return body


class NewsletterStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"


class Newsletter(TracedAggregate):
    @event("Composed")
    def __init__(
        self,
        community_id: UUID,
        community_name: str,
        subject: str,
        body: str,
        author_member_id: UUID | None,
        at: datetime,
    ):
        self.community_id = community_id
        self.community_name = community_name
        self.subject = subject
        self.body = body
        self.author_member_id = author_member_id
        self.status = NewsletterStatus.DRAFT
        self.recipients = 0
        self.created_at = at
        self.sent_at: datetime | None = None

    def send(self, at: datetime, recipients: int) -> None:
        if self.status is not NewsletterStatus.DRAFT:
            raise FailedPrecondition("the newsletter was already sent")
        self._sent(at=at, recipients=recipients)

    @event("Sent")
    def _sent(self, at: datetime, recipients: int) -> None:
        self.status = NewsletterStatus.SENT
        self.sent_at = at
        self.recipients = recipients
