"""`copnet report`: the report page of a node (or, with --region-file, of a region),
written to a file (`--html FILE`) or served (`--serve`). What it shows is read from the
nodes' gRPC APIs as their operator, with the node's token-signing key."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from services.common.settings import NodeSettings


def add_parser(
    commands: argparse._SubParsersAction,  # argparse's own type for add_subparsers()
    node_options: Callable[[argparse.ArgumentParser], None],
    tls_options: Callable[[argparse.ArgumentParser], None],
    settings: Callable[[argparse.Namespace], NodeSettings],
) -> None:
    report = commands.add_parser("report", help="the report page: write it to a file or serve it")
    node_options(report)
    report.add_argument("--listen-host", help="the node's host (127.0.0.1)")
    report.add_argument("--grpc-port-base", type=int, help="the node's registry port (50051)")
    tls_options(report)
    what = report.add_mutually_exclusive_group(required=True)
    what.add_argument("--html", type=Path, metavar="FILE", help="write the page to FILE")
    what.add_argument("--serve", action="store_true", help="serve the page until Ctrl-C")
    report.add_argument(
        "--region-file",
        type=Path,
        help="the region's page, of the nodes this file lists (a demo's region-nodes.json)",
    )
    report.add_argument("--address", help="with --serve: HOST:PORT (the node's report port)")
    report.add_argument("--community", default="", help="only this community (its id)")
    report.add_argument("--from", dest="from_date", default="", help="from this date")
    report.add_argument("--before", default="", help="before this date")
    report.add_argument("--topic", default="", help="only this topic (a domain or tag)")
    report.set_defaults(run=lambda options: run_report(options, settings))


def run_report(
    options: argparse.Namespace, settings_of: Callable[[argparse.Namespace], NodeSettings]
) -> int:
    from services.report.access import Viewer
    from services.report.figures import Filters, InvalidFilter
    from services.report.serve import (
        RegionNodes,
        node_site,
        node_tls,
        region_site,
        report_address,
        run,
        write_html,
    )
    from services.report.source import NodeEndpoint, NodeSource, SourceUnavailable

    try:
        filters = Filters.parse(
            {
                k: v
                for k, v in {
                    "community": options.community,
                    "from": options.from_date,
                    "before": options.before,
                    "topic": options.topic,
                }.items()
                if v
            }
        )
    except InvalidFilter as error:
        print(f"copnet report: {error}", file=sys.stderr)
        return 2
    settings = settings_of(options)
    if options.region_file:
        region = RegionNodes.load(options.region_file)
        sources = [NodeSource(e) for e in region.endpoints]
        site = region_site(sources, region.region)
    else:
        sources = [NodeSource(NodeEndpoint.of_settings(settings))]
        site = node_site(sources[0], settings.region)
    try:
        if options.serve:
            return run(site, options.address or report_address(settings), node_tls(settings))
        operator = Viewer("operator", None, "the operator")
        try:
            write_html(site.build(filters, operator), options.html)
        except SourceUnavailable as error:
            print(f"copnet report: {error}", file=sys.stderr)
            return 1
        print(f"The report is in {options.html}")
        return 0
    finally:
        for source in sources:
            source.close()
