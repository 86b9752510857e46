"""The registry as the events service sees it: the node's registry mirror
(`services.contracts.registry_mirror.RegistryMirror`, fed by the registry's integration
events), read as a directory of communities and people.

The events service authorises from it and never calls the registry or reads
its store. It is as current as the last registry event the mirror applied
(`registry_position`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from services.contracts.registry_mirror import RegistryMirror
from services.events.values import Community, CommunityLifecycle, JoiningPolicy, OrganiserRole


def _known(enum_type: Any, value: str, fallback: Any) -> Any:
    """A value from a newer registry that this build does not know is treated cautiously."""
    try:
        return enum_type(value)
    except ValueError:
        return fallback


class CommunityDirectoryView:
    """The events service's `CommunityDirectory`, over the registry mirror."""

    def __init__(self, mirror: RegistryMirror) -> None:
        self.mirror = mirror

    def community(self, community_id: UUID) -> Community | None:
        row = self.mirror.community(community_id)
        if row is None:
            return None
        return Community(
            community_id=UUID(row["community_id"]),
            slug=row["slug"],
            name=row["name"],
            joining_policy=_known(JoiningPolicy, row["joining_policy"], JoiningPolicy.INVITE_ONLY),
            lifecycle=_known(CommunityLifecycle, row["lifecycle"], CommunityLifecycle.ACTIVE),
        )

    def is_known_member(self, member_id: UUID) -> bool:
        return self.mirror.is_known_member(member_id)

    def is_active_member(self, community_id: UUID, member_id: UUID) -> bool:
        return self.mirror.is_active_member(community_id, member_id)

    def holds_role(
        self, community_id: UUID, member_id: UUID, roles: Iterable[OrganiserRole], day: date
    ) -> bool:
        return self.mirror.holds_role(community_id, member_id, roles, day)

    def organisers(self, community_id: UUID, day: date) -> list[UUID]:
        """Active members holding co-lead or facilitator on `day`, in the order they started."""
        roles = (OrganiserRole.CO_LEAD.value, OrganiserRole.FACILITATOR.value)
        return self.mirror.organisers(community_id, day, roles)

    def display_names(self, member_ids: Iterable[UUID]) -> dict[UUID, str]:
        return self.mirror.display_names(member_ids)

    def registry_position(self) -> int:
        return self.mirror.registry_position()
