"""A member's membership of one community, with the role terms they held in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.registry.domain.values import MembershipStatus, Role


@dataclass
class RoleTerm:
    """A term in a role: from `start` until `end` (exclusive), or open-ended."""

    role: Role
    start: date
    end: date | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


# From which statuses each way into a community is possible.
_CAN_JOIN = {
    None,
    MembershipStatus.LEFT,
    MembershipStatus.DECLINED,
    MembershipStatus.REJECTED,
    MembershipStatus.REQUESTED,
    MembershipStatus.INVITED,
}
_CAN_REQUEST = {None, MembershipStatus.LEFT, MembershipStatus.DECLINED, MembershipStatus.REJECTED}
_CAN_INVITE = {
    None,
    MembershipStatus.LEFT,
    MembershipStatus.DECLINED,
    MembershipStatus.REJECTED,
    MembershipStatus.REMOVED,
    MembershipStatus.REQUESTED,
}


class Membership(TracedAggregate):
    """A member's relationship with one community, and every role term they held in it.

    Its id derives from (community, member), so there is one per pair and it
    keeps the whole story: requests, invitations, joining, leaving, rejoining.
    """

    class Event(TracedAggregate.Event):
        community_id: UUID
        member_id: UUID

    class Created(Event, TracedAggregate.Created):
        pass

    @staticmethod
    def create_id(community_id: UUID, member_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:membership:{community_id}:{member_id}")

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        # Every membership event names its community and member, so that
        # consumers need no other event to know what it is about.
        kwargs.setdefault("community_id", self.community_id)
        kwargs.setdefault("member_id", self.member_id)
        super().trigger_event(event_class, **kwargs)

    @event("Opened")
    def __init__(self, community_id: UUID, member_id: UUID):
        self.community_id = community_id
        self.member_id = member_id
        self.status: MembershipStatus | None = None
        self.terms: list[RoleTerm] = []

    # Queries

    @property
    def is_active(self) -> bool:
        return self.status is MembershipStatus.ACTIVE

    def holds(self, role: Role, day: date) -> bool:
        return any(term.role is role and term.covers(day) for term in self.terms)

    def current_term(self, role: Role) -> RoleTerm | None:
        for term in self.terms:
            if term.role is role and term.end is None:
                return term
        return None

    # Commands

    def join(self, on: date, via: str) -> None:
        if self.status not in _CAN_JOIN:
            raise FailedPrecondition(self._status_says_no("join"))
        self._joined(on=on, via=via)
        self._role_assigned(role=Role.MEMBER.value, start_date=on)

    def request(self, message: str) -> None:
        if self.status is MembershipStatus.INVITED:
            raise FailedPrecondition("the member is already invited: accept the invitation")
        if self.status is MembershipStatus.REQUESTED:
            raise FailedPrecondition("a request to join is already pending")
        if self.status not in _CAN_REQUEST:
            raise FailedPrecondition(self._status_says_no("request to join"))
        self._requested(message=message)

    def approve(self, on: date) -> None:
        if self.status is not MembershipStatus.REQUESTED:
            raise FailedPrecondition("there is no pending request to join to approve")
        self._request_approved(on=on)
        self._role_assigned(role=Role.MEMBER.value, start_date=on)

    def reject(self, reason: str) -> None:
        if self.status is not MembershipStatus.REQUESTED:
            raise FailedPrecondition("there is no pending request to join to reject")
        self._request_rejected(reason=reason)

    def invite(self) -> None:
        if self.status is MembershipStatus.INVITED:
            raise FailedPrecondition("the member is already invited")
        if self.status not in _CAN_INVITE:
            raise FailedPrecondition(self._status_says_no("be invited"))
        self._invited()

    def accept(self, on: date) -> None:
        if self.status is not MembershipStatus.INVITED:
            raise FailedPrecondition("there is no invitation to accept")
        self._invitation_accepted(on=on)
        self._role_assigned(role=Role.MEMBER.value, start_date=on)

    def decline(self) -> None:
        if self.status is not MembershipStatus.INVITED:
            raise FailedPrecondition("there is no invitation to decline")
        self._invitation_declined()

    def leave(self, on: date) -> None:
        if not self.is_active:
            raise FailedPrecondition("only an active member can leave")
        self._end_open_terms(on)
        self._left(on=on)

    def remove(self, reason: str, on: date) -> None:
        if not self.is_active:
            raise FailedPrecondition("only an active member can be removed")
        self._end_open_terms(on)
        self._removed(reason=reason, on=on)

    def assign_role(self, role: Role, start: date) -> None:
        if role is Role.MEMBER:
            raise FailedPrecondition("the member role starts when someone joins")
        if not self.is_active:
            raise FailedPrecondition("roles go only to active members")
        for term in self.terms:
            if term.role is role and (term.end is None or term.end > start):
                raise FailedPrecondition(
                    f"the member already holds {role.value} in a term that runs past {start}"
                )
        self._role_assigned(role=role.value, start_date=start)

    def end_role(self, role: Role, end: date) -> None:
        if role is Role.MEMBER:
            raise FailedPrecondition("the member role ends by leaving or removal")
        term = self.current_term(role)
        if term is None:
            raise FailedPrecondition(f"the member holds no current {role.value} term")
        if end <= term.start:
            raise FailedPrecondition(
                f"the {role.value} term started on {term.start}; it must end after that"
            )
        self._role_ended(role=role.value, end_date=end)

    def _end_open_terms(self, on: date) -> None:
        for term in list(self.terms):
            if term.end is None:
                # A term that has not started yet ends before it begins.
                self._role_ended(role=term.role.value, end_date=max(on, term.start))

    def _status_says_no(self, action: str) -> str:
        status = self.status.value if self.status else "none"
        return f"cannot {action}: the membership is {status}"

    # Events

    @event("Joined")
    def _joined(self, on: date, via: str) -> None:
        self.status = MembershipStatus.ACTIVE

    @event("Requested")
    def _requested(self, message: str) -> None:
        self.status = MembershipStatus.REQUESTED

    @event("RequestApproved")
    def _request_approved(self, on: date) -> None:
        self.status = MembershipStatus.ACTIVE

    @event("RequestRejected")
    def _request_rejected(self, reason: str) -> None:
        self.status = MembershipStatus.REJECTED

    @event("Invited")
    def _invited(self) -> None:
        self.status = MembershipStatus.INVITED

    @event("InvitationAccepted")
    def _invitation_accepted(self, on: date) -> None:
        self.status = MembershipStatus.ACTIVE

    @event("InvitationDeclined")
    def _invitation_declined(self) -> None:
        self.status = MembershipStatus.DECLINED

    @event("Left")
    def _left(self, on: date) -> None:
        self.status = MembershipStatus.LEFT

    @event("Removed")
    def _removed(self, reason: str, on: date) -> None:
        self.status = MembershipStatus.REMOVED

    @event("RoleAssigned")
    def _role_assigned(self, role: str, start_date: date) -> None:
        self.terms.append(RoleTerm(role=Role(role), start=start_date))

    @event("RoleEnded")
    def _role_ended(self, role: str, end_date: date) -> None:
        for term in self.terms:
            if term.role.value == role and term.end is None:
                term.end = end_date
                return
