"""EventsService calls on convenings: schedule, change, reschedule, cancel, hold,
record attendance, close, import, read and list.
"""

from __future__ import annotations

from typing import Any

from copnet.events.v1 import events_pb2 as pb
from services.common.errors import Violations, stand_in
from services.common.protoconv import optional_time
from services.common.servicer import (
    Context,
    command,
    optional,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    required_uuid,
    run,
)
from services.events import codecs
from services.events.commands import CancelledRecord, HeldRecord
from services.events.domain import ConveningDetails
from services.events.grpc_api.base import Servicer
from services.events.grpc_api.requests import (
    organiser_ids,
    parse_outcomes,
    parse_reason,
    parse_slot,
    parse_window,
)
from services.events.values import (
    parse_capacity,
    parse_time_zone,
    parse_title,
    parse_topic,
    parse_venue,
)
from services.kernel.parsing import parse_link, parse_text

MAX_ATTENDANCE_ENTRIES = 5000


class ConveningCalls(Servicer):
    def _details(self, request: Any, v: Violations) -> ConveningDetails:
        title = v.check("title", parse_title, request.title)
        topic = v.check("topic", parse_topic, request.topic)
        description = v.check("description", parse_text, request.description)
        format_ = v.check("format", codecs.FORMAT.to_domain, request.format)
        venue = v.check("venue", parse_venue, request.venue)
        link = v.check("join_link", parse_link, request.join_link)
        parts = (title, topic, description, format_, venue, link)
        return ConveningDetails(*parts) if None not in parts else stand_in(ConveningDetails)

    async def ScheduleConvening(
        self, request: pb.ScheduleConveningRequest, context: Context
    ) -> pb.ScheduleConveningResponse:
        v = Violations()
        cmd = command(request, "ScheduleConvening", v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        details = self._details(request, v)
        zone = v.check("time_zone", parse_time_zone, request.time_zone)
        slot = parse_slot(v, request.start, request.end, zone)
        capacity = v.check("capacity", parse_capacity, request.capacity)
        window = parse_window(v, request.registration_opens, request.registration_closes, zone)
        organisers = organiser_ids(request.organiser_ids, v)
        v.raise_if_any()
        outcome = await run(
            self.app.schedule_convening,
            cmd,
            community_id,
            details,
            slot,
            capacity,
            window,
            organisers or None,
        )
        convening, position = await self._convening_answer(outcome)
        return pb.ScheduleConveningResponse(convening=convening, position=position)

    async def UpdateConvening(
        self, request: pb.UpdateConveningRequest, context: Context
    ) -> pb.UpdateConveningResponse:
        v = Violations()
        cmd = command(request, "UpdateConvening", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        changes = {
            "title": optional(request, "title", v, parse_title),
            "topic": optional(request, "topic", v, parse_topic),
            "description": optional(request, "description", v, parse_text),
            "format": optional(request, "format", v, codecs.FORMAT.to_domain),
            "venue": optional(request, "venue", v, parse_venue),
            "join_link": optional(request, "join_link", v, parse_link),
            "capacity": optional(request, "capacity", v, parse_capacity),
        }
        if request.replace_registration_window or request.replace_organisers:
            # Window times are read in the convening's own zone.
            convening = await run(self.app.convening, convening_id) if convening_id else None
        if request.replace_registration_window:
            zone = convening.slot.time_zone if convening is not None else None
            changes["window"] = parse_window(
                v, request.registration_opens, request.registration_closes, zone
            )
        elif request.registration_opens or request.registration_closes:
            v.add("registration_opens", "is only read when replace_registration_window is true")
        if request.replace_organisers:
            changes["organiser_ids"] = organiser_ids(request.organiser_ids, v)
        elif request.organiser_ids:
            v.add("organiser_ids", "is only read when replace_organisers is true")
        v.raise_if_any()
        outcome = await run(
            self.app.update_convening, cmd, convening_id, request.expected_version, **changes
        )
        convening_message, position = await self._convening_answer(outcome)
        return pb.UpdateConveningResponse(convening=convening_message, position=position)

    async def RescheduleConvening(
        self, request: pb.RescheduleConveningRequest, context: Context
    ) -> pb.RescheduleConveningResponse:
        v = Violations()
        cmd = command(request, "RescheduleConvening", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        reason = parse_reason(v, request.reason)
        zone = None
        if request.time_zone:
            zone = v.check("time_zone", parse_time_zone, request.time_zone)
        elif convening_id is not None:
            zone = (await run(self.app.convening, convening_id)).slot.time_zone
        slot = parse_slot(v, request.start, request.end, zone)
        v.raise_if_any()
        outcome = await run(
            self.app.reschedule_convening,
            cmd,
            convening_id,
            slot,
            reason,
            request.expected_version,
        )
        convening, position = await self._convening_answer(outcome)
        return pb.RescheduleConveningResponse(convening=convening, position=position)

    async def CancelConvening(
        self, request: pb.CancelConveningRequest, context: Context
    ) -> pb.CancelConveningResponse:
        v = Violations()
        cmd = command(request, "CancelConvening", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        reason = parse_reason(v, request.reason, required=True)
        v.raise_if_any()
        outcome = await run(
            self.app.cancel_convening, cmd, convening_id, reason, request.expected_version
        )
        convening, position = await self._convening_answer(outcome)
        return pb.CancelConveningResponse(convening=convening, position=position)

    async def MarkConveningHeld(
        self, request: pb.MarkConveningHeldRequest, context: Context
    ) -> pb.MarkConveningHeldResponse:
        v = Violations()
        cmd = command(request, "MarkConveningHeld", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        v.raise_if_any()
        outcome = await run(self.app.mark_held, cmd, convening_id)
        convening, position = await self._convening_answer(outcome)
        return pb.MarkConveningHeldResponse(convening=convening, position=position)

    async def RecordAttendance(
        self, request: pb.RecordAttendanceRequest, context: Context
    ) -> pb.RecordAttendanceResponse:
        v = Violations()
        cmd = command(request, "RecordAttendance", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        if not request.entries:
            v.add("entries", "is required: who attended and who did not come")
        if len(request.entries) > MAX_ATTENDANCE_ENTRIES:
            v.add("entries", f"must be at most {MAX_ATTENDANCE_ENTRIES} per call")
        entries = {}
        for i, entry in enumerate(request.entries[:MAX_ATTENDANCE_ENTRIES]):
            member = v.check(f"entries[{i}].member_id", parse_uuid, entry.member_id)
            attendance = v.check(
                f"entries[{i}].attendance", codecs.ATTENDANCE.to_domain, entry.attendance
            )
            if member in entries:
                v.add(f"entries[{i}].member_id", "is named twice")
            elif member is not None and attendance is not None:
                entries[member] = attendance
        v.raise_if_any()
        outcome = await run(self.app.record_attendance, cmd, convening_id, entries)
        convening, position = await self._convening_answer(outcome)
        return pb.RecordAttendanceResponse(convening=convening, position=position)

    async def CloseConvening(
        self, request: pb.CloseConveningRequest, context: Context
    ) -> pb.CloseConveningResponse:
        v = Violations()
        cmd = command(request, "CloseConvening", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        outcomes = parse_outcomes(v, request.outcomes)
        attendee_count = request.attendee_count if request.HasField("attendee_count") else None
        if attendee_count is not None and attendee_count > 1_000_000:
            v.add("attendee_count", "must be at most 1000000")
        v.raise_if_any()
        outcome = await run(self.app.close_convening, cmd, convening_id, outcomes, attendee_count)
        convening, position = await self._convening_answer(outcome)
        return pb.CloseConveningResponse(convening=convening, position=position)

    async def ImportConvening(
        self, request: pb.ImportConveningRequest, context: Context
    ) -> pb.ImportConveningResponse:
        v = Violations()
        cmd = command(request, "ImportConvening", v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        title = v.check("title", parse_title, request.title)
        topic = v.check("topic", parse_topic, request.topic)
        description = v.check("description", parse_text, request.description)
        format_ = v.check("format", codecs.FORMAT.to_domain, request.format)
        venue = v.check("venue", parse_venue, request.venue)
        zone = v.check("time_zone", parse_time_zone, request.time_zone)
        slot = parse_slot(v, request.start, request.end, zone)
        organisers = organiser_ids(request.organiser_ids, v)
        plan_id = v.check("plan_id", parse_uuid, request.plan_id) if request.plan_id else None
        result = self._past_result(request, v)
        v.raise_if_any()
        details = ConveningDetails(title, topic, description, format_, venue, "")
        outcome = await run(
            self.app.import_convening,
            cmd,
            community_id,
            details,
            slot,
            result,
            plan_id,
            organisers or None,
        )
        convening, position = await self._convening_answer(outcome)
        return pb.ImportConveningResponse(convening=convening, position=position)

    @staticmethod
    def _past_result(request: Any, v: Violations) -> HeldRecord | CancelledRecord | None:
        which = request.WhichOneof("result")
        if which == "cancelled_reason":
            reason = v.check("cancelled_reason", parse_text, request.cancelled_reason)
            if reason == "":
                v.add("cancelled_reason", "is required: say why it did not take place")
            return CancelledRecord(reason or "")
        if which != "held":
            return None
        held = request.held
        for name in ("signed_up", "attended", "attendee_count"):
            if getattr(held, name) > 1_000_000:
                v.add(f"held.{name}", "must be at most 1000000")
        outcomes = parse_outcomes(v, held.outcomes, "held.outcomes")
        attendee_count = held.attendee_count if held.HasField("attendee_count") else None
        return HeldRecord(held.signed_up, held.attended, attendee_count, outcomes)

    async def GetConvening(
        self, request: pb.GetConveningRequest, context: Context
    ) -> pb.GetConveningResponse:
        convening_id = required_uuid("convening_id", request.convening_id)
        convening = await run(self.app.convening, convening_id)
        return pb.GetConveningResponse(convening=await self._convening_pb(convening))

    async def ListConvenings(
        self, request: pb.ListConveningsRequest, context: Context
    ) -> pb.ListConveningsResponse:
        v = Violations()
        community = v.check("community_id", parse_optional_uuid, request.community_id)
        plan = v.check("plan_id", parse_optional_uuid, request.plan_id)
        status = v.check("status", codecs.STATUS.to_domain_or_none, request.status)
        starts_from = v.check("starts_from", optional_time, request, "starts_from")
        starts_before = v.check("starts_before", optional_time, request, "starts_before")
        filters = {
            "community": str(community or ""),
            "plan": str(plan or ""),
            "status": status or "",
            "from": str(starts_from or ""),
            "before": str(starts_before or ""),
        }
        page_ = page(request, filters, v)
        v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(
            self.schedule.list_convenings,
            page_,
            str(community or ""),
            str(plan or ""),
            status or "",
            starts_from,
            starts_before,
        )
        return pb.ListConveningsResponse(
            convenings=await self._records_pb(records), next_page_token=token
        )
