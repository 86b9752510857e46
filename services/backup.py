"""`copnet backup` and `copnet restore`: a node's state, taken while it runs, put back in a
fresh data directory.

A back-up holds every SQLite store of the data directory (each copied with SQLite's online
back-up, so each is consistent while the services write), the keys and credentials
(`secrets/`, TLS files, the cached region directory) and `node.json`. Every other store is
copied before the event stores, so no read model or relay in the copy is ahead of its
events. JetStream is not copied: the stores are the source of truth. After a restore each
relay publishes its whole log again, and other nodes' messages are sourced again from their
streams (kept 14 days; consumers drop what their tracking already holds).

A restored node is behind what its peers have seen: the events it recorded after the
back-up are lost, and its next events would take positions peers already hold. So a restore
starts a new relay epoch (`StreamGuard.start_new_epoch`): everything the node publishes from
then on carries it (`Envelope.epoch`, `Nats-Msg-Id` `<node>.<service>.e<epoch>.<position>`),
and consumers track each epoch apart, so nothing new is dropped as already seen.
PostgreSQL stores are backed up with PostgreSQL's own tools (docs/runbook.md).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.common.messaging import NodeIdentity
from services.common.settings import NodeSettings, available_services
from services.common.sqlstore import SqlStore
from services.common.streamguard import StreamGuard

MANIFEST = "backup.json"
# Not part of a back-up: the lock, nats-server's store, state and logs, SQLite side files.
SKIPPED_DIRS = {"jetstream", "logs"}
SKIPPED_SUFFIXES = (".sqlite-wal", ".sqlite-shm", ".sqlite-journal", ".log", ".ports", ".lock")
SKIPPED_NAMES = {"copnet.lock", "endpoints.json", "links.json"}


def _wanted(path: Path, root: Path) -> bool:
    relative = path.relative_to(root)
    if SKIPPED_DIRS & set(relative.parts[:-1]) or path.name in SKIPPED_NAMES:
        return False
    return path.is_file() and not path.name.endswith(SKIPPED_SUFFIXES)


def _copy_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    target.chmod(0o600)


def backup(settings: NodeSettings, target: Path) -> dict[str, Any]:
    """Copies the node's state into `target` (which must not exist or be empty)."""
    root = settings.data_dir
    if not (root / "node.json").exists():
        raise ValueError(f"{root} is not a node's data directory")
    if settings.postgres_dsn:
        raise ValueError(
            "the stores are in PostgreSQL: back them up with pg_dump (docs/runbook.md)"
        )
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} is not empty")
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o700)
    started = time.monotonic()
    files = sorted(p for p in root.rglob("*") if _wanted(p, root))
    stores = [p for p in files if p.suffix == ".sqlite"]
    # Event stores last: no relay or read model in the copy is ahead of its events.
    stores.sort(key=lambda p: p.name == "events.sqlite")
    for path in stores:
        _copy_sqlite(path, target / path.relative_to(root))
    others = [p for p in files if p.suffix != ".sqlite"]
    for path in others:
        copy = target / path.relative_to(root)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
    manifest = {
        **json.loads((root / "node.json").read_text()),
        "taken_at": datetime.now(tz=UTC).isoformat(),
        "stores": [str(p.relative_to(root)) for p in stores],
        "files": [str(p.relative_to(root)) for p in others],
        "seconds": round(time.monotonic() - started, 2),
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def restore(source: Path, data_dir: Path) -> dict[str, int]:
    """Puts a back-up in a fresh data directory and starts a new relay epoch for each
    service (with a request to republish its log). Returns the epochs."""
    manifest_file = source / MANIFEST
    if not manifest_file.exists():
        raise ValueError(f"{source} is not a copnet back-up (no {MANIFEST})")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise ValueError(f"{data_dir} is not empty: restore into a fresh directory")
    manifest = json.loads(manifest_file.read_text())
    for path in sorted(source.rglob("*")):
        if path.is_file() and path != manifest_file:
            copy = data_dir / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
    data_dir.chmod(0o700)
    settings = NodeSettings(
        node_id=manifest["node_id"], region=manifest["region"], data_dir=data_dir
    )
    identity = NodeIdentity(settings.node_id, settings.region)
    epochs = {}
    for service in available_services():
        if not (data_dir / service / "relay.sqlite").exists():
            continue
        store = SqlStore(f"{service}_relay", settings.stores.tracking_env(service, "relay"))
        try:
            epochs[service] = StreamGuard(store, identity.stream_name).start_new_epoch()
        finally:
            store.close()
    return epochs


def run_backup(settings: NodeSettings, target: Path) -> int:
    try:
        manifest = backup(settings, target)
    except (ValueError, OSError, sqlite3.Error) as error:
        print(f"copnet backup: {error}", file=sys.stderr)
        return 2
    stores, files = len(manifest["stores"]), len(manifest["files"])
    print(
        f"backed up node {manifest['node_id']} into {target}: {stores} stores, {files} other "
        f"files in {manifest['seconds']}s"
    )
    return 0


def run_restore(source: Path, data_dir: Path) -> int:
    try:
        epochs = restore(source, data_dir)
    except (ValueError, OSError) as error:
        print(f"copnet restore: {error}", file=sys.stderr)
        return 2
    print(
        f"restored into {data_dir}; new relay epochs: "
        + ", ".join(f"{service} {epoch}" for service, epoch in epochs.items())
        + ". Start it with `copnet up`: each relay publishes its log again."
    )
    return 0
