"""How background work reports whether it is making progress, and how it waits to retry.

Every worker of a service (relay, inboxes, followers, dispatcher, federation
links, the NATS connection itself) owns a `Progress`. It says `ok()` each time
it completes a cycle, `failing(error)` each time it meets an error it will
retry, and `alarm(reason)` when it has stopped on purpose until an operator
acts. The service is ready (gRPC health SERVING) only while every `Progress`
is healthy: no error since the last success, no alarm, and a beat within
`stall_after` seconds (a worker stuck inside a call stops beating).

The first error after a success is logged at ERROR at once; while the errors
go on, a reminder at WARNING every 30 seconds, so an outage is loud at once
without flooding the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

DEFAULT_STALL_AFTER = 60.0
# While an error goes on, how often it is logged again.
REMIND_EVERY = 30.0


def describe_error(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class Progress:
    """Whether one background worker is making progress."""

    def __init__(self, name: str, stall_after: float = DEFAULT_STALL_AFTER) -> None:
        self.name = name
        self.stall_after = stall_after
        self._lock = threading.Lock()
        self._beat = time.monotonic()
        self._error = ""
        self._failing_since: float | None = None
        self._failures = 0
        self._logged_at = 0.0
        self._alarm = ""
        self._held = ""

    def hold(self, reason: str) -> None:
        """Working, but not ready to serve (e.g. a read model rebuilding) until `release`."""
        with self._lock:
            new, self._held = not self._held, reason
            self._beat = time.monotonic()
        if new:
            log.info("%s: %s", self.name, reason)

    def release(self) -> None:
        with self._lock:
            released, self._held = bool(self._held), ""
        if released:
            log.info("%s is ready", self.name)

    def beat(self) -> None:
        """Still alive (e.g. waiting for work): no news is not a stall."""
        with self._lock:
            self._beat = time.monotonic()

    def ok(self) -> None:
        """A cycle completed: any earlier error is over."""
        with self._lock:
            self._beat = time.monotonic()
            recovered = self._failing_since is not None
            outage = time.monotonic() - self._failing_since if self._failing_since else 0.0
            self._error, self._failing_since, self._failures = "", None, 0
        if recovered:
            log.info("%s is making progress again (after %.1fs)", self.name, outage)

    def failing(self, error: BaseException | str, retry_in: float | None = None) -> None:
        """An error the worker will retry. The first in a row is logged at ERROR at once;
        while it goes on, a reminder at most every `REMIND_EVERY` seconds."""
        text = describe_error(error)
        now = time.monotonic()
        with self._lock:
            self._beat = now
            first = self._failing_since is None
            if first:
                self._failing_since = now
            self._error = text
            self._failures += 1
            remind = not first and now - self._logged_at >= REMIND_EVERY
            if first or remind:
                self._logged_at = now
            failures, since = self._failures, now - (self._failing_since or now)
        retry = f"; retrying in {retry_in:.1f}s" if retry_in is not None else ""
        if first:
            exc_info = error if isinstance(error, BaseException) else None
            if exc_info is not None and _is_expected(exc_info):
                exc_info = None
            log.error("%s: %s%s", self.name, text, retry, exc_info=exc_info)
        elif remind:
            log.warning(
                "%s: still failing (%d times in %.0fs): %s", self.name, failures, since, text
            )
        else:
            log.debug("%s: %s%s", self.name, text, retry)

    def alarm(self, reason: str) -> None:
        """Stopped until an operator acts; unhealthy until `clear_alarm`."""
        with self._lock:
            new = reason != self._alarm
            self._alarm = reason
            self._beat = time.monotonic()
        if new:
            log.error("%s STOPPED: %s", self.name, reason)

    def clear_alarm(self) -> None:
        with self._lock:
            cleared, self._alarm = bool(self._alarm), ""
        if cleared:
            log.warning("%s: alarm cleared", self.name)

    @property
    def holding(self) -> bool:
        """Not ready only because it is still catching up (`hold`), not because of a fault."""
        with self._lock:
            quiet = time.monotonic() - self._beat > self.stall_after
            return bool(self._held) and not self._alarm and not self._error and not quiet

    @property
    def alarmed(self) -> bool:
        return bool(self._alarm)

    @property
    def failures(self) -> int:
        return self._failures

    def problem(self) -> str:
        """Why this worker is not healthy, or "" when it is."""
        with self._lock:
            if self._alarm:
                return f"{self.name}: {self._alarm}"
            if self._held:
                return f"{self.name}: {self._held}"
            if self._error:
                since = time.monotonic() - (self._failing_since or time.monotonic())
                return f"{self.name}: {self._error} (for {since:.0f}s)"
            quiet = time.monotonic() - self._beat
            if quiet > self.stall_after:
                return f"{self.name}: no progress for {quiet:.0f}s"
        return ""

    @property
    def healthy(self) -> bool:
        return not self.problem()


# How often readiness is worked out again (store reachable, workers making progress); more
# often until a service first reports SERVING, so that a start is not held up by the interval.
HEALTH_CHECK_INTERVAL = 1.0
STARTUP_CHECK_INTERVAL = 0.1
STARTUP_WINDOW = 15.0  # seconds after its start


def check_interval(started: float, serving: bool | None) -> float:
    """The wait before the next readiness check of a runtime started at `started`
    (`time.monotonic()`), SERVING now or not."""
    early = not serving and time.monotonic() - started < STARTUP_WINDOW
    return STARTUP_CHECK_INTERVAL if early else HEALTH_CHECK_INTERVAL


# Outages of what a service depends on: retried, and logged without a traceback. Each is
# (module, class); a library's only when this process imported it (no error of a library
# it never loaded can be raised), so a process without a store or NATS loads neither.
OUTAGES = (
    ("psycopg", "OperationalError"),
    ("eventsourcing.persistence", "InterfaceError"),
    ("eventsourcing.persistence", "OperationalError"),
    ("nats.errors", "Error"),
    ("nats.js.errors", "Error"),
)


def outages() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [OSError, TimeoutError, sqlite3.OperationalError]
    for module, name in OUTAGES:
        loaded = sys.modules.get(module)
        if loaded is not None:
            found.append(getattr(loaded, name))
    return tuple(found)


def _is_expected(error: BaseException) -> bool:
    """Anything but an outage (a bug, say) is logged with its traceback."""
    return isinstance(error, outages())


@dataclass
class Backoff:
    """Capped exponential back-off with jitter; `reset()` after a success."""

    base: float = 0.2
    cap: float = 5.0
    attempts: int = 0

    def next_delay(self) -> float:
        self.attempts += 1
        delay = min(self.cap, self.base * 2 ** min(self.attempts - 1, 20))
        return delay * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self.attempts = 0

    async def wait(self, stopping: asyncio.Event, delay: float | None = None) -> None:
        """Sleeps the next delay, or until `stopping` is set."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), self.next_delay() if delay is None else delay)
