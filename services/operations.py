"""The operator's commands of `copnet` beside running a node: `status`, `rebuild-views`,
`backup` and `restore` (their work is in services/status.py, maintenance.py, backup.py)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from services.common.logs import configure_logging
from services.common.settings import NodeSettings, available_services

NodeOptions = Callable[[argparse.ArgumentParser], None]
Settings = Callable[[argparse.Namespace], NodeSettings]


def add_monitoring_options(up: argparse.ArgumentParser) -> None:
    """`copnet up`'s flags for its metrics endpoints and nats-server's monitoring."""
    up.add_argument(
        "--metrics-port-base",
        type=int,
        help="the registry's /metrics port; the others follow (9464; 0: no metrics endpoints)",
    )
    up.add_argument(
        "--nats-monitor-port",
        type=int,
        help="nats-server's monitoring port on loopback (-1: any free one; 0: none)",
    )


def add_parsers(
    commands: argparse._SubParsersAction,  # argparse's own type for add_subparsers()
    node_options: NodeOptions,
    settings: Settings,
) -> None:
    status = commands.add_parser(
        "status", help="what a running node is doing: services, lags, streams, hub link"
    )
    where = status.add_mutually_exclusive_group()
    where.add_argument("--data-dir", type=Path, help="the node's data directory (copnet-data)")
    where.add_argument(
        "--node", metavar="URL", help="the node's registry metrics URL, e.g. http://host:9464"
    )
    status.add_argument(
        "--nats-monitor", metavar="URL", help="with --node: its nats-server's monitoring URL"
    )
    status.add_argument("--json", action="store_true", help="as JSON, for scripts")
    status.set_defaults(run=_status)

    rebuild = commands.add_parser(
        "rebuild-views", help="rebuild read models from the events, then exit (node stopped)"
    )
    rebuild.add_argument(
        "service", nargs="*", help=f"of these services ({', '.join(available_services())}; all)"
    )
    node_options(rebuild)
    rebuild.add_argument("--postgres-dsn", help="the node's PostgreSQL (as for `copnet up`)")
    rebuild.set_defaults(run=lambda options: _rebuild_views(options, settings(options)))

    backup = commands.add_parser("backup", help="copy a node's stores and keys (while it runs)")
    node_options(backup)
    backup.add_argument("--to", type=Path, required=True, help="a new (or empty) directory")
    backup.set_defaults(run=lambda options: _backup(options, settings(options)))

    restore = commands.add_parser(
        "restore", help="a back-up into a fresh data directory, with a new relay epoch"
    )
    restore.add_argument("source", type=Path, help="the back-up's directory")
    restore.add_argument("--data-dir", type=Path, required=True, help="a new (or empty) one")
    restore.set_defaults(run=_restore)


def _status(options: argparse.Namespace) -> int:
    from services.status import run_node_status

    default = Path(os.environ.get("COPNET_DATA_DIR") or "copnet-data")
    data_dir = None if options.node else (options.data_dir or default)
    return run_node_status(data_dir, options.node or "", options.nats_monitor or "", options.json)


def _rebuild_views(options: argparse.Namespace, settings: NodeSettings) -> int:
    from services.maintenance import rebuild_views

    configure_logging("WARNING", "cli", json_lines=False)
    if not (settings.data_dir / "node.json").exists():
        print(f"{settings.data_dir} is not a node's data directory", file=sys.stderr)
        return 2
    unknown = set(options.service) - set(available_services())
    if unknown:
        print(f"no such service: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    return rebuild_views(settings, options.service or list(available_services()))


def _backup(options: argparse.Namespace, settings: NodeSettings) -> int:
    from services.backup import run_backup

    return run_backup(settings, options.to)


def _restore(options: argparse.Namespace) -> int:
    from services.backup import run_restore

    return run_restore(options.source, options.data_dir)
