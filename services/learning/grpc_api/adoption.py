"""LearningService calls on adoption and how an item spread."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from copnet.learning.v1 import learning_pb2 as pb
from services.common.errors import Violations
from services.common.protoconv import timestamp
from services.common.servicer import (
    Context,
    command,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    run,
)
from services.kernel.parsing import parse_optional_date
from services.learning import codecs
from services.learning.domain import Adoption, parse_summary, parse_tags
from services.learning.grpc_api.base import Servicer
from services.learning.views import CatalogueEntry


class AdoptionCalls(Servicer):
    # Adoption and spread

    async def DeclareAdoption(
        self, request: pb.DeclareAdoptionRequest, context: Context
    ) -> pb.DeclareAdoptionResponse:
        v = Violations()
        cmd = command(request, "DeclareAdoption", v)
        entry = await self._entry(request.item_id, 0) if request.item_id else None
        if entry is None:
            v.add("item_id", "is required")
        organisation = v.check("organisation_id", parse_optional_uuid, request.organisation_id)
        status = v.check("status", codecs.ADOPTION_STATUS.to_domain, request.status)
        evidence = v.check("evidence", parse_summary, request.evidence)
        effective_on = v.check("effective_on", parse_optional_date, request.effective_on)
        v.raise_if_any()
        assert entry is not None
        outcome = await run(
            self.app.declare_adoption,
            cmd,
            parse_uuid(request.item_id),
            entry.snapshot["origin_node"],
            organisation,
            status,
            evidence,
            effective_on,
        )
        adoption = outcome.entity or await run(self.app.entity_at, outcome)
        assert isinstance(adoption, Adoption)
        report = adoption.report()
        return pb.DeclareAdoptionResponse(
            adoption=pb.Adoption(
                node_id=report.node_id,
                organisation_id=report.organisation_id,
                organisation_name=report.organisation_name,
                status=codecs.ADOPTION_STATUS.to_pb(report.status),
                evidence=report.evidence,
                effective_on=report.effective_on.isoformat(),
                reported_at=timestamp(report.reported_at),
            ),
            position=outcome.position,
        )

    async def GetAdoptionSummary(
        self, request: pb.GetAdoptionSummaryRequest, context: Context
    ) -> pb.GetAdoptionSummaryResponse:
        if request.domain_tag:
            v = Violations()
            v.check("domain_tag", parse_tags, [request.domain_tag])
            v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        rows = await run(self.catalogue.adoption_summary, request.domain_tag)
        return pb.GetAdoptionSummaryResponse(
            items=[
                pb.AdoptionCount(
                    item_id=r["item_id"],
                    origin_node=r["origin_node"],
                    title=r["title"],
                    exploring=r["exploring"],
                    piloting=r["piloting"],
                    adopted=r["adopted"],
                    abandoned=r["abandoned"],
                )
                for r in rows
            ]
        )

    async def GetSpread(
        self, request: pb.GetSpreadRequest, context: Context
    ) -> pb.GetSpreadResponse:
        entry = await self._entry(request.item_id, request.min_position)
        return pb.GetSpreadResponse(steps=spread(entry))


def spread(entry: CatalogueEntry) -> list[pb.SpreadStep]:
    s = entry.snapshot
    origin = s["origin_node"]
    steps: list[tuple[str, pb.SpreadStep]] = []

    def add(at: str, **fields: Any) -> None:
        if at:
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            steps.append((moment.isoformat(), pb.SpreadStep(at=timestamp(moment), **fields)))

    for revision in s["revisions"]:
        kind = "published" if revision["revision"] == 1 else "revised"
        add(
            revision["revised_at"],
            kind=kind,
            node_id=origin,
            revision=revision["revision"],
            detail=revision["note"],
        )
    for presentation in s["presentations"]:
        add(
            presentation["presented_on"],
            kind="presented",
            node_id=origin,
            detail=presentation["title"],
        )
    for reception in s["receptions"]:
        add(reception["received_at"], kind="received", node_id=reception["node_id"])
    for adoption in s["adoption_history"]:
        add(
            adoption["reported_at"],
            kind="adoption",
            node_id=adoption["node_id"],
            organisation_id=adoption["organisation_id"],
            organisation_name=adoption["organisation_name"],
            adoption_status=codecs.ADOPTION_STATUS.to_pb(adoption["status"]),
            detail=adoption["evidence"],
        )
    if s["status"] == "withdrawn":
        add(s["updated_at"], kind="withdrawn", node_id=origin, detail=s["withdrawn_reason"])
    return [step for _, step in sorted(steps, key=lambda pair: pair[0])]
