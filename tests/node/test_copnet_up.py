"""`copnet up` as an operator runs it: a real process tree, real ports, real signals."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import pytest

from copnet.events.v1 import events_pb2 as epb
from copnet.events.v1 import events_pb2_grpc as epb_grpc
from copnet.registry.v1 import registry_pb2 as pb
from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
from services.common.settings import SERVICES
from services.node import wait_serving
from tests.support.node_process import COPNET, RunningNode, shared_objects
from tests.support.streams import read_stream
from tests.support.waiting import eventually

REGISTRY_API = "copnet.registry.v1.RegistryService"


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def check_the_report_page(node: RunningNode, token: str, community: str) -> None:
    """`copnet up` runs the node's report page beside its services (the gRPC base port + 6;
    plain HTTP on loopback for a node without a certificate): the operator sees the
    community, a request without a token is asked to sign in."""
    base = f"http://127.0.0.1:{node.grpc_port + len(SERVICES) + 2}/"

    def page(token: str = "") -> tuple[int, str]:
        request = urllib.request.Request(base)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""

    status, body = eventually(lambda: page(token) if page()[0] else None, 30, interval=0.3)
    assert status == 200 and community in body, body[:300]
    assert page()[0] == 401
    assert f"report:    {base}" in node.log.read_text()


@pytest.fixture
def node(tmp_path: Path):
    running = RunningNode(tmp_path / "data")
    yield running
    running.kill_everything()


def test_up_serves_within_15_seconds_stops_cleanly_and_resumes(node: RunningNode):
    started = time.monotonic()
    node.start()
    for address, api in node.apis():
        assert wait_serving(address, 15, api), node.log.read_text()
    assert time.monotonic() - started < 15
    # At rest the supervisor holds no gRPC, no PostgreSQL driver (a SQLite node) and no chart
    # engine; the report child loads its chart engine with the first page it draws.
    assert node.process is not None
    eventually(node.all_serving, 30)
    supervisor = shared_objects(node.process.pid)
    assert not [so for so in supervisor if so.startswith(("grpc/", "psycopg", "vl_convert"))]
    report = shared_objects(node.children()["report"].pid)
    assert not [so for so in report if so.startswith(("psycopg", "vl_convert"))]

    token = node.token()
    auth = [("authorization", f"Bearer {token}")]
    with node.channel("registry") as channel:
        created = (
            pb_grpc.RegistryServiceStub(channel)
            .CreateOrganisation(
                pb.CreateOrganisationRequest(
                    request_id=str(uuid.uuid4()),
                    name="King's College Hospital",
                    kind=pb.ORGANISATION_KIND_NHS_TRUST,
                    region="sel",
                    ods_code="RJZ",
                ),
                metadata=auth,
                timeout=10,
            )
            .organisation
        )
        community = (
            pb_grpc.RegistryServiceStub(channel)
            .CreateCommunity(
                pb.CreateCommunityRequest(
                    request_id=str(uuid.uuid4()),
                    slug="cancer-cop",
                    name="Cancer CoP",
                    domain="cancer-care",
                    region="sel",
                    host_organisation_ids=[created.organisation_id],
                    joining_policy=pb.JOINING_POLICY_OPEN,
                ),
                metadata=auth,
                timeout=10,
            )
            .community
        )
    nats_url = f"nats://127.0.0.1:{node.nats_port}"
    eventually(lambda: len(read_stream(nats_url, "COPNET_GUYS")) == 2)

    # The events service learns the community from the registry's events, through NATS.
    def events_knows_the_community() -> bool:
        with node.channel("events") as channel:
            try:
                reply = epb_grpc.EventsServiceStub(channel).GetCommunity(
                    epb.GetCommunityRequest(community_id=community.community_id),
                    metadata=auth,
                    timeout=5,
                )
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.NOT_FOUND, error
                return False
        return reply.community.slug == "cancer-cop"

    eventually(events_knows_the_community)
    check_the_report_page(node, token, "Cancer CoP")

    assert node.stop() == 0
    assert not port_open(node.grpc_port) and not port_open(node.nats_port)
    output = node.log.read_text()
    assert "is up" in output and "node guys stopped" in output

    node.start()
    for address, api in node.apis():
        assert wait_serving(address, 15, api), node.log.read_text()
    with node.channel("registry") as channel:
        again = (
            pb_grpc.RegistryServiceStub(channel)
            .GetOrganisation(
                pb.GetOrganisationRequest(organisation_id=created.organisation_id),
                metadata=[("authorization", f"Bearer {node.token()}")],
                timeout=10,
            )
            .organisation
        )
    assert again == created
    time.sleep(1.5)  # give a wrongly rewound relay the chance to publish again
    assert len(read_stream(nats_url, "COPNET_GUYS")) == 2
    assert node.stop() == 0


def test_a_data_directory_belongs_to_one_node(node: RunningNode):
    node.start()
    # Start-up time is test_up_serves_within_15_seconds's subject; here the node only has
    # to be up (a hog run took longer than 15 s with the whole suite around it).
    assert wait_serving(node.registry, 60, REGISTRY_API), node.log_text()
    assert node.stop() == 0
    other = node.start(node_id="kings")
    assert other.wait(30) == 2
    assert "belongs to node 'guys'" in node.log.read_text()


def test_token_needs_a_started_node(tmp_path: Path):
    result = subprocess.run(
        [
            *COPNET,
            "token",
            "--operator",
            "--name",
            "tests",
            "--data-dir",
            str(tmp_path / "nothing"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "copnet up" in result.stderr


def test_up_sends_mail_out_of_the_box_as_files(node: RunningNode):
    """No SMTP settings: an invitation is written under <data-dir>/notify/outbox, and the
    unsubscribe pages answer on the port after the services'."""
    node.start()
    for address, api in node.apis():
        assert wait_serving(address, 30, api), node.log.read_text()
    auth = [("authorization", f"Bearer {node.token()}")]
    with node.channel("registry") as channel:
        registry = pb_grpc.RegistryServiceStub(channel)
        organisation = registry.CreateOrganisation(
            pb.CreateOrganisationRequest(
                request_id=str(uuid.uuid4()),
                name="Guy's and St Thomas'",
                kind=pb.ORGANISATION_KIND_NHS_TRUST,
                region="sel",
            ),
            metadata=auth,
            timeout=10,
        ).organisation
        member = registry.RegisterMember(
            pb.RegisterMemberRequest(
                request_id=str(uuid.uuid4()),
                display_name="Sarah Dyer",
                profession=pb.PROFESSION_NURSE,
                home_organisation_id=organisation.organisation_id,
                email="sarah.dyer@example.nhs.uk",
            ),
            metadata=auth,
            timeout=10,
        ).member
        lead = [("authorization", f"Bearer {node.token(member.member_id)}")]
        community = registry.CreateCommunity(
            pb.CreateCommunityRequest(
                request_id=str(uuid.uuid4()),
                slug="cancer-cop",
                name="Cancer CoP",
                domain="cancer-care",
                region="sel",
                joining_policy=pb.JOINING_POLICY_OPEN,
            ),
            metadata=lead,
            timeout=10,
        ).community
    start = datetime.now(UTC) + timedelta(days=7)
    local = start.astimezone(ZoneInfo("Europe/London"))
    request = epb.ScheduleConveningRequest(
        request_id=str(uuid.uuid4()),
        community_id=community.community_id,
        title="Launch of the Cancer CoP",
        format=epb.CONVENING_FORMAT_FACE_TO_FACE,
        venue="Guy's Hospital",
        start=local.strftime("%Y-%m-%dT%H:%M"),
        end=(local + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    )

    def scheduled() -> bool:
        with node.channel("events") as channel:
            try:
                epb_grpc.EventsServiceStub(channel).ScheduleConvening(
                    request, metadata=lead, timeout=10
                )
            except grpc.RpcError as error:  # the events service has not heard of it yet
                assert error.code() in (
                    grpc.StatusCode.NOT_FOUND,  # the community (issue 14's answer)
                    grpc.StatusCode.FAILED_PRECONDITION,
                    grpc.StatusCode.PERMISSION_DENIED,
                    grpc.StatusCode.NOT_FOUND,  # the mirror's answer for an unknown community
                ), error
                return False
        return True

    eventually(scheduled)
    outbox = node.data_dir / "notify" / "outbox"
    eventually(lambda: len(list(outbox.glob("*.eml"))) == 1)
    [mail] = outbox.glob("*.eml")
    message = message_from_bytes(mail.read_bytes(), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "sarah.dyer@example.nhs.uk"
    assert str(message["Subject"]).startswith("Invitation: Launch of the Cancer CoP")
    assert any(part.get_content_type() == "text/calendar" for part in message.walk())
    pages = f"http://127.0.0.1:{node.grpc_port + len(SERVICES)}"
    assert str(message["List-Unsubscribe"]).startswith(f"<{pages}/unsubscribe?token=")
    with urllib.request.urlopen(f"{pages}/healthz", timeout=5) as response:
        assert response.read() == b"ok\n"
    # The events service's pages (calendar feeds, certificates) on the port after notify's.
    feeds = f"http://127.0.0.1:{node.grpc_port + len(SERVICES) + 1}"
    with urllib.request.urlopen(f"{feeds}/healthz", timeout=5) as response:
        assert response.read() == b"ok\n"
    assert node.stop() == 0
