"""What a node's processes spend their samples on: py-spy's collapsed stacks sorted into
activities (the innermost frame that names one decides), and the top functions.

Used by bench/node_harness.py's `Profiles` (py-spy record --full-filenames --format raw).
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# In order: a frame is the first activity whose markers it contains.
ACTIVITIES: list[tuple[str, tuple[str, ...]]] = [
    ("token verification (JWT, Ed25519)", ("TokenAuthority.verify", "/jwt/", "/tokens.py")),
    ("tracing (OpenTelemetry)", ("/opentelemetry/", "/common/telemetry.py")),
    ("NATS ack (ack_sync, ack)", ("ack_sync (", "Msg.ack (", "Msg._ack")),
    ("NATS fetch (pull consumer)", ("fetch (", "_fetch_one", "_fetch_n")),
    ("NATS publish (relay's JetStream publish)", ("JetStreamContext.publish", "publish_async")),
    ("NATS client (protocol, reading)", ("/nats/",)),
    ("store: commit", ("commit (", "_commit_gen")),
    ("store: connection pool", ("ConnectionPool", "get_connection", "/psycopg_pool/")),
    ("store: SQL (execute, fetch)", ("/psycopg/", "/eventsourcing/sqlite.py", "/sqlite3/")),
    ("event encoding (mapper, JSON)", ("/json/", "to_stored_event", "to_domain_event")),
    ("protobuf", ("/google/protobuf/", "_pb2.py")),
    ("inbox bookkeeping (tracking, dedupe)", ("/common/inbox.py",)),
    ("relay (store to NATS)", ("/common/relay.py",)),
    ("projection followers", ("/common/projection.py",)),
    ("read models, mirrors, handlers", ("/views/", "/contracts/", "/mirror", "/handlers")),
    ("domain and application", ("/eventsourcing/", "/domain/", "/application", "aggregate")),
    ("servicer, guard, interceptors", ("/grpc_api/", "/common/servicer", "/common/grpc_server")),
    ("gRPC (Python side)", ("/grpc/",)),
    ("TLS (ssl)", ("/ssl.py", "/sslproto.py")),
    ("thread hand-off (to_thread, executor, locks)", ("/concurrent/futures/", "/threading.py")),
    ("asyncio event loop", ("/asyncio/", "/selectors.py")),
]
# Without --native, a sample whose leaf is the event loop's Handle._run is in C code the
# loop called: in an API process mostly grpc.aio's Cython core.
C_FROM_LOOP = "C called by the event loop (gRPC core, without --native)"


def activity_of(stack: Sequence[str]) -> str:
    if stack and stack[-1].startswith("Handle._run "):
        return C_FROM_LOOP
    for frame in reversed(stack):
        for name, markers in ACTIVITIES:
            if any(marker in frame for marker in markers):
                return name
    return "other"


def short(frame: str) -> str:
    """'func (/path/to/pkg/module.py:12)' -> 'func (pkg/module.py)'."""
    name, _, where = frame.partition(" (")
    module = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(module).parts
    return f"{name} ({'/'.join(parts[-2:])})" if module else name


def summarise(collapsed: str, top: int = 25) -> dict[str, Any]:
    """Shares of the process's samples: per activity, per innermost function (self), and
    per function anywhere on the stack (inclusive)."""
    activities: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    anywhere: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        stack = [f for f in stack_text.split(";") if f]
        if not stack:
            continue
        count = int(count_text)
        total += count
        activities[activity_of(stack)] += count
        own[short(stack[-1])] += count
        for frame in {short(f) for f in stack}:
            anywhere[frame] += count

    def shares(counter: collections.Counter[str], limit: int | None) -> list[list[Any]]:
        return [[f, round(c / total, 3)] for f, c in counter.most_common(limit)] if total else []

    return {
        "samples": total,
        "activities": shares(activities, None),
        "self": shares(own, top),
        "inclusive": shares(anywhere, top),
    }
