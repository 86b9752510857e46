"""OpenTelemetry and logging set-up for a copnet process.

Tracing follows the standard variables: spans are exported over OTLP when
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set or
`OTEL_TRACES_EXPORTER=otlp`; `OTEL_TRACES_EXPORTER=console` prints them;
otherwise nothing is exported, but trace context is still created and
propagated (into stored events, NATS headers and log lines).

Sampling: unless `OTEL_TRACES_SAMPLER` chooses another (the standard samplers), a
process records every new trace up to `COPNET_TRACES_PER_SECOND` (default 50) a
second, and none above that rate until the next second (`RateLimitedSampler`); a
span whose parent was sampled is sampled, one whose parent was not is not, so a
trace is whole or absent across services. Under load a node thus spends its CPU on
the work, not on spans nobody will read; an unsampled trace still has its ids, in
log lines and in what is propagated.

`RpcTelemetry` is the gRPC servers' interceptor: a SERVER span per unary call (named
`<package>.<Service>/<Method>`, continuing the caller's `traceparent`; health and
reflection are not traced) and the RED metrics (`rpc.server.call.duration`, by method
and status code). Logs are JSON lines (`configure_logging`) tagged with the service, the
node and the current trace and span ids (`services.common.logs`, which a process that
traces nothing imports alone).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

import grpc
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from services.common.logs import JsonLines as JsonLines
from services.common.logs import configure_logging as configure_logging
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


DEFAULT_TRACES_PER_SECOND = 50.0


class RateLimitedSampler(Sampler):
    """Samples new traces up to `rate` a second (a token bucket holding one second)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._tokens = rate
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate)
            self._last = now
            taken = self._tokens >= 1.0
            if taken:
                self._tokens -= 1.0
        decision = Decision.RECORD_AND_SAMPLE if taken else Decision.DROP
        return SamplingResult(decision, attributes if taken else None, trace_state)

    def get_description(self) -> str:
        return f"RateLimitedSampler{{{self.rate}/s}}"


def _sampler_from(env: Mapping[str, str]) -> Sampler | None:
    """The standard variables' sampler if they name one, else copnet's rate limit."""
    if env.get("OTEL_TRACES_SAMPLER"):
        return None  # the SDK reads OTEL_TRACES_SAMPLER and its argument itself
    raw = env.get("COPNET_TRACES_PER_SECOND", "")
    try:
        rate = float(raw) if raw else DEFAULT_TRACES_PER_SECOND
    except ValueError:
        log.warning(
            "COPNET_TRACES_PER_SECOND=%r is not a number; using %s", raw, DEFAULT_TRACES_PER_SECOND
        )
        rate = DEFAULT_TRACES_PER_SECOND
    return ParentBased(RateLimitedSampler(max(rate, 0.0)))


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
    from services.common.metrics import _version

    attributes = {
        "service.namespace": "copnet",
        "service.version": _version(),
        "copnet.node": identity.node_id,
        "copnet.region": identity.region,
    }
    if not env.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = f"copnet-{service}"
    provider = TracerProvider(resource=Resource.create(attributes), sampler=_sampler_from(env))
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


_UNTRACED = ("/grpc.health.v1.Health/", "/grpc.reflection.")
rpc_tracer = trace.get_tracer("copnet.grpc")
RPC_DURATION = metrics.get_meter("copnet.grpc").create_histogram(
    "rpc.server.call.duration",
    unit="s",
    description="Duration of gRPC calls served, by method and status code",
    explicit_bucket_boundaries_advisory=[
        0.002,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1.0,
        2.5,
        5.0,
        10.0,
    ],
)


class RpcTelemetry(grpc.aio.ServerInterceptor):
    """A SERVER span and the RED metrics of every unary call but health and reflection."""

    def __init__(self, service: str = "", node: str = "", address: str = "") -> None:
        host, _, port = address.rpartition(":")
        self.labels = {"copnet.service": service, "copnet.node": node} if service else {}
        self.server: dict[str, str | int] = {
            "server.address": host.strip("[]"),
            "server.port": int(port or 0),
        }

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(details)
        method = details.method
        if handler is None or handler.unary_unary is None or method.startswith(_UNTRACED):
            return handler
        inner = cast(Callable[[Any, Any], Awaitable[Any]], handler.unary_unary)
        service, _, name = method.lstrip("/").partition("/")
        carrier = {str(k): str(v) for k, v in details.invocation_metadata or ()}

        async def behaviour(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            with rpc_tracer.start_as_current_span(
                f"{service}/{name}",
                context=propagate.extract(carrier),
                kind=SpanKind.SERVER,
                record_exception=False,
                set_status_on_exception=False,
                attributes={
                    "rpc.system": "grpc",
                    "rpc.service": service,
                    "rpc.method": name,
                    **self.server,
                },
            ) as span:
                try:
                    return await inner(request, context)
                except BaseException:
                    code = _code(context.code()) or grpc.StatusCode.UNKNOWN
                    raise
                finally:
                    if code is grpc.StatusCode.OK:
                        code = _code(context.code()) or grpc.StatusCode.OK
                    span.set_attribute("rpc.grpc.status_code", code.value[0])
                    if code in _SERVER_FAULTS:
                        span.set_status(Status(StatusCode.ERROR, code.name))
                    RPC_DURATION.record(
                        time.perf_counter() - started,
                        {
                            **self.labels,
                            "rpc.system": "grpc",
                            "rpc.service": service,
                            "rpc.method": name,
                            "rpc.grpc.status_code": code.name,
                        },
                    )

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


# The codes that are the server's fault (semantic conventions: errors of a gRPC server span).
_SERVER_FAULTS = {
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DATA_LOSS,
}


def _code(value: Any) -> grpc.StatusCode | None:
    """A context's code: a `StatusCode`, an int, or None when not set."""
    if value is None or isinstance(value, grpc.StatusCode):
        return value
    return next((c for c in grpc.StatusCode if c.value[0] == value), grpc.StatusCode.UNKNOWN)
