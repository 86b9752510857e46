"""An OTLP/gRPC receiver in the test (as an OpenTelemetry collector runs it), and a way to
send the test process's own spans to it for one test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager

import grpc
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """The receiving end of OTLP/gRPC: every span exported to it, with its resource."""

    def __init__(self) -> None:
        self.spans: list[tuple[dict[str, str], trace_pb2.Span]] = []
        self.metrics: list[metrics_pb2.Metric] = []
        self._lock = threading.Lock()

    def Export(self, request, context):
        with self._lock:
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend((resource, span) for span in scope_spans.spans)
        return trace_service_pb2.ExportTraceServiceResponse()

    def metric(self, name: str) -> list[metrics_pb2.Metric]:
        """Every export of the metric `name` received so far."""
        with self._lock:
            return [m for m in self.metrics if m.name == name]

    def named(self, name: str) -> list[tuple[dict[str, str], trace_pb2.Span]]:
        with self._lock:
            return [(r, s) for r, s in self.spans if s.name == name]

    def of_trace(self, trace_id: str) -> list[trace_pb2.Span]:
        with self._lock:
            return [s for _, s in self.spans if s.trace_id.hex() == trace_id]


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def Export(self, request, context):
        with self.collector._lock:
            for resource_metrics in request.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    self.collector.metrics.extend(scope_metrics.metrics)
        return metrics_service_pb2.ExportMetricsServiceResponse()


@contextmanager
def collector() -> Iterator[tuple[Collector, int]]:
    """An OTLP/gRPC receiver of traces and metrics on a loopback port."""
    servicer = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Metrics(servicer), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield servicer, port
    finally:
        server.stop(0)


class _Switch(SpanProcessor):
    """Forwards spans to `inner` while on (a provider's processors cannot be removed)."""

    def __init__(self, inner: SpanProcessor) -> None:
        self.inner, self.on = inner, True

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self.on:
            self.inner.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self.on:
            self.inner.on_end(span)


@contextmanager
def exporting_to(port: int) -> Iterator[None]:
    """This process's spans go over OTLP to `port` too, until the block ends (flushed)."""
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "the tests install the SDK provider"
    batch = BatchSpanProcessor(
        OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}", insecure=True),
        schedule_delay_millis=200,
    )
    switch = _Switch(batch)
    provider.add_span_processor(switch)
    try:
        yield
    finally:
        batch.force_flush(5000)
        switch.on = False
        batch.shutdown()
