"""A member: a person, with their home organisation and e-mail address.

A member's new address is proven before it is theirs: `request_email_change` records it
with a code (mailed to it by notify) and an expiry; `confirm_email_change` with that code
makes it the member's address. A newer request replaces the pending one.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.kernel.erasure import ERASED_NAME
from services.registry.domain.values import Profession

WRONG_CODE = "that code does not confirm an address change of this member (or it has expired)"
# Each request mails a code to an address of the member's choosing: a few a day at most.
MAX_OPEN_EMAIL_REQUESTS = 5


@dataclass(frozen=True)
class PendingEmail:
    email: str
    code: str
    expires_at: datetime


def normalise_code(code: str) -> str:
    """Codes are read from a mail and typed: case, spaces and hyphens do not matter."""
    return "".join(c for c in code.upper() if c.isalnum())


class Member(TracedAggregate):
    """A person. Personal data: its events travel only on node-local subjects."""

    pending_email: PendingEmail | None = None
    # When the latest requests expire (at most MAX_OPEN_EMAIL_REQUESTS of them).
    email_requests: tuple[datetime, ...] = ()

    @event("Registered")
    def __init__(self, display_name: str, profession: str, home_organisation_id: UUID, email: str):
        self.display_name = display_name
        self.profession = Profession(profession)
        self.home_organisation_id = home_organisation_id
        self.email = email
        self.erased = False

    def check_not_erased(self) -> None:
        if getattr(self, "erased", False):
            raise FailedPrecondition(f"member {self.id} was erased")

    def erase(self) -> None:
        """Records the erasure (the member's key is destroyed beside it): the aggregate
        keeps its id and organisation, never the person's name or address."""
        self.check_not_erased()
        self._erased()

    def change_details(self, display_name: str, profession: Profession) -> None:
        if (display_name, profession) != (self.display_name, self.profession):
            self._details_changed(display_name, profession.value)

    def change_email(self, email: str) -> None:
        if email != self.email:
            self._email_changed(email)

    def request_email_change(
        self, email: str, code: str, expires_at: datetime, now: datetime
    ) -> None:
        """FailedPrecondition while MAX_OPEN_EMAIL_REQUESTS requests have not expired
        (whatever the addresses: the answer tells nothing of them)."""
        self.check_not_erased()
        open_requests = sorted(t for t in self.email_requests if t > now)
        if len(open_requests) >= MAX_OPEN_EMAIL_REQUESTS:
            raise FailedPrecondition(
                f"at most {MAX_OPEN_EMAIL_REQUESTS} address changes may be asked for a day; "
                f"try again after {open_requests[0]:%Y-%m-%d %H:%M} UTC"
            )
        self._email_change_requested(email, normalise_code(code), expires_at)

    def confirm_email_change(self, code: str, now: datetime) -> str:
        """The confirmed address (now the member's); FailedPrecondition for a wrong code,
        an expired one, or none pending."""
        self.check_not_erased()
        pending = self.pending_email
        given = normalise_code(code).encode()
        if (
            pending is None
            or now > pending.expires_at
            or not hmac.compare_digest(given, pending.code.encode())
        ):
            raise FailedPrecondition(WRONG_CODE)
        self._email_changed(pending.email)
        return pending.email

    def move_to(self, home_organisation_id: UUID) -> None:
        if home_organisation_id != self.home_organisation_id:
            self._home_organisation_changed(home_organisation_id)

    @event("DetailsChanged")
    def _details_changed(self, display_name: str, profession: str) -> None:
        self.display_name = display_name
        self.profession = Profession(profession)

    @event("EmailChanged")
    def _email_changed(self, email: str) -> None:
        self.email = email
        self.pending_email = None

    @event("EmailChangeRequested")
    def _email_change_requested(self, email: str, code: str, expires_at: datetime) -> None:
        self.pending_email = PendingEmail(email, code, expires_at)
        self.email_requests = (*self.email_requests, expires_at)[-MAX_OPEN_EMAIL_REQUESTS:]

    @event("HomeOrganisationChanged")
    def _home_organisation_changed(self, home_organisation_id: UUID) -> None:
        self.home_organisation_id = home_organisation_id

    @event("Erased")
    def _erased(self) -> None:
        self.display_name = ERASED_NAME
        self.email = ""
        self.erased = True
        self.pending_email = None
