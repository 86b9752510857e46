"""Metrics of a copnet process (OpenTelemetry's metrics SDK).

`configure_metrics` installs the process's `MeterProvider`: a Prometheus endpoint
(`/metrics` on `NodeSettings.metrics_port`, on the listen host) when the port is set, and
OTLP export when the OTEL_* variables ask for it (as for traces). Instruments made before
(`metrics.get_meter(...)` at import, e.g. `copnet.relay.stream_alarms`) report through it.

What a running service is doing is sampled every `SAMPLE_INTERVAL` seconds by its
`RuntimeSampler` (relay backlog and lag, each inbox's consumer, the streams it uses, the
federation links it reads, each read model's position against the store's) and reported
by observable instruments. Every series carries `copnet.node` and `copnet.service`, so a
process that runs several services (tests, embedding) keeps them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from services.common.messaging import NodeIdentity

if TYPE_CHECKING:
    from services.common.service import ServiceRuntime

log = logging.getLogger(__name__)

SAMPLE_INTERVAL = 2.0
# How long the figures JetStream gives (consumers, streams, sources) may take.
NATS_FIGURES_WITHIN = 3.0
NATS_FIGURES = (
    "copnet.inbox.pending",
    "copnet.inbox.ack_pending",
    "copnet.inbox.redelivered",
    "copnet.stream.messages",
    "copnet.stream.bytes",
    "copnet.federation.link.up",
    "copnet.federation.link.age",
    "copnet.federation.link.lag",
)
# A federation source heard from (a message or the server's heartbeat) within this is up.
LINK_UP_WITHIN = 10.0

_provider: MeterProvider | None = None
_http_ports: set[int] = set()


def _otlp_reader(env: Mapping[str, str]) -> MetricReader | None:
    choice = env.get("OTEL_METRICS_EXPORTER", "").strip().lower()
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
    )
    if choice in ("none", "prometheus") or (not choice and not endpoint):
        return None
    protocol = env.get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"
    )
    if protocol.startswith("http"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as HttpExporter,
        )

        return PeriodicExportingMetricReader(HttpExporter())
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
        OTLPMetricExporter as GrpcExporter,
    )

    return PeriodicExportingMetricReader(GrpcExporter())


def configure_metrics(
    service: str,
    identity: NodeIdentity,
    port: int = 0,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
) -> MeterProvider:
    """Installs the process's meter provider (once) and serves `/metrics` on `port` (if not 0)."""
    global _provider
    env = os.environ if env is None else env
    if _provider is None:
        readers: list[MetricReader] = []
        if port:
            from opentelemetry.exporter.prometheus import PrometheusMetricReader

            readers.append(PrometheusMetricReader())
        otlp = _otlp_reader(env)
        if otlp is not None:
            readers.append(otlp)
        attributes = {
            "service.namespace": "copnet",
            "service.name": env.get("OTEL_SERVICE_NAME") or f"copnet-{service}",
            "service.version": _version(),
            "copnet.node": identity.node_id,
            "copnet.region": identity.region,
        }
        _provider = MeterProvider(metric_readers=readers, resource=Resource.create(attributes))
        metrics.set_meter_provider(_provider)
    if port and port not in _http_ports:
        from prometheus_client import start_http_server

        start_http_server(port, addr=host)
        _http_ports.add(port)
        log.info("metrics on http://%s:%d/metrics", host, port)
    return _provider


def shutdown_metrics() -> None:
    if _provider is not None:
        _provider.shutdown()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("copnet")
    except PackageNotFoundError:
        return "0+unknown"


Gauge = list[tuple[float, dict[str, str]]]


@dataclass
class Sample:
    """The last figures of one service, by instrument name."""

    labels: dict[str, str]
    values: dict[str, Gauge] = field(default_factory=dict)

    def put(self, name: str, value: float, **attributes: str) -> None:
        self.values.setdefault(name, []).append((value, {**self.labels, **attributes}))


_samplers: weakref.WeakSet[RuntimeSampler] = weakref.WeakSet()


def _observe(name: str) -> Any:
    def callback(_options: CallbackOptions) -> Iterable[Observation]:
        for sampler in list(_samplers):
            if name == "copnet.service.serving":  # as the health service says it now
                serving = 1.0 if sampler.runtime.serving else 0.0
                yield Observation(serving, sampler.sample.labels)
                continue
            for value, attributes in sampler.sample.values.get(name, []):
                yield Observation(value, attributes)

    return callback


