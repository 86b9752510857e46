"""A region on loopback: a real hub and real nodes, each with its own NATS server,
services and stores, built the way `copnet hub` and `copnet up --hub-credentials` build them.

With TLS on (the default, `leaf_tls_default()`), everything is encrypted as in
`copnet demo`: the leaf links, each node's gRPC APIs and its NATS client port
(certificates from a test CA under `<base>/node-tls`).

Shared by the federation tests and `bench/learning_federation_bench.py`, so it
imports nothing from the test configuration (no pytest, no in-memory tracing).
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.any_pb2 import Any as AnyMessage

from copnet.integration.v1 import envelope_pb2
from copnet.learning.v1 import learning_events_pb2 as events
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.learning.v1 import learning_pb2_grpc as lpb_grpc
from copnet.registry.v1 import registry_pb2 as rpb
from copnet.registry.v1 import registry_pb2_grpc as rpb_grpc
from services.common.application import Clock
from services.common.channels import ChannelSecurity, open_channel
from services.common.natsserver import NatsServer
from services.common.pki import RegionPki
from services.common.region import HubCredentials
from services.common.service import ServiceDefinition, ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from services.hub import Hub, HubSettings
from services.learning.domain import ReceivedItem
from services.learning.service import DEFINITION as LEARNING
from services.node import node_nats_server
from services.registry.service import DEFINITION as REGISTRY
from tests.support import natsauth
from tests.support.ports import free_port
from tests.support.waiting import eventually

REGION = "test-region"


def leaf_tls_default() -> bool:
    """Whether test regions run their leaf links over TLS (the region CA, client
    certificates required), as `copnet hub` does by default: COPNET_TEST_LEAF_TLS=0 turns
    it off."""
    return os.environ.get("COPNET_TEST_LEAF_TLS", "1") != "0"


def rid() -> str:
    return str(uuid.uuid4())


@dataclass
class Node:
    node_id: str
    settings: NodeSettings
    authority: TokenAuthority
    nats: NatsServer
    threads: dict[str, ServiceThread] = field(default_factory=dict)
    channels: dict[str, grpc.Channel] = field(default_factory=dict)
    # More services than the registry and learning (e.g. notify), and a clock the test moves.
    extra: dict[str, ServiceDefinition] = field(default_factory=dict)
    clock: Clock | None = None

    @property
    def operator(self) -> str:
        return self.authority.issue("operator")

    def runtime(self, service: str) -> ServiceRuntime:
        runtime = self.threads[service].runtime
        assert runtime is not None
        return runtime

    def start_services(self) -> None:
        for name, definition in (
            ("registry", REGISTRY),
            ("learning", LEARNING),
            *self.extra.items(),
        ):
            self.threads[name] = self._thread(definition)
            runtime = self.threads[name].start()
            self.channels[name] = open_channel(
                f"127.0.0.1:{runtime.port}", ChannelSecurity.of(self.settings)
            )

    def _thread(self, definition: ServiceDefinition) -> ServiceThread:
        return ServiceThread(
            lambda: ServiceRuntime(
                definition,
                self.settings,
                address="127.0.0.1:0",
                authority=self.authority,
                clock=self.clock,
            )
        )

    def stop_services(self) -> None:
        for channel in self.channels.values():
            channel.close()
        for thread in self.threads.values():
            thread.stop()
        self.channels.clear()
        self.threads.clear()

    def call(self, service: str, method: str, request: Any, token: str | None = None) -> Any:
        stub_class = (
            rpb_grpc.RegistryServiceStub
            if service == "registry"
            else (lpb_grpc.LearningServiceStub)
        )
        stub = stub_class(self.channels[service])
        metadata = [("authorization", f"Bearer {token or self.operator}")]
        return getattr(stub, method)(request, metadata=metadata, timeout=20)

    def learning(self, method: str, request: Any, token: str | None = None) -> Any:
        return self.call("learning", method, request, token)

    def registry(self, method: str, request: Any, token: str | None = None) -> Any:
        return self.call("registry", method, request, token)


@dataclass
class Community:
    """An organisation, a lead member and a community on one node, ready for learning."""

    node: Node
    organisation_id: str
    lead_id: str
    community_id: str

    @property
    def lead_token(self) -> str:
        return self.node.authority.issue(self.lead_id)


class Region:
    def __init__(
        self,
        base: Path,
        node_ids: list[str],
        postgres_dsn: str = "",
        schema_prefix: str = "t_",
        extra: Callable[[str], dict[str, ServiceDefinition]] | None = None,
        clock: Clock | None = None,
        leaf_ports: dict[str, int] | None = None,
        hub_leaf_port: int | None = None,
        tls: bool | None = None,
    ) -> None:
        """`leaf_ports`: nodes that reach the hub's leaf port through another port (a proxy
        a test can cut). `tls`: leaf links over TLS (default: `leaf_tls_default()`)."""
        self.base = base
        self._extra = extra
        self._clock = clock
        self._leaf_ports = leaf_ports or {}
        self.hub = Hub(
            HubSettings(
                base / "hub",
                REGION,
                port=free_port(),
                leaf_port=hub_leaf_port or free_port(),
                tls=leaf_tls_default() if tls is None else tls,
            )
        )
        self.hub.add_nodes([(n, f"Organisation {n}") for n in node_ids])
        self.nodes: dict[str, Node] = {}
        try:
            self.hub.start()
            for node_id in node_ids:
                self._start_node(node_id, postgres_dsn, schema_prefix)
        except BaseException:
            self.close()  # no nats-server or service thread outlives a failed start
            raise

    def _start_node(self, node_id: str, postgres_dsn: str, schema_prefix: str) -> None:
        credentials = self.hub.settings.credentials_file(node_id)
        if node_id in self._leaf_ports:  # the same credentials, another way to the hub
            given = HubCredentials.load(credentials)
            credentials = self.base / f"{node_id}-via-proxy.json"
            scheme = given.hub_url.split("://", 1)[0]
            hub_url = f"{scheme}://127.0.0.1:{self._leaf_ports[node_id]}"
            dataclasses.replace(given, hub_url=hub_url).save(credentials)
        settings = NodeSettings(
            node_id=node_id,
            region=REGION,
            data_dir=self.base / node_id,
            nats_port=free_port(),
            hub_credentials=credentials,
            postgres_dsn=postgres_dsn,
            postgres_schema_prefix=f"{schema_prefix}{node_id.replace('-', '_')}_",
        )
        if self.hub.tls is not None:  # TLS everywhere: the node's gRPC and NATS ports too
            issued = RegionPki(self.base / "node-tls").server_cert(
                node_id, ["127.0.0.1", "localhost"]
            )
            settings = settings.with_overrides(
                tls_cert=issued.cert_file, tls_key=issued.key_file, tls_ca=issued.ca_file
            )
        authority = TokenAuthority.for_node(node_id, self.base / node_id / "signing.pem")
        # The region's nodes are known from the start: learning may keep a stream for each.
        nats = node_nats_server(settings, partners=list(self.hub.manifest.nodes))
        natsauth.remember(nats.url, settings.data_dir, settings.tls_ca)
        try:
            nats.start()
        except BaseException:
            nats.kill()  # started but never ready
            raise
        node = Node(
            node_id,
            settings.with_overrides(nats_url=nats.url),
            authority,
            nats,
            extra=self._extra(node_id) if self._extra else {},
            clock=self._clock,
        )
        self.nodes[node_id] = node
        node.start_services()

    def __getitem__(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def close(self) -> None:
        """Stops every service and kills every nats-server, even after a partial start."""
        try:
            for node in self.nodes.values():
                try:
                    node.stop_services()
                finally:
                    node.nats.kill()
        finally:
            try:
                self.hub.stop()
            finally:
                if self.hub.server is not None:
                    self.hub.server.kill()

    # Setting up a node's registry

    def community(self, node_id: str, slug: str, name: str = "") -> Community:
        node = self[node_id]
        organisation = node.registry(
            "CreateOrganisation",
            rpb.CreateOrganisationRequest(
                request_id=rid(),
                name=name or f"Trust of {node_id}",
                kind=rpb.ORGANISATION_KIND_NHS_TRUST,
                region=REGION,
            ),
        ).organisation.organisation_id
        lead = node.registry(
            "RegisterMember",
            rpb.RegisterMemberRequest(
                request_id=rid(),
                display_name=f"Lead of {slug}",
                profession=rpb.PROFESSION_NURSE,
                home_organisation_id=organisation,
                email=f"lead-{slug}@{node_id}.nhs.net",
            ),
        ).member.member_id
        community = node.registry(
            "CreateCommunity",
            rpb.CreateCommunityRequest(
                request_id=rid(),
                slug=slug,
                name=f"CoP {slug}",
                domain="quality",
                region=REGION,
                joining_policy=rpb.JOINING_POLICY_OPEN,
            ),
            node.authority.issue(lead),
        )
        result = Community(node, organisation, lead, community.community.community_id)
        learning = node.runtime("learning")
        mirror = learning.projections["registry_mirror"]
        eventually(lambda: mirror.membership_status(result.community_id, lead) == "active")
        return result

    def publish(
        self,
        community: Community,
        title: str,
        tags: list[str] | None = None,
        visibility: int = lpb.VISIBILITY_REGION,
        partners: list[str] | None = None,
        body: str = "",
    ) -> lpb.LearningItem:
        node = community.node
        created = node.learning(
            "CreateItem",
            lpb.CreateItemRequest(
                request_id=rid(),
                kind=lpb.ITEM_KIND_REPLICABLE_MODEL,
                title=title,
                summary=f"Summary of {title}",
                body=body or f"How {title} works.",
                domain_tags=tags or ["quality"],
                community_id=community.community_id,
                visibility=visibility,
                partner_nodes=partners or [],
            ),
            community.lead_token,
        ).item
        return node.learning(
            "PublishItem",
            lpb.PublishItemRequest(request_id=rid(), item_id=created.item_id),
            community.lead_token,
        ).item

    def subscribe(self, node_id: str, to: str, tags: list[str] | None = None) -> None:
        """Node `node_id` subscribes to node `to`'s region-wide learning (some tags, or all)."""
        self[node_id].learning(
            "Subscribe",
            lpb.SubscribeRequest(request_id=rid(), node_id=to, domain_tags=tags or []),
        )

    def search(self, node_id: str, **filters: Any) -> list[lpb.LearningItem]:
        return list(
            self[node_id].learning("SearchCatalogue", lpb.SearchCatalogueRequest(**filters)).items
        )

    def titles(self, node_id: str, **filters: Any) -> set[str]:
        return {item.title for item in self.search(node_id, **filters)}

    def received(self, node_id: str) -> Counter[str]:
        """How many times each item from another node was recorded (Received events)."""
        app = self[node_id].runtime("learning").app
        counts: Counter[str] = Counter()
        for notification in app.recorder.select_notifications(
            0, 1_000_000, inclusive_of_start=False
        ):
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, ReceivedItem.Received):
                counts[event.item_id] += 1
        return counts


def item_envelope(
    origin: str, item_origin: str, position: int, title: str, visibility: int
) -> envelope_pb2.Envelope:
    """An envelope of an item snapshot as `origin` would publish it (tests forge these)."""
    payload = AnyMessage()
    payload.Pack(
        events.ItemSnapshot(
            item=lpb.LearningItem(
                item_id=rid(),
                origin_node=item_origin,
                kind=lpb.ITEM_KIND_RESOURCE,
                status=lpb.ITEM_STATUS_PUBLISHED,
                revision=1,
                title=title,
                body="See https://attacker.example/",
                visibility=visibility,
                version=2,
            )
        )
    )
    return envelope_pb2.Envelope(
        event_id=f"{origin}.learning.{position}",
        origin_region=REGION,
        origin_node=origin,
        service="learning",
        position=position,
        event_type="item_published",
        payload=payload,
    )
