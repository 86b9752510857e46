"""Fixtures of the events application tests (tests/app/test_events_*.py)."""

from __future__ import annotations

import pytest

from services.common.settings import NodeSettings
from tests.support.events_world import T0, MovableClock, Node


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(T0)


@pytest.fixture
def node(node_settings: NodeSettings, clock: MovableClock):
    n = Node(node_settings, clock)
    yield n
    n.close()
