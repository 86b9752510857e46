"""Read your writes across services from Node.js (grpc-js, loading the .proto files): a
community created in the registry gets its first convening from the events service at once,
by passing the registry's position as `min_registry_position`; no retry loop."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from copnet.registry.v1 import registry_pb2 as rpb
from tests.support.events_node import T0, GrpcNode, module_node
from tests.support.events_world import MovableClock

ROOT = Path(__file__).resolve().parents[2]
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


@pytest.fixture(scope="module", params=["sqlite"])
def node(request, tmp_path_factory) -> Iterator[GrpcNode]:
    yield from module_node(request, tmp_path_factory, MovableClock(T0))


@needs_node
def test_a_node_js_client_schedules_in_a_community_it_just_created(node: GrpcNode):
    assert (ROOT / "node_modules" / "@grpc" / "grpc-js").exists(), "run `npm ci` first"
    api = node.api
    assert api is not None
    trust = api.registry(
        "CreateOrganisation",
        rpb.CreateOrganisationRequest(
            request_id=str(uuid.uuid4()), name="Node Trust",
            kind=rpb.ORGANISATION_KIND_NHS_TRUST, region="london",
        ),
    ).organisation.organisation_id  # fmt: skip
    lead = api.registry(
        "RegisterMember",
        rpb.RegisterMemberRequest(
            request_id=str(uuid.uuid4()), display_name="Node Lead",
            profession=rpb.PROFESSION_NURSE, home_organisation_id=trust,
            email=f"{uuid.uuid4().hex}@example.nhs.uk",
        ),
    ).member.member_id  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
    result = subprocess.run(
        [
            "node",
            str(ROOT / "examples/node/read_your_writes.mjs"),
            f"127.0.0.1:{node.runtime('registry').port}",
            f"127.0.0.1:{node.runtime('events').port}",
            api.token(lead),
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=clean,
    )
    assert result.returncode == 0, result.stderr
    scheduled = json.loads(result.stdout)["scheduled"]
    assert len(scheduled) == 5
    for entry in scheduled:
        assert entry["convening_community_id"] == entry["community_id"]
        assert entry["status"] == "CONVENING_STATUS_SCHEDULED"
        assert int(entry["registry_position"]) > 0
