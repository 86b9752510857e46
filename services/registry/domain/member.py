"""A member: a person, with their home organisation and e-mail address."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.kernel.erasure import ERASED_NAME
from services.registry.domain.values import Profession


class Member(TracedAggregate):
    """A person. Personal data: its events travel only on node-local subjects."""

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

    @event("HomeOrganisationChanged")
    def _home_organisation_changed(self, home_organisation_id: UUID) -> None:
        self.home_organisation_id = home_organisation_id

    @event("Erased")
    def _erased(self) -> None:
        self.display_name = ERASED_NAME
        self.email = ""
        self.erased = True
