"""`copnet rebuild-views [SERVICE...]`: rebuilds read models from the events, then exits.

With the node stopped (it takes the data directory's lock, so it refuses while `copnet
up` runs): each read model of each service is emptied and replayed from the service's
event store; a view fed by another service's events (an inbox view) is emptied and
refills from its stream at the service's next start (its consumer starts again from the
beginning; the service stays NOT_SERVING until it has caught up).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time

from services.common.inbox import InboxView
from services.common.service import ServiceRuntime
from services.common.settings import NodeSettings
from services.common.supervision import DataDirInUse, DataDirLock


def rebuild_views(settings: NodeSettings, services: list[str]) -> int:
    lock = DataDirLock(settings.data_dir, "copnet rebuild-views")
    try:
        lock.acquire(wait_for_orphans=0)
    except DataDirInUse as error:
        print(f"copnet rebuild-views: {error} (stop the node first)", file=sys.stderr)
        return 2
    try:
        for service in services:
            definition = importlib.import_module(f"services.{service}.service").DEFINITION
            runtime = ServiceRuntime(definition, settings, roles=("api",), rebuild_views=True)
            try:
                for name, follower in runtime.followers.items():
                    started = time.monotonic()
                    follower.catch_up()
                    print(
                        f"{service}: {name} rebuilt up to position {follower.position} "
                        f"in {time.monotonic() - started:.1f}s"
                    )
                for name, view in runtime.projections.items():
                    if isinstance(view, InboxView):
                        print(f"{service}: {name} emptied; it refills from its stream at start")
            finally:
                asyncio.run(runtime.stop())
    finally:
        lock.release()
    return 0
