"""`copnet backup` while the registry writes, then `copnet restore` into a fresh directory: the
restored registry lists what its restored events say, and its next events are accepted by a
consumer that had already seen positions past the back-up (the new relay epoch), over a
real nats-server."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.contracts.registry_mirror import RegistryMirror
from services.events.service import DEFINITION as EVENTS
from services.node import claim_data_dir
from services.registry.domain import OrganisationKind
from services.registry.service import DEFINITION as REGISTRY
from services.registry.views.directory import Directory
from tests.support.events_world import cmd
from tests.support.node_process import COPNET
from tests.support.waiting import eventually


def copnet(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
    return subprocess.run([*COPNET, *args], capture_output=True, text=True, env=env, timeout=120)


def names(view: Directory | RegistryMirror, table: str) -> set[str]:
    with view.store.read() as tx:
        return {row["name"] for row in tx.all(f"SELECT name FROM {table}")}


def start(definition, settings: NodeSettings, threads: list[ServiceThread]) -> ServiceRuntime:
    thread = ServiceThread(lambda: ServiceRuntime(definition, settings, address="127.0.0.1:0"))
    threads.append(thread)
    return thread.start()


def test_a_node_restored_from_a_backup_taken_under_load_is_heard_by_its_consumers(
    node_settings: NodeSettings, nats_server, tmp_path: Path
):
    settings = node_settings.with_overrides(nats_url=nats_server.url)
    claim_data_dir(settings)
    threads: list[ServiceThread] = []
    try:
        registry = start(REGISTRY, settings, threads)
        events = start(EVENTS, settings, threads)  # the consumer (a peer would do the same)
        mirror = events.view(RegistryMirror)
        written: list[str] = []
        twenty, backed_up = threading.Event(), threading.Event()

        def load() -> None:  # until 20 more after the back-up is complete
            after = 0
            while after < 20:
                name = f"Trust {len(written):03d}"
                kind = OrganisationKind.NHS_TRUST
                registry.app.create_organisation(cmd(), name, kind, "sel", None)
                written.append(name)
                after += backed_up.is_set()
                if len(written) == 20:
                    twenty.set()

        writer = threading.Thread(target=load)
        writer.start()
        assert twenty.wait(30)
        taken = copnet("backup", "--data-dir", str(settings.data_dir), "--to", str(tmp_path / "b"))
        backed_up.set()
        writer.join(60)
        assert taken.returncode == 0, taken.stderr
        manifest = json.loads((tmp_path / "b" / "backup.json").read_text())
        assert "registry/events.sqlite" in manifest["stores"]
        assert manifest["stores"][-1].endswith("events.sqlite")  # event stores last
        assert (tmp_path / "b" / "secrets").is_dir()
        # The consumer has everything, positions far past the back-up's.
        eventually(lambda: names(mirror, "mirror_organisations") == set(written), 30)

        threads.pop(0).stop()  # the registry's disk is lost
        restored = settings.with_overrides(data_dir=tmp_path / "restored")
        done = copnet("restore", str(tmp_path / "b"), "--data-dir", str(restored.data_dir))
        assert done.returncode == 0, done.stderr
        assert "registry 1" in done.stdout
        refused = copnet("restore", str(tmp_path / "b"), "--data-dir", str(restored.data_dir))
        assert refused.returncode == 2 and "not empty" in refused.stderr

        registry = start(REGISTRY, restored, threads)
        recorded = registry.app.recorder.max_notification_id()
        registry.follower(Directory.name).wait_for(recorded, 20)
        kept = names(registry.view(Directory), "organisations")
        assert {"Trust 000", "Trust 019"} <= kept < set(written)  # what the back-up held

        # Its next event takes a position the consumer has seen; the new epoch gets it heard.
        registry.app.create_organisation(
            cmd(), "After the restore", OrganisationKind.OTHER, "sel", None
        )
        eventually(lambda: "After the restore" in names(mirror, "mirror_organisations"), 30)
        assert registry.relay is not None and registry.relay.epoch == 1
    finally:
        for thread in threads:
            thread.stop()
