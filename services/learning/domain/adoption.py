"""`Adoption`: an organisation of this node's position on an item from anywhere."""

from __future__ import annotations

from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.learning.domain.values import AdoptionReport, AdoptionStatus


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
