"""`copnet status` and `copnet hub status` on a region as operators run it: `copnet hub` and a
`copnet up --hub-credentials` node; the hub link is reported up, then down once the hub is
killed, and each service's figures come from its own /metrics endpoint."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from copnet.registry.v1 import registry_pb2 as rpb
from copnet.registry.v1 import registry_pb2_grpc as rpb_grpc
from services.common.settings import available_services
from services.status import samples
from tests.support.node_process import COPNET, RunningNode
from tests.support.ports import free_port
from tests.support.waiting import eventually

REGION = "south-east-london"
OBSERVABILITY = Path(__file__).parents[2] / "deploy" / "observability"
NAMES = re.compile(r"\b(?:copnet|rpc_server)_[a-z_]+")
LABELS = {"copnet_node", "copnet_service", "copnet_inbox", "copnet_reason"}


def copnet(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
    return subprocess.run([*COPNET, *args], capture_output=True, text=True, env=env, timeout=60)


def status(node: RunningNode) -> dict:
    done = copnet("status", "--data-dir", str(node.data_dir), "--json")
    assert done.stdout, done.stderr
    return {**json.loads(done.stdout), "exit": done.returncode}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
    with (tmp_path / "hub.log").open("ab") as log:
        process = subprocess.Popen(
            [
                *COPNET,
                *("hub", "--data-dir", str(tmp_path / "hub"), "--region", REGION),
                *("--port", str(free_port()), "--leaf-port", str(free_port())),
                *("--node", "guys=Guy's and St Thomas'", "--node", "kings=King's College"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    yield process
    if process.poll() is None:
        for child in psutil.Process(process.pid).children(recursive=True):
            child.kill()
    process.kill()
    process.wait(10)


@pytest.fixture
def node(tmp_path: Path, hub) -> Iterator[RunningNode]:
    credentials = tmp_path / "hub" / "credentials" / "guys.json"
    eventually(credentials.exists, 30)
    running = RunningNode(
        tmp_path / "guys", "guys", REGION, args=["--hub-credentials", str(credentials)]
    )
    running.start()
    yield running
    running.kill_everything()


def test_status_shows_services_and_the_hub_link_going_down_when_the_hub_dies(
    node: RunningNode, hub: subprocess.Popen[bytes], tmp_path: Path
):
    eventually(node.all_serving, 60, message=node.log_text)

    # Each service samples its figures every 2 s: the hub link and the streams are there soon.
    def ready(s: dict) -> bool:
        return bool(
            s["hub"].get("up") and s["streams"] and "COPNET_KINGS_FOR_GUYS" in s["federation"]
        )

    up = eventually(lambda: ready(s := status(node)) and s, 30)
    # kings is in the region's directory but not running: its stream for guys is silent.
    assert up["problems"] == ["federation source COPNET_KINGS_FOR_GUYS is not heard from"]
    assert up["exit"] == 1
    assert up["node_id"] == "guys"
    assert set(up["services"]) == set(available_services())
    for name, service in up["services"].items():
        assert service["up"] and service["serving"], name
        assert service["relay"]["backlog"] == 0
        assert service["metrics"] == node.metrics_url(name)
    assert up["services"]["learning"]["inboxes"]["learning-federation"]["parked"] == 0
    assert "COPNET_GUYS" in up["streams"]
    assert up["email"]["pending"] == 0
    # From elsewhere: the registry's metrics URL (the others follow it); no NATS monitor given.
    remote = copnet("status", "--node", f"http://127.0.0.1:{node.metrics_port}", "--json")
    seen = json.loads(remote.stdout)
    assert all(service["up"] for service in seen["services"].values())
    assert seen["hub"]["known"] is False

    def hub_status() -> dict:
        done = copnet("hub", "status", "--data-dir", str(tmp_path / "hub"), "--json")
        return {**json.loads(done.stdout), "exit": done.returncode}

    hub_view = eventually(lambda: (s := hub_status())["nodes"]["guys"]["connected"] and s, 30)
    assert hub_view["running"] and hub_view["nodes"]["kings"]["connected"] is False
    assert "node kings is not linked" in hub_view["problems"]

    # Every series the alert rules and the dashboard read is served (after one gRPC call).
    registry = rpb_grpc.RegistryServiceStub(node.channel("registry"))
    operator = [("authorization", f"Bearer {node.token()}")]
    registry.ListOrganisations(rpb.ListOrganisationsRequest(), metadata=operator, timeout=10)
    served = set()
    for name in up["services"]:
        with urllib.request.urlopen(node.metrics_url(name), timeout=5) as response:
            served |= {sample[0] for sample in samples(response.read().decode())}
    wanted = set()
    for file in ("alerts.yaml", "grafana-dashboard.json"):
        wanted |= set(NAMES.findall((OBSERVABILITY / file).read_text())) - LABELS
    assert wanted and wanted <= served, wanted - served

    # Reflection (what grpcurl uses) answers, and a normal start and these calls log nothing
    # above INFO (JSON lines, each tagged with its service and node).
    reflection = reflection_pb2_grpc.ServerReflectionStub(node.channel("registry"))
    [answer] = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
    )
    listed = {s.name for s in answer.list_services_response.service}
    assert "copnet.registry.v1.RegistryService" in listed
    lines = [json.loads(line) for line in node.log_text().splitlines() if line.startswith("{")]
    assert {line["service"] for line in lines} >= {f"copnet-{name}" for name in up["services"]}
    assert {line["node"] for line in lines} == {"guys"}
    loud = [line for line in lines if line["level"] not in ("DEBUG", "INFO")]
    assert not loud, loud

    hub_tree = psutil.Process(hub.pid).children(recursive=True)
    hub.send_signal(signal.SIGKILL)
    for child in hub_tree:  # its nats-server goes with it (as with a machine lost)
        child.kill()
    down = eventually(lambda: (s := status(node))["hub"].get("up") is False and s, 30)
    assert down["exit"] == 1
    assert "the link to the hub is down" in down["problems"]
    assert all(service["up"] for service in down["services"].values())
    gone = hub_status()
    assert gone["exit"] == 2 and gone["running"] is False
