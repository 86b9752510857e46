"""`copnet rebuild-views`: a read model emptied behind the service's back is whole again after
the command, which exits; it refuses while the node runs (the data directory's lock)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.common.supervision import DataDirLock
from services.node import claim_data_dir
from services.registry.domain import OrganisationKind
from services.registry.service import DEFINITION as REGISTRY
from services.registry.views.directory import Directory
from tests.support.events_world import cmd
from tests.support.node_process import COPNET


def copnet(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
    return subprocess.run([*COPNET, *args], capture_output=True, text=True, env=env, timeout=120)


def count(settings: NodeSettings) -> int:
    runtime = ServiceRuntime(REGISTRY, settings, roles=("worker",))
    try:
        with runtime.view(Directory).store.read() as tx:
            return tx.one("SELECT COUNT(*) AS n FROM organisations")["n"]
    finally:
        runtime.app.close()


def test_rebuild_views_rebuilds_and_exits_and_refuses_while_the_node_runs(
    node_settings: NodeSettings, nats_server
):
    settings = node_settings.with_overrides(nats_url=nats_server.url)
    claim_data_dir(settings)
    thread = ServiceThread(lambda: ServiceRuntime(REGISTRY, settings, address="127.0.0.1:0"))
    registry = thread.start()
    for i in range(25):
        registry.app.create_organisation(
            cmd(), f"Trust {i}", OrganisationKind.NHS_TRUST, "sel", None
        )
    registry.follower(Directory.name).wait_for(registry.app.recorder.max_notification_id(), 10)
    with registry.view(Directory).store.transaction() as tx:
        tx.execute("DELETE FROM organisations")  # a read model damaged behind its back
    thread.stop()
    assert count(settings) == 0

    data_dir = str(settings.data_dir)
    lock = DataDirLock(Path(data_dir), "a running node")
    lock.acquire()
    try:
        refused = copnet("rebuild-views", "registry", "--data-dir", data_dir)
    finally:
        lock.release()
    assert refused.returncode == 2 and "stop the node first" in refused.stderr

    done = copnet("rebuild-views", "registry", "--data-dir", data_dir)
    assert done.returncode == 0, done.stderr
    assert "registry: directory rebuilt up to position" in done.stdout
    assert count(settings) == 25
    assert copnet("rebuild-views", "nosuch", "--data-dir", data_dir).returncode == 2
