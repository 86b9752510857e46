"""What a node's processes spend their samples on: py-spy's collapsed stacks sorted into
activities, the share of named hot spots, and the top functions.

Used by bench/node_harness.py's `Profiles` (py-spy record --full-filenames --format raw).
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Named costs: a sample is the innermost frame on its stack that names one of these
# (in this order when a frame names several); else the innermost frame naming one of
# GENERAL below; else "other".
SPECIFIC: list[tuple[str, tuple[str, ...]]] = [
    ("token verification (JWT, Ed25519)", ("TokenAuthority.verify", "/jwt/")),
    ("tracing (OpenTelemetry)", ("/opentelemetry/",)),
    ("NATS ack (ack_sync, ack)", ("ack_sync (", "Msg.ack (")),
    ("NATS fetch (pull consumer)", ("fetch (", "_fetch_one (", "_fetch_n (")),
    ("NATS publish (JetStream publish, PubAck)", ("JetStreamContext.publish (",)),
    ("store: commit", ("commit (", "_commit_gen (")),
    ("store: connection pool", ("ConnectionPool", "get_connection (", "/psycopg_pool/")),
    ("JSON (encode, decode)", ("/json/",)),
    ("protobuf (parse, serialise, Any)", ("/google/protobuf/",)),
    ("TLS (ssl)", ("/ssl.py", "/sslproto.py")),
]
GENERAL: list[tuple[str, tuple[str, ...]]] = [
    ("store: SQL (execute, fetch)", ("/psycopg/", "/eventsourcing/sqlite.py", "/sqlite3/")),
    ("NATS client (protocol, reading)", ("/nats/",)),
    ("inbox bookkeeping (tracking, envelopes)", ("/common/inbox.py", "/common/envelopes.py")),
    ("relay (store to NATS)", ("/common/relay.py",)),
    ("projection followers", ("/common/projection.py",)),
    ("read models, mirrors, handlers", ("/views/", "/contracts/", "/mirror", "/handlers")),
    ("domain and application", ("/eventsourcing/", "/domain/", "/application", "aggregate")),
    ("servicer, guard, interceptors", ("/grpc_api/", "/common/servicer", "/common/grpc_server")),
    ("gRPC core (Cython, C; with --native)", ("/_cython/", "cygrpc", "grpc_core", "libgrpc")),
    ("gRPC (Python side)", ("/grpc/",)),
    ("thread hand-off (to_thread, executor, locks)", ("/concurrent/futures/", "/threading.py")),
    ("asyncio event loop", ("/asyncio/", "/selectors.py")),
]
# Shares of samples with the marker anywhere on the stack (they overlap).
HOT_SPOTS: list[tuple[str, str]] = [
    ("Inbox (one message: fetch, apply, ack)", "Inbox."),
    ("Msg.ack_sync", "ack_sync ("),
    ("PullSubscription.fetch", ".fetch ("),
    ("asyncio.to_thread", "to_thread ("),
    ("OpenTelemetry", "/opentelemetry/"),
    ("JSON", "/json/"),
    ("token verification", "TokenAuthority.verify"),
    ("store commit", "commit ("),
    ("Relay", "Relay."),
    ("ProjectionFollower", "ProjectionFollower"),
    ("gRPC servicer", "/grpc_api/"),
]
# Without --native, a sample whose leaf is the event loop's Handle._run is in C code the
# loop called: in an API process mostly grpc.aio's Cython core.
C_FROM_LOOP = "C called by the event loop (gRPC core, without --native)"


def _named(frame: str, kinds: list[tuple[str, tuple[str, ...]]]) -> str | None:
    for name, markers in kinds:
        if any(marker in frame for marker in markers):
            return name
    return None


def activity_of(stack: Sequence[str]) -> str:
    if stack and stack[-1].startswith("Handle._run "):
        return C_FROM_LOOP
    for kinds in (SPECIFIC, GENERAL):
        for frame in reversed(stack):
            if (name := _named(frame, kinds)) is not None:
                return name
    return "other"


def short(frame: str) -> str:
    """'func (/path/to/pkg/module.py:12)' -> 'func (pkg/module.py)'."""
    name, _, where = frame.partition(" (")
    module = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(module).parts
    return f"{name} ({'/'.join(parts[-2:])})" if module else name


def summarise(collapsed: str, top: int = 25) -> dict[str, Any]:
    """Shares of the process's samples: per activity, per hot spot, per innermost function
    (self), and per function anywhere on the stack (inclusive)."""
    activities: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    anywhere: collections.Counter[str] = collections.Counter()
    hot: collections.Counter[str] = collections.Counter()
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
        for name, marker in HOT_SPOTS:
            if any(marker in frame for frame in stack):
                hot[name] += count

    def shares(counter: collections.Counter[str], limit: int | None) -> list[list[Any]]:
        return [[f, round(c / total, 3)] for f, c in counter.most_common(limit)] if total else []

    return {
        "samples": total,
        "activities": shares(activities, None),
        "hot_spots": shares(hot, None),
        "self": shares(own, top),
        "inclusive": shares(anywhere, top),
    }
