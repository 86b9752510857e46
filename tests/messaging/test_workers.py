"""Background work of a service: a worker that fails is started again, and one that keeps
failing makes the process exit non-zero (so that its supervisor starts it afresh)."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from services.common import service as service_module
from services.common.health import Progress
from services.common.service import EXIT_GAVE_UP, ServiceRuntime, ServiceThread, _serve
from services.common.settings import NodeSettings
from services.registry.service import DEFINITION
from tests.support.streams import eventually


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


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
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


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
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
