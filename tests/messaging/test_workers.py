"""Background work of a service: a worker that fails is started again, and one that keeps
failing makes the process exit non-zero (so that its supervisor starts it afresh)."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from services.common import service as service_module
from services.common.health import Progress
from services.common.natslink import NatsLink
from services.common.process import _serve
from services.common.service import EXIT_GAVE_UP, ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.registry.service import DEFINITION
from tests.support.ports import free_port
from tests.support.waiting import eventually


class Flaky:
    """Fails its first `failures` runs, then works (waits for the stop)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.runs = 0
        self.progress = Progress("flaky worker")

    async def run(self, stopping: asyncio.Event) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise RuntimeError(f"failure {self.runs}")
        self.progress.ok()
        await stopping.wait()


def with_worker(worker: Flaky):
    """The registry, with one more worker in its worker role."""

    def build(runtime):
        parts = DEFINITION.build(runtime)
        return dataclasses.replace(parts, workers=(*parts.workers, lambda: worker))

    return dataclasses.replace(DEFINITION, build=build)


@pytest.fixture
def settings(node_settings: NodeSettings, nats_server) -> NodeSettings:
    return node_settings.with_overrides(
        nats_url=nats_server.url, addresses={"registry": "127.0.0.1:0"}
    )


def test_a_failing_worker_is_started_again_and_health_follows(settings: NodeSettings):
    worker = Flaky(failures=2)
    thread = ServiceThread(lambda: ServiceRuntime(with_worker(worker), settings))
    runtime = thread.start()
    try:
        eventually(lambda: worker.runs == 3, timeout=20)
        eventually(lambda: runtime.serving is True, timeout=10)
        assert not runtime.fatal
    finally:
        thread.stop()


def test_a_worker_that_keeps_failing_stops_the_process_non_zero(
    settings: NodeSettings, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(service_module, "MAX_WORKER_CRASHES", 3)
    worker = Flaky(failures=1000)
    started = time.monotonic()
    status = asyncio.run(
        asyncio.wait_for(_serve(with_worker(worker), settings, ("api", "worker"), False), 60)
    )
    assert status == EXIT_GAVE_UP
    assert worker.runs == 3
    assert time.monotonic() - started < 30


class Stuck:
    """A worker that ignores the stop and, for a while, cancellation too."""

    name = "stuck worker"

    def __init__(self) -> None:
        self.cancellations = 0

    async def run(self, stopping: asyncio.Event) -> None:
        until = time.monotonic() + 20
        while time.monotonic() < until:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                self.cancellations += 1


def test_a_link_to_an_unreachable_server_stops_when_asked():
    """nats-py retries an unreachable server for ever inside nats.connect: the link must still
    notice the stop (and not depend on a cancellation, which asyncio.wait_for can lose)."""

    async def scenario() -> float:
        link = NatsLink(f"nats://127.0.0.1:{free_port()}", "unreachable")
        stopping = asyncio.Event()
        running = asyncio.create_task(link.run(stopping))
        await asyncio.sleep(1.5)  # a few connection attempts
        assert not running.done()
        assert "cannot connect" in (link.progress.problem() or "") or not link.connected
        asked = time.monotonic()
        stopping.set()
        done, _ = await asyncio.wait([running], timeout=5)
        running.cancel()
        assert done, "the link did not stop"
        await link.close()
        return time.monotonic() - asked

    assert asyncio.run(scenario()) < 1.0


def test_a_service_whose_nats_server_is_unreachable_stops_promptly(node_settings: NodeSettings):
    settings = node_settings.with_overrides(
        nats_url=f"nats://127.0.0.1:{free_port()}", addresses={"registry": "127.0.0.1:0"}
    )
    for pause in (0.0, 0.3, 1.0):
        thread = ServiceThread(lambda: ServiceRuntime(DEFINITION, settings))
        thread.start()
        time.sleep(pause)
        asked = time.monotonic()
        thread.stop()
        assert time.monotonic() - asked < 3.0


def test_stopping_is_bounded_even_with_a_stuck_worker(
    settings: NodeSettings, caplog: pytest.LogCaptureFixture
):
    worker = Stuck()

    def build(runtime):
        parts = DEFINITION.build(runtime)
        return dataclasses.replace(parts, workers=(*parts.workers, lambda: worker))

    definition = dataclasses.replace(DEFINITION, build=build)
    thread = ServiceThread(lambda: ServiceRuntime(definition, settings))
    thread.start()
    asked = time.monotonic()
    thread.stop(grace=1.0)
    took = time.monotonic() - asked
    assert worker.cancellations >= 1
    assert took < 5.0, f"stopping took {took:.1f}s"
    assert "stuck worker ignored cancellation" in caplog.text
