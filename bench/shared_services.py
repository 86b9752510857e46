"""A prototype, for `bench.node_memory --shared`: the four services in ONE process (each on
its own gRPC port with its own health, as `copnet up` serves them), to measure what one
shared process would save. Not how a node runs: `copnet up` starts a process per service.

    COPNET_*=... python -m bench.shared_services
"""

from __future__ import annotations

import asyncio
import importlib
import signal

from services.common.logs import configure_logging
from services.common.messaging import NodeIdentity
from services.common.service import ServiceRuntime
from services.common.settings import NodeSettings, available_services
from services.common.telemetry import configure_tracing


async def serve(settings: NodeSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runtimes = []
    for name in available_services():
        definition = importlib.import_module(f"services.{name}.service").DEFINITION
        runtime = ServiceRuntime(definition, settings)
        await runtime.start()
        runtimes.append(runtime)
    await stop.wait()
    for runtime in reversed(runtimes):
        await runtime.stop()


def main() -> None:
    settings = NodeSettings.from_env()
    configure_logging(settings.log_level, "services", settings.node_id)
    configure_tracing("services", NodeIdentity(settings.node_id, settings.region))
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
