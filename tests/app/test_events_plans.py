"""The events service's meeting plans and its published events, on real stores (continued
from tests/app/test_events_application.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
)
from services.common.paging import parse_page_token
from services.events.commands import PlanDefaults, PlanEntry
from services.events.domain import Convening
from services.events.recurrence import expand, parse_rule
from services.events.values import (
    ConveningStatus,
    Format,
)
from tests.support.events_world import (
    LONDON,
    Community,
    MovableClock,
    Node,
    cmd,
    schedule,
)


class TestMeetingPlans:
    PORTADOWN_YEAR_ONE = [
        ("2018-06-18T19:00", "Do we want to work together? Forming a COP?"),
        ("2018-09-18T19:00", "What's your business? In your shoes..."),
        ("2018-11-13T19:00", "Hearing other success stories? Motivation to collaborate..."),
        ("2019-02-05T19:00", "Who do we need to help us?"),
        ("2019-04-30T19:00", "Welcome Trust colleague...How can we work together?"),
        ("2019-06-18T19:00", "It's a party 1 yr old...reflection...What about year 2?"),
    ]

    def plan(self, node: Node, cop: Community, entries: list[PlanEntry], rule: str = ""):
        return node.events.create_meeting_plan(
            cmd(cop.as_(cop.lead)),
            cop.community_id,
            PlanDefaults(
                "CoP Portadown", "", Format.FACE_TO_FACE, "Portadown Health Centre", "", None, 120
            ),
            LONDON,
            rule,
            entries,
        )

    def test_a_dated_plan_with_topics_and_its_adherence(self, node: Node, clock: MovableClock):
        clock.set(datetime(2018, 6, 1, tzinfo=UTC))
        cop = Community(node, members=2)
        entries = [
            PlanEntry(datetime.fromisoformat(start), topic)
            for start, topic in self.PORTADOWN_YEAR_ONE
        ]
        plan_id = self.plan(node, cop, entries).entity_id
        plan = node.events.meeting_plan(plan_id)
        assert [o.topic for o in plan.occurrences] == [t for _, t in self.PORTADOWN_YEAR_ONE]
        convenings = [node.events.convening(o.convening_id) for o in plan.occurrences]
        assert {c.plan_id for c in convenings} == {plan_id}
        assert [c.slot.local_start.isoformat(timespec="minutes") for c in convenings] == [
            s for s, _ in self.PORTADOWN_YEAR_ONE
        ]
        lead = cmd(cop.as_(cop.lead))
        # The first three happen; the fourth is cancelled; the fifth passes unrecorded.
        clock.set(datetime(2019, 3, 1, tzinfo=UTC))
        for c in convenings[:3]:
            node.events.mark_held(cmd(cop.as_(cop.lead)), c.id)
        node.events.cancel_convening(lead, convenings[3].id, "snow", 0)
        clock.set(datetime(2019, 5, 15, tzinfo=UTC))
        node.catch_up()
        adherence = node.schedule.adherence(plan_id, clock.now(), None, None)
        assert (
            adherence.planned,
            adherence.held,
            adherence.cancelled,
            adherence.unrecorded,
            adherence.to_come,
        ) == (6, 3, 1, 1, 1)
        assert adherence.rate == pytest.approx(3 / 5)
        ended = node.events.end_meeting_plan(cmd(cop.as_(cop.lead)), plan_id, "moving online")
        plan = node.events.meeting_plan(ended.entity_id)
        assert plan.cancelled_at_end == [convenings[5].id]
        assert node.events.convening(convenings[5].id).status is ConveningStatus.CANCELLED
        assert node.events.convening(convenings[4].id).status is ConveningStatus.SCHEDULED

    def test_a_recurring_plan_extended_by_another_year(self, node: Node, clock: MovableClock):
        clock.set(datetime(2019, 7, 1, tzinfo=UTC))
        cop = Community(node)
        rule = parse_rule("FREQ=YEARLY;BYMONTH=2,4,6,9,11;BYDAY=-1TU;COUNT=5", LONDON)
        starts = expand(rule, datetime(2019, 9, 24, 19, 0))
        plan_id = self.plan(node, cop, [PlanEntry(s) for s in starts], rule).entity_id
        more = expand(rule, datetime(2020, 9, 1, 19, 0))
        node.events.add_plan_occurrences(
            cmd(cop.as_(cop.facilitator)), plan_id, [PlanEntry(s) for s in more]
        )
        plan = node.events.meeting_plan(plan_id)
        assert len(plan.occurrences) == 10 and plan.rule == rule
        assert plan.occurrences[5].starts_at.isoformat() == "2020-09-29T18:00:00+00:00"
        with pytest.raises(FailedPrecondition, match="already has a meeting"):
            node.events.add_plan_occurrences(cmd(cop.as_(cop.lead)), plan_id, [PlanEntry(more[0])])

    def test_a_plan_cannot_schedule_the_past(self, node: Node, clock: MovableClock):
        clock.set(datetime(2019, 7, 1, tzinfo=UTC))
        cop = Community(node)
        with pytest.raises(InvalidArgument) as error:
            self.plan(
                node,
                cop,
                [
                    PlanEntry(datetime(2019, 9, 24, 19)),
                    PlanEntry(datetime(2019, 6, 18, 19), field="occurrences[1].start"),
                ],
            )
        assert error.value.violations[0].field == "occurrences[1].start"
        assert "in the past" in error.value.violations[0].description
        assert node.events.recorder.max_notification_id() is None, "nothing was written"
        node.catch_up()
        page = parse_page_token(50, "", {})
        assert node.schedule.list_plans(page, str(cop.community_id))[0] == []


def test_convening_events_name_their_community(node: Node):
    cop = Community(node)
    c = schedule(node, cop)
    node.events.sign_up(cmd(cop.as_(cop.member)), c, cop.member)
    events = node.events.history(c, 0, 100)
    assert events and {e.community_id for e in events} == {cop.community_id}
    assert isinstance(node.events.convening(c), Convening)
