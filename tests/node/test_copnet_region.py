"""A region as operators run it: `copnet hub` and two `copnet up --hub-credentials` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import grpc

from copnet.learning.v1 import learning_pb2 as lpb
from copnet.learning.v1 import learning_pb2_grpc as lpb_grpc
from copnet.registry.v1 import registry_pb2 as rpb
from copnet.registry.v1 import registry_pb2_grpc as rpb_grpc
from services.common.settings import SERVICES, WEB_SERVICES
from services.node import wait_serving
from tests.support.ports import free_port, free_port_block
from tests.support.waiting import eventually

COPNET = [sys.executable, "-m", "services.cli"]
REGION = "south-east-london"


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
    with log.open("ab") as out:
        return subprocess.Popen([*COPNET, *args], stdout=out, stderr=subprocess.STDOUT, env=env)


def test_two_organisations_share_learning_through_their_hub(tmp_path: Path):
    leaf_port = free_port()
    hub = start(
        [
            "hub",
            "--data-dir",
            str(tmp_path / "hub"),
            "--region",
            REGION,
            "--port",
            str(free_port()),
            "--leaf-port",
            str(leaf_port),
            "--node",
            "guys=Guy's and St Thomas'",
            "--node",
            "kings=King's College Hospital",
        ],
        tmp_path / "hub.log",
    )
    processes = [hub]
    try:
        credentials = tmp_path / "hub" / "credentials"
        eventually(lambda: (credentials / "kings.json").exists(), 20)
        assert json.loads((credentials / "guys.json").read_text())["hub_url"].endswith(
            f":{leaf_port}"
        )
        ports = {}
        for node in ("guys", "kings"):
            ports[node] = free_port_block(len(SERVICES) + len(WEB_SERVICES))
            processes.append(
                start(
                    [
                        "up",
                        "--data-dir",
                        str(tmp_path / node),
                        "--node-id",
                        node,
                        "--region",
                        REGION,
                        "--nats-port",
                        str(free_port()),
                        "--grpc-port-base",
                        str(ports[node]),
                        "--metrics-port-base",
                        str(free_port_block(len(SERVICES))),
                        "--hub-credentials",
                        str(credentials / f"{node}.json"),
                    ],
                    tmp_path / f"{node}.log",
                )
            )
        for node, base in ports.items():
            assert wait_serving(
                f"127.0.0.1:{base + 2}", 30, "copnet.learning.v1.LearningService"
            ), (tmp_path / f"{node}.log").read_text()

        def token(node: str, subject: str = "") -> str:
            who = ["--member", subject] if subject else ["--operator", "--name", "tests"]
            return subprocess.run(
                [*COPNET, "token", *who, "--data-dir", str(tmp_path / node)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()

        def stubs(node: str):
            registry = grpc.insecure_channel(f"127.0.0.1:{ports[node]}")
            learning = grpc.insecure_channel(f"127.0.0.1:{ports[node] + 2}")
            return rpb_grpc.RegistryServiceStub(registry), lpb_grpc.LearningServiceStub(learning)

        guys_registry, guys_learning = stubs("guys")
        _, kings_learning = stubs("kings")
        operator = [("authorization", f"Bearer {token('guys')}")]
        organisation = guys_registry.CreateOrganisation(
            rpb.CreateOrganisationRequest(
                request_id=str(uuid.uuid4()),
                name="Guy's",
                kind=rpb.ORGANISATION_KIND_NHS_TRUST,
                region=REGION,
            ),
            metadata=operator,
            timeout=10,
        ).organisation.organisation_id
        lead = guys_registry.RegisterMember(
            rpb.RegisterMemberRequest(
                request_id=str(uuid.uuid4()),
                display_name="Lead",
                profession=rpb.PROFESSION_NURSE,
                home_organisation_id=organisation,
                email="lead@gstt.nhs.uk",
            ),
            metadata=operator,
            timeout=10,
        ).member.member_id
        lead_token = [("authorization", f"Bearer {token('guys', lead)}")]
        created = guys_registry.CreateCommunity(
            rpb.CreateCommunityRequest(
                request_id=str(uuid.uuid4()),
                slug="dip-cop",
                name="Diabetes in Pregnancy CoP",
                domain="maternity",
                region=REGION,
                joining_policy=rpb.JOINING_POLICY_OPEN,
            ),
            metadata=lead_token,
            timeout=10,
        )
        # At once: the learning service waits until it has heard of the community.
        item = guys_learning.CreateItem(
            lpb.CreateItemRequest(
                request_id=str(uuid.uuid4()),
                kind=lpb.ITEM_KIND_REPLICABLE_MODEL,
                title="GDm-Health",
                community_id=created.community.community_id,
                visibility=lpb.VISIBILITY_REGION,
                min_registry_position=created.position,
            ),
            metadata=lead_token,
            timeout=10,
        ).item
        guys_learning.PublishItem(
            lpb.PublishItemRequest(request_id=str(uuid.uuid4()), item_id=item.item_id),
            metadata=lead_token,
            timeout=10,
        )
        kings_operator = [("authorization", f"Bearer {token('kings')}")]
        kings_learning.Subscribe(
            lpb.SubscribeRequest(request_id=str(uuid.uuid4()), node_id="guys"),
            metadata=kings_operator,
            timeout=10,
        )

        def kings_titles() -> set[str]:
            found = kings_learning.SearchCatalogue(
                lpb.SearchCatalogueRequest(), metadata=kings_operator, timeout=10
            )
            return {i.title for i in found.items}

        eventually(lambda: kings_titles() == {"GDm-Health"}, 60)
        nodes = kings_learning.ListRegionNodes(
            lpb.ListRegionNodesRequest(), metadata=kings_operator, timeout=10
        ).nodes
        assert {n.node_id: n.name for n in nodes} == {
            "guys": "Guy's and St Thomas'",
            "kings": "King's College Hospital",
        }
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
        for process in processes:
            assert process.wait(30) == 0
