"""OpenTelemetry and logging set-up for a copnet process.

Tracing follows the standard variables: spans are exported over OTLP when
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set or
`OTEL_TRACES_EXPORTER=otlp`; `OTEL_TRACES_EXPORTER=console` prints them;
otherwise nothing is exported, but trace context is still created and
propagated (into stored events, NATS headers and log lines).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

from services.common.messaging import NodeIdentity

log = logging.getLogger(__name__)

_configured_provider: TracerProvider | None = None


def _exporter_from(env: Mapping[str, str]) -> SpanExporter | None:
    choice = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint_set = bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    if choice == "none" or (not choice and not endpoint_set):
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    if choice not in ("", "otlp"):
        log.warning("OTEL_TRACES_EXPORTER=%s is not supported; exporting over OTLP", choice)
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"
    )
    if protocol.startswith("http"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        return HttpExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GrpcExporter,
    )

    return GrpcExporter()


def configure_tracing(
    service: str,
    identity: NodeIdentity,
    env: Mapping[str, str] | None = None,
    extra_processor: SpanProcessor | None = None,
) -> TracerProvider:
    """Installs the process's tracer provider (once; later calls return the first)."""
    global _configured_provider
    if _configured_provider is not None:
        return _configured_provider
    env = os.environ if env is None else env
    attributes = {
        "service.namespace": "copnet",
        "copnet.node": identity.node_id,
        "copnet.region": identity.region,
    }
    if not env.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = f"copnet-{service}"
    provider = TracerProvider(resource=Resource.create(attributes))
    exporter = _exporter_from(env)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    if extra_processor is not None:
        provider.add_span_processor(extra_processor)
    trace.set_tracer_provider(provider)
    _configured_provider = provider
    return provider


def shutdown_tracing() -> None:
    if _configured_provider is not None:
        _configured_provider.shutdown()


class _TraceIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = f"{context.trace_id:032x}" if context.is_valid else "-"
        return True


def configure_logging(level: str, service: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_TraceIdFilter())
    handler.setFormatter(
        logging.Formatter(
            f"%(asctime)s %(levelname)s copnet-{service} %(name)s [trace=%(trace_id)s] %(message)s"
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("nats").setLevel(logging.WARNING)
