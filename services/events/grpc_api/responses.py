"""EventsService answers: protobuf messages from the read model's records and the
domain's values.
"""

from __future__ import annotations

from copnet.events.v1 import events_pb2 as pb
from services.common.protoconv import timestamp
from services.events import codecs
from services.events.domain import MeetingPlan
from services.events.values import LearningOutcome, local_text
from services.events.views import ConveningRecord, FeedbackRecord, Metrics, PlanRecord, SignUpRecord


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
