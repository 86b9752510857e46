"""`copnet export-member` and `copnet erase-member` against a running `copnet up` node."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

from copnet.registry.v1 import registry_pb2 as pb
from tests.support.node_process import COPNET, NodeClient, RunningNode
from tests.support.waiting import eventually


@pytest.fixture
def node(tmp_path: Path):
    running = RunningNode(tmp_path / "data")
    yield running
    running.kill_everything()


def copnet(node: RunningNode, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COPNET, *args, "--data-dir", str(node.data_dir)],
        capture_output=True,
        text=True,
        env={**node.environment(), "COPNET_GRPC_PORT_BASE": str(node.grpc_port)},
        timeout=60,
    )


def test_the_operator_exports_then_erases_a_member(node: RunningNode, tmp_path: Path):
    node.start()
    eventually(node.all_serving, 60)
    client = NodeClient(node)
    organisation = client.organisation()
    member = client.member(organisation, "Ottoline Brackenbury")
    out = tmp_path / "export.json"

    done = copnet(node, "export-member", member, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text())
    assert document["format"] == "copnet.member-export.v1"
    assert set(document["services"]) == {"registry", "events", "learning", "notify"}
    assert document["services"]["registry"]["display_name"] == "Ottoline Brackenbury"
    assert document["services"]["registry"]["email"] == "ottoline.brackenbury@example.nhs.uk"

    refused = copnet(node, "erase-member", "not-a-member-id")
    assert refused.returncode == 2 and "UUID" in refused.stderr
    done = copnet(node, "erase-member", member)
    assert done.returncode == 0, done.stderr
    got = client.registry.GetMember(
        pb.GetMemberRequest(member_id=member), metadata=client.auth(), timeout=10
    ).member
    assert (got.display_name, got.email) == ("Erased member", "")

    def notify_forgot() -> bool:
        done = copnet(node, "export-member", member, "--out", str(out), "--service", "notify")
        assert done.returncode == 0, done.stderr
        return json.loads(out.read_text())["services"]["notify"]["erased"]

    eventually(notify_forgot, 30)
    again = copnet(node, "erase-member", member)
    assert again.returncode == 1 and "FAILED_PRECONDITION" in again.stderr
