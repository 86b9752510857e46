"""A node for end-to-end tests of the events service: a real nats-server, the registry and the
events service (API and worker each) on loopback gRPC ports, sharing a clock the test moves.

The registry's events reach the events service only through NATS (relay -> stream -> inbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from copnet.events.v1 import events_pb2 as epb
from copnet.events.v1 import events_pb2_grpc as epb_grpc
from copnet.registry.v1 import registry_pb2 as rpb
from copnet.registry.v1 import registry_pb2_grpc as rpb_grpc
from services.common.channels import ChannelSecurity, open_channel
from services.common.service import ServiceDefinition, ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from services.events.service import DEFINITION as EVENTS
from services.node import node_nats_server
from services.registry.service import DEFINITION as REGISTRY
from tests.support import natsauth
from tests.support.events_world import MovableClock
from tests.support.ports import free_port
from tests.support.postgres import drop_schemas
from tests.support.waiting import eventually

T0 = datetime(2024, 1, 10, 9, tzinfo=UTC)
DURING = datetime(2024, 2, 21, 12, 30, tzinfo=UTC)  # the default convening is 12:00-13:00


def rid() -> str:
    return str(uuid.uuid4())


class Failure:
    def __init__(self, error: grpc.RpcError) -> None:
        self.code = error.code()
        self.message = error.details()
        self.violations: dict[str, str] = {}
        status = rpc_status.from_call(error)
        for detail in status.details if status else []:
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(bad_request):
                self.violations.update(
                    {v.field: v.description for v in bad_request.field_violations}
                )

    def __repr__(self) -> str:
        return f"Failure({self.code}, {self.message!r}, {self.violations})"


class Api:
    """Real clients of both services, with the node's tokens."""

    def __init__(
        self,
        registry_port: int,
        events_port: int,
        authority: TokenAuthority,
        security: ChannelSecurity | None = None,
    ) -> None:
        security = security or ChannelSecurity.plain()
        self.registry_channel = open_channel(f"127.0.0.1:{registry_port}", security)
        self.events_channel = open_channel(f"127.0.0.1:{events_port}", security)
        self.registry_stub = rpb_grpc.RegistryServiceStub(self.registry_channel)
        self.events_stub = epb_grpc.EventsServiceStub(self.events_channel)
        self.authority = authority
        self.operator = authority.issue("operator")
        self._tokens: dict[str, str] = {}

    def token(self, member_id: str) -> str:
        if member_id not in self._tokens:
            self._tokens[member_id] = self.authority.issue(member_id)
        return self._tokens[member_id]

    def _metadata(self, who: str | None) -> list[tuple[str, str]]:
        token = self.operator if who in (None, "operator") else self.token(who)  # type: ignore[arg-type]
        return [("authorization", f"Bearer {token}")]

    def registry(self, method: str, request: Any, who: str | None = None) -> Any:
        return getattr(self.registry_stub, method)(
            request, metadata=self._metadata(who), timeout=20
        )

    def events(self, method: str, request: Any, who: str | None = None) -> Any:
        return getattr(self.events_stub, method)(request, metadata=self._metadata(who), timeout=30)

    def events_future(self, method: str, request: Any, who: str | None = None) -> Any:
        return getattr(self.events_stub, method).future(
            request, metadata=self._metadata(who), timeout=60
        )

    def fails(self, method: str, request: Any, who: str | None = None) -> Failure:
        with pytest.raises(grpc.RpcError) as raised:
            self.events(method, request, who)
        return Failure(raised.value)

    def close(self) -> None:
        self.registry_channel.close()
        self.events_channel.close()


class GrpcNode:
    def __init__(self, settings: NodeSettings, authority: TokenAuthority, clock: MovableClock):
        self.settings = settings
        self.authority = authority
        self.clock = clock
        self.threads: dict[str, ServiceThread] = {}
        self.api: Api | None = None

    def _start(self, definition: ServiceDefinition) -> ServiceRuntime:
        thread = ServiceThread(
            lambda: ServiceRuntime(
                definition,
                self.settings,
                roles=("api", "worker"),
                address="127.0.0.1:0",
                authority=self.authority,
                clock=self.clock,
            )
        )
        runtime = thread.start()
        self.threads[definition.name] = thread
        return runtime

    def start(self) -> None:
        registry = self._start(REGISTRY)
        events = self._start(EVENTS)
        self.api = Api(
            registry.port, events.port, self.authority, ChannelSecurity.of(self.settings)
        )

    def runtime(self, name: str) -> ServiceRuntime:
        runtime = self.threads[name].runtime
        assert runtime is not None
        return runtime

    def restart(self, name: str) -> None:
        """Stops one service and starts it again on the same stores (new port)."""
        assert self.api is not None
        self.threads.pop(name).stop()
        self.api.close()
        definition = {"registry": REGISTRY, "events": EVENTS}[name]
        self._start(definition)
        self.api = Api(
            self.runtime("registry").port,
            self.runtime("events").port,
            self.authority,
            ChannelSecurity.of(self.settings),
        )

    def stop(self) -> None:
        if self.api is not None:
            self.api.close()
        for thread in reversed(list(self.threads.values())):
            thread.stop()
        self.threads.clear()


