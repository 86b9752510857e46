"""The demo's data protection step: one generated member of the cancer community is
exported (subject access) and then erased, and the report is read again.

What a data protection officer would check: the export had every service's part, the
erased member's name and address are gone from every service, and the community's
figures (members, convenings, sign-ups and attendance, learning) did not move.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

from copnet.events.v1 import events_pb2 as epb
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.notify.v1 import notify_pb2 as npb
from copnet.registry.v1 import registry_pb2 as rpb
from services.demo.client import NodeClient
from services.demo.loader.base import ORGANISER_ROLES, Loaded
from services.demo.report import DemoReport, render
from services.demo.scenario.model import Scenario

_EXPORTS = {
    "registry": rpb.ExportMemberDataRequest,
    "events": epb.ExportMemberDataRequest,
    "learning": lpb.ExportMemberDataRequest,
    "notify": npb.ExportMemberDataRequest,
}


@dataclass(frozen=True)
class ErasureFigures:
    node_id: str
    member_id: str
    # The services whose export had a part about the member, and its size in bytes.
    exported: dict[str, int]
    # Whether the report's figures were the same after the erasure.
    unchanged: bool
    differences: tuple[str, ...] = ()


def _export(client: NodeClient, member_id: str) -> dict[str, dict]:
    return {
        service: json.loads(
            client.call(service, "ExportMemberData", request(member_id=member_id)).document_json
        )
        for service, request in _EXPORTS.items()
        if client.has(service)
    }


def figures_of(report: DemoReport) -> list[str]:
    """The report's figures, without what moves by itself (mail waiting to be sent, which
    an erasure also empties for the member, and how to call the nodes)."""
    return render(replace(report, mail=[], token_help=[], nodes=[])).splitlines()


def erase_one(
    scenario: Scenario,
    clients: dict[str, NodeClient],
    loaded: Loaded,
    before: DemoReport,
    read_report: Callable[[], DemoReport],
) -> ErasureFigures:
    """Exports, then erases, a generated member of the cancer community, and reads the
    report again (`read_report`) once every service has heard of it."""
    cancer = scenario.community(scenario.cancer_community)
    client = clients[cancer.node_id]
    # A member with no organiser role (the report's access is decided by roles).
    member_id = next(
        m.member_id for m in reversed(loaded.members[cancer.key]) if m.role not in ORGANISER_ROLES
    )
    exported = _export(client, member_id)
    client.call(
        "registry",
        "EraseMember",
        rpb.EraseMemberRequest(
            request_id=client.request_id("erase", member_id), member_id=member_id
        ),
    )
    if client.has("notify"):
        client.wait_until(
            "notify forgetting the erased member",
            lambda: _export(client, member_id)["notify"]["erased"],
        )
    old, new = figures_of(before), figures_of(read_report())
    return ErasureFigures(
        node_id=client.node_id,
        member_id=member_id,
        exported={service: len(json.dumps(part)) for service, part in exported.items()},
        unchanged=old == new,
        differences=tuple(line for line in new if line not in old),
    )


def render_erasure(figures: ErasureFigures) -> list[str]:
    parts = ", ".join(f"{service} {size} bytes" for service, size in figures.exported.items())
    lines = [
        "",
        "Data protection (docs/data-protection.md)",
        f"  Exported member {figures.member_id} on {figures.node_id}: {parts}",
        f"  Erased them (copnet erase-member): the report's figures are "
        f"{'unchanged' if figures.unchanged else 'CHANGED'}",
    ]
    lines += [f"    now: {line}" for line in figures.differences]
    return lines
