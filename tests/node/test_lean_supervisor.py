"""A node at rest is lean: the `copnet up` supervisor holds none of the services' code or
libraries, and the services and the report load heavy libraries only on the paths that
need them (docs/benchmarks.md, "Memory at rest and start-up")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.messaging import NodeIdentity
from services.common.settings import available_services
from services.node_grants import DECLARED, definition_grants, service_grants

# Modules the supervisor must not import: the services' code, and what only they (or the
# report, or a client) need.
NOT_IN_SUPERVISOR = (
    "services.registry.service",
    "services.events.service",
    "services.learning.service",
    "services.notify.service",
    "services.report.page",
    "grpc",
    "eventsourcing",
    "psycopg",
    "opentelemetry",
    "altair",
    "vl_convert",
    "fpdf",
    "jinja2",
    "icalendar",
    "starlette",
    "hypercorn",
    "jwt",
    "nats",
    "asyncio",
)

SUPERVISOR = """
import json, sys
from services import cli
from services.node import Node
options = cli.build_parser().parse_args(
    ["up", "--data-dir", sys.argv[1], "--node-id", "guys", "--region", "sel"]
)
Node(cli._settings(options)).ports()  # its settings, keys' paths, NATS users and config
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] != "__main__")))
"""


@pytest.mark.parametrize("node", ["guys", "kings-college"])
def test_the_grants_table_says_what_the_service_definitions_say(node: str):
    identity = NodeIdentity(node, "sel")
    assert set(DECLARED) == set(available_services())
    for grants in service_grants(identity):
        assert grants == definition_grants(grants.service, identity)


def test_the_supervisor_imports_no_service_and_no_heavy_library(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-c", SUPERVISOR, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    modules = set(json.loads(result.stdout))
    assert "services.node" in modules and "services.common.supervision" in modules
    found = sorted(
        m
        for m in modules
        if any(m == name or m.startswith(f"{name}.") for name in NOT_IN_SUPERVISOR)
    )
    assert found == []
