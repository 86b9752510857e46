"""Free loopback ports for the tests' and benchmarks' servers."""

from __future__ import annotations

import random
import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_port_block(size: int) -> int:
    """A base port with `size` free ports from it (each service takes base + its index).

    Chosen below Linux's ephemeral range (32768-60999), so that client sockets of
    other processes cannot take one between this check and the services' bind.
    """
    for _ in range(500):
        base = random.randrange(20000, 30000 - size)
        if all(port_free(base + offset) for offset in range(size)):
            return base
    raise RuntimeError("no block of free ports found")


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
