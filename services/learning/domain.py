"""The learning exchange's domain.

- `LearningItem`: a piece of learning written on this node (its origin). It goes
  draft -> published -> revised (every revision kept) -> withdrawn, has a
  visibility (this node, the region, named partner nodes), and, being the
  origin, records which nodes received it and which organisations adopted it.
- `Adoption`: an organisation of this node's position on an item from anywhere.
- `ReceivedItem`: this node's copy of an item from another node, kept current
  from the item's snapshots.
- `Subscription`: this node's interest in another node's region-wide learning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.kernel.parsing import parse_link, parse_name, parse_slug, parse_text


class ItemKind(StrEnum):
    QUALITY_IMPROVEMENT_PROJECT = "quality_improvement_project"
    RESOURCE = "resource"
    CASE_STUDY = "case_study"
    REPLICABLE_MODEL = "replicable_model"
    SHADOWING_OPPORTUNITY = "shadowing_opportunity"
    WEBINAR_RECORDING = "webinar_recording"
    TOOLKIT = "toolkit"


class ItemStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class Visibility(StrEnum):
    NODE = "node"
    REGION = "region"
    PARTNERS = "partners"


class AdoptionStatus(StrEnum):
    EXPLORING = "exploring"
    PILOTING = "piloting"
    ADOPTED = "adopted"
    ABANDONED = "abandoned"


MAX_SUMMARY_LENGTH = 2000
MAX_BODY_LENGTH = 50_000
MAX_LINKS = 50
MAX_TAGS = 20
_NODE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def parse_title(value: str) -> str:
    return parse_name(value)


def parse_summary(value: str) -> str:
    return parse_text(value, MAX_SUMMARY_LENGTH)


def parse_body(value: str) -> str:
    return parse_text(value, MAX_BODY_LENGTH)


def parse_url(value: str) -> str:
    """A link's address: required, the kernel's rules for links."""
    return parse_link(value, required=True)


def parse_tags(values: list[str]) -> list[str]:
    tags = []
    for value in values:
        tag = parse_slug(value)
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    return tags


def parse_node_id(value: str) -> str:
    node = value.strip()
    if not _NODE_ID.match(node) or len(node) > 40:
        raise ValueError("must be a node id: lower-case letters and digits joined by hyphens")
    return node


@dataclass(frozen=True)
class Content:
    """What an item says. Links are (title, url) pairs."""

    title: str
    summary: str
    body: str
    links: tuple[tuple[str, str], ...] = ()
    domain_tags: tuple[str, ...] = ()

    def as_event_fields(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "summary": self.summary,
            "body": self.body,
            "links": [list(link) for link in self.links],
            "domain_tags": list(self.domain_tags),
        }

    @classmethod
    def of(cls, title: str, summary: str, body: str, links: list, domain_tags: list) -> Content:
        return cls(title, summary, body, tuple(tuple(x) for x in links), tuple(domain_tags))


@dataclass(frozen=True)
class RevisionRecord:
    number: int
    content: Content
    note: str
    revised_at: datetime


@dataclass(frozen=True)
class AdoptionReport:
    node_id: str
    organisation_id: str
    organisation_name: str
    status: AdoptionStatus
    evidence: str
    effective_on: date
    reported_at: datetime


@dataclass(frozen=True)
class Presentation:
    convening_id: str
    title: str
    presented_on: date


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


class Adoption(TracedAggregate):
    """An organisation of this node's position on an item (from this node or another)."""

    @staticmethod
    def create_id(item_id: UUID, organisation_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:adoption:{item_id}:{organisation_id}")

    @event("Started")
    def __init__(
        self,
        item_id: UUID,
        organisation_id: UUID,
        item_origin_node: str,
        item_title: str,
        organisation_name: str,
        node_id: str,
    ):
        self.item_id = item_id
        self.organisation_id = organisation_id
        self.item_origin_node = item_origin_node
        self.item_title = item_title
        self.organisation_name = organisation_name
        self.node_id = node_id
        self.status: AdoptionStatus | None = None
        self.evidence = ""
        self.effective_on: date | None = None
        self.declared_at: datetime | None = None

    def declare(
        self, status: AdoptionStatus, evidence: str, effective_on: date, at: datetime
    ) -> None:
        if (status, evidence, effective_on) == (self.status, self.evidence, self.effective_on):
            raise FailedPrecondition("that is already the organisation's declared position")
        self._status_declared(
            status=status.value, evidence=evidence, effective_on=effective_on, declared_at=at
        )

    def report(self) -> AdoptionReport:
        assert self.status is not None and self.effective_on and self.declared_at
        return AdoptionReport(
            self.node_id,
            str(self.organisation_id),
            self.organisation_name,
            self.status,
            self.evidence,
            self.effective_on,
            self.declared_at,
        )

    @event("StatusDeclared")
    def _status_declared(
        self, status: str, evidence: str, effective_on: date, declared_at: datetime
    ) -> None:
        self.status = AdoptionStatus(status)
        self.evidence = evidence
        self.effective_on = effective_on
        self.declared_at = declared_at


class ReceivedItem(TracedAggregate):
    """This node's copy of another node's item, as its latest snapshot says."""

    @staticmethod
    def create_id(origin_node: str, item_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:received:{origin_node}:{item_id}")

    @event("Received")
    def __init__(
        self,
        origin_node: str,
        item_id: str,
        snapshot: dict,
        addressed: bool,
        received_at: datetime,
    ):
        self.origin_node = origin_node
        self.item_id = item_id
        self.snapshot = snapshot
        self.addressed = addressed
        self.retracted = False
        self.received_at = received_at
        self.receipt_reported = False

    @property
    def snapshot_version(self) -> int:
        return int(self.snapshot.get("version", 0))

    def report_receipt(self) -> None:
        """Records that the origin is to be told this node has the item (once)."""
        if not self.receipt_reported:
            self._receipt_reported(revision=int(self.snapshot.get("revision", 0)))

    def update(self, snapshot: dict, addressed: bool) -> bool:
        """Takes a newer snapshot; False when it is not newer (an older or repeated one)."""
        if int(snapshot.get("version", 0)) <= self.snapshot_version and not self.retracted:
            return False
        self._updated(snapshot=snapshot, addressed=addressed)
        return True

    def retract(self, version: int) -> bool:
        """Hides the item, unless this copy is newer than the retraction (it came by
        another route after the item was shared with this node again)."""
        if self.retracted or version <= self.snapshot_version:
            return False
        self._retracted()
        return True

    @event("Updated")
    def _updated(self, snapshot: dict, addressed: bool) -> None:
        self.snapshot = snapshot
        self.addressed = addressed
        self.retracted = False

    @event("Retracted")
    def _retracted(self) -> None:
        self.retracted = True

    @event("ReceiptReported")
    def _receipt_reported(self, revision: int) -> None:
        self.receipt_reported = True


class Subscription(TracedAggregate):
    """This node's interest in another node's region-wide learning (some tags, or all)."""

    @staticmethod
    def create_id(node_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"copnet:subscription:{node_id}")

    @event("Started")
    def __init__(self, node_id: str, domain_tags: list[str], since: datetime):
        self.node_id = node_id
        self.domain_tags = list(domain_tags)
        self.active = True
        self.since = since

    def change(self, domain_tags: list[str], at: datetime) -> None:
        if not self.active:
            self._restarted(domain_tags=domain_tags, since=at)
        elif domain_tags != self.domain_tags:
            self._tags_changed(domain_tags=domain_tags)
        else:
            raise FailedPrecondition(f"already subscribed to {self.node_id} with those tags")

    def end(self) -> None:
        if not self.active:
            raise FailedPrecondition(f"not subscribed to {self.node_id}")
        self._ended()

    @event("TagsChanged")
    def _tags_changed(self, domain_tags: list[str]) -> None:
        self.domain_tags = list(domain_tags)

    @event("Restarted")
    def _restarted(self, domain_tags: list[str], since: datetime) -> None:
        self.domain_tags = list(domain_tags)
        self.active = True
        self.since = since

    @event("Ended")
    def _ended(self) -> None:
        self.active = False
