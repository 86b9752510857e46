"""Fixtures of the EventsService gRPC tests (test_events_grpc.py and its continuation):
one events node per module on SQLite (store-specific cases live in tests/app), a
clock the tests move, and its API reset to `T0` for each test. Modules that define
their own `node`/`clock`/`api` use theirs."""

from __future__ import annotations

import pytest

from tests.support.events_node import T0, Api, GrpcNode, module_node
from tests.support.events_world import MovableClock


@pytest.fixture(scope="module")
def clock() -> MovableClock:
    return MovableClock(T0)


@pytest.fixture(scope="module", params=["sqlite"])  # store-specific cases: tests/app
def node(request, tmp_path_factory, clock):
    yield from module_node(request, tmp_path_factory, clock)


@pytest.fixture
def api(node: GrpcNode, clock: MovableClock) -> Api:
    clock.set(T0)
    assert node.api is not None
    return node.api