_meter = metrics.get_meter("copnet")
# name: (kind, unit, description); every one is read from the samplers' last figures.
INSTRUMENTS: dict[str, tuple[str, str, str]] = {
    "copnet.relay.backlog": ("gauge", "{event}", "Stored events the relay has not published"),
    "copnet.relay.lag": ("gauge", "s", "Age of the oldest event the relay has not published"),
    "copnet.relay.published": ("counter", "{message}", "Messages the relay published"),
    "copnet.relay.failures": ("counter", "{failure}", "Relay cycles that failed"),
    "copnet.relay.alarmed": ("gauge", "1", "1 while the relay is stopped for an operator"),
    "copnet.inbox.pending": ("gauge", "{message}", "Messages the inbox has yet to receive"),
    "copnet.inbox.ack_pending": ("gauge", "{message}", "Messages delivered, not acknowledged"),
    "copnet.inbox.redelivered": ("gauge", "{message}", "Messages delivered more than once"),
    "copnet.inbox.parked": ("gauge", "1", "1 while the inbox is parked on a failing message"),
    "copnet.inbox.applied": ("counter", "{message}", "Messages the inbox applied"),
    "copnet.inbox.failures": ("counter", "{failure}", "Inbox failures (parked or retried)"),
    "copnet.stream.messages": ("gauge", "{message}", "Messages in a JetStream stream"),
    "copnet.stream.bytes": ("gauge", "By", "Bytes in a JetStream stream"),
    "copnet.federation.link.up": ("gauge", "1", "1 while a federation source is heard from"),
    "copnet.federation.link.age": ("gauge", "s", "Since a federation source was heard from"),
    "copnet.federation.link.lag": ("gauge", "{message}", "Messages of a source not yet here"),
    "copnet.read_model.position": ("gauge", "{event}", "Last event a read model applied"),
    "copnet.read_model.store_position": ("gauge", "{event}", "Last event in the store"),
    "copnet.read_model.backlog": ("gauge", "{event}", "Events a read model has yet to apply"),
    "copnet.service.serving": ("gauge", "1", "1 while the service reports SERVING"),
}
for _name, (_kind, _unit, _description) in INSTRUMENTS.items():
    _make = (
        _meter.create_observable_counter if _kind == "counter" else _meter.create_observable_gauge
    )
    _make(_name, callbacks=[_observe(_name)], unit=_unit, description=_description)


class RuntimeSampler:
    """Samples one running service's figures for the instruments above."""

    def __init__(self, runtime: ServiceRuntime[Any]) -> None:
        self.runtime = runtime
        self.sample = Sample(
            {"copnet.node": runtime.identity.node_id, "copnet.service": runtime.definition.name}
        )
        _samplers.add(self)

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.take()
            except Exception as error:  # figures are best effort; readiness is elsewhere
                log.debug("sampling %s: %s", self.runtime.definition.name, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), SAMPLE_INTERVAL)

    async def take(self) -> None:
        runtime = self.runtime
        sample = Sample(self.sample.labels)
        stored = await asyncio.to_thread(runtime.app.recorder.max_notification_id) or 0
        for name, follower in runtime.followers.items():
            sample.put("copnet.read_model.position", follower.position, view=name)
            sample.put("copnet.read_model.store_position", stored, view=name)
            sample.put("copnet.read_model.backlog", max(0, stored - follower.position), view=name)
        relay = runtime.relay
        if relay is not None:
            backlog = max(0, stored - relay.position)
            sample.put("copnet.relay.backlog", backlog)
            sample.put("copnet.relay.lag", await asyncio.to_thread(self._relay_lag, backlog))
            sample.put("copnet.relay.published", relay.stats.published)
            sample.put("copnet.relay.failures", relay.stats.failures)
            sample.put("copnet.relay.alarmed", 1.0 if relay.progress.alarmed else 0.0)
        for inbox in runtime.inboxes:
            inbox_labels = {"inbox": inbox.name}
            sample.put("copnet.inbox.parked", 1.0 if inbox.stats.parked_on else 0.0, **inbox_labels)
            sample.put("copnet.inbox.applied", inbox.stats.applied, **inbox_labels)
            sample.put("copnet.inbox.failures", inbox.stats.failures, **inbox_labels)
        if "worker" in runtime.roles and runtime.nats.connected:
            try:  # NATS frozen or away: its figures as last seen, the others fresh
                await asyncio.wait_for(self._nats_figures(sample), NATS_FIGURES_WITHIN)
            except (TimeoutError, nats.errors.Error, nats.js.errors.Error):
                for name in NATS_FIGURES:
                    sample.values[name] = self.sample.values.get(name, [])
        self.sample = sample

    def _relay_lag(self, backlog: int) -> float:
        relay = self.runtime.relay
        if relay is None or not backlog:
            return 0.0
        app = self.runtime.app
        first = app.recorder.select_notifications(
            start=relay.position, limit=1, inclusive_of_start=False
        )
        if not first:
            return 0.0
        return max(0.0, time.time() - app.mapper.to_domain_event(first[0]).timestamp.timestamp())

    async def _nats_figures(self, sample: Sample) -> None:
        runtime = self.runtime
        js = (await runtime.nats.client()).jetstream(timeout=1)
        streams = {runtime.identity.stream_name} if runtime.relay is not None else set()
        for inbox in runtime.inboxes:
            inbox_labels = {"inbox": inbox.name}
            streams.add(inbox.stream)
            try:
                info = await js.consumer_info(inbox.stream, inbox.name)
            except (nats.errors.Error, nats.js.errors.Error, TimeoutError):
                continue
            sample.put("copnet.inbox.pending", info.num_pending or 0, **inbox_labels)
            sample.put("copnet.inbox.ack_pending", info.num_ack_pending or 0, **inbox_labels)
            sample.put("copnet.inbox.redelivered", info.num_redelivered or 0, **inbox_labels)
        for stream in sorted(streams):
            try:
                stream_info = await js.stream_info(stream)
            except (nats.errors.Error, nats.js.errors.Error, TimeoutError):
                continue
            sample.put("copnet.stream.messages", stream_info.state.messages, stream=stream)
            sample.put("copnet.stream.bytes", stream_info.state.bytes, stream=stream)
            if stream != runtime.identity.federation_stream_name:
                continue
            for source in stream_info.sources or []:
                age = source.active / 1e9 if source.active is not None else -1.0
                up = 1.0 if 0 <= age < LINK_UP_WITHIN else 0.0
                sample.put("copnet.federation.link.up", up, source=source.name)
                sample.put("copnet.federation.link.age", age, source=source.name)
                sample.put("copnet.federation.link.lag", source.lag or 0, source=source.name)
