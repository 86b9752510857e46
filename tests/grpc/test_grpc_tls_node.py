"""`copnet certs` and `copnet up` over (mutual) TLS, as an operator runs them: real processes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import grpc
import pytest

from services.common.channels import ChannelSecurity
from services.common.settings import available_services
from tests.support.node_process import COPNET, NodeClient, RunningNode
from tests.support.waiting import eventually


def certs(data_dir: Path, *args: str) -> str:
    return subprocess.run(
        [*COPNET, "certs", "--data-dir", str(data_dir), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_copnet_certs_then_a_node_over_mutual_tls(tmp_path: Path):
    data_dir = tmp_path / "guys"
    printed = certs(data_dir, "--host", "copnet.guys.example.org", "--client", "alice")
    pki = data_dir.resolve() / "grpc-tls"
    assert "localhost, 127.0.0.1, ::1, copnet.guys.example.org" in printed
    assert (pki / "alice.key").stat().st_mode & 0o777 == 0o600
    # Idempotent: the same files stay (nothing issued again).
    before = {p.name: p.read_bytes() for p in pki.iterdir()}
    certs(data_dir, "--host", "copnet.guys.example.org", "--client", "alice")
    assert {p.name: p.read_bytes() for p in pki.iterdir()} == before

    # The mutual-TLS command line it printed, as given.
    line = next(x for x in printed.splitlines() if "--client-ca" in x)
    args = line.split()[line.split().index("--tls-cert") :]
    node = RunningNode(
        data_dir,
        args=args,
        security=ChannelSecurity(True, pki / "ca.crt", pki / "alice.crt", pki / "alice.key"),
    )
    node.start()
    try:
        # `copnet up` itself waited for SERVING over mutual TLS (with the operator's cert).
        eventually(lambda: "is up" in node.log_text(), 60)
        assert "registry:  127.0.0.1" in node.log_text()
        assert "(gRPC, mutual TLS)" in node.log_text()
        assert node.all_serving()
        client = NodeClient(node)
        assert client.organisation()
        # Without a client certificate the node is out of reach.
        bare = RunningNode(data_dir, security=ChannelSecurity(True, pki / "ca.crt"))
        bare.grpc_port = node.grpc_port
        assert all(bare.health(service) == -1 for service in available_services())
        assert node.stop() == 0
    finally:
        node.kill_everything()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--listen-host", "0.0.0.0"], "refusing plain gRPC on 0.0.0.0:"),
        (["--tls-cert", "/nonexistent/server.crt"], "give the gRPC TLS certificate and its key"),
        (
            ["--tls-cert", "/nonexistent/server.crt", "--tls-key", "/nonexistent/server.key"],
            "cannot read the gRPC TLS certificate /nonexistent/server.crt",
        ),
        (["--client-ca", "/nonexistent/ca.crt"], "--client-ca (mutual TLS) needs --tls-cert"),
    ],
)
def test_copnet_up_refuses_what_cannot_be_served_safely(tmp_path: Path, args, message):
    node = RunningNode(tmp_path / "node", args=args)
    process = node.start()
    try:
        assert process.wait(30) == 2
    finally:
        node.kill_everything()
    assert message in node.log_text()


def test_a_node_with_a_certificate_key_mismatch_does_not_start(tmp_path: Path):
    data_dir = tmp_path / "node"
    certs(data_dir, "--client", "alice")
    pki = data_dir.resolve() / "grpc-tls"
    node = RunningNode(
        data_dir, args=["--tls-cert", str(pki / "server.crt"), "--tls-key", str(pki / "alice.key")]
    )
    try:
        assert node.start().wait(30) == 2
    finally:
        node.kill_everything()
    assert "alice.key is not the key of" in node.log_text()


def test_insecure_allows_plain_grpc_beyond_loopback_with_a_warning(tmp_path: Path):
    node = RunningNode(tmp_path / "node", args=["--listen-host", "0.0.0.0", "--insecure"])
    node.start()
    try:
        eventually(lambda: "is up" in node.log_text(), 60)
        assert "(gRPC, no TLS: --insecure)" in node.log_text()
        for service in available_services():
            assert f"{service} serves gRPC WITHOUT TLS on 0.0.0.0:" in node.log_text()
        with node.channel("registry") as channel:
            grpc.channel_ready_future(channel).result(10)
        assert node.stop() == 0
    finally:
        node.kill_everything()
