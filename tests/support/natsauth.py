"""Connecting tests to a node's own nats-server, which admits only keys it knows.

A test connects as the node's operator (`<data-dir>/secrets/nats/operator.nk`,
written by `node_nats_server`): `remember(url, data_dir)` once, where the node's
server is started, then `connect(url)` anywhere (a server started without users,
e.g. a bare test server, takes no key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NATS

from services.common.nodeauth import OPERATOR, NodeUsers

_DATA_DIRS: dict[str, Path] = {}


def remember(url: str, data_dir: Path) -> None:
    _DATA_DIRS[url] = data_dir


def options(url: str) -> dict[str, Any]:
    data_dir = _DATA_DIRS.get(url)
    if data_dir is None:
        return {}
    seed_file = NodeUsers(data_dir).seed_file(OPERATOR)
    return {"nkeys_seed_str": seed_file.read_text().strip()} if seed_file.exists() else {}


async def connect(url: str, **extra: Any) -> NATS:
    return await nats.connect(url, **options(url), **extra)
