"""The registry's domain: organisations, communities of practice, members and memberships.

Public methods check the rules and raise; the `@event` methods they call only
record what happened, so replaying history never re-checks today's rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition


class OrganisationKind(StrEnum):
    NHS_TRUST = "nhs_trust"
    GP_PRACTICE = "gp_practice"
    COMMUNITY_PHARMACY = "community_pharmacy"
    INTEGRATED_CARE_SYSTEM = "integrated_care_system"
    COMMISSIONER = "commissioner"
    VOLUNTARY_COMMUNITY_GROUP = "voluntary_community_group"
    PATIENT_GROUP = "patient_group"
    UNIVERSITY = "university"
    OTHER = "other"


class JoiningPolicy(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"
    INVITE_ONLY = "invite_only"


class Lifecycle(StrEnum):
    FORMING = "forming"
    ACTIVE = "active"
    DORMANT = "dormant"
    CLOSED = "closed"


class Profession(StrEnum):
    GP = "gp"
    PHARMACIST = "pharmacist"
    NURSE = "nurse"
    ALLIED_HEALTH_PROFESSIONAL = "allied_health_professional"
    MANAGER = "manager"
    COMMISSIONER = "commissioner"
    PATIENT_PARTNER = "patient_partner"
    OTHER = "other"


class MembershipStatus(StrEnum):
    REQUESTED = "requested"
    INVITED = "invited"
    ACTIVE = "active"
    REJECTED = "rejected"
    DECLINED = "declined"
    LEFT = "left"
    REMOVED = "removed"


class Role(StrEnum):
    MEMBER = "member"
    CO_LEAD = "co_lead"
    STEERING_GROUP = "steering_group"
    FACILITATOR = "facilitator"
    PATIENT_PARTNER = "patient_partner"


# Value parsing of the registry's own values (names, text, slugs and dates follow the
# kernel's rules: services.kernel.parsing). Each parser returns the canonical value or
# raises ValueError with a description the caller can act on.

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")


def parse_email(value: str) -> str:
    email = value.strip().lower()
    if not email:
        raise ValueError("is required")
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("must be an e-mail address such as 'name@nhs.net'")
    return email


def parse_ods_code(value: str) -> str | None:
    code = value.strip().upper()
    if not code:
        return None
    if not _ODS_CODE.match(code):
        raise ValueError("must be an ODS code: 3 to 10 letters and digits (e.g. 'RJ1')")
    return code


def parse_enum(enum_type: type[StrEnum], value: str) -> StrEnum:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise ValueError(f"must be one of: {allowed}") from None


class Organisation(TracedAggregate):
    @event("Registered")
    def __init__(self, name: str, kind: str, region: str, ods_code: str | None):
        self.name = name
        self.kind = OrganisationKind(kind)
        self.region = region
        self.ods_code = ods_code
        self.retired = False

    def _check_not_retired(self) -> None:
        if self.retired:
            raise FailedPrecondition(f"organisation {self.id} is retired")

    def rename(self, name: str) -> None:
        self._check_not_retired()
        if name != self.name:
            self._renamed(name)

    def change_kind(self, kind: OrganisationKind) -> None:
        self._check_not_retired()
        if kind != self.kind:
            self._kind_changed(kind.value)

    def change_region(self, region: str) -> None:
        self._check_not_retired()
        if region != self.region:
            self._region_changed(region)

    def change_ods_code(self, ods_code: str | None) -> None:
        self._check_not_retired()
        if ods_code != self.ods_code:
            self._ods_code_changed(ods_code)

    def retire(self) -> None:
        self._check_not_retired()
        self._retired()

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    @event("KindChanged")
    def _kind_changed(self, kind: str) -> None:
        self.kind = OrganisationKind(kind)

    @event("RegionChanged")
    def _region_changed(self, region: str) -> None:
        self.region = region

    @event("OdsCodeChanged")
    def _ods_code_changed(self, ods_code: str | None) -> None:
        self.ods_code = ods_code

    @event("Retired")
    def _retired(self) -> None:
        self.retired = True


_POLICY_WORDS = {
    JoiningPolicy.OPEN: "open to all",
    JoiningPolicy.APPROVAL: "joined by a co-lead's approval",
    JoiningPolicy.INVITE_ONLY: "invite-only",
}

LIFECYCLE_TRANSITIONS: dict[Lifecycle, set[Lifecycle]] = {
    Lifecycle.FORMING: {Lifecycle.ACTIVE, Lifecycle.CLOSED},
    Lifecycle.ACTIVE: {Lifecycle.DORMANT, Lifecycle.CLOSED},
    Lifecycle.DORMANT: {Lifecycle.ACTIVE, Lifecycle.CLOSED},
    Lifecycle.CLOSED: set(),
}


class Community(TracedAggregate):
    @event("Created")
    def __init__(
        self,
        slug: str,
        name: str,
        domain: str,
        purpose: str,
        region: str,
        host_organisation_ids: list[UUID],
        joining_policy: str,
    ):
        self.slug = slug
        self.name = name
        self.domain = domain
        self.purpose = purpose
        self.region = region
        self.host_organisation_ids = list(host_organisation_ids)
        self.joining_policy = JoiningPolicy(joining_policy)
        self.lifecycle = Lifecycle.FORMING

    @property
    def is_closed(self) -> bool:
        return self.lifecycle is Lifecycle.CLOSED

    def check_open(self) -> None:
        if self.is_closed:
            raise FailedPrecondition(f"community '{self.slug}' is closed")

    def check_policy(self, expected: JoiningPolicy, hint: str) -> None:
        if self.joining_policy is not expected:
            raise FailedPrecondition(
                f"community '{self.slug}' is {_POLICY_WORDS[self.joining_policy]}: {hint}"
            )

    def change_details(self, name: str, domain: str, purpose: str, region: str) -> None:
        self.check_open()
        new = (name, domain, purpose, region)
        if new != (self.name, self.domain, self.purpose, self.region):
            self._details_changed(*new)

    def change_hosts(self, host_organisation_ids: list[UUID]) -> None:
        self.check_open()
        if list(host_organisation_ids) != self.host_organisation_ids:
            self._hosts_changed(list(host_organisation_ids))

    def change_joining_policy(self, policy: JoiningPolicy) -> None:
        self.check_open()
        if policy != self.joining_policy:
            self._joining_policy_changed(policy.value)

    def change_lifecycle(self, target: Lifecycle, reason: str) -> None:
        if target is self.lifecycle:
            raise FailedPrecondition(f"community '{self.slug}' is already {target.value}")
        if target not in LIFECYCLE_TRANSITIONS[self.lifecycle]:
            raise FailedPrecondition(
                f"community '{self.slug}' cannot go from {self.lifecycle.value} to {target.value}"
            )
        self._lifecycle_changed(target.value, reason)

    @event("DetailsChanged")
    def _details_changed(self, name: str, domain: str, purpose: str, region: str) -> None:
        self.name, self.domain, self.purpose, self.region = name, domain, purpose, region

    @event("HostsChanged")
    def _hosts_changed(self, host_organisation_ids: list[UUID]) -> None:
        self.host_organisation_ids = list(host_organisation_ids)

    @event("JoiningPolicyChanged")
    def _joining_policy_changed(self, joining_policy: str) -> None:
        self.joining_policy = JoiningPolicy(joining_policy)

    @event("LifecycleChanged")
    def _lifecycle_changed(self, lifecycle: str, reason: str) -> None:
        self.lifecycle = Lifecycle(lifecycle)


class Member(TracedAggregate):
    """A person. Personal data: its events travel only on node-local subjects."""

    @event("Registered")
    def __init__(self, display_name: str, profession: str, home_organisation_id: UUID, email: str):
        self.display_name = display_name
        self.profession = Profession(profession)
        self.home_organisation_id = home_organisation_id
        self.email = email

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
