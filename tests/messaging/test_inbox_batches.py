"""Batched inboxes keep every guarantee when their process is killed in the middle of a batch.

The inbox runs in a process of its own (`tests.support.ledger`) over a real nats-server and
a SQLite file; the test kills it with SIGKILL while its batch's transaction is open, adds
events while it is dead, and starts another: every event is applied exactly once, in
stream order. The killed batch is a short one (fewer messages than the consumer lets be
in flight), so JetStream would deliver newer messages to the successor before redelivering
the unacknowledged ones; were they applied first, the high-water mark would drop the
older ones as duplicates (lost), which this test shows does not happen.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.service import ServiceRuntime, ServiceThread
from services.common.sqlstore import SqlStore
from services.registry.service import DEFINITION
from tests.support.ledger import IDENTITY, EventLedger, sqlite_env
from tests.support.registry_load import RegistryLoad
from tests.support.streams import read_stream
from tests.support.waiting import eventually


@pytest.fixture
def registry(node_settings, nats_server):
    settings = node_settings.with_overrides(nats_url=nats_server.url)
    thread = ServiceThread(lambda: ServiceRuntime(DEFINITION, settings, roles=("worker",)))
    runtime = thread.start()
    yield runtime
    thread.stop()


def positions(nats_url: str) -> list[int]:
    return [m.envelope.position for m in read_stream(nats_url, IDENTITY.stream_name)]


def relayed_everything(runtime: ServiceRuntime) -> bool:
    return runtime.relay.position == runtime.app.recorder.max_notification_id()


def start_ledger(nats_url: str, db_file: Path, batch: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.ledger", nats_url, str(db_file),
         "--batch", str(batch), *extra],
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip


def test_a_process_killed_in_the_middle_of_a_batch_loses_and_repeats_nothing(
    registry, nats_server, tmp_path
):
    load = RegistryLoad(registry.app)
    while len(positions(nats_server.url)) < 25:
        load.step()
    eventually(lambda: relayed_everything(registry))
    first = len(positions(nats_server.url))
    # A batch size that leaves a short last batch of at least 3 messages.
    batch = next(b for b in (10, 9, 8, 7, 6) if first % b >= 3)
    stall_at = (first // batch) * batch + 2  # the second message of that short batch
    db_file, marker = tmp_path / "ledger.sqlite", tmp_path / "stalled"
    ledger = EventLedger(SqlStore("tests_ledger", sqlite_env(db_file)))
    process = start_ledger(
        nats_server.url, db_file, batch, "--stall-at", str(stall_at), "--marker", str(marker)
    )
    try:
        eventually(marker.exists, timeout=30)
        # The full batches before it are in; the short one is open, and dies with it.
        assert len(ledger.counts()) == (first // batch) * batch
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    for _ in range(4):  # newer events, published while no inbox runs
        load.step()
    eventually(lambda: relayed_everything(registry))
    stream = positions(nats_server.url)
    assert len(stream) >= first + batch
    successor = start_ledger(nats_server.url, db_file, batch)
    try:
        eventually(lambda: len(ledger.counts()) == len(stream), timeout=30)
        counts = ledger.counts()
        assert set(counts.values()) == {1}, "an event took effect twice"
        assert ledger.applied_order() == stream, "applied out of stream order"
    finally:
        successor.terminate()
        successor.wait(10)
