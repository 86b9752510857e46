"""The relay against a real nats-server: every stored event on the stream exactly once."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from services.common.messaging import NodeIdentity
from services.common.natsserver import NatsServer
from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.registry.application import Registry
from services.registry.integration import REGISTRY
from services.registry.service import DEFINITION
from tests.support.registry_load import RegistryLoad
from tests.support.streams import expected_publications, read_stream
from tests.support.waiting import eventually

IDENTITY = NodeIdentity("testnode", "test-region")


def stream_contents(nats: NatsServer) -> dict[int, list[str]]:
    """Position -> subjects it was stored under in the node stream."""
    found: dict[int, list[str]] = {}
    for message in read_stream(nats.url, IDENTITY.stream_name):
        position = int(message.headers["copnet-position"])
        assert message.envelope.position == position
        assert message.headers["Nats-Msg-Id"] == f"testnode.registry.{position}"
        found.setdefault(position, []).append(message.subject)
    return found


def assert_exactly_once(app: Registry, nats: NatsServer) -> None:
    expected = expected_publications(app, REGISTRY, IDENTITY)
    assert expected, "the test stored nothing to relay"

    def complete() -> bool:
        return len(stream_contents(nats)) >= len(expected)

    eventually(complete, timeout=60)
    found = stream_contents(nats)
    duplicated = {p: s for p, s in found.items() if len(s) > 1}
    assert not duplicated, f"published more than once: {duplicated}"
    assert {p: s[0] for p, s in found.items()} == expected


def relay_runtime(settings: NodeSettings) -> ServiceThread:
    return ServiceThread(lambda: ServiceRuntime(DEFINITION, settings, roles=("worker",)))


@pytest.fixture
def settings(node_settings: NodeSettings, nats_server: NatsServer) -> NodeSettings:
    return node_settings.with_overrides(nats_url=nats_server.url)


def open_registry(settings: NodeSettings) -> Registry:
    settings.stores.prepare("registry")
    return Registry(env=settings.stores.application_env("registry"))


def test_events_reach_their_streams_with_identity_and_trace_headers(settings, nats_server):
    thread = relay_runtime(settings)
    runtime = thread.start()
    try:
        load = RegistryLoad(runtime.app)
        for _ in range(6):
            load.step()
        assert_exactly_once(runtime.app, nats_server)
        everything = read_stream(nats_server.url, IDENTITY.stream_name)
        local = [m for m in everything if m.subject.startswith("copnet-local.testnode.registry.")]
        assert {m.envelope.event_type for m in local} >= {"member_registered", "member_joined"}
        positions = [m.envelope.position for m in everything]
        assert positions == sorted(positions), "the node stream keeps the log's order"
        federated = [m for m in everything if not m.subject.startswith("copnet-local.")]

        def public_copied() -> bool:
            return len(read_stream(nats_server.url, IDENTITY.public_stream_name)) == len(federated)

        eventually(public_copied)
        public = read_stream(nats_server.url, IDENTITY.public_stream_name)
        assert all(m.subject.startswith("copnet.test-region.testnode.registry.") for m in public)
        assert not any(m.envelope.event_type.startswith("member") for m in public)
        first = public[0]
        assert first.headers["traceparent"].startswith("00-")
        assert first.envelope.payload.type_url.endswith("copnet.registry.v1.OrganisationRegistered")
        assert first.envelope.origin_node == "testnode"
    finally:
        thread.stop()


@pytest.mark.both_stores
def test_republishing_after_a_lost_position_stores_nothing_twice(settings, nats_server):
    """A crash after the PubAck but before the position was saved: everything is sent again."""
    thread = relay_runtime(settings)
    runtime = thread.start()
    load = RegistryLoad(runtime.app)
    for _ in range(5):
        load.step()
    assert_exactly_once(runtime.app, nats_server)
    thread.stop()

    app = open_registry(settings)
    relay_store_env = settings.stores.tracking_env("registry", "relay")
    from services.common.sqlstore import SqlStore

    tracking = SqlStore("registry_relay", relay_store_env)
    with tracking.transaction() as tx:
        tracking.forget_tracking(tx, "Registry")
    tracking.close()

    thread = relay_runtime(settings)
    runtime = thread.start()
    try:
        eventually(lambda: runtime.relay.position == app.recorder.max_notification_id())
        assert runtime.relay.stats.duplicates == len(expected_publications(app, REGISTRY, IDENTITY))
        assert runtime.relay.stats.published == 0
        assert_exactly_once(app, nats_server)
    finally:
        thread.stop()
        app.close()


def _relay_process(settings: NodeSettings, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings.to_env(), "COPNET_LOG_LEVEL": "WARNING"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.registry", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.both_stores
def test_relay_killed_at_random_points_while_commands_arrive(settings, nats_server, tmp_path):
    app = open_registry(settings)
    load = RegistryLoad(app)
    stop_writing = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            while not stop_writing.is_set():
                load.step()
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    rng = random.Random(20261123)
    log = tmp_path / "relay.log"
    try:
        for _ in range(6):
            relay = _relay_process(settings, log)
            stop_writing.wait(rng.uniform(0.8, 2.0))
            relay.kill()
            relay.wait(10)
    finally:
        stop_writing.set()
        writer.join(30)
    assert not errors, errors
    relay = _relay_process(settings, log)
    try:
        assert_exactly_once(app, nats_server)
    finally:
        relay.kill()
        relay.wait(10)
        app.close()


def test_nats_stopped_and_started_while_commands_arrive(settings, nats_server):
    thread = relay_runtime(settings)
    runtime = thread.start()
    load = RegistryLoad(runtime.app)
    try:
        for _ in range(5):
            load.step()
        eventually(lambda: runtime.relay.position == runtime.app.recorder.max_notification_id())
        nats_server.kill()  # no goodbye: acknowledged writes were fsynced
        # Longer than the relay's publish timeout, so its retries run out and back off.
        deadline = time.monotonic() + 7
        while time.monotonic() < deadline:
            load.step()  # commands keep succeeding while NATS is down
            time.sleep(0.2)
        position_while_down = runtime.relay.position
        assert position_while_down < runtime.app.recorder.max_notification_id()
        nats_server.start()
        for _ in range(5):
            load.step()
        assert_exactly_once(runtime.app, nats_server)
        assert runtime.relay.stats.failures > 0
    finally:
        thread.stop()
