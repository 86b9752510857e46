"""Wakes the followers of an application's log when this process records events.

Followers also poll on a timer, so writes from other processes are seen too;
the signal only makes the common, same-process case fast.
"""

from __future__ import annotations

import asyncio
import threading


class ChangeSignal:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._latest = 0
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def latest(self) -> int:
        return self._latest

    def notify(self, position: int) -> None:
        with self._condition:
            self._latest = max(self._latest, position)
            self._condition.notify_all()
            waiters = list(self._async_waiters)
        for loop, woken in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(woken.set)

    def wake_all(self) -> None:
        """Wakes every waiter without a new position (e.g. so they notice a shutdown)."""
        with self._condition:
            self._condition.notify_all()
            waiters = list(self._async_waiters)
        for loop, woken in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(woken.set)

    def wait(self, after: int, timeout: float) -> int:
        """Blocks until a position beyond `after` is signalled, or the timeout passes."""
        with self._condition:
            self._condition.wait_for(lambda: self._latest > after, timeout=timeout)
            return self._latest

    async def wait_async(self, after: int, timeout: float) -> int:
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        waiter = (loop, woken)
        with self._condition:
            if self._latest > after:
                return self._latest
            self._async_waiters.add(waiter)
        try:
            await asyncio.wait_for(woken.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._condition:
                self._async_waiters.discard(waiter)
        return self._latest
