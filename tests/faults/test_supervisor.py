"""Faults of a whole node as `copnet up` runs it: the supervisor killed, services killed again
and again, nats-server frozen, a second supervisor on the same data directory."""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
import uuid
from pathlib import Path

import grpc
import psutil
import pytest

from services.common.settings import available_services
from tests.support.node_process import NOT_SERVING, SERVING, NodeClient, RunningNode
from tests.support.streams import read_stream
from tests.support.waiting import eventually

pytestmark = pytest.mark.faults


@pytest.fixture
def node(tmp_path: Path):
    running = RunningNode(tmp_path / "data", env={"COPNET_RESTART_HEALTHY_SECONDS": "3"})
    yield running
    running.kill_everything()


def start(node: RunningNode) -> None:
    node.start()
    eventually(node.all_serving, 30)


class Load:
    """Registers members and joins them to a community, as fast as the node answers, and
    remembers which the node acknowledged."""

    def __init__(self, client: NodeClient, organisation: str, community: str) -> None:
        self.client = client
        self.organisation = organisation
        self.community = community
        self.acknowledged: list[str] = []
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                member = self.client.member(self.organisation, f"Member {uuid.uuid4().hex}", 3)
                self.client.join(self.community, member, 3)
            except grpc.RpcError:
                self.failed += 1
                time.sleep(0.2)
                continue
            self.acknowledged.append(member)
            time.sleep(0.05)


def members_reach_the_events_service(client: NodeClient, convening: str, members: list[str]):
    """Each acknowledged member can sign up: the events service learnt of them, through NATS."""
    for member in members:

        def signed_up(member: str = member) -> bool:
            try:
                client.sign_up(convening, member, 5)
            except grpc.RpcError as error:
                codes = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAVAILABLE)
                assert error.code() in codes, error
                return False
            return True

        eventually(signed_up, 60, interval=0.2)


def test_a_second_supervisor_on_the_same_directory_refuses(node: RunningNode, tmp_path: Path):
    start(node)
    second = RunningNode(node.data_dir)
    second.log = tmp_path / "second.log"
    try:
        assert second.start().wait(30) == 2
    finally:
        second.kill_everything()
    assert node.process is not None
    assert f"is in use by copnet up (node guys) (pid {node.process.pid}" in second.log_text()
    assert node.all_serving(), "the first node is untouched"

    ports = RunningNode(tmp_path / "other-data")
    ports.nats_port = node.nats_port
    ports.log = tmp_path / "ports.log"
    try:
        assert ports.start().wait(30) == 2
    finally:
        ports.kill_everything()
    assert f"NATS port 127.0.0.1:{node.nats_port}" in ports.log_text()
    assert node.stop() == 0


def test_supervisor_killed_alone_its_children_follow_and_nothing_is_lost(node: RunningNode):
    start(node)
    client = NodeClient(node)
    organisation = client.organisation()
    lead = client.member(organisation, "Lead")
    community = client.community(lead, "cancer-cop")
    convening = client.convening_once_known(community, lead, "Launch")
    children = node.children()
    # nats-server, the four services and the report page (a client of them).
    assert set(children) == {"nats-server", *available_services(), "report"}

    with Load(client, organisation, community) as load:
        eventually(lambda: len(load.acknowledged) >= 20, 60)
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(10)
        eventually(lambda: not any(c.is_running() for c in children.values()), 20)
    killed_at = len(load.acknowledged)

    started = time.monotonic()
    start(node)
    restarted = time.monotonic() - started
    with Load(client, organisation, community) as load2:
        eventually(lambda: len(load2.acknowledged) >= 10, 60)
    acknowledged = load.acknowledged[:killed_at] + load2.acknowledged
    members_reach_the_events_service(client, convening, acknowledged)
    assert "STOPPED" not in node.log_text(), "no relay found its stream lost"
    registry_messages = [
        m for m in read_stream(node.nats_url, "COPNET_GUYS") if m.envelope.service == "registry"
    ]
    positions = [m.envelope.position for m in registry_messages]
    assert len(positions) == len(set(positions)), "each event once on the node stream"
    assert positions == sorted(positions)
    print(f"restarted after the supervisor's death in {restarted:.1f}s")
    assert node.stop() == 0


def test_a_service_killed_six_times_is_back_within_three_seconds_each_time(node: RunningNode):
    start(node)
    times = []
    for _ in range(6):
        time.sleep(3.5)  # a healthy while (COPNET_RESTART_HEALTHY_SECONDS=3)
        victim = node.children()["events"]
        os.kill(victim.pid, signal.SIGKILL)
        killed = time.monotonic()
        eventually(lambda: node.health("events") != SERVING, 5, interval=0.02)

        def back(old: int = victim.pid) -> bool:
            child = node.children().get("events")
            return child is not None and child.pid != old and node.health("events") == SERVING

        eventually(back, 30, interval=0.05)
        times.append(time.monotonic() - killed)
    print("events service back after", [f"{t:.2f}s" for t in times])
    # Within 3 s as a rule; a loaded machine (CI) may stretch one restart, never past 6 s.
    assert statistics.median(times) < 3.0 and max(times) < 6.0, times
    assert node.stop() == 0


class HealthWatch:
    """Samples every service's readiness in the background; remembers when each was first
    seen NOT_SERVING."""

    def __init__(self, node: RunningNode) -> None:
        self.node = node
        self.started = time.monotonic()
        self.first_not_serving: dict[str, float] = {}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._watch, args=(s,), daemon=True)
            for s in available_services()
        ]
        for thread in self._threads:
            thread.start()

    def _watch(self, service: str) -> None:
        while not self._stop.is_set() and service not in self.first_not_serving:
            if self.node.health(service) == NOT_SERVING:
                self.first_not_serving[service] = time.monotonic() - self.started
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)


def test_a_frozen_nats_server_is_noticed_within_five_seconds_and_replaced(node: RunningNode):
    start(node)
    client = NodeClient(node)
    organisation = client.organisation()
    frozen = node.children()["nats-server"]
    os.kill(frozen.pid, signal.SIGSTOP)
    watch = HealthWatch(node)
    try:
        eventually(lambda: "has not answered" in node.log_text(), 10)
        supervisor_noticed = time.monotonic() - watch.started
        # The services say so while their NATS is frozen. (A service whose pings had not yet
        # failed twice when the supervisor replaced the server may never show it: on a
        # loaded machine the replacement can beat its detection. Normally all four do.)
        eventually(lambda: watch.first_not_serving, 10)
        eventually(node.all_serving, 30)
        recovered = time.monotonic() - watch.started
        replaced = node.children()["nats-server"]
        assert replaced.pid != frozen.pid
    finally:
        watch.stop()
        if frozen.is_running():
            os.kill(frozen.pid, signal.SIGCONT)
    print(
        f"NOT_SERVING after {watch.first_not_serving}, the supervisor killed it after "
        f"{supervisor_noticed:.1f}s, all serving again after {recovered:.1f}s"
    )
    # Within 5 s as a rule (2.4-3.4 s measured); up to 8 s on a loaded machine.
    assert supervisor_noticed < 8.0, supervisor_noticed
    assert all(t < 8.0 for t in watch.first_not_serving.values()), watch.first_not_serving
    member = client.member(organisation, "After the freeze")

    def published() -> bool:
        return any(
            m.envelope.event_type == "member_registered"
            for m in read_stream(node.nats_url, "COPNET_GUYS")
        )

    eventually(published, 30)
    assert member
    with pytest.raises(psutil.NoSuchProcess):
        frozen.status()
    assert node.stop() == 0
