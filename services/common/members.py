"""Whether a member token names a member of this node.

A token signed by the node for a member id that was never registered (or a typo, or an
erased member) must not read anything: the gRPC interceptor asks the service's own
record of members before a call runs (after any `min_registry_position` wait). The
registry's store is the authority: an unknown member is UNAUTHENTICATED at once. The
other services know members from their registry mirror, which follows the registry by a
moment: there an unknown member is looked for again for up to a second, then refused
with PERMISSION_DENIED, as any answer from a copy a moment old ("pass
min_registry_position" for a member registered just now). Members found are
remembered for a minute.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from services.common.apiwork import ApiWork
from services.common.errors import PermissionDenied, Unauthenticated
from services.common.identity import Caller

REMEMBER_FOR = 60.0
REMEMBERED = 4096
GRACE = 1.0
POLL = 0.1


class KnownMembers:
    def __init__(
        self,
        known: Callable[[UUID], bool],
        work: ApiWork | None = None,
        authoritative: bool = False,
        grace: float = GRACE,
    ) -> None:
        self.known = known
        self.work = work
        self.authoritative = authoritative
        self.grace = 0.0 if authoritative else grace
        self._seen: OrderedDict[UUID, float] = OrderedDict()

    @classmethod
    def of(cls, parts: Any, work: ApiWork) -> KnownMembers | None:
        """From a service's parts (`ServiceParts.known_member`), if it has the check."""
        known = parts.known_member
        return None if known is None else cls(known, work, parts.known_member_authoritative)

    async def check(self, caller: Caller) -> None:
        """Returns if the caller is not a member, or a member this node knows; raises
        Unauthenticated (the registry) or PermissionDenied (a mirror) otherwise; store
        errors pass through (UNAVAILABLE)."""
        member = caller.member_id
        if member is None:
            return
        now = time.monotonic()
        if self._seen.get(member, 0.0) > now:
            return
        deadline = now + self.grace
        while not await self._look(member):
            if time.monotonic() >= deadline:
                if self.authoritative:
                    raise Unauthenticated("the token names no member of this node")
                raise PermissionDenied(
                    "the token names no member this service knows yet; for a member "
                    "registered a moment ago, pass min_registry_position"
                )
            await asyncio.sleep(POLL)
        self._seen[member] = time.monotonic() + REMEMBER_FOR
        self._seen.move_to_end(member)
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)

    async def _look(self, member: UUID) -> bool:
        if self.work is not None:
            return await self.work.run(self.known, member)
        return await asyncio.to_thread(self.known, member)
