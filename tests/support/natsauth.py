"""Connecting tests to a node's own nats-server, which admits only keys it knows.

A test connects as the node's operator (`<data-dir>/secrets/nats/operator.nk`,
written by `node_nats_server`): `remember(url, data_dir)` once, where the node's
server is started, then `connect(url)` anywhere (a server started without users,
e.g. a bare test server, takes no key)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NATS

from services.common.nodeauth import OPERATOR, NodeUsers

_DATA_DIRS: dict[str, Path] = {}
_CAS: dict[str, Path] = {}


def remember(url: str, data_dir: Path, tls_ca: Path | None = None) -> None:
    """`tls_ca`: the CA of a server whose client port speaks TLS."""
    _DATA_DIRS[url] = data_dir
    if tls_ca is not None:
        _CAS[url] = tls_ca


def options(url: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if url in _CAS:
        found["tls"] = ssl.create_default_context(cafile=str(_CAS[url]))
    data_dir = _DATA_DIRS.get(url)
    if data_dir is None:
        return found
    seed_file = NodeUsers(data_dir).seed_file(OPERATOR)
    if seed_file.exists():
        found["nkeys_seed_str"] = seed_file.read_text().strip()
    return found


async def connect(url: str, **extra: Any) -> NATS:
    return await nats.connect(url, **options(url), **extra)
