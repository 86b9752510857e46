"""What the events service publishes: each domain event as a copnet.events.v1 message.

Convening lifecycle, outcomes (with counts) and meeting plans may be federated.
Sign-ups, attendance, feedback and organisers name members, and join links
would let anyone into a meeting: they are published only on node-local subjects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from copnet.events.v1 import events_events_pb2 as events
from copnet.events.v1 import events_pb2 as pb
from services.common.integration import IntegrationMap
from services.common.protoconv import timestamp
from services.contracts.erasure import publish_erasures
from services.events import codecs
from services.events.domain import Convening, MeetingPlan
from services.events.values import SignUpStatus, local_text

EVENTS = IntegrationMap("events")


@EVENTS.publishes(Convening.Scheduled, "convening_scheduled", with_state=True)
def _(e: Any, c: Convening) -> events.ConveningScheduled:
    return events.ConveningScheduled(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        plan_id=str(e.plan_id) if e.plan_id else "",
        title=e.title,
        topic=e.topic,
        description=e.description,
        format=codecs.FORMAT.to_pb(e.format),
        venue=e.venue,
        starts_at=timestamp(e.starts_at),
        ends_at=timestamp(e.ends_at),
        time_zone=e.time_zone,
        capacity=e.capacity or 0,
        registration_opens_at=timestamp(e.registration_opens_at),
        registration_closes_at=timestamp(e.registration_closes_at),
        sequence=c.sequence,
    )


@EVENTS.publishes(Convening.DetailsChanged, "convening_details_changed", with_state=True)
def _(e: Any, c: Convening) -> events.ConveningDetailsChanged:
    return events.ConveningDetailsChanged(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        title=e.title,
        topic=e.topic,
        description=e.description,
        format=codecs.FORMAT.to_pb(e.format),
        venue=e.venue,
        sequence=c.sequence,
    )


@EVENTS.publishes(
    Convening.JoinLinkChanged, "convening_join_link_changed", local=True, with_state=True
)
def _(e: Any, c: Convening) -> events.ConveningJoinLinkChanged:
    return events.ConveningJoinLinkChanged(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        join_link=e.join_link,
        sequence=c.sequence,
    )


@EVENTS.publishes(
    Convening.OrganisersChanged, "convening_organisers_changed", local=True, with_state=True
)
def _(e: Any, c: Convening) -> events.ConveningOrganisersChanged:
    return events.ConveningOrganisersChanged(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        organiser_ids=[str(m) for m in e.organiser_ids],
        sequence=c.sequence,
    )


@EVENTS.publishes(Convening.Rescheduled, "convening_rescheduled", with_state=True)
def _(e: Any, c: Convening) -> events.ConveningRescheduled:
    return events.ConveningRescheduled(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        starts_at=timestamp(e.starts_at),
        ends_at=timestamp(e.ends_at),
        time_zone=e.time_zone,
        reason=e.reason,
        sequence=c.sequence,
    )


@EVENTS.publishes(Convening.CapacityChanged, "convening_capacity_changed")
def _(e: Any) -> events.ConveningCapacityChanged:
    return events.ConveningCapacityChanged(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        capacity=e.capacity or 0,
    )


@EVENTS.publishes(Convening.RegistrationWindowChanged, "convening_registration_window_changed")
def _(e: Any) -> events.ConveningRegistrationWindowChanged:
    return events.ConveningRegistrationWindowChanged(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        opens_at=timestamp(e.opens_at),
        closes_at=timestamp(e.closes_at),
    )


@EVENTS.publishes(Convening.Cancelled, "convening_cancelled", with_state=True)
def _(e: Any, c: Convening) -> events.ConveningCancelled:
    return events.ConveningCancelled(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        reason=e.reason,
        sequence=c.sequence,
    )


@EVENTS.publishes(Convening.Held, "convening_held")
def _(e: Any) -> events.ConveningHeld:
    return events.ConveningHeld(convening_id=str(e.originator_id), community_id=str(e.community_id))


@EVENTS.publishes(Convening.ClosedFromRecords, "convening_closed")
@EVENTS.publishes(Convening.Closed, "convening_closed")
def _(e: Any) -> events.ConveningClosed:
    return events.ConveningClosed(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        outcomes=[
            pb.LearningOutcome(
                kind=codecs.OUTCOME_KIND.to_pb(o["kind"]), text=o["text"], links=o["links"]
            )
            for o in e.outcomes
        ],
        attendee_count=e.attendee_count,
        signed_up=e.signed_up,
        attended=e.attended,
        no_shows=e.no_shows,
        from_records=isinstance(e, Convening.ClosedFromRecords),
    )


def _member(e: Any) -> Any:
    return e.member_id


def _sign_up_change(status: SignUpStatus | None) -> Callable[[Any], events.SignUpChanged]:
    def build(e: Any) -> events.SignUpChanged:
        return events.SignUpChanged(
            convening_id=str(e.originator_id),
            community_id=str(e.community_id),
            member_id=str(e.member_id),
            status=codecs.SIGN_UP_STATUS.to_pb(status or e.status),
            reason=getattr(e, "reason", ""),
        )

    return build


for event_class, event_type, status in [
    (Convening.SignedUp, "signed_up", None),
    (Convening.SignUpApproved, "sign_up_approved", None),
    (Convening.SignUpDeclined, "sign_up_declined", SignUpStatus.DECLINED),
    (Convening.SignUpCancelled, "sign_up_cancelled", SignUpStatus.CANCELLED),
    (Convening.Promoted, "sign_up_promoted", SignUpStatus.REGISTERED),
]:
    # A decline's or cancellation's reason is about the member: on their personal subjects.
    EVENTS.publishes(
        event_class,
        event_type,
        local=True,
        personal=_member if event_type in ("sign_up_declined", "sign_up_cancelled") else None,
    )(_sign_up_change(status))


@EVENTS.publishes(Convening.AttendanceRecorded, "attendance_recorded", local=True)
def _(e: Any) -> events.AttendanceRecorded:
    return events.AttendanceRecorded(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        entries=[
            pb.AttendanceEntry(
                member_id=str(entry["member_id"]),
                attendance=codecs.ATTENDANCE.to_pb(entry["attendance"]),
            )
            for entry in e.entries
        ],
    )


@EVENTS.publishes(Convening.FeedbackGiven, "feedback_given", local=True, personal=_member)
def _(e: Any) -> events.FeedbackGiven:
    return events.FeedbackGiven(
        convening_id=str(e.originator_id),
        community_id=str(e.community_id),
        member_id=str(e.member_id),
        rating=e.rating,
        comment=e.comment,
    )


@EVENTS.publishes(MeetingPlan.Planned, "meeting_plan_created")
def _(e: Any) -> events.MeetingPlanCreated:
    return events.MeetingPlanCreated(
        plan_id=str(e.originator_id),
        community_id=str(e.community_id),
        title=e.title,
        time_zone=e.time_zone,
        recurrence_rule=e.rule,
        format=codecs.FORMAT.to_pb(e.format),
    )


@EVENTS.publishes(MeetingPlan.OccurrencesAdded, "meeting_plan_occurrences_added")
def _(e: Any) -> events.MeetingPlanOccurrencesAdded:
    return events.MeetingPlanOccurrencesAdded(
        plan_id=str(e.originator_id),
        community_id=str(e.community_id),
        occurrences=[
            pb.PlannedOccurrence(
                convening_id=str(o["convening_id"]),
                start=local_text(o["starts_at"], e.time_zone),
                starts_at=timestamp(o["starts_at"]),
                topic=o["topic"],
            )
            for o in e.occurrences
        ],
    )


@EVENTS.publishes(MeetingPlan.Ended, "meeting_plan_ended")
def _(e: Any) -> events.MeetingPlanEnded:
    return events.MeetingPlanEnded(
        plan_id=str(e.originator_id),
        community_id=str(e.community_id),
        reason=e.reason,
        cancelled_convening_ids=[str(c) for c in e.cancelled_convening_ids],
    )


publish_erasures(EVENTS)
