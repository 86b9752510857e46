"""gRPC over TLS and mutual TLS: a real registry service on loopback, real certificates.

A client that trusts the node's CA gets through; a plain client, or one trusting another
CA, does not. Under mutual TLS a client without a certificate, or with one from another
CA, is refused at the handshake; one with a good certificate gets through and the
application sees its subject. Plain gRPC beyond loopback needs --insecure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from copnet.registry.v1 import registry_pb2 as pb
from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
from services.common.channels import ChannelSecurity, open_channel
from services.common.grpc_server import current_caller, start_server
from services.common.pki import Issued, RegionPki, Usage
from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.common.transport import InsecureBinding, ServerTls
from services.registry.service import DEFINITION

REGISTRY = "copnet.registry.v1.RegistryService"


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    server: Issued
    alice: Issued  # a client certificate from the node's CA
    other_ca_file: Path
    mallory: Issued  # a client certificate from another CA


@pytest.fixture
def node(tmp_path: Path, nats_server) -> NodeSettings:
    return NodeSettings(
        node_id="testnode",
        region="test-region",
        data_dir=tmp_path / "node",
        nats_url=nats_server.url,
    )


@pytest.fixture
def certs(tmp_path: Path) -> Certificates:
    pki = RegionPki(tmp_path / "pki", common_name="test node CA")
    other = RegionPki(tmp_path / "other-pki", common_name="another CA")
    return Certificates(
        ca_file=pki.ca_file,
        server=pki.issue("server", ["localhost", "127.0.0.1", "::1"], Usage.SERVER),
        alice=pki.issue(
            "alice", ["alice.clients.example.org"], Usage.CLIENT, common_name="alice-laptop"
        ),
        other_ca_file=other.ca_file,
        mallory=other.issue("mallory", ["mallory.example.org"], Usage.CLIENT),
    )


def settings_for(
    settings: NodeSettings, certs: Certificates | None, mutual: bool = False
) -> NodeSettings:
    if certs is None:
        return settings
    return replace(
        settings,
        tls_cert=certs.server.cert_file,
        tls_key=certs.server.key_file,
        tls_ca=certs.ca_file,
        client_ca=certs.ca_file if mutual else None,
    )


@pytest.fixture
def serve(authority) -> Iterator:
    threads: list[ServiceThread] = []

    def start(settings: NodeSettings, address: str = "127.0.0.1:0") -> ServiceRuntime:
        thread = ServiceThread(
            lambda: ServiceRuntime(
                DEFINITION, settings, roles=("api",), address=address, authority=authority
            )
        )
        threads.append(thread)
        return thread.start()

    yield start
    for thread in threads:
        thread.stop()


def list_organisations(
    channel: grpc.Channel, token: str, min_position: int = 0
) -> pb.ListOrganisationsResponse:
    return pb_grpc.RegistryServiceStub(channel).ListOrganisations(
        pb.ListOrganisationsRequest(min_position=min_position),
        metadata=[("authorization", f"Bearer {token}")],
        timeout=5,
    )


def create_organisation(channel: grpc.Channel, token: str) -> pb.CreateOrganisationResponse:
    return pb_grpc.RegistryServiceStub(channel).CreateOrganisation(
        pb.CreateOrganisationRequest(
            request_id=str(uuid.uuid4()),
            name="Lewisham and Greenwich NHS Trust",
            kind=pb.ORGANISATION_KIND_NHS_TRUST,
            region="south-east-london",
        ),
        metadata=[("authorization", f"Bearer {token}")],
        timeout=10,
    )


def refused(channel: grpc.Channel, token: str) -> grpc.StatusCode:
    with channel, pytest.raises(grpc.RpcError) as raised:
        list_organisations(channel, token)
    return raised.value.code()


def test_a_client_trusting_the_nodes_ca_gets_through_and_others_do_not(
    node: NodeSettings, certs: Certificates, serve, authority
):
    runtime = serve(settings_for(node, certs))
    address = f"127.0.0.1:{runtime.port}"
    token = authority.issue("operator")

    with open_channel(address, ChannelSecurity(tls=True, ca_file=certs.ca_file)) as channel:
        created = create_organisation(channel, token)
        listed = list_organisations(channel, token, created.position)
        assert [o.organisation_id for o in listed.organisations] == [
            created.organisation.organisation_id
        ]
        # Bad input over TLS still gets its status, with the field violations.
        with pytest.raises(grpc.RpcError) as invalid:
            pb_grpc.RegistryServiceStub(channel).CreateOrganisation(
                pb.CreateOrganisationRequest(request_id=str(uuid.uuid4()), region="Not A Slug"),
                metadata=[("authorization", f"Bearer {token}")],
                timeout=5,
            )
        assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # No token: refused by the application, over an encrypted connection.
        with pytest.raises(grpc.RpcError) as anonymous:
            pb_grpc.RegistryServiceStub(channel).ListOrganisations(
                pb.ListOrganisationsRequest(), timeout=5
            )
        assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED

    assert refused(open_channel(address, ChannelSecurity.plain()), token) == (
        grpc.StatusCode.UNAVAILABLE
    )
    other = ChannelSecurity(tls=True, ca_file=certs.other_ca_file)
    assert refused(open_channel(address, other), token) == grpc.StatusCode.UNAVAILABLE


def test_health_and_reflection_answer_over_tls(node: NodeSettings, certs: Certificates, serve):
    runtime = serve(settings_for(node, certs))
    security = ChannelSecurity(tls=True, ca_file=certs.ca_file)
    with open_channel(f"localhost:{runtime.port}", security) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        alive = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)  # type: ignore[attr-defined]
        assert alive.status == health_pb2.HealthCheckResponse.SERVING
        services = ProtoReflectionDescriptorDatabase(channel).get_services()
        assert REGISTRY in services
        assert "grpc.health.v1.Health" in services


def test_mutual_tls_refuses_clients_without_a_good_certificate(
    node: NodeSettings, certs: Certificates, serve, authority
):
    runtime = serve(settings_for(node, certs, mutual=True))
    address = f"127.0.0.1:{runtime.port}"
    token = authority.issue("operator")

    no_certificate = ChannelSecurity(tls=True, ca_file=certs.ca_file)
    assert refused(open_channel(address, no_certificate), token) == grpc.StatusCode.UNAVAILABLE
    wrong_ca = ChannelSecurity(True, certs.ca_file, certs.mallory.cert_file, certs.mallory.key_file)
    assert refused(open_channel(address, wrong_ca), token) == grpc.StatusCode.UNAVAILABLE
    # Health needs the certificate too: the handshake comes before any call.
    with open_channel(address, no_certificate) as channel, pytest.raises(grpc.RpcError) as health:
        health_pb2_grpc.HealthStub(channel).Check(  # type: ignore[attr-defined]
            health_pb2.HealthCheckRequest(service=""), timeout=5
        )
    assert health.value.code() == grpc.StatusCode.UNAVAILABLE


def test_under_mutual_tls_the_application_sees_the_client_certificate(
    node: NodeSettings, certs: Certificates, serve, authority, spans, caplog
):
    runtime = serve(settings_for(node, certs, mutual=True))
    good = ChannelSecurity(True, certs.ca_file, certs.alice.cert_file, certs.alice.key_file)
    caplog.set_level(logging.DEBUG, logger="services.common.grpc_server")
    with open_channel(f"127.0.0.1:{runtime.port}", good) as channel:
        create_organisation(channel, authority.issue("operator"))

    # The call's span and the DEBUG log name the certificate's subject beside the token's.
    (span,) = [s for s in spans.get_finished_spans() if s.name.endswith("/CreateOrganisation")]
    assert span.attributes is not None
    assert span.attributes["copnet.client.cn"] == "alice-laptop"
    assert tuple(span.attributes["copnet.client.san"]) == ("alice.clients.example.org",)  # type: ignore[arg-type]
    (record,) = [r for r in caplog.records if "CreateOrganisation by operator" in r.getMessage()]
    assert "CN=alice-laptop SAN=alice.clients.example.org" in record.getMessage()


def test_the_caller_carries_the_client_certificate(
    node: NodeSettings, certs: Certificates, authority
):
    """What the interceptor hands a servicer: the token's subject, and the certificate (a
    service of the test's own on the same server code, which answers with its caller)."""

    async def who(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        caller = current_caller()
        certificate = caller.client_certificate
        assert certificate is not None
        return json.dumps(
            {
                "subject": caller.subject,
                "cn": certificate.common_name,
                "sans": list(certificate.sans),
                "peer": caller.peer,
            }
        ).encode()

    def register(server: grpc.aio.Server) -> None:
        handler = grpc.unary_unary_rpc_method_handler(who)
        server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler("test.Echo", {"Who": handler})]
        )

    settings = settings_for(node, certs, mutual=True)
    tls = ServerTls.of(settings)
    loop = asyncio.new_event_loop()
    handle = loop.run_until_complete(
        start_server("127.0.0.1:0", authority, register, ["test.Echo"], tls=tls)
    )
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        good = ChannelSecurity(True, certs.ca_file, certs.alice.cert_file, certs.alice.key_file)
        with open_channel(f"127.0.0.1:{handle.port}", good) as channel:
            answer = channel.unary_unary("/test.Echo/Who")(
                b"",
                metadata=[("authorization", f"Bearer {authority.issue('operator')}")],
                timeout=5,
            )
    finally:
        asyncio.run_coroutine_threadsafe(handle.stop(0), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
    caller = json.loads(answer)
    assert caller["subject"] == "operator"
    assert caller["cn"] == "alice-laptop"
    assert caller["sans"] == ["alice.clients.example.org"]
    assert caller["peer"].startswith("ipv4:127.0.0.1:")


def test_plain_grpc_beyond_loopback_needs_insecure(node: NodeSettings, serve, authority, caplog):
    plain = settings_for(node, None)
    with pytest.raises(InsecureBinding, match=r"refusing plain gRPC on 0\.0\.0\.0:0"):
        ServiceRuntime(DEFINITION, plain, roles=("api",), address="0.0.0.0:0", authority=authority)

    caplog.set_level(logging.WARNING, logger="services.common.transport")
    runtime = serve(replace(plain, insecure=True), address="0.0.0.0:0")
    warnings = [r for r in caplog.records if "WITHOUT TLS on 0.0.0.0:0" in r.getMessage()]
    assert warnings and warnings[0].levelno == logging.WARNING
    with open_channel(f"127.0.0.1:{runtime.port}", ChannelSecurity.plain()) as channel:
        list_organisations(channel, authority.issue("operator"))
