"""Running the report: a node's page (what `copnet up` starts beside the services, as
`python -m services.report`), the region's page (from a region file: every node's
addresses and token-signing key, as `copnet demo` writes it), or one page to a file.

The region file is the demo's `region-nodes.json`:

    {"region": "demo-region",
     "nodes": [{"node_id": "riverside", "name": "...", "addresses": {"registry": "..."},
                "key_file": ".../token-signing-key.pem", "grpc_tls": {"tls": true, ...}}]}
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from services.common.channels import ChannelSecurity
from services.common.settings import NodeSettings
from services.common.webserver import TlsFiles
from services.report.access import NodeAccess, RegionAccess, Viewer
from services.report.address import report_address
from services.report.figures import Filters, Report
from services.report.gather import gather_node, gather_region
from services.report.source import READS, NodeEndpoint, NodeSource
from services.report.web import ReportWeb, Site

log = logging.getLogger("copnet.report")


@dataclass(frozen=True)
class RegionNodes:
    region: str
    endpoints: tuple[NodeEndpoint, ...]

    @classmethod
    def load(cls, path: Path) -> RegionNodes:
        data = json.loads(path.read_text())
        endpoints = []
        for node in data["nodes"]:
            addresses = {s: a for s, a in node["addresses"].items() if s in READS}
            endpoints.append(
                NodeEndpoint(
                    node_id=node["node_id"],
                    name=node.get("name", node["node_id"]),
                    addresses=addresses,
                    key_file=Path(node["key_file"]),
                    security=ChannelSecurity.from_json(node.get("grpc_tls")),
                )
            )
        return cls(region=data["region"], endpoints=tuple(endpoints))


def node_site(source: NodeSource, region: str = "") -> Site:
    def build(filters: Filters, viewer: Viewer) -> Report:
        communities = set(viewer.communities) if viewer.communities is not None else None
        return gather_node(source, filters, communities, viewer.description, region)

    return Site(NodeAccess(source), build, f"The report of node {source.node_id}")


def region_site(sources: list[NodeSource], region: str) -> Site:
    def build(filters: Filters, viewer: Viewer) -> Report:
        return gather_region(sources, filters, viewer.description, region)

    return Site(RegionAccess(sources), build, f"The report of region {region}")


def write_html(site_report: Report, path: Path) -> None:
    """The page as a file (no form, no sign-out): self-contained, nothing to fetch."""
    path.parent.mkdir(parents=True, exist_ok=True)
    from services.report.page import render_page  # the charts' libraries, when drawn

    path.write_text(render_page(site_report, served=False), encoding="utf-8")


def node_tls(settings: NodeSettings) -> TlsFiles | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    return TlsFiles(settings.tls_cert, settings.tls_key)


async def serve_site(
    site: Site, address: str, tls: TlsFiles | None, stopping: asyncio.Event
) -> None:
    await ReportWeb(site).serve(address, stopping, tls)


def run(site: Site, address: str, tls: TlsFiles | None) -> int:
    """Serves until SIGINT or SIGTERM."""

    async def serving() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        await serve_site(site, address, tls, stopping)

    try:
        asyncio.run(serving())
    except OSError as error:
        log.error("the report cannot listen on %s: %s", address, error)
        return 1
    return 0


def main() -> None:
    """`python -m services.report`: a node's page, with the node's settings (COPNET_*); the
    region's page when COPNET_REPORT_REGION_FILE names a region file."""
    from services.common.telemetry import configure_logging

    settings = NodeSettings.from_env()
    configure_logging(settings.log_level, "report", settings.node_id)
    region_file = os.environ.get("COPNET_REPORT_REGION_FILE", "")
    if region_file:
        region = RegionNodes.load(Path(region_file))
        sources = [NodeSource(endpoint) for endpoint in region.endpoints]
        site = region_site(sources, region.region)
    else:
        sources = [NodeSource(NodeEndpoint.of_settings(settings))]
        site = node_site(sources[0], settings.region)
    try:
        status = run(site, report_address(settings), node_tls(settings))
    finally:
        for source in sources:
            source.close()
    raise SystemExit(status)
