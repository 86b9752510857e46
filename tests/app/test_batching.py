"""A policy's messages applied as one batch: one transaction, repeats skipped, all or nothing.

A small application (a counter per key, kept in the aggregate cache as notify and the events
service keep theirs) on a real SQLite file or PostgreSQL schema.
"""

from __future__ import annotations

import threading
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from eventsourcing.domain import Aggregate, event
from google.protobuf.wrappers_pb2 import StringValue

from copnet.integration.v1 import envelope_pb2
from services.common.application import CopnetApplication
from services.common.batching import BatchedPolicy
from services.common.envelopes import IntegrationMessage
from services.common.settings import NodeSettings


class Counter(Aggregate):
    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"tests:counter:{key}")

    @event("Started")
    def __init__(self, key: str) -> None:
        self.key = key
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


class Tally(CopnetApplication):
    env = {"AGGREGATE_CACHE_MAXSIZE": "100"}

    def counter(self, key: str) -> Counter | None:
        return self._find(Counter.create_id(key), Counter)


class TallyPolicy(BatchedPolicy[Tally]):
    def __init__(self, app: Tally) -> None:
        self.app = app
        self.fail_on: str = ""
        self.seen_during_batch: list[int] = []

    def handle(self, message: IntegrationMessage) -> bool:
        key = message.payload.value  # type: ignore[union-attr]
        if key == self.fail_on:
            raise RuntimeError(f"cannot count {key}")
        self.seen_during_batch.append(self.app.changes.latest)
        counter = self.app.counter(key) or Counter(key)
        counter.count_one()
        return self.app.save_processed(message.tracking, counter) is not None


def message(origin: str, position: int, key: str) -> IntegrationMessage:
    envelope = envelope_pb2.Envelope(origin_node=origin, service="tally", position=position)
    return IntegrationMessage(f"copnet-local.{origin}.tally.x", envelope, StringValue(value=key))


@pytest.fixture
def tally(node_settings: NodeSettings):
    node_settings.stores.prepare("tally")
    app = Tally(env=node_settings.stores.application_env("tally"))
    yield app
    app.close()


def counts(app: Tally, *keys: str) -> dict[str, int]:
    found = {key: app.counter(key) for key in keys}
    return {key: c.count for key, c in found.items() if c is not None}


@pytest.mark.both_stores
def test_a_batch_is_applied_in_order_once_and_signalled_after_its_commit(tally: Tally):
    policy = TallyPolicy(tally)
    before = tally.changes.latest
    batch = [message("a", 1, "x"), message("b", 1, "y"), message("a", 2, "x"), message("a", 3, "z")]
    assert policy.handle_batch(batch) == [True, True, True, True]
    assert counts(tally, "x", "y", "z") == {"x": 2, "y": 1, "z": 1}
    assert policy.seen_during_batch == [before] * 4, "the signal moved before the commit"
    assert tally.changes.latest == tally.recorder.max_notification_id()
    assert tally.recorder.max_tracking_id("a.tally") == 3  # type: ignore[attr-defined]
    # The same messages again, and one new one among them: only the new one counts.
    again = [*batch, message("b", 2, "y")]
    assert policy.handle_batch(again) == [False, False, False, False, True]
    assert counts(tally, "x", "y", "z") == {"x": 2, "y": 2, "z": 1}


@pytest.mark.both_stores
def test_a_failing_batch_leaves_nothing_written_and_nothing_cached(tally: Tally):
    policy = TallyPolicy(tally)
    policy.handle_batch([message("a", 1, "x")])
    assert counts(tally, "x") == {"x": 1}  # in the aggregate cache now
    stored = tally.recorder.max_notification_id()
    policy.fail_on = "boom"
    with pytest.raises(RuntimeError, match="boom"):
        policy.handle_batch([message("a", 2, "x"), message("a", 3, "x"), message("a", 4, "boom")])
    assert tally.recorder.max_notification_id() == stored
    assert tally.recorder.max_tracking_id("a.tally") == 1  # type: ignore[attr-defined]
    # Read on another thread (the API's), through the cache: the committed count only.
    seen: dict[str, int] = {}
    reader = threading.Thread(target=lambda: seen.update(counts(tally, "x")))
    reader.start()
    reader.join(10)
    assert seen == {"x": 1}
    # Applied again without the poison: counted once each.
    policy.fail_on = ""
    assert policy.handle_batch([message("a", 2, "x"), message("a", 3, "x")]) == [True, True]
    assert counts(tally, "x") == {"x": 3}
