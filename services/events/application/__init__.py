"""The events service's use cases.

Each command loads aggregates, checks who may do it against the community
directory (the events service's own mirror of the registry, fed by the
registry's integration events), calls domain methods and hands the changed
aggregates to `execute`, which saves them in one transaction with the
request's receipt. Commands on a convening are queued per convening in this
process (`serialise_on`), so a popular convening's sign-ups do not race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

from services.common.application import KEEP, Changes, Outcome, check_expected_version
from services.common.errors import FailedPrecondition, NotFound, PermissionDenied
from services.common.idempotency import Command
from services.common.identity import Caller
from services.common.shredding import PersonalFields
from services.contracts.erasure import MemberErasure
from services.events.application.base import policy_words
from services.events.application.evidence import Evidence
from services.events.application.plans import MeetingPlans
from services.events.commands import CancelledRecord, HeldRecord
from services.events.domain import (
    Convening,
    ConveningDetails,
    MeetingPlan,
    PlannedOccurrence,
    SignUp,
)
from services.events.values import (
    Attendance,
    Format,
    LearningOutcome,
    RegistrationWindow,
    SignUpStatus,
    TimeSlot,
)


class Events(Evidence, MeetingPlans):
    """The use cases: convenings (`EventsBase` decides who may act, `MeetingPlans` holds
    the plans' commands, `Evidence` calendar feeds and CPD evidence)."""

    name = "Events"
    # What members wrote, or was written about them, sealed with the member's key.
    personal_data = {
        Convening.FeedbackGiven: PersonalFields("member_id", {"comment": ""}),
        Convening.SignUpCancelled: PersonalFields("member_id", {"reason": ""}),
        Convening.SignUpDeclined: PersonalFields("member_id", {"reason": ""}),
    }
    erasure_events = {MemberErasure.Recorded: "member_id"}

    # Convenings

    def schedule_convening(
        self,
        command: Command,
        community_id: UUID,
        details: ConveningDetails,
        slot: TimeSlot,
        capacity: int | None,
        window: RegistrationWindow,
        organiser_ids: Sequence[UUID] | None = None,
    ) -> Outcome:
        def decide() -> Changes:
            community = self._open_community(community_id)
            self.require_organiser(command.caller, community, "schedule convenings")
            organisers = self._default_organisers(command.caller, organiser_ids)
            self._check_organisers(community, organisers)
            convening = Convening.schedule(
                community.community_id, details, slot, capacity, window, self.clock.now()
            )
            convening.set_organisers(organisers)
            return Changes(convening)

        return self.execute(command, decide)

    def update_convening(
        self,
        command: Command,
        convening_id: UUID,
        expected_version: int,
        title: str = KEEP,
        topic: str = KEEP,
        description: str = KEEP,
        format: Format = KEEP,
        venue: str = KEEP,
        join_link: str = KEEP,
        capacity: int | None = KEEP,
        window: RegistrationWindow = KEEP,
        organiser_ids: list[UUID] = KEEP,
    ) -> Outcome:
        def decide() -> Changes:
            convening = self._organised_convening(command.caller, convening_id, "change convenings")
            check_expected_version(convening, expected_version, "the convening")
            now = self.clock.now()
            given = {
                "title": title,
                "topic": topic,
                "description": description,
                "format": format,
                "venue": venue,
                "join_link": join_link,
            }
            changes: dict[str, Any] = {
                name: value for name, value in given.items() if value is not KEEP
            }
            if changes:
                convening.change_details(replace(convening.details, **changes), now)
            if capacity is not KEEP:
                convening.change_capacity(capacity, now)
            if window is not KEEP:
                convening.change_registration_window(window, now)
            if organiser_ids is not KEEP:
                self._check_organisers(self.community(convening.community_id), organiser_ids)
                convening.set_organisers(organiser_ids)
            return Changes(convening)

        return self.execute(command, decide, serialise_on=convening_id)

    def reschedule_convening(
        self,
        command: Command,
        convening_id: UUID,
        slot: TimeSlot,
        reason: str,
        expected_version: int,
    ) -> Outcome:
        return self._organiser_command(
            command,
            convening_id,
            "reschedule convenings",
            lambda c: c.reschedule(slot, reason, self.clock.now()),
            expected_version,
        )

    def cancel_convening(
        self, command: Command, convening_id: UUID, reason: str, expected_version: int
    ) -> Outcome:
        return self._organiser_command(
            command, convening_id, "cancel convenings", lambda c: c.cancel(reason), expected_version
        )

    def mark_held(self, command: Command, convening_id: UUID) -> Outcome:
        return self._organiser_command(
            command,
            convening_id,
            "mark convenings held",
            lambda c: c.mark_held(self.clock.now()),
        )

    def record_attendance(
        self, command: Command, convening_id: UUID, entries: dict[UUID, Attendance]
    ) -> Outcome:
        return self._organiser_command(
            command,
            convening_id,
            "record attendance",
            lambda c: c.record_attendance(entries, self.clock.now()),
        )

    def close_convening(
        self,
        command: Command,
        convening_id: UUID,
        outcomes: list[LearningOutcome],
        attendee_count: int | None,
    ) -> Outcome:
        return self._organiser_command(
            command,
            convening_id,
            "close convenings",
            lambda c: c.close(outcomes, attendee_count, self.clock.now()),
        )

    def import_convening(
        self,
        command: Command,
        community_id: UUID,
        details: ConveningDetails,
        slot: TimeSlot,
        result: HeldRecord | CancelledRecord | None,
        plan_id: UUID | None = None,
        organiser_ids: Sequence[UUID] | None = None,
    ) -> Outcome:
        """Records a convening held (or cancelled) before the community used copnet."""

        def decide() -> Changes:
            community = self.community(community_id)
            self.require_organiser(command.caller, community, "import convenings")
            organisers = self._default_organisers(command.caller, organiser_ids)
            self._check_organisers(community, organisers)
            now = self.clock.now()
            convening = Convening.from_records(
                community.community_id, details, slot, now, plan_id=plan_id
            )
            convening.set_organisers(organisers)
            others = []
            if plan_id is not None:
                plan = self.load(plan_id, MeetingPlan, "meeting plan")
                if plan.community_id != community.community_id:
                    raise FailedPrecondition(
                        f"meeting plan '{plan.title}' belongs to another community"
                    )
                plan.add_occurrences(
                    [PlannedOccurrence(convening.id, slot.starts_at, details.topic)]
                )
                others.append(plan)
            if isinstance(result, HeldRecord):
                convening.close_from_records(
                    result.signed_up, result.attended, result.attendee_count, result.outcomes, now
                )
            elif isinstance(result, CancelledRecord):
                convening.cancel(result.reason)
            return Changes(convening, others)

        return self.execute(command, decide, serialise_on=plan_id)

    # Sign-ups

    def sign_up(self, command: Command, convening_id: UUID, member_id: UUID) -> Outcome:
        caller = command.caller

        def decide() -> Changes:
            convening = self.load(convening_id, Convening, "convening")
            community = self._open_community(convening.community_id)
            organiser = self.may_organise(caller, community)
            if not caller.is_member(member_id) and not organiser:
                raise PermissionDenied(
                    "only the member themselves, the community's co-leads and facilitators, "
                    "or the node operator may sign a member up"
                )
            if not self.directory.is_known_member(member_id):
                raise NotFound(
                    f"member {member_id} is not known to the events service (registry changes "
                    f"applied up to position {self.directory.registry_position()}); if they "
                    "were registered a moment ago, pass that `position` as min_registry_position"
                )
            if community.sign_ups_need_membership and not self.directory.is_active_member(
                community.community_id, member_id
            ):
                raise PermissionDenied(
                    f"community '{community.slug}' is {policy_words(community)}: only its "
                    "members may sign up to its convenings"
                )
            needs_approval = community.sign_ups_need_approval and not organiser
            convening.sign_up(member_id, self.clock.now(), needs_approval)
            return Changes(convening)

        return self.execute(command, decide, serialise_on=convening_id)

    def cancel_sign_up(
        self, command: Command, convening_id: UUID, member_id: UUID, reason: str
    ) -> Outcome:
        caller = command.caller

        def decide() -> Changes:
            convening = self.load(convening_id, Convening, "convening")
            if not caller.is_member(member_id):
                self.require_organiser(
                    caller, self.community(convening.community_id), "cancel others' sign-ups"
                )
            convening.cancel_sign_up(member_id, reason, self.clock.now())
            return Changes(convening)

        return self.execute(command, decide, serialise_on=convening_id)

    def approve_sign_up(self, command: Command, convening_id: UUID, member_id: UUID) -> Outcome:
        return self._organiser_command(
            command,
            convening_id,
            "approve sign-ups",
            lambda c: c.approve(member_id, self.clock.now()),
        )

    def decline_sign_up(
        self, command: Command, convening_id: UUID, member_id: UUID, reason: str
    ) -> Outcome:
        return self._organiser_command(
            command,
            convening_id,
            "decline sign-ups",
            lambda c: c.decline(member_id, reason, self.clock.now()),
        )

    def give_feedback(
        self, command: Command, convening_id: UUID, rating: int, comment: str
    ) -> Outcome:
        caller = command.caller

        def decide() -> Changes:
            if caller.member_id is None:
                raise PermissionDenied("feedback is given by attendees, with a member's token")
            convening = self.load(convening_id, Convening, "convening")
            convening.give_feedback(caller.member_id, rating, comment, self.clock.now())
            return Changes(convening)

        return self.execute(command, decide, serialise_on=convening_id)

    # Reading

    def convening(self, convening_id: UUID) -> Convening:
        return self.load(convening_id, Convening, "convening")

    def may_see_sign_ups(self, caller: Caller, community_id: UUID) -> bool:
        community = self.directory.community(community_id)
        return caller.is_operator or (
            community is not None and self.may_organise(caller, community)
        )

    def sign_up_of(self, caller: Caller, convening_id: UUID, member_id: UUID) -> SignUp:
        convening = self.convening(convening_id)
        if not caller.is_member(member_id) and not self.may_see_sign_ups(
            caller, convening.community_id
        ):
            raise PermissionDenied(
                "a sign-up is shown to the member, the community's co-leads and facilitators, "
                "and the node operator"
            )
        return convening.sign_up_of(member_id)

    def may_join_online(self, caller: Caller, convening: Convening) -> bool:
        """Join links are for people with a place, organisers and the operator."""
        sign_up = convening.signups.get(caller.member_id) if caller.member_id else None
        if sign_up is not None and sign_up.status is SignUpStatus.REGISTERED:
            return True
        return self.may_see_sign_ups(caller, convening.community_id)
