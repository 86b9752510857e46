"""Metrics and readiness of real services over a real nats-server: the relay backlog and the
inbox pending move under load (read from the Prometheus endpoint), health goes NOT_SERVING
within 5 s of the nats-server freezing (SIGSTOP) and SERVING again after SIGCONT, and a read
model rebuilding after a schema change keeps the service NOT_SERVING until it is whole."""

from __future__ import annotations

import logging
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common import metrics
from services.common.channels import ChannelSecurity, open_channel
from services.common.messaging import NodeIdentity
from services.common.metrics import configure_metrics
from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.events.service import DEFINITION as EVENTS
from services.registry.domain import OrganisationKind
from services.registry.service import DEFINITION as REGISTRY
from services.registry.views.directory import Directory
from services.status import samples
from tests.support.events_world import cmd
from tests.support.node_process import api_name
from tests.support.ports import free_port
from tests.support.waiting import eventually

SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def metrics_url() -> str:
    """The test process's own /metrics (a copnet process serves one per service)."""
    port = free_port()
    configure_metrics("tests", NodeIdentity("testnode", "test-region"), port)
    return f"http://127.0.0.1:{port}/metrics"


@pytest.fixture
def fast_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "SAMPLE_INTERVAL", 0.2)


@pytest.fixture
def threads() -> Iterator[list[ServiceThread]]:
    started: list[ServiceThread] = []
    yield started
    for thread in started:
        thread.stop()


def start(threads: list[ServiceThread], definition, settings: NodeSettings) -> ServiceRuntime:
    thread = ServiceThread(lambda: ServiceRuntime(definition, settings, address="127.0.0.1:0"))
    threads.append(thread)
    return thread.start()


def figure(url: str, name: str, **labels: str) -> float | None:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    for sample_name, sample_labels, value in samples(text):
        if sample_name == name and all(sample_labels.get(k) == v for k, v in labels.items()):
            return value
    return None


def health(runtime: ServiceRuntime, settings: NodeSettings) -> int:
    """The readiness of the service's API, as a probe asks it (gRPC health)."""
    with open_channel(f"127.0.0.1:{runtime.port}", ChannelSecurity.of(settings)) as channel:
        request = health_pb2.HealthCheckRequest(service=api_name(runtime.definition.name))
        return health_pb2_grpc.HealthStub(channel).Check(request, timeout=2).status


def organisations(app, count: int) -> None:
    def one(i: int) -> None:
        app.create_organisation(cmd(), f"Trust {i}", OrganisationKind.NHS_TRUST, "sel", None)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(count)))


@pytest.mark.skip(
    reason="unsteady (3 of 6 whole-suite runs on 2026-12-03: the backlog stayed under 300 "
    "while nats-server was frozen, or the applied counter stayed at 21 after the inbox "
    "drained, beside nats-py's InvalidStateError in _process_pong after SIGCONT); "
    "to be fixed, not trusted until then. With batched inboxes (up to 200 a fetch) its "
    "'pending rises above 10' step is a race with the sampler; without that step it passed 6 "
    "of 6 alone beside a CPU hog but failed 1 of 1 whole-suite run beside one"
)
def test_relay_backlog_and_inbox_pending_move_under_load(
    node_settings: NodeSettings, nats_server, metrics_url: str, fast_sampling, threads
):
    settings = node_settings.with_overrides(nats_url=nats_server.url)
    registry = start(threads, REGISTRY, settings)
    start(threads, EVENTS, settings)
    node = {"copnet_node": "testnode"}
    registry_labels = {**node, "copnet_service": "registry"}
    inbox = {**node, "copnet_service": "events", "inbox": "events-registry"}
    eventually(lambda: figure(metrics_url, "copnet_inbox_pending", **inbox) == 0, 60)
    # What was there from the start: the alarms and refusals counters, at 0.
    assert (
        figure(metrics_url, "copnet_relay_stream_alarms_total", **{"copnet_service": "registry"})
        == 0
    )
    assert figure(metrics_url, "copnet_inbox_refused_total", copnet_inbox="events-registry") == 0

    count = 300
    os.kill(nats_server.process.pid, signal.SIGSTOP)
    try:
        organisations(registry.app, count)
        # Stored but not published: the relay's backlog is everything written meanwhile.
        eventually(
            lambda: (figure(metrics_url, "copnet_relay_backlog", **registry_labels) or 0) >= count,
            60,
        )
        assert (figure(metrics_url, "copnet_relay_lag_seconds", **registry_labels) or 0) > 0
    finally:
        os.kill(nats_server.process.pid, signal.SIGCONT)
    # Published at once; the events service's inbox takes them one by one: pending rises...
    eventually(lambda: (figure(metrics_url, "copnet_inbox_pending", **inbox) or 0) > 10, 30)
    # ...and both come back to nothing.
    eventually(lambda: figure(metrics_url, "copnet_relay_backlog", **registry_labels) == 0, 30)
    eventually(lambda: figure(metrics_url, "copnet_inbox_pending", **inbox) == 0, 60)
    # Every message applied once (the counter is sampled apart from the pending gauge).
    eventually(
        lambda: (figure(metrics_url, "copnet_inbox_applied_total", **inbox) or 0) >= count, 30
    )
    # (a few may count as duplicates: sent into the frozen server, then again after a timeout)
    published = figure(metrics_url, "copnet_relay_published_total", **registry_labels) or 0
    assert published >= count - 20
    assert figure(metrics_url, "copnet_stream_messages", stream="COPNET_TESTNODE") >= count


def test_health_goes_not_serving_within_5s_of_nats_freezing_and_back_after(
    node_settings: NodeSettings, nats_server, threads
):
    settings = node_settings.with_overrides(nats_url=nats_server.url)
    registry = start(threads, REGISTRY, settings)
    eventually(lambda: health(registry, settings) == SERVING, 20)
    os.kill(nats_server.process.pid, signal.SIGSTOP)
    frozen = time.monotonic()
    try:
        eventually(lambda: health(registry, settings) != SERVING, 5, 0.1)
        took = time.monotonic() - frozen
        assert any("NATS" in problem for problem in registry.problems.values())
    finally:
        os.kill(nats_server.process.pid, signal.SIGCONT)
    eventually(lambda: health(registry, settings) == SERVING, 20, 0.1)
    logging.getLogger(__name__).info("NOT_SERVING %.1fs after SIGSTOP", took)


def test_a_read_model_rebuilding_keeps_the_service_not_serving_until_whole(
    node_settings: NodeSettings, nats_server, threads, monkeypatch, caplog
):
    settings = node_settings.with_overrides(nats_url=nats_server.url)
    registry = start(threads, REGISTRY, settings)
    count = 400
    organisations(registry.app, count)
    threads.pop().stop()

    monkeypatch.setattr(Directory, "schema_version", Directory.schema_version + 1)
    caplog.set_level(logging.INFO)
    registry = start(threads, REGISTRY, settings)

    def listed() -> int:
        view = registry.view(Directory)
        with view.store.read() as tx:
            return tx.one("SELECT COUNT(*) AS n FROM organisations")["n"]

    # Whenever it says SERVING, the list is whole.
    eventually(lambda: health(registry, settings) == SERVING, 60, 0.02)
    assert listed() == count
    said = [r.getMessage() for r in caplog.records if "NOT_SERVING" in r.getMessage()]
    assert any("rebuilding" in line for line in said), said
