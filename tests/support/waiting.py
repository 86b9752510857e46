"""Waiting for something asynchronous: the one way the tests wait.

Wait for the exact state the next assertion reads, with a deadline; never sleep a
fixed time and never read an asynchronous result once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    check: Callable[[], T],
    timeout: float = 60.0,
    interval: float = 0.05,
    message: str | Callable[[], str] = "",
) -> T:
    """Calls `check` until it returns something truthy, and returns that; AssertionError
    (with `message`, and what `check` last returned) once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            said = message() if callable(message) else message
            raise AssertionError(
                f"condition not met within {timeout}s{f' ({said})' if said else ''}; "
                f"last result: {result!r}"
            )
        time.sleep(interval)
