"""Where a service's gRPC handlers run blocking code (eventsourcing and psycopg block)."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from services.common.errors import Unavailable

T = TypeVar("T")
P = ParamSpec("P")


class ApiWork:
    """Where a service's gRPC handlers run blocking application code.

    Its own threads, as many as the store has connections (more would only
    queue inside the store's pool), apart from the health checks. A call that
    is cancelled or whose deadline passes while it waits for a thread never
    starts (asyncio cancels the queued work). While health finds the store
    unreachable, calls fail at once with UNAVAILABLE instead of tying up
    threads in the store library's own retries.
    """

    def __init__(self, threads: int, name: str = "api") -> None:
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix=name)
        self.store_available = True

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if not self.store_available:
            raise Unavailable("the store is unavailable; retry shortly")
        context = contextvars.copy_context()
        call = functools.partial(context.run, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


_api_work: contextvars.ContextVar[ApiWork | None] = contextvars.ContextVar(
    "copnet_api_work", default=None
)


def use_api_work(work: ApiWork | None) -> contextvars.Token[ApiWork | None]:
    """Set by the call interceptor: the calls of this server run on `work`."""
    return _api_work.set(work)


def reset_api_work(token: contextvars.Token[ApiWork | None]) -> None:
    _api_work.reset(token)


def current_api_work() -> ApiWork | None:
    return _api_work.get()
