"""`LearningItem`: a piece of learning written on this node (its origin). It goes draft ->
published -> revised (every revision kept) -> withdrawn, has a visibility, and records
which nodes received it and which organisations adopted it."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.learning.domain.values import (
    AdoptionReport,
    AdoptionStatus,
    Content,
    ItemKind,
    ItemStatus,
    Presentation,
    RevisionRecord,
    Visibility,
)


class LearningItem(TracedAggregate):
    @event("Drafted")
    def __init__(
        self,
        kind: str,
        title: str,
        summary: str,
        body: str,
        links: list[list[str]],
        domain_tags: list[str],
        community_id: UUID,
        community_name: str,
        organisation_id: UUID,
        organisation_name: str,
        origin_node: str,
        contributors: list[UUID],
        visibility: str,
        partner_nodes: list[str],
    ):
        self.kind = ItemKind(kind)
        self.content = Content.of(title, summary, body, links, domain_tags)
        self.community_id = community_id
        self.community_name = community_name
        self.organisation_id = organisation_id
        self.organisation_name = organisation_name
        self.origin_node = origin_node
        self.contributors = list(contributors)
        self.visibility = Visibility(visibility)
        self.partner_nodes = list(partner_nodes)
        self.status = ItemStatus.DRAFT
        self.revisions: list[RevisionRecord] = []
        self.presentations: list[Presentation] = []
        self.adoptions: dict[tuple[str, str], AdoptionReport] = {}
        self.adoption_history: list[AdoptionReport] = []
        self.receptions: dict[str, datetime] = {}
        self.published_at: datetime | None = None
        self.withdrawn_reason = ""

    @property
    def revision(self) -> int:
        return len(self.revisions)

    # Commands

    def edit_draft(self, content: Content) -> None:
        if self.status is not ItemStatus.DRAFT:
            raise FailedPrecondition("only a draft can be edited; publish a revision instead")
        if content != self.content:
            self._draft_edited(**content.as_event_fields())

    def publish(self, at: datetime) -> None:
        if self.status is not ItemStatus.DRAFT:
            raise FailedPrecondition(f"the item is already {self.status.value}")
        self._published(at=at)

    def revise(self, content: Content, note: str, at: datetime) -> None:
        if self.status is not ItemStatus.PUBLISHED:
            raise FailedPrecondition(
                "only a published item can be revised"
                + ("; edit the draft instead" if self.status is ItemStatus.DRAFT else "")
            )
        if content == self.content:
            raise FailedPrecondition("the revision changes nothing")
        self._revised(note=note, at=at, **content.as_event_fields())

    def withdraw(self, reason: str) -> None:
        if self.status is not ItemStatus.PUBLISHED:
            raise FailedPrecondition(
                f"only a published item can be withdrawn (it is {self.status.value})"
            )
        self._withdrawn(reason=reason)

    def change_visibility(self, visibility: Visibility, partner_nodes: list[str]) -> None:
        if self.status is ItemStatus.WITHDRAWN:
            raise FailedPrecondition("a withdrawn item keeps its visibility")
        partners = sorted(set(partner_nodes)) if visibility is Visibility.PARTNERS else []
        if self.origin_node in partners:
            raise FailedPrecondition("the item's own node is not a partner of itself")
        if visibility is Visibility.PARTNERS and not partners:
            raise FailedPrecondition("partners visibility needs at least one partner node")
        if (visibility, partners) == (self.visibility, sorted(self.partner_nodes)):
            return
        if self.status is ItemStatus.PUBLISHED:
            lost_region = (
                self.visibility is Visibility.REGION and visibility is not Visibility.REGION
            )
            lost_partners = [p for p in self._receivers() if p not in partners]
            if visibility is Visibility.REGION:
                lost_partners = []
            if lost_region or lost_partners:
                self._retracted(from_region=lost_region, from_partners=lost_partners)
        self._visibility_changed(visibility=visibility.value, partner_nodes=partners)

    def record_presentation(self, presentation: Presentation) -> None:
        if any(p.convening_id == presentation.convening_id for p in self.presentations):
            raise FailedPrecondition("the item's presentation at that convening is recorded")
        self._presentation_recorded(
            convening_id=presentation.convening_id,
            title=presentation.title,
            presented_on=presentation.presented_on,
        )

    def record_reception(self, node_id: str, received_at: datetime) -> bool:
        """The first report of a node receiving the item; False for a repeat."""
        if node_id in self.receptions or node_id == self.origin_node:
            return False
        self._reception_recorded(node_id=node_id, received_at=received_at)
        return True

    def record_adoption(self, report: AdoptionReport) -> None:
        self._adoption_recorded(
            node_id=report.node_id,
            organisation_id=report.organisation_id,
            organisation_name=report.organisation_name,
            status=report.status.value,
            evidence=report.evidence,
            effective_on=report.effective_on,
            reported_at=report.reported_at,
        )

    def _receivers(self) -> list[str]:
        return list(self.partner_nodes) if self.visibility is Visibility.PARTNERS else []

    # Events

    @event("DraftEdited")
    def _draft_edited(
        self,
        title: str,
        summary: str,
        body: str,
        links: list[list[str]],
        domain_tags: list[str],
    ) -> None:
        self.content = Content.of(title, summary, body, links, domain_tags)

    @event("Published")
    def _published(self, at: datetime) -> None:
        self.status = ItemStatus.PUBLISHED
        self.published_at = at
        self.revisions.append(RevisionRecord(1, self.content, "", at))

    @event("Revised")
    def _revised(
        self,
        title: str,
        summary: str,
        body: str,
        links: list,
        domain_tags: list,
        note: str,
        at: datetime,
    ) -> None:
        self.content = Content.of(title, summary, body, links, domain_tags)
        self.revisions.append(RevisionRecord(self.revision + 1, self.content, note, at))

    @event("Withdrawn")
    def _withdrawn(self, reason: str) -> None:
        self.status = ItemStatus.WITHDRAWN
        self.withdrawn_reason = reason

    @event("Retracted")
    def _retracted(self, from_region: bool, from_partners: list[str]) -> None:
        pass

    @event("VisibilityChanged")
    def _visibility_changed(self, visibility: str, partner_nodes: list[str]) -> None:
        self.visibility = Visibility(visibility)
        self.partner_nodes = list(partner_nodes)

    @event("PresentationRecorded")
    def _presentation_recorded(self, convening_id: str, title: str, presented_on: date) -> None:
        self.presentations.append(Presentation(convening_id, title, presented_on))

    @event("ReceptionRecorded")
    def _reception_recorded(self, node_id: str, received_at: datetime) -> None:
        self.receptions[node_id] = received_at

    @event("AdoptionRecorded")
    def _adoption_recorded(
        self,
        node_id: str,
        organisation_id: str,
        organisation_name: str,
        status: str,
        evidence: str,
        effective_on: date,
        reported_at: datetime,
    ) -> None:
        report = AdoptionReport(
            node_id,
            organisation_id,
            organisation_name,
            AdoptionStatus(status),
            evidence,
            effective_on,
            reported_at,
        )
        self.adoptions[(node_id, organisation_id)] = report
        self.adoption_history.append(report)
