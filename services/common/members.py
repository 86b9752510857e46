"""Whether a member token names a member of this node.

A token signed by the node for a member id that was never registered (or a typo) must
not read anything: the gRPC interceptor asks the service's own record of members (the
registry's store; the other services' registry mirror) before a call runs, and refuses
an unknown member with UNAUTHENTICATED. A mirror follows the registry by a moment, so
an unknown member is looked for again for up to `grace` seconds (5) before the refusal
(only the node signs tokens, so such calls are rare: an operator's mistake);
members found are remembered for a minute.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

from services.common.apiwork import ApiWork
from services.common.errors import Unauthenticated
from services.common.identity import Caller

REMEMBER_FOR = 60.0
REMEMBERED = 4096
GRACE = 5.0
POLL = 0.1


class KnownMembers:
    def __init__(
        self,
        known: Callable[[UUID], bool],
        work: ApiWork | None = None,
        grace: float = GRACE,
    ) -> None:
        self.known = known
        self.work = work
        self.grace = grace
        self._seen: OrderedDict[UUID, float] = OrderedDict()

    async def check(self, caller: Caller) -> None:
        """Returns if the caller is not a member, or a member this node knows; raises
        Unauthenticated otherwise (store errors pass through: UNAVAILABLE)."""
        member = caller.member_id
        if member is None:
            return
        now = time.monotonic()
        if self._seen.get(member, 0.0) > now:
            return
        deadline = now + self.grace
        while not await self._look(member):
            if time.monotonic() >= deadline:
                raise Unauthenticated("the token names no member of this node")
            await asyncio.sleep(POLL)
        self._seen[member] = time.monotonic() + REMEMBER_FOR
        self._seen.move_to_end(member)
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)

    async def _look(self, member: UUID) -> bool:
        if self.work is not None:
            return await self.work.run(self.known, member)
        return await asyncio.to_thread(self.known, member)
