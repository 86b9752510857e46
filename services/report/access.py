"""Who may see which figures (an allow-list):

- a node's page: its operator sees every community of the node; a member who is a
  co-lead of communities today sees those communities (and the learning items they
  wrote); any other member is refused (403);
- the region's page: the operator of any node of the region; members are refused.

The viewer signs in with a bearer token the node signed (`copnet token`), sent in an
`Authorization: Bearer` header or kept, after the sign-in form, in an HttpOnly cookie.
Co-leads are read from the registry's API (ListMemberships with the co-lead role).
"""

from __future__ import annotations

from dataclasses import dataclass

from copnet.registry.v1 import registry_pb2 as rpb
from services.common.errors import Unauthenticated
from services.common.tokens import TokenAuthority
from services.report.source import NodeSource


class Refused(Exception):
    """The viewer is known but may not see this page (403)."""


@dataclass(frozen=True)
class Viewer:
    subject: str
    # The communities the viewer may see; None for all of them.
    communities: frozenset[str] | None
    description: str


class NodeAccess:
    """Who may see one node's page."""

    def __init__(self, source: NodeSource) -> None:
        self.source = source
        self.authority: TokenAuthority = source.authority

    def viewer(self, token: str) -> Viewer:
        caller = self.authority.verify(token)  # Unauthenticated when it is not the node's
        if caller.is_operator:
            return Viewer(caller.subject, None, f"the operator of {self.source.node_id}")
        led = self.source.pages(
            "registry",
            "ListMemberships",
            rpb.ListMembershipsRequest(
                member_id=caller.subject,
                role=rpb.ROLE_CO_LEAD,
                status=rpb.MEMBERSHIP_STATUS_ACTIVE,
                page_size=500,
            ),
            "memberships",
        )
        communities = frozenset(m.community_id for m in led)
        if not communities:
            raise Refused("the report is for the node's operator and its communities' co-leads")
        count = len(communities)
        return Viewer(
            caller.subject,
            communities,
            f"a co-lead of {count} communit{'ies' if count != 1 else 'y'}",
        )


class RegionAccess:
    """Who may see the region's page: any of its nodes' operators."""

    def __init__(self, sources: list[NodeSource]) -> None:
        self.sources = sources

    def viewer(self, token: str) -> Viewer:
        for source in self.sources:
            try:
                caller = source.authority.verify(token)
            except Unauthenticated:
                continue
            if not caller.is_operator:
                raise Refused("the region's report is for the operators of the region's nodes")
            return Viewer(caller.subject, None, f"the operator of {source.node_id}")
        raise Unauthenticated("the token is not one of this region's nodes'")
