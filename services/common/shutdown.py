"""Stopping background work within a bounded time.

A service stops its tasks together under one deadline: whatever has not finished by
then is cancelled, and whatever ignores the cancellation too is named in the log and
left behind, so that stopping a service never hangs on one stuck piece of work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from typing import Any

log = logging.getLogger(__name__)

# How long a cancelled task may take to finish before it is left behind.
CANCEL_WAIT = 1.0


async def finish(
    tasks: Iterable[asyncio.Task[Any]], timeout: float, what: str = "service"
) -> list[str]:
    """Waits up to `timeout` seconds for all `tasks` together, then cancels the ones still
    running and waits CANCEL_WAIT more. The names of the tasks that did not stop."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    if pending:
        _, pending = await asyncio.wait(pending, timeout=max(timeout, 0.0))
    if pending:
        log.warning(
            "%s: %s did not stop within %.1fs; cancelling",
            what,
            ", ".join(sorted(task.get_name() for task in pending)),
            timeout,
        )
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_WAIT)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.error("%s: %s failed while stopping", what, task.get_name(), exc_info=error)
    stuck = sorted(task.get_name() for task in pending)
    if stuck:
        log.error("%s: %s ignored cancellation; left behind", what, ", ".join(stuck))
    return stuck


async def bounded(name: str, step: Awaitable[Any], timeout: float, what: str = "service") -> bool:
    """Runs one step of stopping (closing a connection, joining a thread) for at most
    `timeout` seconds; False (and logged) if it had to be left behind."""

    async def run() -> Any:
        return await step

    task = asyncio.create_task(run(), name=name)
    return not await finish([task], timeout, what)
