"""One trace from a client's call to the NATS message, exported over OTLP to a real collector."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.trace.v1 import trace_pb2

from copnet.registry.v1 import registry_pb2 as pb
from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from services.node import wait_serving
from tests.support import otlp
from tests.support.ports import free_port
from tests.support.streams import read_stream
from tests.support.waiting import eventually


@pytest.fixture
def collector():
    with otlp.collector() as (servicer, port):
        yield servicer, port


def test_a_command_is_traced_from_the_client_to_the_nats_message(
    collector, nats_server, tmp_path: Path
):
    receiver, otlp_port = collector
    grpc_port = free_port()
    settings = NodeSettings(
        node_id="testnode",
        region="test-region",
        data_dir=tmp_path / "node",
        nats_url=nats_server.url,
        addresses={"registry": f"127.0.0.1:{grpc_port}"},
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("COPNET_", "OTEL_"))},
        **settings.to_env(),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_METRIC_EXPORT_INTERVAL": "300",
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "services.registry"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "registry.log").open("wb"),
    )
    try:
        assert wait_serving(f"127.0.0.1:{grpc_port}", 20), (tmp_path / "registry.log").read_text()
        token = TokenAuthority.for_node("testnode", settings.signing_key_file).issue("operator")
        trace_id = uuid.uuid4().hex
        client_span = uuid.uuid4().hex[:16]
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            pb_grpc.RegistryServiceStub(channel).CreateOrganisation(
                pb.CreateOrganisationRequest(
                    request_id=str(uuid.uuid4()),
                    name="Bromley Healthcare",
                    kind=pb.ORGANISATION_KIND_OTHER,
                    region="sel",
                ),
                metadata=[
                    ("authorization", f"Bearer {token}"),
                    ("traceparent", f"00-{trace_id}-{client_span}-01"),
                ],
                timeout=10,
            )
            try:  # a caller's mistake: the span records the code, not an error of the server
                pb_grpc.RegistryServiceStub(channel).GetOrganisation(
                    pb.GetOrganisationRequest(organisation_id=str(uuid.uuid4())),
                    metadata=[("authorization", f"Bearer {token}")],
                    timeout=10,
                )
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.NOT_FOUND
        eventually(lambda: len(read_stream(nats_server.url, "COPNET_TESTNODE")) == 1)
        message = read_stream(nats_server.url, "COPNET_TESTNODE")[0]
        assert message.headers["traceparent"].split("-")[1] == trace_id

        server_name = "copnet.registry.v1.RegistryService/CreateOrganisation"
        publish_name = "publish copnet.test-region.testnode.registry.organisation_registered"
        lookup_name = "copnet.registry.v1.RegistryService/GetOrganisation"
        eventually(lambda: receiver.named(server_name) and receiver.named(publish_name))
        resource, server_span = receiver.named(server_name)[0]
        _, publish_span = receiver.named(publish_name)[0]
        _, lookup_span = eventually(lambda: receiver.named(lookup_name))[0]
        # The RED metrics arrive over OTLP too, by method and status code.
        calls = eventually(lambda: calls_by_code(receiver))
    finally:
        service.terminate()
        service.wait(20)

    assert resource["service.name"] == "copnet-registry"
    assert resource["copnet.node"] == "testnode"
    assert server_span.trace_id.hex() == trace_id
    assert server_span.parent_span_id.hex() == client_span
    assert server_span.kind == trace_pb2.Span.SPAN_KIND_SERVER
    assert publish_span.trace_id.hex() == trace_id
    assert publish_span.kind == trace_pb2.Span.SPAN_KIND_PRODUCER
    assert message.headers["traceparent"].split("-")[2] == publish_span.span_id.hex()
    attributes = {a.key: a.value.string_value for a in publish_span.attributes}
    assert attributes["messaging.system"] == "nats"
    assert attributes["messaging.message.id"] == message.headers["Nats-Msg-Id"]
    assert not receiver.named("grpc.health.v1.Health/Check"), "health probes are not traced"
    assert resource["service.version"]
    lookup = {a.key: a.value.int_value for a in lookup_span.attributes}
    assert lookup["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert lookup_span.status.code == trace_pb2.Status.STATUS_CODE_UNSET
    assert calls[("CreateOrganisation", "OK")] == 1
    assert calls[("GetOrganisation", "NOT_FOUND")] == 1
    assert not any(method == "Check" for method, _ in calls)


def calls_by_code(receiver: otlp.Collector) -> dict[tuple[str, str], int]:
    """The latest count of each (method, status code) of `rpc.server.call.duration`."""
    counts: dict[tuple[str, str], int] = {}
    for metric in receiver.metric("rpc.server.call.duration"):
        for point in metric.histogram.data_points:
            labels = {a.key: a.value.string_value for a in point.attributes}
            key = (labels["rpc.method"], labels["rpc.grpc.status_code"])
            counts[key] = point.count
    return counts if len(counts) >= 2 else {}


def test_no_exporter_is_configured_without_otel_settings():
    from services.common.telemetry import _exporter_from

    assert _exporter_from({}) is None
    assert (
        _exporter_from({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"}) is None
    )
    assert (
        type(_exporter_from({"OTEL_TRACES_EXPORTER": "console"})).__name__ == "ConsoleSpanExporter"
    )
    assert _exporter_from({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}) is not None


def test_new_traces_are_sampled_up_to_the_rate_and_whole_or_not_at_all():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from services.common.telemetry import _sampler_from

    kept = InMemorySpanExporter()
    provider = TracerProvider(sampler=_sampler_from({"COPNET_TRACES_PER_SECOND": "10"}))
    provider.add_span_processor(SimpleSpanProcessor(kept))
    tracer = provider.get_tracer("tests")
    roots = []
    for n in range(100):  # a burst, far faster than 10 a second
        with tracer.start_as_current_span(f"root {n}") as root:
            roots.append((n, root))
            with tracer.start_as_current_span(f"child {n}"):
                pass
    sampled = {n for n, r in roots if r.get_span_context().trace_flags.sampled}
    assert 8 <= len(sampled) <= 12, len(sampled)
    names = {s.name for s in kept.get_finished_spans()}
    for n, root in roots:
        whole = {f"root {n}", f"child {n}"}
        assert whole <= names if n in sampled else not whole & names
        assert root.get_span_context().is_valid  # unsampled traces still carry ids
    assert _sampler_from({"OTEL_TRACES_SAMPLER": "always_on"}) is None  # the SDK's own
