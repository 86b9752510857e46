"""The EventsService servicer's state and the answers its calls share."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from copnet.events.v1 import events_pb2 as pb
from copnet.events.v1 import events_pb2_grpc as pb_grpc
from services.common.application import Outcome
from services.common.errors import Violations, stand_in
from services.common.grpc_server import current_caller
from services.common.projection import ProjectionFollower
from services.common.servicer import parse_uuid, run
from services.events.application import Events
from services.events.domain import Convening
from services.events.grpc_api.responses import convening_pb, sign_up_pb
from services.events.mirror import CommunityDirectoryView
from services.events.views import ConveningRecord, Schedule, SignUpRecord
from services.events.web.reader import MemberEvidence


class Servicer(pb_grpc.EventsServiceServicer):
    """What every group of calls shares: the application, the schedule view and its
    follower, the community directory, what a member keeps, and how answers are built."""

    def __init__(
        self,
        app: Events,
        schedule: Schedule,
        follower: ProjectionFollower,
        mirror: CommunityDirectoryView,
        evidence: MemberEvidence,
        evidence_follower: ProjectionFollower,
    ) -> None:
        self.app = app
        self.schedule = schedule
        self.follower = follower
        self.mirror = mirror
        # Calendar feeds and CPD evidence (grpc_api.evidence), and the follower of the
        # feeds' read model.
        self.evidence = evidence
        self.evidence_follower = evidence_follower

    # Answers

    async def _convening_answer(self, outcome: Outcome) -> tuple[pb.Convening, int]:
        convening = await self._entity(outcome)
        return await self._convening_pb(convening), outcome.position

    async def _entity(self, outcome: Outcome) -> Any:
        if outcome.entity is not None:
            return outcome.entity
        return await run(self.app.entity_at, outcome)

    async def _convening_pb(self, convening: Convening) -> pb.Convening:
        caller = current_caller()
        show = await run(self.app.may_join_online, caller, convening)
        return convening_pb(ConveningRecord.of(convening), show)

    async def _sign_up_answer(self, outcome: Outcome, member_id: UUID) -> tuple[pb.SignUp, int]:
        convening = await self._entity(outcome)
        record = SignUpRecord.of(convening, convening.signups[member_id])
        return sign_up_pb(record), outcome.position

    async def _records_pb(self, records: list[ConveningRecord]) -> list[pb.Convening]:
        visible = await run(self._join_links_visible, records)
        return [convening_pb(r, r.convening_id in visible) for r in records]

    def _join_links_visible(self, records: list[ConveningRecord]) -> set[UUID]:
        caller = current_caller()
        with_links = [r for r in records if r.join_link]
        organised = {
            community
            for community in {r.community_id for r in with_links}
            if self.app.may_see_sign_ups(caller, community)
        }
        visible = {r.convening_id for r in with_links if r.community_id in organised}
        if caller.member_id is not None:
            visible |= self.schedule.registered_convenings(
                caller.member_id, [r.convening_id for r in with_links]
            )
        return visible

    def _subject_member(self, value: str, v: Violations) -> UUID:
        """member_id defaults to the caller (a `stand_in` when neither is there)."""
        if value:
            return v.check("member_id", parse_uuid, value)
        caller = current_caller()
        if caller.member_id is None:
            v.add("member_id", "is required when the caller is not a member")
            return stand_in(UUID)
        return caller.member_id
