"""EventsService calls on meeting plans: create, add occurrences, end, read, list, and
how well a plan was kept.
"""

from __future__ import annotations

from copnet.events.v1 import events_pb2 as pb
from services.common.errors import Violations
from services.common.grpc_server import current_caller
from services.common.servicer import (
    Context,
    command,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    required_uuid,
    run,
)
from services.events import codecs
from services.events.commands import PlanDefaults
from services.events.domain import MeetingPlan
from services.events.grpc_api.base import Servicer
from services.events.grpc_api.requests import (
    parse_duration,
    parse_plan_entries,
    parse_reason,
)
from services.events.grpc_api.responses import plan_pb
from services.events.values import parse_capacity, parse_time_zone, parse_title, parse_venue
from services.events.views import PlanRecord
from services.kernel.parsing import parse_link, parse_optional_date, parse_text


class PlanCalls(Servicer):
    async def _plan_answer(self, plan: MeetingPlan) -> pb.MeetingPlan:
        show = await run(self.app.may_see_sign_ups, current_caller(), plan.community_id)
        return plan_pb(PlanRecord.of(plan), show, plan)

    async def CreateMeetingPlan(
        self, request: pb.CreateMeetingPlanRequest, context: Context
    ) -> pb.CreateMeetingPlanResponse:
        v = Violations()
        cmd = command(request, "CreateMeetingPlan", v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        title = v.check("title", parse_title, request.title)
        description = v.check("description", parse_text, request.description)
        zone = v.check("time_zone", parse_time_zone, request.time_zone)
        format_ = v.check("format", codecs.FORMAT.to_domain, request.format)
        venue = v.check("venue", parse_venue, request.venue)
        link = v.check("join_link", parse_link, request.join_link)
        capacity = v.check("capacity", parse_capacity, request.capacity)
        duration = v.check("duration_minutes", parse_duration, request.duration_minutes)
        recurrence = request.recurrence if request.HasField("recurrence") else None
        if community_id is not None:  # who may not plan is refused before any expansion
            await run(self.app.check_may_plan, cmd.caller, community_id)
        # Expanding a rule is bounded work (recurrence.expand) and off the event loop.
        rule, entries = await run(
            parse_plan_entries, v, recurrence, request.occurrences, zone, may_be_empty=True
        )
        v.raise_if_any()
        defaults = PlanDefaults(title, description, format_, venue, link, capacity, duration)
        outcome = await run(
            self.app.create_meeting_plan, cmd, community_id, defaults, zone, rule, entries
        )
        plan = await self._entity(outcome)
        return pb.CreateMeetingPlanResponse(
            plan=await self._plan_answer(plan),
            convening_ids=[str(c) for c in plan.last_added],
            position=outcome.position,
        )

    async def AddPlanOccurrences(
        self, request: pb.AddPlanOccurrencesRequest, context: Context
    ) -> pb.AddPlanOccurrencesResponse:
        v = Violations()
        cmd = command(request, "AddPlanOccurrences", v)
        plan_id = v.check("plan_id", parse_uuid, request.plan_id)
        zone = None
        if plan_id is not None:
            plan = await run(self.app.meeting_plan, plan_id)
            await run(self.app.check_may_plan, cmd.caller, plan.community_id)
            zone = plan.time_zone
        recurrence = request.recurrence if request.HasField("recurrence") else None
        _, entries = await run(parse_plan_entries, v, recurrence, request.occurrences, zone)
        v.raise_if_any()
        outcome = await run(self.app.add_plan_occurrences, cmd, plan_id, entries)
        plan = await self._entity(outcome)
        return pb.AddPlanOccurrencesResponse(
            plan=await self._plan_answer(plan),
            convening_ids=[str(c) for c in plan.last_added],
            position=outcome.position,
        )

    async def EndMeetingPlan(
        self, request: pb.EndMeetingPlanRequest, context: Context
    ) -> pb.EndMeetingPlanResponse:
        v = Violations()
        cmd = command(request, "EndMeetingPlan", v)
        plan_id = v.check("plan_id", parse_uuid, request.plan_id)
        reason = parse_reason(v, request.reason)
        v.raise_if_any()
        outcome = await run(self.app.end_meeting_plan, cmd, plan_id, reason)
        plan = await self._entity(outcome)
        return pb.EndMeetingPlanResponse(
            plan=await self._plan_answer(plan),
            cancelled_convening_ids=[str(c) for c in plan.cancelled_at_end],
            position=outcome.position,
        )

    async def GetMeetingPlan(
        self, request: pb.GetMeetingPlanRequest, context: Context
    ) -> pb.GetMeetingPlanResponse:
        plan_id = required_uuid("plan_id", request.plan_id)
        plan = await run(self.app.meeting_plan, plan_id)
        return pb.GetMeetingPlanResponse(plan=await self._plan_answer(plan))

    async def ListMeetingPlans(
        self, request: pb.ListMeetingPlansRequest, context: Context
    ) -> pb.ListMeetingPlansResponse:
        v = Violations()
        community = v.check("community_id", parse_optional_uuid, request.community_id)
        page_ = page(request, {"community": str(community or "")}, v)
        v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(self.schedule.list_plans, page_, str(community or ""))
        caller = current_caller()
        shown = {}
        for r in records:
            if r.community_id not in shown:
                shown[r.community_id] = await run(self.app.may_see_sign_ups, caller, r.community_id)
        return pb.ListMeetingPlansResponse(
            plans=[plan_pb(r, shown[r.community_id]) for r in records], next_page_token=token
        )

    async def GetPlanAdherence(
        self, request: pb.GetPlanAdherenceRequest, context: Context
    ) -> pb.GetPlanAdherenceResponse:
        v = Violations()
        plan_id = v.check("plan_id", parse_uuid, request.plan_id)
        planned_from = v.check("planned_from", parse_optional_date, request.planned_from)
        planned_before = v.check("planned_before", parse_optional_date, request.planned_before)
        v.raise_if_any()
        await run(self.app.meeting_plan, plan_id)
        await read_your_writes(self.follower, request.min_position)
        result = await run(
            self.schedule.adherence, plan_id, self.app.clock.now(), planned_from, planned_before
        )
        return pb.GetPlanAdherenceResponse(
            planned=result.planned,
            held=result.held,
            cancelled=result.cancelled,
            to_come=result.to_come,
            unrecorded=result.unrecorded,
            adherence_rate=result.rate,
        )
