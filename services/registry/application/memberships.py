"""Memberships: joining, requests, invitations, leaving, removal and roles, decided by
the member themselves or by a co-lead of the community."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

from services.common.application import (
    Changes,
    CopnetApplication,
    Outcome,
)
from services.common.errors import NotFound, PermissionDenied
from services.common.idempotency import Command
from services.common.identity import Caller, require_self_or_operator
from services.registry.domain import (
    Community,
    JoiningPolicy,
    Member,
    Membership,
    Role,
)


class Memberships(CopnetApplication):
    """The membership use cases (`Registry` is the application)."""

    def _caller_member(self, caller: Caller) -> Member:
        if caller.member_id is None:
            raise PermissionDenied("this call needs a member's token")
        member = self._find(caller.member_id, Member)
        if member is None:
            raise PermissionDenied(
                f"the token names member {caller.member_id}, who is not registered"
            )
        if member.erased:
            raise PermissionDenied(f"member {caller.member_id} was erased")
        return member

    def join(self, command: Command, community_id: UUID, member_id: UUID) -> Outcome:
        def decide() -> Changes:
            require_self_or_operator(command.caller, member_id, "join on a member's behalf")
            community = self._open_community(community_id)
            community.check_policy(
                JoiningPolicy.OPEN,
                "ask to join with RequestMembership"
                if community.joining_policy is JoiningPolicy.APPROVAL
                else "ask a co-lead for an invitation",
            )
            membership = self._membership(community.id, member_id)
            membership.join(on=self.clock.today(), via="open")
            return Changes(membership)

        return self.execute(command, decide)

    def request_membership(
        self, command: Command, community_id: UUID, member_id: UUID, message: str
    ) -> Outcome:
        def decide() -> Changes:
            require_self_or_operator(command.caller, member_id, "ask to join on a member's behalf")
            community = self._open_community(community_id)
            community.check_policy(
                JoiningPolicy.APPROVAL,
                "join directly with JoinCommunity"
                if community.joining_policy is JoiningPolicy.OPEN
                else "ask a co-lead for an invitation",
            )
            membership = self._membership(community.id, member_id)
            membership.request(message)
            return Changes(membership)

        return self.execute(command, decide)

    def approve_request(self, command: Command, community_id: UUID, member_id: UUID) -> Outcome:
        return self._co_lead_decision(
            command,
            community_id,
            member_id,
            "approve requests",
            lambda membership: membership.approve(on=self.clock.today()),
        )

    def reject_request(
        self, command: Command, community_id: UUID, member_id: UUID, reason: str
    ) -> Outcome:
        return self._co_lead_decision(
            command,
            community_id,
            member_id,
            "reject requests",
            lambda membership: membership.reject(reason),
        )

    def invite(self, command: Command, community_id: UUID, member_id: UUID) -> Outcome:
        return self._co_lead_decision(
            command,
            community_id,
            member_id,
            "invite members",
            lambda membership: membership.invite(),
        )

    def accept_invitation(self, command: Command, community_id: UUID) -> Outcome:
        return self._own_decision(
            command,
            community_id,
            "accept an invitation",
            lambda membership: membership.accept(on=self.clock.today()),
        )

    def decline_invitation(self, command: Command, community_id: UUID) -> Outcome:
        return self._own_decision(
            command,
            community_id,
            "decline an invitation",
            lambda m: m.decline(),
            allow_closed=True,
        )

    def leave(self, command: Command, community_id: UUID) -> Outcome:
        return self._own_decision(
            command,
            community_id,
            "leave a community",
            lambda membership: membership.leave(on=self.clock.today()),
            allow_closed=True,
        )

    def remove(self, command: Command, community_id: UUID, member_id: UUID, reason: str) -> Outcome:
        return self._co_lead_decision(
            command,
            community_id,
            member_id,
            "remove members",
            lambda membership: membership.remove(reason, on=self.clock.today()),
            allow_closed=True,
        )

    def assign_role(
        self, command: Command, community_id: UUID, member_id: UUID, role: Role, start: date | None
    ) -> Outcome:
        return self._co_lead_decision(
            command,
            community_id,
            member_id,
            "assign roles",
            lambda membership: membership.assign_role(role, start or self.clock.today()),
        )

    def end_role(
        self, command: Command, community_id: UUID, member_id: UUID, role: Role, end: date | None
    ) -> Outcome:
        return self._co_lead_decision(
            command,
            community_id,
            member_id,
            "end roles",
            lambda membership: membership.end_role(role, end or self.clock.today()),
            allow_closed=True,
        )

    def membership(self, community_id: UUID, member_id: UUID) -> Membership:
        membership = self._find(Membership.create_id(community_id, member_id), Membership)
        if membership is None or membership.status is None:
            raise NotFound(f"member {member_id} has no membership of community {community_id}")
        return membership

    def _co_lead_decision(
        self,
        command: Command,
        community_id: UUID,
        member_id: UUID,
        action: str,
        change: Callable[[Membership], None],
        allow_closed: bool = False,
    ) -> Outcome:
        def decide() -> Changes:
            community = self.load(community_id, Community, "community")
            self._require_co_lead(command.caller, community, action)
            if not allow_closed:
                community.check_open()
            # A membership that was never opened refuses like any other in the
            # wrong state (e.g. "no pending request"), so the answer is the same
            # whether or not the person ever approached the community.
            membership = self._membership(community.id, member_id)
            change(membership)
            return Changes(membership)

        return self.execute(command, decide)

    def _own_decision(
        self,
        command: Command,
        community_id: UUID,
        action: str,
        change: Callable[[Membership], None],
        allow_closed: bool = False,
    ) -> Outcome:
        def decide() -> Changes:
            member = self._caller_member(command.caller)
            community = self.load(community_id, Community, "community")
            if not allow_closed:
                community.check_open()
            # As for co-leads' decisions: no membership at all is one more wrong state
            # (accepting an invitation nobody sent is FAILED_PRECONDITION, like approving
            # a request nobody made).
            membership = self._membership(community.id, member.id)
            change(membership)
            return Changes(membership)

        return self.execute(command, decide)

    def _open_community(self, community_id: UUID) -> Community:
        community = self.load(community_id, Community, "community")
        community.check_open()
        return community

    def _membership(self, community_id: UUID, member_id: UUID) -> Membership:
        membership = self._find(Membership.create_id(community_id, member_id), Membership)
        if membership is not None:
            return membership
        self.load(member_id, Member, "member")
        return Membership(community_id=community_id, member_id=member_id)

    def _require_co_lead(self, caller: Caller, community: Community, action: str) -> None:
        if caller.is_operator:
            return
        if caller.member_id is not None:
            own = self._find(Membership.create_id(community.id, caller.member_id), Membership)
            if own is not None and own.is_active and own.holds(Role.CO_LEAD, self.clock.today()):
                return
        raise PermissionDenied(
            f"only co-leads of community '{community.slug}' or the node operator may {action}"
        )
