"""Meeting plans: a community's series of meetings, each a convening scheduled with it."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from services.common.application import Changes, Outcome
from services.common.errors import InvalidArgument
from services.common.idempotency import Command
from services.common.identity import Caller
from services.events.application.base import EventsBase
from services.events.commands import PlanDefaults, PlanEntry
from services.events.domain import Convening, ConveningDetails, MeetingPlan, PlannedOccurrence
from services.events.values import Community, RegistrationWindow, TimeSlot, to_instant


class MeetingPlans(EventsBase):
    """Creating a plan (with its first meetings), adding meetings, ending it."""

    def check_may_plan(self, caller: Caller, community_id: UUID) -> None:
        """PERMISSION_DENIED (or NOT_FOUND, FAILED_PRECONDITION) before a plan request's
        rule is expanded: who may not plan costs the node nothing."""
        self.require_organiser(caller, self._open_community(community_id), "plan convenings")

    def create_meeting_plan(
        self,
        command: Command,
        community_id: UUID,
        defaults: PlanDefaults,
        time_zone: str,
        rule: str,
        entries: list[PlanEntry],
    ) -> Outcome:
        def decide() -> Changes:
            community = self._open_community(community_id)
            self.require_organiser(command.caller, community, "plan convenings")
            plan = MeetingPlan(
                community_id=community.community_id,
                title=defaults.title,
                description=defaults.description,
                time_zone=time_zone,
                rule=rule,
                format=defaults.format.value,
                venue=defaults.venue,
                join_link=defaults.join_link,
                capacity=defaults.capacity,
                duration_minutes=defaults.duration_minutes,
            )
            convenings = self._plan_convenings(command.caller, community, plan, entries)
            return Changes(plan, convenings)

        return self.execute(command, decide)

    def add_plan_occurrences(
        self, command: Command, plan_id: UUID, entries: list[PlanEntry]
    ) -> Outcome:
        def decide() -> Changes:
            plan = self.load(plan_id, MeetingPlan, "meeting plan")
            community = self._open_community(plan.community_id)
            self.require_organiser(command.caller, community, "plan convenings")
            convenings = self._plan_convenings(command.caller, community, plan, entries)
            return Changes(plan, convenings)

        return self.execute(command, decide, serialise_on=plan_id)

    def end_meeting_plan(self, command: Command, plan_id: UUID, reason: str) -> Outcome:
        """Ends a plan: its meetings still to come are cancelled with it."""

        def decide() -> Changes:
            plan = self.load(plan_id, MeetingPlan, "meeting plan")
            community = self.community(plan.community_id)
            self.require_organiser(command.caller, community, "end meeting plans")
            now = self.clock.now()
            cancelled = []
            for occurrence in plan.occurrences:
                convening = self.load(occurrence.convening_id, Convening, "convening")
                if convening.is_upcoming and convening.slot.starts_at > now:
                    convening.cancel(f"the meeting plan ended: {reason}".rstrip(": "))
                    cancelled.append(convening)
            plan.end(reason, [c.id for c in cancelled])
            return Changes(plan, cancelled)

        return self.execute(command, decide, serialise_on=plan_id)

    def meeting_plan(self, plan_id: UUID) -> MeetingPlan:
        return self.load(plan_id, MeetingPlan, "meeting plan")

    def _plan_convenings(
        self, caller: Caller, community: Community, plan: MeetingPlan, entries: list[PlanEntry]
    ) -> list[Convening]:
        now = self.clock.now()
        organisers = self._default_organisers(caller, None)
        duration = timedelta(minutes=plan.duration_minutes)
        convenings: list[Convening] = []
        for entry in entries:
            try:
                slot = TimeSlot(
                    to_instant(entry.start, plan.time_zone),
                    to_instant(entry.start + duration, plan.time_zone),
                    plan.time_zone,
                )
            except ValueError as error:
                raise InvalidArgument.single(entry.field, str(error)) from None
            if slot.starts_at <= now:
                raise InvalidArgument.single(
                    entry.field,
                    f"{entry.start.isoformat(timespec='minutes')} is in the past; "
                    "plans schedule meetings to come",
                )
            details = ConveningDetails(
                title=entry.title or plan.title,
                topic=entry.topic,
                description=plan.description,
                format=plan.format,
                venue=plan.venue,
                join_link=plan.join_link,
            )
            convening = Convening.schedule(
                community.community_id,
                details,
                slot,
                plan.capacity,
                RegistrationWindow(),
                now,
                plan_id=plan.id,
            )
            convening.set_organisers(organisers)
            convenings.append(convening)
        plan.add_occurrences(
            [PlannedOccurrence(c.id, c.slot.starts_at, c.details.topic) for c in convenings]
        )
        return convenings
