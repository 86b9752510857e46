"""A client in another language (Node.js with grpc-js, loading the .proto files) calls the
registry: over plain gRPC on loopback, over TLS trusting the node's CA, and over mutual TLS
with a client certificate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from services.common.pki import RegionPki, Usage
from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.registry.service import DEFINITION

ROOT = Path(__file__).resolve().parents[2]
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


def run_client(port: int, token: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert (ROOT / "node_modules" / "@grpc" / "grpc-js").exists(), "run `npm ci` first"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
    return subprocess.run(
        ["node", str(ROOT / "examples/node/registry_client.mjs"), f"127.0.0.1:{port}", token],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**clean, **env},
    )


def check_reply(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["kind"] == "ORGANISATION_KIND_NHS_TRUST"
    assert reply["retried_same"] is True
    assert reply["listed"] == ["Lewisham and Greenwich NHS Trust"]
    assert reply["invalid"][0] == 3  # INVALID_ARGUMENT
    assert "region" in reply["invalid"][1]


@needs_node
@pytest.mark.parametrize("transport", ["plain", "tls", "mutual-tls"])
def test_a_node_js_client_uses_the_registry(tmp_path: Path, authority, transport: str):
    settings = NodeSettings(node_id="testnode", region="test-region", data_dir=tmp_path / "node")
    env: dict[str, str] = {}
    if transport != "plain":
        pki = RegionPki(tmp_path / "pki")
        server = pki.issue("server", ["localhost", "127.0.0.1", "::1"], Usage.SERVER)
        settings = replace(settings, tls_cert=server.cert_file, tls_key=server.key_file)
        env["COPNET_TLS_CA"] = str(pki.ca_file)
    if transport == "mutual-tls":
        settings = replace(settings, client_ca=pki.ca_file)
        client = pki.client_cert("node-js-client", ["node-js-client"])
        env["COPNET_TLS_CLIENT_CERT"] = str(client.cert_file)
        env["COPNET_TLS_CLIENT_KEY"] = str(client.key_file)
    thread = ServiceThread(
        lambda: ServiceRuntime(
            DEFINITION, settings, roles=("api",), address="127.0.0.1:0", authority=authority
        )
    )
    runtime = thread.start()
    try:
        token = authority.issue("operator")
        check_reply(run_client(runtime.port, token, env))
        if transport == "tls":  # without the CA, the node's certificate is not trusted
            refused = run_client(runtime.port, token, {})
            assert refused.returncode != 0
            assert "UNAVAILABLE" in refused.stderr
        if transport == "mutual-tls":  # without a client certificate the handshake fails
            refused = run_client(runtime.port, token, {"COPNET_TLS_CA": env["COPNET_TLS_CA"]})
            assert refused.returncode != 0
            assert "UNAVAILABLE" in refused.stderr
    finally:
        thread.stop()
