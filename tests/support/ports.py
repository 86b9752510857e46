"""Free loopback ports for the tests' and benchmarks' servers.

Ports are chosen below Linux's ephemeral range (32768-60999), so that client sockets and
servers bound to port 0 (every process's) cannot take one between this check and the
server's own bind; each pytest-xdist worker draws from its own slice of that range, and
no port is handed out twice by one process.
"""

from __future__ import annotations

import os
import random
import socket
import threading

LOWEST, HIGHEST = 20000, 32000  # [LOWEST, HIGHEST)

_handed_out: set[int] = set()
_lock = threading.Lock()


def _slice() -> range:
    """This process's ports: its xdist worker's share of the range (all of it otherwise)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or workers <= 1:
        return range(LOWEST, HIGHEST)
    index = int(worker[2:]) % workers
    span = (HIGHEST - LOWEST) // workers
    return range(LOWEST + index * span, LOWEST + (index + 1) * span)


def free_port() -> int:
    return free_port_block(1)


def free_port_block(size: int) -> int:
    """A base port with `size` free ports from it (each service takes base + its index)."""
    ports = _slice()
    with _lock:
        for _ in range(1000):
            base = random.randrange(ports.start, ports.stop - size)
            block = range(base, base + size)
            if not _handed_out.intersection(block) and all(port_free(p) for p in block):
                _handed_out.update(block)
                return base
    raise RuntimeError(f"no block of {size} free ports in {ports}")


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
