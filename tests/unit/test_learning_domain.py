"""The learning exchange's domain rules, on aggregates in memory."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from services.common.errors import FailedPrecondition
from services.learning.domain import (
    Adoption,
    AdoptionStatus,
    Content,
    ItemStatus,
    LearningItem,
    ReceivedItem,
    Subscription,
    Visibility,
    parse_node_id,
    parse_tags,
    parse_url,
)

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)


def item(visibility: Visibility = Visibility.REGION, partners: list[str] | None = None):
    i = LearningItem(
        kind="replicable_model",
        title="GDm-Health",
        summary="",
        body="v1",
        links=[],
        domain_tags=["diabetes-in-pregnancy"],
        community_id=uuid4(),
        community_name="DiP CoP",
        organisation_id=uuid4(),
        organisation_name="Guy's",
        origin_node="guys",
        contributors=[],
        visibility="node",
        partner_nodes=[],
    )
    if visibility is not Visibility.NODE:
        i.change_visibility(visibility, partners or [])
    return i


def names(events) -> list[str]:
    return [type(e).__name__ for e in events]


class TestParsing:
    def test_tags_urls_nodes(self):
        assert parse_tags(["cancer-care", "cancer-care", "qi"]) == ["cancer-care", "qi"]
        with pytest.raises(ValueError):
            parse_tags(["Not A Tag"])
        assert parse_url("https://future.nhs.uk/x") == "https://future.nhs.uk/x"
        for bad in ["ftp://x", "javascript:alert(1)", "nhs.uk"]:
            with pytest.raises(ValueError):
                parse_url(bad)
        with pytest.raises(ValueError):
            parse_node_id("Guys Trust")


class TestLifecycle:
    def test_draft_publish_revise_withdraw(self):
        i = item()
        i.edit_draft(Content("GDm-Health", "", "v1 edited", (), ("diabetes-in-pregnancy",)))
        i.publish(NOW)
        assert i.status is ItemStatus.PUBLISHED and i.revision == 1
        with pytest.raises(FailedPrecondition, match="only a draft"):
            i.edit_draft(Content("x", "", "", (), ()))
        with pytest.raises(FailedPrecondition, match="changes nothing"):
            i.revise(i.content, "", NOW)
        i.revise(Content("GDm-Health", "", "v2", (), ()), "SMS added", NOW)
        assert [r.number for r in i.revisions] == [1, 2]
        assert i.revisions[0].content.body == "v1 edited" and i.revisions[1].note == "SMS added"
        i.withdraw("superseded")
        with pytest.raises(FailedPrecondition):
            i.revise(Content("x", "", "", (), ()), "", NOW)
        with pytest.raises(FailedPrecondition, match="keeps its visibility"):
            i.change_visibility(Visibility.NODE, [])

    def test_a_draft_cannot_be_revised_or_withdrawn(self):
        i = item()
        with pytest.raises(FailedPrecondition, match="edit the draft"):
            i.revise(Content("x", "", "", (), ()), "", NOW)
        with pytest.raises(FailedPrecondition):
            i.withdraw("no")


class TestVisibility:
    def test_narrowing_a_published_item_retracts_it_from_who_loses_it(self):
        i = item(Visibility.PARTNERS, ["kings", "lewisham"])
        i.publish(NOW)
        i.collect_events()
        i.change_visibility(Visibility.PARTNERS, ["kings"])
        retracted, changed = i.collect_events()
        assert (retracted.from_region, retracted.from_partners) == (False, ["lewisham"])
        assert changed.partner_nodes == ["kings"]
        i.change_visibility(Visibility.REGION, [])
        assert names(i.collect_events()) == ["VisibilityChanged"]
        i.change_visibility(Visibility.NODE, [])
        retracted, _ = i.collect_events()
        assert retracted.from_region is True

    def test_drafts_change_visibility_without_retractions(self):
        i = item()
        i.change_visibility(Visibility.NODE, [])
        assert "Retracted" not in names(i.collect_events())

    def test_partner_rules(self):
        i = item()
        with pytest.raises(FailedPrecondition, match="at least one partner"):
            i.change_visibility(Visibility.PARTNERS, [])
        with pytest.raises(FailedPrecondition, match="not a partner of itself"):
            i.change_visibility(Visibility.PARTNERS, ["guys"])


class TestOriginRecords:
    def test_receptions_once_per_node_and_never_the_origin(self):
        i = item()
        i.publish(NOW)
        assert i.record_reception("kings", NOW) is True
        assert i.record_reception("kings", NOW) is False
        assert i.record_reception("guys", NOW) is False

    def test_adoptions_keep_the_latest_per_organisation_and_the_history(self):
        i = item()
        i.publish(NOW)
        adoption = Adoption(
            item_id=i.id,
            organisation_id=uuid4(),
            item_origin_node="guys",
            item_title="GDm",
            organisation_name="King's",
            node_id="kings",
        )
        adoption.declare(AdoptionStatus.PILOTING, "two wards", date(2024, 1, 1), NOW)
        i.record_adoption(adoption.report())
        adoption.declare(AdoptionStatus.ADOPTED, "trust-wide", date(2024, 6, 1), NOW)
        i.record_adoption(adoption.report())
        assert [r.status for r in i.adoptions.values()] == [AdoptionStatus.ADOPTED]
        assert [r.status for r in i.adoption_history] == [
            AdoptionStatus.PILOTING,
            AdoptionStatus.ADOPTED,
        ]
        with pytest.raises(FailedPrecondition, match="already"):
            adoption.declare(AdoptionStatus.ADOPTED, "trust-wide", date(2024, 6, 1), NOW)


class TestReceivedItem:
    def test_only_newer_snapshots_and_retractions_apply(self):
        copy = ReceivedItem(
            origin_node="guys",
            item_id="x",
            snapshot={"version": 2},
            addressed=False,
            received_at=NOW,
        )
        assert copy.update({"version": 2}, False) is False
        assert copy.update({"version": 4}, True) is True and copy.addressed
        assert copy.retract(3) is False, "a retraction older than the copy is ignored"
        assert copy.retract(5) is True and copy.retracted
        assert copy.retract(6) is False
        assert copy.update({"version": 6}, False) is True and not copy.retracted


class TestSubscription:
    def test_change_end_restart(self):
        s = Subscription(node_id="guys", domain_tags=[], since=NOW)
        with pytest.raises(FailedPrecondition, match="already subscribed"):
            s.change([], NOW)
        s.change(["cancer-care"], NOW)
        s.end()
        with pytest.raises(FailedPrecondition, match="not subscribed"):
            s.end()
        s.change(["qi"], NOW)
        assert s.active and s.domain_tags == ["qi"]
