"""Loading the events service: historic plans and events imported from the seeds' records,
plans for next year, and convenings to come with their sign-ups."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from copnet.events.v1 import events_pb2 as epb
from copnet.notify.v1 import notify_pb2 as npb
from services.demo.loader.base import Steps
from services.demo.scenario.model import Community, PastMeeting


class EventsSteps(Steps):
    def _import(
        self, spec: Community, key: tuple[Any, ...], meeting: PastMeeting, plan_id: str = ""
    ) -> str:
        client = self.clients[spec.node_id]
        request = epb.ImportConveningRequest(
            request_id=client.request_id("import", *key),
            community_id=self.loaded.communities[spec.key],
            title=f"{spec.name}: {meeting.topic}"[:200],
            topic=meeting.topic,
            format=meeting.format,
            start=meeting.start,
            end=meeting.end,
            plan_id=plan_id,
        )
        if meeting.held:
            request.held.CopyFrom(
                epb.PastConvening(
                    signed_up=meeting.signed_up,
                    attended=meeting.attended,
                    outcomes=[
                        epb.LearningOutcome(kind=kind, text=text) for kind, text in meeting.outcomes
                    ],
                )
            )
        reply = client.call(
            "events", "ImportConvening", request, member=self.loaded.founder(spec.key)
        )
        return reply.convening.convening_id

    def historic_plans(self) -> None:
        for plan in self.scenario.historic_plans:
            spec = self.scenario.community(plan.community)
            plan_id = self._create_plan(
                spec, plan.key, title=plan.title, description=plan.description, venue=plan.venue
            ).plan.plan_id
            for index, meeting in enumerate(plan.meetings):
                self.loaded.meetings[(plan.key, index)] = self._import(
                    spec, (plan.key, index), meeting, plan_id
                )
            held = sum(1 for m in plan.meetings if m.held)
            self.say(
                f"  {spec.name}: plan of {len(plan.meetings)} meetings "
                f"({plan.meetings[0].start[:7]} to {plan.meetings[-1].start[:7]}), {held} held"
            )

    def cancer_events(self) -> None:
        spec = self.scenario.community(self.scenario.cancer_community)
        for index, meeting in enumerate(self.scenario.cancer_events):
            self._import(spec, ("cancer-2023", index), meeting)
        signed = sum(m.signed_up for m in self.scenario.cancer_events)
        came = sum(m.attended for m in self.scenario.cancer_events)
        self.say(
            f"  {spec.name}: {len(self.scenario.cancer_events)} events of 2023 "
            f"({signed} signed up, {came} attended)"
        )

    def _create_plan(self, spec: Community, key: str, **fields: Any) -> Any:
        """A face-to-face plan of two-hour meetings, made by the community's founder."""
        client = self.clients[spec.node_id]
        reply = client.call(
            "events",
            "CreateMeetingPlan",
            epb.CreateMeetingPlanRequest(
                request_id=client.request_id("plan", key),
                community_id=self.loaded.communities[spec.key],
                format=epb.CONVENING_FORMAT_FACE_TO_FACE,
                duration_minutes=120,
                **fields,
            ),
            member=self.loaded.founder(spec.key),
        )
        self.loaded.plans[key] = reply.plan.plan_id
        return reply

    def future_plans(self) -> None:
        for plan in self.scenario.future_plans:
            spec = self.scenario.community(plan.community)
            reply = self._create_plan(
                spec,
                plan.key,
                title=plan.title,
                venue=plan.venue,
                recurrence=epb.Recurrence(
                    rule=plan.rule, first_start=f"{self.today.year + 1}-{plan.first_start}"
                ),
            )
            self.say(f"  {spec.name}: {len(reply.convening_ids)} meetings planned next year")

    def upcoming(self) -> None:
        for upcoming in self.scenario.upcoming:
            spec = self.scenario.community(upcoming.community)
            client = self.clients[spec.node_id]
            day = (self.today + timedelta(days=upcoming.days_ahead)).isoformat()
            # Notify invites the community's members as its own copy of the registry knows
            # them when the convening reaches it: read-your-writes there first (the call
            # carries the demo's registry position), so every member who joined is invited.
            client.call("notify", "ListNotifications", npb.ListNotificationsRequest(page_size=1))
            reply = client.call(
                "events",
                "ScheduleConvening",
                epb.ScheduleConveningRequest(
                    request_id=client.request_id("schedule", upcoming.key),
                    community_id=self.loaded.communities[spec.key],
                    title=upcoming.title,
                    topic=upcoming.topic,
                    format=upcoming.format,
                    venue=upcoming.venue,
                    join_link=upcoming.join_link,
                    start=f"{day}T{upcoming.start_time}",
                    end=f"{day}T{upcoming.end_time}",
                    capacity=upcoming.capacity,
                ),
                member=self.loaded.founder(spec.key),
            )
            convening_id = reply.convening.convening_id
            self.loaded.upcoming[upcoming.key] = convening_id
            # In order, one at a time: who gets a place and who waits is then the same each run.
            for member in self.loaded.members[spec.key][1 : upcoming.sign_ups + 1]:
                client.call(
                    "events",
                    "SignUp",
                    epb.SignUpRequest(
                        request_id=client.request_id("sign-up", upcoming.key, member.member_id),
                        convening_id=convening_id,
                    ),
                    member=member.member_id,
                )
            self.say(
                f"  {spec.name}: '{upcoming.title}' on {day}, {upcoming.sign_ups} sign-ups "
                f"for {upcoming.capacity} places"
            )
