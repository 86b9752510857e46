"""`copnet up` as an operator runs it, for tests: a real process tree, real ports, real signals,
and a gRPC client that drives it the way an integrator would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from copnet.events.v1 import events_pb2 as epb
from copnet.events.v1 import events_pb2_grpc as epb_grpc
from copnet.notify.v1 import notify_pb2 as npb
from copnet.notify.v1 import notify_pb2_grpc as npb_grpc
from copnet.registry.v1 import registry_pb2 as pb
from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
from services.common.channels import ChannelSecurity, open_channel
from services.common.settings import SERVICES, WEB_SERVICES, available_services
from tests.support import natsauth
from tests.support.ports import free_port, free_port_block
from tests.support.waiting import eventually

COPNET = [sys.executable, "-m", "services.cli"]
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def shared_objects(pid: int) -> set[str]:
    """The installed packages' native libraries a process has loaded (from /proc/<pid>/maps),
    e.g. "grpc/_cython/cygrpc.cpython-311-x86_64-linux-gnu.so"."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split()[-1]
        if "site-packages/" in path and ".so" in path:
            found.add(path.split("site-packages/", 1)[1])
    return found


def api_name(service: str) -> str:
    return f"copnet.{service}.v1.{service.capitalize()}Service"


def rid() -> str:
    return str(uuid.uuid4())


class RunningNode:
    def __init__(
        self,
        data_dir: Path,
        node_id: str = "guys",
        region: str = "sel",
        postgres_dsn: str = "",
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        security: ChannelSecurity | None = None,
    ) -> None:
        self.data_dir = data_dir
        # More flags for `copnet up` (e.g. --tls-cert), and how clients then connect.
        self.args = args or []
        self.security = security or ChannelSecurity.plain()
        self.node_id = node_id
        self.region = region
        self.postgres_dsn = postgres_dsn
        self.extra_env = env or {}
        self.nats_port = free_port()
        natsauth.remember(self.nats_url, data_dir)  # copnet up writes the operator's key there
        # The services' gRPC ports, the web pages (notify's, the events service's), the
        # report page.
        self.grpc_port = free_port_block(len(SERVICES) + len(WEB_SERVICES) + 1)
        self.metrics_port = free_port_block(len(SERVICES))
        self.log = data_dir.parent / f"{node_id}-up.log"
        self.process: subprocess.Popen[bytes] | None = None
        # Every child seen, so that even orphans of a killed supervisor are cleaned up.
        self._seen: dict[int, psutil.Process] = {}

    @property
    def registry(self) -> str:
        return self.address("registry")

    @property
    def events(self) -> str:
        return self.address("events")

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    def address(self, service: str) -> str:
        return f"127.0.0.1:{self.grpc_port + SERVICES.index(service)}"

    def channel(self, service: str) -> grpc.Channel:
        """A channel to one of its services, as it serves them (plain or TLS)."""
        return open_channel(self.address(service), self.security)

    def metrics_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.metrics_port + SERVICES.index(service)}/metrics"

    def apis(self) -> list[tuple[str, str]]:
        """(address, gRPC service) of every service the node runs; ready when SERVING."""
        return [(self.address(name), api_name(name)) for name in available_services()]

    def command(self, node_id: str | None = None) -> list[str]:
        command = [
            *COPNET,
            "up",
            "--data-dir",
            str(self.data_dir),
            "--node-id",
            node_id or self.node_id,
            "--region",
            self.region,
            "--nats-port",
            str(self.nats_port),
            "--grpc-port-base",
            str(self.grpc_port),
            "--metrics-port-base",
            str(self.metrics_port),
        ]
        command += self.args
        return command + (["--postgres-dsn", self.postgres_dsn] if self.postgres_dsn else [])

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
        return {**env, **self.extra_env}

    def start(self, node_id: str | None = None) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command(node_id), stdout=out, stderr=subprocess.STDOUT, env=self.environment()
            )
        return self.process

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def token(self, member: str = "") -> str:
        who = ["--member", member] if member else ["--operator", "--name", "tests"]
        return subprocess.run(
            [*COPNET, "token", *who, "--data-dir", str(self.data_dir)],
            check=True,
            capture_output=True,
            text=True,
            env=self.environment(),
        ).stdout.strip()

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)

    def health(self, service: str) -> int:
        """The readiness of one service: SERVING, NOT_SERVING, or -1 when it does not answer."""
        with open_channel(self.address(service), self.security) as channel:
            try:
                return (
                    health_pb2_grpc.HealthStub(channel)
                    .Check(health_pb2.HealthCheckRequest(service=api_name(service)), timeout=1)
                    .status
                )
            except grpc.RpcError:
                return -1

    def all_serving(self) -> bool:
        """Every service SERVING, and the report page's process (started once they are)."""
        if not all(self.health(name) == SERVING for name in available_services()):
            return False
        return "report" in self.children()

    def children(self) -> dict[str, psutil.Process]:
        """The supervisor's children by name: nats-server and services.<name>."""
        assert self.process is not None
        found = {}
        for child in psutil.Process(self.process.pid).children():
            try:
                words = child.cmdline()
            except psutil.NoSuchProcess:
                continue
            if words and Path(words[0]).name == "nats-server":
                found["nats-server"] = child
            elif "-m" in words:
                found[words[words.index("-m") + 1].removeprefix("services.")] = child
        self._seen.update({p.pid: p for p in found.values()})
        return found

    def kill_everything(self) -> None:
        """Leaves nothing behind: the supervisor and every process of its tree."""
        if self.process is None:
            return
        try:
            tree = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        for process in [*tree, *self._seen.values()]:
            with _gone():
                if process.is_running():
                    process.kill()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class _gone:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> bool:
        return kind is not None and issubclass(kind, psutil.NoSuchProcess)


