"""Fixtures shared by the notify delivery and mail tests: one notify node per module,
with an SMTP sink and a clock the tests move (from `START`, a Monday morning). Modules
that define their own `node`/`clock` (e.g. the inbox tests) use theirs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.events_world import MovableClock
from tests.support.notify_node import START, NotifyNode, start_notify_node, stop_notify_node
from tests.support.smtp import SmtpSink


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def clock() -> MovableClock:
    return MovableClock(START)


@pytest.fixture(scope="module")
def node(
    tmp_path_factory: pytest.TempPathFactory, clock: MovableClock, smtp: SmtpSink
) -> Iterator[NotifyNode]:
    running = start_notify_node(tmp_path_factory.mktemp("notify-node"), clock, smtp)
    yield running
    stop_notify_node(running)
