"""EventsService over gRPC: validation and translation only.

Rules live in the domain and the application; this module checks request
shapes (collecting every field violation), calls the application off the event
loop, and turns its answers into protobuf messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import grpc

from copnet.events.v1 import events_pb2 as pb
from copnet.events.v1 import events_pb2_grpc as pb_grpc
from services.common.application import Outcome
from services.common.errors import NotFound, PermissionDenied, Violations
from services.common.grpc_server import current_caller
from services.common.paging import Page
from services.common.projection import ProjectionFollower
from services.common.protoconv import timestamp
from services.common.servicer import (
    command,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    run,
)
from services.events import calendar, codecs
from services.events.application import (
    KEEP,
    CancelledRecord,
    Events,
    HeldRecord,
    PlanDefaults,
    PlanEntry,
)
from services.events.domain import Convening, ConveningDetails, MeetingPlan
from services.events.mirror import CommunityDirectoryView
from services.events.recurrence import MAX_OCCURRENCES, expand, parse_rule
from services.events.values import (
    MAX_COMMENT_LENGTH,
    MAX_LINKS_PER_OUTCOME,
    MAX_OUTCOME_TEXT_LENGTH,
    MAX_OUTCOMES,
    Grouping,
    LearningOutcome,
    RegistrationWindow,
    TimeSlot,
    local_text,
    parse_capacity,
    parse_local_datetime,
    parse_rating,
    parse_time_zone,
    parse_title,
    parse_topic,
    parse_venue,
    to_instant,
)
from services.events.views import (
    ConveningRecord,
    FeedbackRecord,
    Metrics,
    PlanRecord,
    Schedule,
    SignUpRecord,
)
from services.kernel.parsing import parse_date, parse_line, parse_link, parse_text

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["EventsService"].full_name
MAX_ATTENDANCE_ENTRIES = 5000
MAX_REASON_LENGTH = 1000
DEFAULT_DURATION_MINUTES = 90
CALENDAR_LIMIT = 1000
CALENDAR_LOOKBACK = timedelta(days=365)


# Protobuf from records


def convening_pb(r: ConveningRecord, show_join_link: bool) -> pb.Convening:
    zone = r.slot.time_zone
    message = pb.Convening(
        convening_id=str(r.convening_id),
        community_id=str(r.community_id),
        plan_id=str(r.plan_id) if r.plan_id else "",
        title=r.title,
        topic=r.topic,
        description=r.description,
        format=codecs.FORMAT.to_pb(r.format),
        venue=r.venue,
        join_link=r.join_link if show_join_link else "",
        join_link_hidden=bool(r.join_link) and not show_join_link,
        start=local_text(r.slot.starts_at, zone),
        end=local_text(r.slot.ends_at, zone),
        time_zone=zone,
        starts_at=timestamp(r.slot.starts_at),
        ends_at=timestamp(r.slot.ends_at),
        planned_starts_at=timestamp(r.planned_starts_at),
        capacity=r.capacity or 0,
        places_taken=r.places_taken,
        waitlist_length=r.waitlist_length,
        pending_approvals=r.pending_approvals,
        registration_opens_at=timestamp(r.registration_opens_at),
        registration_closes_at=timestamp(r.registration_closes_at),
        status=codecs.STATUS.to_pb(r.status),
        organiser_ids=[str(m) for m in r.organiser_ids],
        reschedules=[
            pb.Reschedule(
                previous_start=local_text(h.previous.starts_at, h.previous.time_zone),
                previous_end=local_text(h.previous.ends_at, h.previous.time_zone),
                previous_time_zone=h.previous.time_zone,
                previous_starts_at=timestamp(h.previous.starts_at),
                reason=h.reason,
                rescheduled_at=timestamp(h.at),
            )
            for h in r.reschedules
        ],
        cancel_reason=r.cancel_reason,
        outcomes=[outcome_pb(o) for o in r.outcomes],
        attendee_count=r.attendee_count or 0,
        attended=r.attended,
        no_shows=r.no_shows,
        feedback_count=r.feedback_count,
        feedback_average=r.feedback_sum / r.feedback_count if r.feedback_count else 0.0,
        sequence=r.sequence,
        version=r.version,
        created_at=timestamp(r.created_at),
        updated_at=timestamp(r.updated_at),
        from_records=r.from_records,
    )
    if r.places_left is not None:
        message.places_left = r.places_left
    return message


def outcome_pb(o: LearningOutcome) -> pb.LearningOutcome:
    return pb.LearningOutcome(
        kind=codecs.OUTCOME_KIND.to_pb(o.kind), text=o.text, links=list(o.links)
    )


def sign_up_pb(r: SignUpRecord) -> pb.SignUp:
    return pb.SignUp(
        convening_id=str(r.convening_id),
        community_id=str(r.community_id),
        member_id=str(r.member_id),
        status=codecs.SIGN_UP_STATUS.to_pb(r.status),
        attendance=codecs.attendance_pb(r.attendance),
        waitlist_position=r.waitlist_position,
        feedback_given=r.feedback_given,
        signed_up_at=timestamp(r.signed_up_at),
        updated_at=timestamp(r.updated_at),
    )


def feedback_pb(r: FeedbackRecord) -> pb.Feedback:
    return pb.Feedback(rating=r.rating, comment=r.comment, given_at=timestamp(r.given_at))


def plan_pb(r: PlanRecord, show_join_link: bool, plan: MeetingPlan | None = None) -> pb.MeetingPlan:
    occurrences = []
    if plan is not None:
        occurrences = [
            pb.PlannedOccurrence(
                convening_id=str(o.convening_id),
                start=local_text(o.starts_at, plan.time_zone),
                starts_at=timestamp(o.starts_at),
                topic=o.topic,
            )
            for o in plan.occurrences
        ]
    return pb.MeetingPlan(
        plan_id=str(r.plan_id),
        community_id=str(r.community_id),
        title=r.title,
        description=r.description,
        time_zone=r.time_zone,
        recurrence_rule=r.rule,
        format=codecs.FORMAT.to_pb(r.format),
        venue=r.venue,
        join_link=r.join_link if show_join_link else "",
        capacity=r.capacity or 0,
        duration_minutes=r.duration_minutes,
        ended=r.ended,
        end_reason=r.end_reason,
        occurrence_count=r.occurrences,
        occurrences=occurrences,
        version=r.version,
        created_at=timestamp(r.created_at),
        updated_at=timestamp(r.updated_at),
    )


def metrics_pb(m: Metrics) -> pb.ConveningMetrics:
    return pb.ConveningMetrics(
        key=m.key,
        label=m.label,
        convenings_held=m.held,
        convenings_cancelled=m.cancelled,
        convenings_upcoming=m.upcoming,
        convenings_unrecorded=m.unrecorded,
        signed_up=m.signed_up,
        attended=m.attended,
        no_shows=m.no_shows,
        attendance_unrecorded=m.attendance_unrecorded,
        conversion_rate=m.conversion_rate,
        waitlisted=m.waitlisted,
        attendee_count=m.attendee_count,
        feedback_count=m.feedback_count,
        feedback_average=m.feedback_average,
        planned=m.planned,
        planned_held=m.planned_held,
        planned_cancelled=m.planned_cancelled,
    )


# Request parsing


def _required_uuid(field: str, value: str) -> UUID:
    v = Violations()
    parsed = v.check(field, parse_uuid, value)
    v.raise_if_any()
    return parsed


def _uuid_list(field: str, values: Iterable[str], v: Violations) -> list[UUID]:
    parsed = []
    for index, value in enumerate(values):
        item = v.check(f"{field}[{index}]", parse_uuid, value)
        if item is not None:
            parsed.append(item)
    if len(set(parsed)) != len(parsed):
        v.add(field, "must not name anyone twice")
    return parsed


def _instant(v: Violations, field: str, value: str, zone: str | None) -> datetime | None:
    local = v.check(field, parse_local_datetime, value)
    if local is None or zone is None:
        return None
    return v.check(field, to_instant, local, zone)


def _slot(v: Violations, start: str, end: str, zone: str | None) -> TimeSlot | None:
    starts_at = _instant(v, "start", start, zone)
    ends_at = _instant(v, "end", end, zone)
    if starts_at is None or ends_at is None or zone is None:
        return None
    if ends_at <= starts_at:
        v.add("end", "must be after the start")
        return None
    if ends_at - starts_at > timedelta(days=14):
        v.add("end", "must be at most 14 days after the start")
        return None
    return TimeSlot(starts_at, ends_at, zone)


def _window(v: Violations, opens: str, closes: str, zone: str | None) -> RegistrationWindow:
    opens_at = _instant(v, "registration_opens", opens, zone) if opens else None
    closes_at = _instant(v, "registration_closes", closes, zone) if closes else None
    return RegistrationWindow(opens_at, closes_at)


def _reason(v: Violations, value: str, required: bool = False) -> str:
    reason = v.check("reason", parse_text, value, MAX_REASON_LENGTH)
    if required and reason == "":
        v.add("reason", "is required")
    return reason or ""


def _optional(request: Any, field: str, v: Violations, parse: Any) -> Any:
    """KEEP when the optional field is unset, else its parsed value."""
    if not request.HasField(field):
        return KEEP
    return v.check(field, parse, getattr(request, field))


def _outcomes(
    v: Violations, outcomes: Iterable[pb.LearningOutcome], field: str = "outcomes"
) -> list[LearningOutcome]:
    parsed = []
    items = list(outcomes)
    if len(items) > MAX_OUTCOMES:
        v.add(field, f"must be at most {MAX_OUTCOMES}")
    for i, o in enumerate(items[:MAX_OUTCOMES]):
        kind = v.check(f"{field}[{i}].kind", codecs.OUTCOME_KIND.to_domain, o.kind)
        text = v.check(f"{field}[{i}].text", parse_text, o.text, MAX_OUTCOME_TEXT_LENGTH)
        if text == "":
            v.add(f"{field}[{i}].text", "is required: say what was produced")
        if len(o.links) > MAX_LINKS_PER_OUTCOME:
            v.add(f"{field}[{i}].links", f"must be at most {MAX_LINKS_PER_OUTCOME}")
        links = [
            v.check(f"{field}[{i}].links[{j}]", parse_link, link, True)
            for j, link in enumerate(o.links[:MAX_LINKS_PER_OUTCOME])
        ]
        if kind is not None and text:
            parsed.append(LearningOutcome(kind, text, tuple(link for link in links if link)))
    return parsed


def _plan_entries(
    v: Violations,
    recurrence: pb.Recurrence | None,
    occurrences: Iterable[pb.PlanOccurrence],
    zone,
    may_be_empty: bool = False,
) -> tuple[str, list[PlanEntry]]:
    """(the canonical rule or "", the occurrences) of a plan request."""
    items = list(occurrences)
    if recurrence is None and not items and may_be_empty:
        return "", []
    if (recurrence is None) == (not items):
        wanted = "at most" if may_be_empty else "exactly"
        v.add("recurrence", f"give {wanted} one of recurrence and occurrences")
        return "", []
    if recurrence is not None:
        if zone is None:
            return "", []
        rule = v.check("recurrence.rule", parse_rule, recurrence.rule, zone)
        first = v.check("recurrence.first_start", parse_local_datetime, recurrence.first_start)
        if rule is None or first is None:
            return "", []
        starts = v.check("recurrence.rule", expand, rule, first)
        return rule, [
            PlanEntry(start, field=f"recurrence (occurrence {i + 1}, {start:%Y-%m-%d})")
            for i, start in enumerate(starts or [])
        ]
    if len(items) > MAX_OCCURRENCES:
        v.add("occurrences", f"must be at most {MAX_OCCURRENCES}; add more with AddPlanOccurrences")
    entries = []
    for i, o in enumerate(items[:MAX_OCCURRENCES]):
        start = v.check(f"occurrences[{i}].start", parse_local_datetime, o.start)
        topic = v.check(f"occurrences[{i}].topic", parse_topic, o.topic)
        title = v.check(f"occurrences[{i}].title", parse_line, o.title, 200, False)
        if start is not None and topic is not None and title is not None:
            entries.append(PlanEntry(start, topic, title, f"occurrences[{i}].start"))
    starts = [e.start for e in entries]
    if len(set(starts)) != len(starts):
        v.add("occurrences", "must not repeat a start")
    return "", sorted(entries, key=lambda e: e.start)


def _duration(v: Violations, minutes: int) -> int | None:
    if minutes == 0:
        return DEFAULT_DURATION_MINUTES
    if minutes > 1440:
        v.add("duration_minutes", "must be from 1 to 1440")
        return None
    return minutes


class EventsServicer(pb_grpc.EventsServiceServicer):
    def __init__(
        self,
        app: Events,
        schedule: Schedule,
        follower: ProjectionFollower,
        mirror: CommunityDirectoryView,
    ) -> None:
        self.app = app
        self.schedule = schedule
        self.follower = follower
        self.mirror = mirror

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

    def _subject_member(self, value: str, v: Violations) -> UUID | None:
        """member_id defaults to the caller."""
        if value:
            return v.check("member_id", parse_uuid, value)
        caller = current_caller()
        if caller.member_id is None:
            v.add("member_id", "is required when the caller is not a member")
        return caller.member_id

    # Convenings

    def _details(self, request: Any, v: Violations) -> ConveningDetails | None:
        title = v.check("title", parse_title, request.title)
        topic = v.check("topic", parse_topic, request.topic)
        description = v.check("description", parse_text, request.description)
        format_ = v.check("format", codecs.FORMAT.to_domain, request.format)
        venue = v.check("venue", parse_venue, request.venue)
        link = v.check("join_link", parse_link, request.join_link)
        parts = (title, topic, description, format_, venue, link)
        return ConveningDetails(*parts) if None not in parts else None  # type: ignore[arg-type]

    async def ScheduleConvening(self, request, context):
        v = Violations()
        cmd = command(request, "ScheduleConvening", v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        details = self._details(request, v)
        zone = v.check("time_zone", parse_time_zone, request.time_zone)
        slot = _slot(v, request.start, request.end, zone)
        capacity = v.check("capacity", parse_capacity, request.capacity)
        window = _window(v, request.registration_opens, request.registration_closes, zone)
        organisers = _uuid_list("organiser_ids", request.organiser_ids, v)
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

    async def UpdateConvening(self, request, context):
        v = Violations()
        cmd = command(request, "UpdateConvening", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        changes = {
            "title": _optional(request, "title", v, parse_title),
            "topic": _optional(request, "topic", v, parse_topic),
            "description": _optional(request, "description", v, parse_text),
            "format": _optional(request, "format", v, codecs.FORMAT.to_domain),
            "venue": _optional(request, "venue", v, parse_venue),
            "join_link": _optional(request, "join_link", v, parse_link),
            "capacity": _optional(request, "capacity", v, parse_capacity),
        }
        if request.replace_registration_window or request.replace_organisers:
            # Window times are read in the convening's own zone.
            convening = await run(self.app.convening, convening_id) if convening_id else None
        if request.replace_registration_window:
            zone = convening.slot.time_zone if convening is not None else None
            changes["window"] = _window(
                v, request.registration_opens, request.registration_closes, zone
            )
        elif request.registration_opens or request.registration_closes:
            v.add("registration_opens", "is only read when replace_registration_window is true")
        if request.replace_organisers:
            changes["organiser_ids"] = _uuid_list("organiser_ids", request.organiser_ids, v)
        elif request.organiser_ids:
            v.add("organiser_ids", "is only read when replace_organisers is true")
        v.raise_if_any()
        outcome = await run(
            self.app.update_convening, cmd, convening_id, request.expected_version, **changes
        )
        convening_message, position = await self._convening_answer(outcome)
        return pb.UpdateConveningResponse(convening=convening_message, position=position)

    async def RescheduleConvening(self, request, context):
        v = Violations()
        cmd = command(request, "RescheduleConvening", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        reason = _reason(v, request.reason)
        zone = None
        if request.time_zone:
            zone = v.check("time_zone", parse_time_zone, request.time_zone)
        elif convening_id is not None:
            zone = (await run(self.app.convening, convening_id)).slot.time_zone
        slot = _slot(v, request.start, request.end, zone)
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

    async def CancelConvening(self, request, context):
        v = Violations()
        cmd = command(request, "CancelConvening", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        reason = _reason(v, request.reason, required=True)
        v.raise_if_any()
        outcome = await run(
            self.app.cancel_convening, cmd, convening_id, reason, request.expected_version
        )
        convening, position = await self._convening_answer(outcome)
        return pb.CancelConveningResponse(convening=convening, position=position)

    async def MarkConveningHeld(self, request, context):
        v = Violations()
        cmd = command(request, "MarkConveningHeld", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        v.raise_if_any()
        outcome = await run(self.app.mark_held, cmd, convening_id)
        convening, position = await self._convening_answer(outcome)
        return pb.MarkConveningHeldResponse(convening=convening, position=position)

    async def RecordAttendance(self, request, context):
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

    async def CloseConvening(self, request, context):
        v = Violations()
        cmd = command(request, "CloseConvening", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        outcomes = _outcomes(v, request.outcomes)
        attendee_count = request.attendee_count if request.HasField("attendee_count") else None
        if attendee_count is not None and attendee_count > 1_000_000:
            v.add("attendee_count", "must be at most 1000000")
        v.raise_if_any()
        outcome = await run(self.app.close_convening, cmd, convening_id, outcomes, attendee_count)
        convening, position = await self._convening_answer(outcome)
        return pb.CloseConveningResponse(convening=convening, position=position)

    async def ImportConvening(self, request, context):
        v = Violations()
        cmd = command(request, "ImportConvening", v)
        community_id = v.check("community_id", parse_uuid, request.community_id)
        title = v.check("title", parse_title, request.title)
        topic = v.check("topic", parse_topic, request.topic)
        description = v.check("description", parse_text, request.description)
        format_ = v.check("format", codecs.FORMAT.to_domain, request.format)
        venue = v.check("venue", parse_venue, request.venue)
        zone = v.check("time_zone", parse_time_zone, request.time_zone)
        slot = _slot(v, request.start, request.end, zone)
        organisers = _uuid_list("organiser_ids", request.organiser_ids, v)
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
        outcomes = _outcomes(v, held.outcomes, "held.outcomes")
        attendee_count = held.attendee_count if held.HasField("attendee_count") else None
        return HeldRecord(held.signed_up, held.attended, attendee_count, outcomes)

    async def GetConvening(self, request, context):
        convening_id = _required_uuid("convening_id", request.convening_id)
        convening = await run(self.app.convening, convening_id)
        return pb.GetConveningResponse(convening=await self._convening_pb(convening))

    async def ListConvenings(self, request, context):
        v = Violations()
        community = v.check("community_id", parse_optional_uuid, request.community_id)
        plan = v.check("plan_id", parse_optional_uuid, request.plan_id)
        status = v.check("status", codecs.STATUS.to_domain_or_none, request.status)
        starts_from = (
            request.starts_from.ToDatetime(UTC) if request.HasField("starts_from") else None
        )
        starts_before = (
            request.starts_before.ToDatetime(UTC) if request.HasField("starts_before") else None
        )
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

    # Sign-ups

    async def SignUp(self, request, context):
        v = Violations()
        cmd = command(request, "SignUp", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = self._subject_member(request.member_id, v)
        v.raise_if_any()
        outcome = await run(self.app.sign_up, cmd, convening_id, member_id)
        sign_up, position = await self._sign_up_answer(outcome, member_id)
        return pb.SignUpResponse(sign_up=sign_up, position=position)

    async def CancelSignUp(self, request, context):
        v = Violations()
        cmd = command(request, "CancelSignUp", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = self._subject_member(request.member_id, v)
        reason = _reason(v, request.reason)
        v.raise_if_any()
        outcome = await run(self.app.cancel_sign_up, cmd, convening_id, member_id, reason)
        sign_up, position = await self._sign_up_answer(outcome, member_id)
        return pb.CancelSignUpResponse(sign_up=sign_up, position=position)

    async def ApproveSignUp(self, request, context):
        v = Violations()
        cmd = command(request, "ApproveSignUp", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = v.check("member_id", parse_uuid, request.member_id)
        v.raise_if_any()
        outcome = await run(self.app.approve_sign_up, cmd, convening_id, member_id)
        sign_up, position = await self._sign_up_answer(outcome, member_id)
        return pb.ApproveSignUpResponse(sign_up=sign_up, position=position)

    async def DeclineSignUp(self, request, context):
        v = Violations()
        cmd = command(request, "DeclineSignUp", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = v.check("member_id", parse_uuid, request.member_id)
        reason = _reason(v, request.reason)
        v.raise_if_any()
        outcome = await run(self.app.decline_sign_up, cmd, convening_id, member_id, reason)
        sign_up, position = await self._sign_up_answer(outcome, member_id)
        return pb.DeclineSignUpResponse(sign_up=sign_up, position=position)

    async def GetSignUp(self, request, context):
        v = Violations()
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = self._subject_member(request.member_id, v)
        v.raise_if_any()
        caller = current_caller()
        sign_up = await run(self.app.sign_up_of, caller, convening_id, member_id)
        convening = await run(self.app.convening, convening_id)
        return pb.GetSignUpResponse(sign_up=sign_up_pb(SignUpRecord.of(convening, sign_up)))

    async def ListSignUps(self, request, context):
        v = Violations()
        convening_id = v.check("convening_id", parse_optional_uuid, request.convening_id)
        member_id = v.check("member_id", parse_optional_uuid, request.member_id)
        status = v.check("status", codecs.SIGN_UP_STATUS.to_domain_or_none, request.status)
        if convening_id is None and member_id is None and not v:
            v.add("convening_id", "give convening_id, member_id or both")
        filters = {
            "convening": str(convening_id or ""),
            "member": str(member_id or ""),
            "status": status or "",
        }
        page_ = page(request, filters, v)
        v.raise_if_any()
        caller = current_caller()
        own = member_id is not None and caller.is_member(member_id)
        if not own and not caller.is_operator:
            if convening_id is None:
                raise PermissionDenied("members see only their own sign-ups")
            convening = await run(self.app.convening, convening_id)
            if not await run(self.app.may_see_sign_ups, caller, convening.community_id):
                raise PermissionDenied(
                    "a convening's sign-ups are shown to the community's co-leads and "
                    "facilitators and the node operator"
                )
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(
            self.schedule.list_sign_ups,
            page_,
            str(convening_id or ""),
            str(member_id or ""),
            status or "",
        )
        return pb.ListSignUpsResponse(
            sign_ups=[sign_up_pb(r) for r in records], next_page_token=token
        )

    # Feedback

    async def GiveFeedback(self, request, context):
        v = Violations()
        cmd = command(request, "GiveFeedback", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        rating = v.check("rating", parse_rating, request.rating)
        comment = v.check("comment", parse_text, request.comment, MAX_COMMENT_LENGTH)
        v.raise_if_any()
        outcome = await run(self.app.give_feedback, cmd, convening_id, rating, comment)
        convening = await self._entity(outcome)
        mine = convening.signups[current_caller().member_id]
        feedback = pb.Feedback(
            rating=mine.rating, comment=mine.comment, given_at=timestamp(mine.updated_at)
        )
        return pb.GiveFeedbackResponse(feedback=feedback, position=outcome.position)

    async def ListFeedback(self, request, context):
        v = Violations()
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        page_ = page(request, {"convening": request.convening_id}, v)
        v.raise_if_any()
        convening = await run(self.app.convening, convening_id)
        if not await run(self.app.may_see_sign_ups, current_caller(), convening.community_id):
            raise PermissionDenied(
                "feedback is shown to the community's co-leads and facilitators and the operator"
            )
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(self.schedule.list_feedback, page_, str(convening_id))
        return pb.ListFeedbackResponse(
            feedback=[feedback_pb(r) for r in records], next_page_token=token
        )

    # Meeting plans

    async def _plan_answer(self, plan: MeetingPlan) -> pb.MeetingPlan:
        show = await run(self.app.may_see_sign_ups, current_caller(), plan.community_id)
        return plan_pb(PlanRecord.of(plan), show, plan)

    async def CreateMeetingPlan(self, request, context):
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
        duration = _duration(v, request.duration_minutes)
        recurrence = request.recurrence if request.HasField("recurrence") else None
        rule, entries = _plan_entries(v, recurrence, request.occurrences, zone, may_be_empty=True)
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

    async def AddPlanOccurrences(self, request, context):
        v = Violations()
        cmd = command(request, "AddPlanOccurrences", v)
        plan_id = v.check("plan_id", parse_uuid, request.plan_id)
        zone = None
        if plan_id is not None:
            zone = (await run(self.app.meeting_plan, plan_id)).time_zone
        recurrence = request.recurrence if request.HasField("recurrence") else None
        _, entries = _plan_entries(v, recurrence, request.occurrences, zone)
        v.raise_if_any()
        outcome = await run(self.app.add_plan_occurrences, cmd, plan_id, entries)
        plan = await self._entity(outcome)
        return pb.AddPlanOccurrencesResponse(
            plan=await self._plan_answer(plan),
            convening_ids=[str(c) for c in plan.last_added],
            position=outcome.position,
        )

    async def EndMeetingPlan(self, request, context):
        v = Violations()
        cmd = command(request, "EndMeetingPlan", v)
        plan_id = v.check("plan_id", parse_uuid, request.plan_id)
        reason = _reason(v, request.reason)
        v.raise_if_any()
        outcome = await run(self.app.end_meeting_plan, cmd, plan_id, reason)
        plan = await self._entity(outcome)
        return pb.EndMeetingPlanResponse(
            plan=await self._plan_answer(plan),
            cancelled_convening_ids=[str(c) for c in plan.cancelled_at_end],
            position=outcome.position,
        )

    async def GetMeetingPlan(self, request, context):
        plan_id = _required_uuid("plan_id", request.plan_id)
        plan = await run(self.app.meeting_plan, plan_id)
        return pb.GetMeetingPlanResponse(plan=await self._plan_answer(plan))

    async def ListMeetingPlans(self, request, context):
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

    async def GetPlanAdherence(self, request, context):
        v = Violations()
        plan_id = v.check("plan_id", parse_uuid, request.plan_id)
        planned_from = (
            v.check("planned_from", parse_date, request.planned_from)
            if request.planned_from
            else None
        )
        planned_before = (
            v.check("planned_before", parse_date, request.planned_before)
            if request.planned_before
            else None
        )
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

    # Calendars

    async def GetConveningCalendar(self, request, context):
        convening_id = _required_uuid("convening_id", request.convening_id)
        convening = await run(self.app.convening, convening_id)
        caller = current_caller()
        show = await run(self.app.may_join_online, caller, convening)
        entry = calendar.CalendarEntry(ConveningRecord.of(convening), show)
        ics = await run(self._ics, [entry], convening.details.title, calendar.uid_of(convening.id))
        return pb.GetConveningCalendarResponse(
            ics=ics, content_type=calendar.CONTENT_TYPE, file_name=f"convening-{convening.id}.ics"
        )

    async def GetCommunityCalendar(self, request, context):
        community_id = _required_uuid("community_id", request.community_id)
        community = await run(self.mirror.community, community_id)
        if community is None:
            raise NotFound(f"community {community_id} is not known to the events service")
        starts_from = (
            request.starts_from.ToDatetime(UTC)
            if request.HasField("starts_from")
            else self.app.clock.now() - CALENDAR_LOOKBACK
        )
        await read_your_writes(self.follower, request.min_position)
        records, _ = await run(
            self.schedule.list_convenings,
            Page(size=CALENDAR_LIMIT, after=None, filters_digest=""),
            str(community_id),
            "",
            "",
            starts_from,
            None,
        )
        visible = await run(self._join_links_visible, records)
        entries = [calendar.CalendarEntry(r, r.convening_id in visible) for r in records]
        ics = await run(self._ics, entries, community.name, f"{community_id}@copnet")
        return pb.GetCommunityCalendarResponse(
            ics=ics, content_type=calendar.CONTENT_TYPE, file_name=f"{community.slug}.ics"
        )

    def _ics(self, entries: list[calendar.CalendarEntry], name: str, uid: str) -> str:
        communities: dict[UUID, str] = {}
        organisers: set[UUID] = set()
        for entry in entries:
            organisers.update(entry.convening.organiser_ids[:1])

        def community_name(community_id: UUID) -> str:
            if community_id not in communities:
                known = self.mirror.community(community_id)
                communities[community_id] = known.name if known else "a community of practice"
            return communities[community_id]

        names = self.mirror.display_names(organisers)
        return calendar.calendar(entries, name, uid, community_name, names)

    # Analytics

    async def GetAnalytics(self, request, context):
        v = Violations()
        grouping = v.check("group_by", codecs.GROUPING.to_domain, request.group_by)
        community = v.check("community_id", parse_optional_uuid, request.community_id)
        from_date = (
            v.check("from_date", parse_date, request.from_date) if request.from_date else None
        )
        before_date = (
            v.check("before_date", parse_date, request.before_date) if request.before_date else None
        )
        filters = {
            "group_by": grouping or "",
            "community": str(community or ""),
            "from": request.from_date,
            "before": request.before_date,
        }
        page_ = page(request, filters, v)
        v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        groups, totals, token = await run(
            self.schedule.analytics,
            page_,
            grouping.value,
            self.app.clock.now(),
            str(community or ""),
            from_date,
            before_date,
        )
        if grouping is Grouping.COMMUNITY:
            for group in groups:
                known = await run(self.mirror.community, UUID(group.key))
                group.label = known.name if known else group.key
        return pb.GetAnalyticsResponse(
            groups=[metrics_pb(m) for m in groups],
            totals=metrics_pb(totals),
            next_page_token=token,
        )

    # Communities

    async def GetCommunity(self, request, context):
        community_id = _required_uuid("community_id", request.community_id)
        community = await run(self.mirror.community, community_id)
        position = await run(self.mirror.registry_position)
        if community is None:
            raise NotFound(
                f"community {community_id} is not known to the events service (registry events "
                f"applied up to position {position})"
            )
        organisers = await run(self.mirror.organisers, community_id, self.app.clock.today())
        may_organise = await run(self.app.may_organise, current_caller(), community)
        return pb.GetCommunityResponse(
            community=pb.Community(
                community_id=str(community.community_id),
                slug=community.slug,
                name=community.name,
                joining_policy=codecs.JOINING_POLICY.to_pb(community.joining_policy),
                lifecycle=codecs.LIFECYCLE.to_pb(community.lifecycle),
                organiser_ids=[str(m) for m in organisers],
                caller_may_organise=may_organise,
            ),
            registry_position=position,
        )


def register(server: grpc.aio.Server, servicer: EventsServicer) -> None:
    pb_grpc.add_EventsServiceServicer_to_server(servicer, server)