class NodeClient:
    """Calls a running node's APIs as its operator or one of its members."""

    def __init__(self, node: RunningNode) -> None:
        self.node = node
        self.operator = node.token()
        self._tokens: dict[str, str] = {}
        self.registry = pb_grpc.RegistryServiceStub(node.channel("registry"))
        self.events = epb_grpc.EventsServiceStub(node.channel("events"))
        self.notify = npb_grpc.NotifyServiceStub(node.channel("notify"))

    def auth(self, member: str = "") -> list[tuple[str, str]]:
        if member and member not in self._tokens:
            self._tokens[member] = self.node.token(member)
        return [("authorization", f"Bearer {self._tokens[member] if member else self.operator}")]

    def organisation(self, timeout: float = 10) -> str:
        return self.registry.CreateOrganisation(
            pb.CreateOrganisationRequest(
                request_id=rid(),
                name="Guy's and St Thomas'",
                kind=pb.ORGANISATION_KIND_NHS_TRUST,
                region=self.node.region,
            ),
            metadata=self.auth(),
            timeout=timeout,
        ).organisation.organisation_id

    def member(self, organisation: str, name: str, timeout: float = 10) -> str:
        return self.registry.RegisterMember(
            pb.RegisterMemberRequest(
                request_id=rid(),
                display_name=name,
                profession=pb.PROFESSION_NURSE,
                home_organisation_id=organisation,
                email=f"{name.lower().replace(' ', '.')}@example.nhs.uk",
            ),
            metadata=self.auth(),
            timeout=timeout,
        ).member.member_id

    def community(self, lead: str, slug: str, timeout: float = 10) -> str:
        return self.registry.CreateCommunity(
            pb.CreateCommunityRequest(
                request_id=rid(),
                slug=slug,
                name=f"CoP {slug}",
                domain="quality",
                region=self.node.region,
                joining_policy=pb.JOINING_POLICY_OPEN,
            ),
            metadata=self.auth(lead),
            timeout=timeout,
        ).community.community_id

    def join(self, community: str, member: str, timeout: float = 10) -> None:
        self.registry.JoinCommunity(
            pb.JoinCommunityRequest(request_id=rid(), community_id=community, member_id=member),
            metadata=self.auth(),
            timeout=timeout,
        )

    def convening(self, community: str, lead: str, title: str, timeout: float = 10) -> str:
        local = (datetime.now(UTC) + timedelta(days=7)).astimezone(ZoneInfo("Europe/London"))
        return self.events.ScheduleConvening(
            epb.ScheduleConveningRequest(
                request_id=rid(),
                community_id=community,
                title=title,
                format=epb.CONVENING_FORMAT_WEBINAR,
                join_link="https://meet.example.org/x",
                start=local.strftime("%Y-%m-%dT%H:%M"),
                end=(local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            ),
            metadata=self.auth(lead),
            timeout=timeout,
        ).convening.convening_id

    def convening_once_known(self, community: str, lead: str, title: str) -> str:
        """Schedules a convening as soon as the events service has learnt of the community and
        its lead (through NATS, a moment after the registry answered)."""
        scheduled: list[str] = []

        def schedule() -> bool:
            try:
                scheduled.append(self.convening(community, lead, title))
            except grpc.RpcError as error:
                # Not yet in the mirror (no consistency token here: the registry answered
                # in another process): NOT_FOUND or PERMISSION_DENIED until it arrives.
                waiting = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)
                assert error.code() in waiting, error
                return False
            return True

        eventually(schedule, 60, interval=0.1)
        return scheduled[0]

    def convenings(self, community: str) -> set[str]:
        """Every convening the events service holds for a community (at most 500)."""
        reply = self.events.ListConvenings(
            epb.ListConveningsRequest(community_id=community, page_size=500),
            metadata=self.auth(),
            timeout=10,
        )
        return {c.convening_id for c in reply.convenings}

    def sign_up(self, convening: str, member: str, timeout: float = 10) -> None:
        self.events.SignUp(
            epb.SignUpRequest(request_id=rid(), convening_id=convening, member_id=member),
            metadata=self.auth(),
            timeout=timeout,
        )

    def invitations(self, member: str) -> list[npb.Notification]:
        found: list[npb.Notification] = []
        token = ""
        while True:
            page = self.notify.ListNotifications(
                npb.ListNotificationsRequest(
                    member_id=member,
                    kind=npb.NOTIFICATION_KIND_INVITATION,
                    page_size=500,
                    page_token=token,
                ),
                metadata=self.auth(),
                timeout=10,
            )
            found += page.notifications
            token = page.next_page_token
            if not token:
                return found
