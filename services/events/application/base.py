"""What every use case of the events service stands on: the community directory it
authorises against (a port, handed over by `connect`), who may do what, and the one shape
of an organiser's command on a convening."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from services.common.application import (
    Changes,
    Clock,
    CopnetApplication,
    Outcome,
    check_expected_version,
)
from services.common.errors import FailedPrecondition, NotFound, PermissionDenied
from services.common.idempotency import Command
from services.common.identity import Caller
from services.events.commands import ORGANISER_ROLES, CommunityDirectory
from services.events.domain import Convening
from services.events.values import Community
from services.kernel.parsing import listing


class EventsBase(CopnetApplication):
    """The directory port and the checks every command makes (`Events` is the application)."""

    # Popular convenings carry many sign-ups: keep recently used aggregates in
    # memory and fast-forward them from the store instead of replaying.
    env = {"AGGREGATE_CACHE_MAXSIZE": "1000"}

    def __init__(self, env: dict[str, str] | None = None, clock: Clock | None = None) -> None:
        super().__init__(env, clock)
        self._directory: CommunityDirectory | None = None

    def connect(self, directory: CommunityDirectory) -> None:
        """Gives the use cases the community directory they authorise against."""
        self._directory = directory

    @property
    def directory(self) -> CommunityDirectory:
        if self._directory is None:
            raise RuntimeError("the events application needs a community directory")
        return self._directory

    # Who may do what

    def community(self, community_id: UUID) -> Community:
        community = self.directory.community(community_id)
        if community is None:
            raise NotFound(
                f"community {community_id} is not known to the events service (it has applied "
                f"the registry's changes up to position {self.directory.registry_position()}); "
                "if it was created a moment ago, pass the `position` its creation returned as "
                "min_registry_position"
            )
        return community

    def may_organise(self, caller: Caller, community: Community) -> bool:
        """The node operator, or a co-lead or facilitator of the community today."""
        if caller.is_operator:
            return True
        member = caller.member_id
        return (
            member is not None
            and self.directory.is_active_member(community.community_id, member)
            and self.directory.holds_role(
                community.community_id, member, ORGANISER_ROLES, self.clock.today()
            )
        )

    def require_organiser(self, caller: Caller, community: Community, action: str) -> None:
        if not self.may_organise(caller, community):
            raise PermissionDenied(
                f"only co-leads and facilitators of community '{community.slug}' or the node "
                f"operator may {action} (roles as of registry position "
                f"{self.directory.registry_position()})"
            )

    def _organised_convening(self, caller: Caller, convening_id: UUID, action: str) -> Convening:
        convening = self.load(convening_id, Convening, "convening")
        self.require_organiser(caller, self.community(convening.community_id), action)
        return convening

    def _check_organisers(self, community: Community, organiser_ids: Sequence[UUID]) -> None:
        strangers = [
            str(member)
            for member in organiser_ids
            if not self.directory.is_active_member(community.community_id, member)
        ]
        if strangers:
            raise FailedPrecondition(
                f"organisers must be active members of community '{community.slug}'; "
                f"these are not: {listing(strangers)}"
            )

    def _default_organisers(
        self, caller: Caller, organiser_ids: Sequence[UUID] | None
    ) -> list[UUID]:
        if organiser_ids is not None:
            return list(organiser_ids)
        return [caller.member_id] if caller.member_id is not None else []

    def _open_community(self, community_id: UUID) -> Community:
        community = self.community(community_id)
        if community.is_closed:
            raise FailedPrecondition(f"community '{community.slug}' is closed")
        return community

    def _organiser_command(
        self,
        command: Command,
        convening_id: UUID,
        action: str,
        change: Callable[[Convening], None],
        expected_version: int = 0,
    ) -> Outcome:
        def decide() -> Changes:
            convening = self._organised_convening(command.caller, convening_id, action)
            check_expected_version(convening, expected_version, "the convening")
            change(convening)
            return Changes(convening)

        return self.execute(command, decide, serialise_on=convening_id)


def policy_words(community: Community) -> str:
    return {
        "open": "open to all",
        "approval": "joined by a co-lead's approval",
        "invite_only": "invite-only",
    }[community.joining_policy.value]