class Cop:
    """A community set up through the registry's API, and known to the events service.

    Everyone here is a generated person: "Lead", "Facilitator", "Member 17"...
    """

    def __init__(
        self,
        api: Api,
        policy: int = rpb.JOINING_POLICY_OPEN,
        members: int = 1,
        name: str = "Cancer Community of Practice",
    ) -> None:
        self.api = api
        self.name = name
        tag = uuid.uuid4().hex[:8]
        self.trust = api.registry(
            "CreateOrganisation",
            rpb.CreateOrganisationRequest(
                request_id=rid(),
                name=f"Trust {tag}",
                kind=rpb.ORGANISATION_KIND_NHS_TRUST,
                region="london",
            ),
        ).organisation.organisation_id
        self.lead = self.person("Lead")
        self.community_id = api.registry(
            "CreateCommunity",
            rpb.CreateCommunityRequest(
                request_id=rid(),
                slug=f"cop-{tag}",
                name=name,
                domain="cancer-care",
                region="london",
                joining_policy=policy,
            ),
            self.lead,
        ).community.community_id
        self.policy = policy
        self.members = self.people(members)
        self.member = self.members[0] if self.members else ""
        self.outsider = self.person("Outsider")
        self.facilitator = self.person("Facilitator")
        self.admit([*self.members, self.facilitator])
        api.registry(
            "AssignRole",
            rpb.AssignRoleRequest(
                request_id=rid(),
                community_id=self.community_id,
                member_id=self.facilitator,
                role=rpb.ROLE_FACILITATOR,
            ),
            self.lead,
        )
        # The role was the last registry change: once the events service shows it, it has
        # applied everything before it (the inbox applies each origin in order).
        self.wait_until_organiser(self.facilitator)

    def person(self, name: str) -> str:
        return self.people(1, name)[0]

    def people(self, count: int, name: str = "Member") -> list[str]:
        def register(i: int) -> str:
            return self.api.registry(
                "RegisterMember",
                rpb.RegisterMemberRequest(
                    request_id=rid(),
                    display_name=f"{name} {i}" if count > 1 else name,
                    profession=rpb.PROFESSION_NURSE,
                    home_organisation_id=self.trust,
                    email=f"{uuid.uuid4().hex}@example.nhs.uk",
                ),
            ).member.member_id

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(register, range(count)))

    def admit(self, members: list[str]) -> None:
        def one(member: str) -> None:
            c = self.community_id
            if self.policy == rpb.JOINING_POLICY_OPEN:
                self.api.registry(
                    "JoinCommunity",
                    rpb.JoinCommunityRequest(request_id=rid(), community_id=c),
                    member,
                )
            elif self.policy == rpb.JOINING_POLICY_APPROVAL:
                self.api.registry(
                    "RequestMembership",
                    rpb.RequestMembershipRequest(request_id=rid(), community_id=c),
                    member,
                )
                self.api.registry(
                    "ApproveMembershipRequest",
                    rpb.ApproveMembershipRequestRequest(
                        request_id=rid(), community_id=c, member_id=member
                    ),
                    self.lead,
                )
            else:
                self.api.registry(
                    "InviteMember",
                    rpb.InviteMemberRequest(request_id=rid(), community_id=c, member_id=member),
                    self.lead,
                )
                self.api.registry(
                    "AcceptInvitation",
                    rpb.AcceptInvitationRequest(request_id=rid(), community_id=c),
                    member,
                )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, members))

    def wait_until_organiser(self, member: str) -> None:
        def known() -> bool:
            try:
                reply = self.api.events(
                    "GetCommunity", epb.GetCommunityRequest(community_id=self.community_id)
                )
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    return False
                raise
            return member in reply.community.organiser_ids

        eventually(known)

    def schedule(
        self,
        who: str | None = None,
        start: str = "2024-02-21T12:00",
        end: str = "2024-02-21T13:00",
        capacity: int = 0,
        fmt: int = epb.CONVENING_FORMAT_WEBINAR,
        topic: str = "Enhanced Supportive Care",
        title: str = "",
    ) -> epb.Convening:
        """Schedules a convening; its position is kept in `self.position`."""
        reply = self.api.events(
            "ScheduleConvening",
            epb.ScheduleConveningRequest(
                request_id=rid(),
                community_id=self.community_id,
                title=title or topic,
                topic=topic,
                format=fmt,
                venue="Guy's Hospital, London" if fmt != epb.CONVENING_FORMAT_WEBINAR else "",
                join_link="https://meet.example.nhs.uk/cop"
                if fmt != epb.CONVENING_FORMAT_FACE_TO_FACE
                else "",
                start=start,
                end=end,
                capacity=capacity,
            ),
            who or self.lead,
        )
        self.position = reply.position
        return reply.convening

    def sign_up(self, convening_id: str, member: str) -> epb.SignUp:
        return self.api.events(
            "SignUp", epb.SignUpRequest(request_id=rid(), convening_id=convening_id), member
        ).sign_up


def module_node(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    clock: MovableClock,
) -> Iterator[GrpcNode]:
    """Body of a module-scoped, store-parametrised node fixture."""
    root: Path = tmp_path_factory.mktemp("events-node")
    postgres = request.param == "postgres"
    dsn = request.getfixturevalue("postgres_dsn") if postgres else ""
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    settings = NodeSettings(
        node_id="testnode",
        region="test-region",
        data_dir=root / "node",
        postgres_dsn=dsn,
        postgres_schema_prefix=prefix,
        nats_port=free_port(),
    )
    nats = node_nats_server(settings)
    natsauth.remember(nats.url, settings.data_dir)
    nats.start()
    settings = settings.with_overrides(nats_url=nats.url)
    authority = TokenAuthority.for_node("testnode", root / "keys" / "signing.pem")
    node = GrpcNode(settings, authority, clock)
    node.nats = nats  # type: ignore[attr-defined]
    node.start()
    try:
        yield node
    finally:
        node.stop()
        nats.kill()
        if postgres:
            drop_schemas(dsn, prefix)
