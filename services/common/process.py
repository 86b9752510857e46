"""A service as its own process (`python -m services.<name> [all|api|worker]`): reads the
node's settings from the environment, runs the `ServiceRuntime` until SIGINT/SIGTERM,
and exits with `EXIT_GAVE_UP` when its background work cannot continue (so the
supervisor restarts it), 2 when its settings or transport are refused."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from services.common.messaging import NodeIdentity
from services.common.metrics import configure_metrics, shutdown_metrics
from services.common.service import EXIT_GAVE_UP, ServiceDefinition, ServiceRuntime
from services.common.settings import NodeSettings
from services.common.telemetry import configure_logging, configure_tracing, shutdown_tracing
from services.common.transport import TransportError

log = logging.getLogger("services.common.service")


def main(definition: ServiceDefinition, argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m services.{definition.name}")
    parser.add_argument("role", nargs="?", default="all", choices=["all", "api", "worker"])
    parser.add_argument(
        "--rebuild-views", action="store_true", help="rebuild the read models from the events"
    )
    options = parser.parse_args(argv)
    try:
        settings = NodeSettings.from_env()
    except ValueError as error:
        print(f"{definition.name}: {error}", file=sys.stderr)
        sys.exit(2)
    configure_logging(settings.log_level, definition.name, settings.node_id)
    identity = NodeIdentity(settings.node_id, settings.region)
    configure_tracing(definition.name, identity)
    try:
        configure_metrics(definition.name, identity, settings.metrics_port, settings.listen_host)
    except OSError as error:
        log.error("cannot serve metrics on port %d: %s", settings.metrics_port, error)
        sys.exit(2)
    roles = ("api", "worker") if options.role == "all" else (options.role,)
    try:
        status = asyncio.run(_serve(definition, settings, roles, options.rebuild_views))
    except TransportError as error:
        log.error("%s", error)
        status = 2
    finally:
        shutdown_tracing()
        shutdown_metrics()
    if status:
        sys.exit(status)


async def _serve(
    definition: ServiceDefinition,
    settings: NodeSettings,
    roles: Sequence[str],
    rebuild_views: bool,
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runtime = ServiceRuntime(definition, settings, roles=roles, rebuild_views=rebuild_views)
    await runtime.start()
    stopped = asyncio.create_task(stop.wait())
    gave_up = asyncio.create_task(runtime.gave_up.wait())
    await asyncio.wait([stopped, gave_up], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    gave_up.cancel()
    log.info("stopping %s", definition.name)
    await runtime.stop()
    return EXIT_GAVE_UP if runtime.fatal else 0
