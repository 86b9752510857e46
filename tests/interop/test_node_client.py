"""A client in another language (Node.js, loading the .proto files) calls the registry."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.registry.service import DEFINITION

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_a_node_js_client_uses_the_registry(tmp_path: Path, authority):
    assert (ROOT / "node_modules" / "@grpc" / "grpc-js").exists(), "run `npm ci` first"
    settings = NodeSettings(node_id="testnode", region="test-region", data_dir=tmp_path / "node")
    thread = ServiceThread(
        lambda: ServiceRuntime(
            DEFINITION, settings, roles=("api",), address="127.0.0.1:0", authority=authority
        )
    )
    runtime = thread.start()
    try:
        result = subprocess.run(
            [
                "node",
                str(ROOT / "examples/node/registry_client.mjs"),
                f"127.0.0.1:{runtime.port}",
                authority.issue("operator"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    finally:
        thread.stop()
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["kind"] == "ORGANISATION_KIND_NHS_TRUST"
    assert reply["retried_same"] is True
    assert reply["listed"] == ["Lewisham and Greenwich NHS Trust"]
    assert reply["invalid"][0] == 3  # INVALID_ARGUMENT
    assert "region" in reply["invalid"][1]
