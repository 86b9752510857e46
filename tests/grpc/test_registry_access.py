"""Issue 13 over real gRPC: who may change what in the registry, and tokens as the
service sees them (it verifies with the node's public keys only)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import jwt
import pytest

from copnet.registry.v1 import registry_pb2 as pb
from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
from services.common import keyring
from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from services.registry.service import DEFINITION
from tests.support.waiting import eventually


def rid() -> str:
    return str(uuid.uuid4())


class Client:
    def __init__(self, runtime: ServiceRuntime, issuer: TokenAuthority) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{runtime.port}")
        self.stub = pb_grpc.RegistryServiceStub(self.channel)
        self.issuer = issuer
        self.alice = issuer.issue("operator", name="alice")

    def __call__(self, method: str, request, token: str | None = None):
        metadata = [("authorization", f"Bearer {token or self.alice}")]
        return getattr(self.stub, method)(request, metadata=metadata, timeout=10)

    def code(self, method: str, request, token: str | None = None) -> grpc.StatusCode:
        try:
            self(method, request, token)
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK


@pytest.fixture
def client(node_settings: NodeSettings) -> Iterator[Client]:
    # The runtime builds its own verifier from the node's key files (no authority given).
    issuer = TokenAuthority.for_node(node_settings.node_id, node_settings.signing_key_file)
    thread = ServiceThread(
        lambda: ServiceRuntime(DEFINITION, node_settings, roles=("api",), address="127.0.0.1:0")
    )
    runtime = thread.start()
    client = Client(runtime, issuer)
    yield client
    client.channel.close()
    thread.stop()


def organisation(client: Client, name: str) -> pb.Organisation:
    return client(
        "CreateOrganisation",
        pb.CreateOrganisationRequest(
            request_id=rid(), name=name, kind=pb.ORGANISATION_KIND_NHS_TRUST, region="london"
        ),
    ).organisation


def member(client: Client, organisation_id: str, email: str) -> pb.Member:
    return client(
        "RegisterMember",
        pb.RegisterMemberRequest(
            request_id=rid(),
            display_name="Member One",
            profession=pb.PROFESSION_NURSE,
            home_organisation_id=organisation_id,
            email=email,
        ),
    ).member


def test_a_member_cannot_move_to_another_organisation_the_operator_can(client: Client):
    home, other = organisation(client, "Home trust"), organisation(client, "Other trust")
    nurse = member(client, home.organisation_id, "nurse@nhs.example")
    token = client.issuer.issue(nurse.member_id)
    move = pb.UpdateMemberRequest(
        request_id=rid(),
        member_id=nurse.member_id,
        home_organisation_id=other.organisation_id,
    )
    assert client.code("UpdateMember", move, token) == grpc.StatusCode.PERMISSION_DENIED
    direct = pb.UpdateMemberRequest(
        request_id=rid(), member_id=nurse.member_id, email="elsewhere@nhs.example"
    )
    assert client.code("UpdateMember", direct, token) == grpc.StatusCode.PERMISSION_DENIED
    got = client("GetMember", pb.GetMemberRequest(member_id=nurse.member_id), token).member
    assert got.home_organisation_id == home.organisation_id
    assert got.email == "nurse@nhs.example"
    moved = client("UpdateMember", move).member
    assert moved.home_organisation_id == other.organisation_id


def test_a_named_operator_is_the_actor_in_the_audit_record(client: Client):
    trust = organisation(client, "Audited trust")
    bob = client.issuer.issue("operator", name="bob")
    client(
        "UpdateOrganisation",
        pb.UpdateOrganisationRequest(
            request_id=rid(),
            organisation_id=trust.organisation_id,
            name="Audited trust renamed",
            expected_version=1,
        ),
        bob,
    )
    history = client(
        "ListEntityHistory", pb.ListEntityHistoryRequest(entity_id=trust.organisation_id)
    ).entries
    assert [e.actor for e in history] == ["operator:alice", "operator:bob"]


def test_a_revoked_token_is_unauthenticated(client: Client, node_settings: NodeSettings):
    files = node_settings.key_files
    listing = pb.ListOrganisationsRequest()
    assert client.code("ListOrganisations", listing) == grpc.StatusCode.OK
    jti = jwt.decode(client.alice, options={"verify_signature": False})["jti"]
    keyring.revoke(files, jti=jti)
    eventually(
        lambda: client.code("ListOrganisations", listing) == grpc.StatusCode.UNAUTHENTICATED,
        timeout=5,
    )
    fresh = client.issuer.issue("operator", name="alice")
    assert client.code("ListOrganisations", listing, fresh) == grpc.StatusCode.OK

    keyring.revoke(files, subject="operator:alice")  # every token of alice until now
    eventually(
        lambda: client.code("ListOrganisations", listing, fresh) == grpc.StatusCode.UNAUTHENTICATED,
        timeout=5,
    )
    carol = client.issuer.issue("operator", name="carol")
    assert client.code("ListOrganisations", listing, carol) == grpc.StatusCode.OK


def test_a_rotated_signing_key_keeps_old_tokens_working_until_removed(
    client: Client, node_settings: NodeSettings
):
    """A token signed with a key the node rotated to is accepted once the service has seen
    the new public key; the old one keeps working until removed."""
    old = client.alice
    keyring.rotate_signing_key(node_settings.key_files)
    rotated = TokenAuthority.for_node(node_settings.node_id, node_settings.signing_key_file)
    new = rotated.issue("operator", name="alice")
    listing = pb.ListOrganisationsRequest()
    eventually(lambda: client.code("ListOrganisations", listing, new) == grpc.StatusCode.OK)
    assert client.code("ListOrganisations", listing, old) == grpc.StatusCode.OK
    keyring.remove_verification_key(node_settings.key_files, jwt.get_unverified_header(old)["kid"])
    eventually(
        lambda: client.code("ListOrganisations", listing, old) == grpc.StatusCode.UNAUTHENTICATED,
        timeout=5,
    )


def test_a_token_for_a_member_never_registered_reads_nothing(client: Client):
    """Issue 14: the node signed it, but it names no member of this node."""
    stranger = client.issuer.issue(str(uuid.uuid4()))
    listing = pb.ListOrganisationsRequest()
    assert client.code("ListOrganisations", listing, stranger) == grpc.StatusCode.UNAUTHENTICATED
    trust = organisation(client, "Known trust")
    known = member(client, trust.organisation_id, "known@nhs.example")
    token = client.issuer.issue(known.member_id)
    assert client.code("ListOrganisations", listing, token) == grpc.StatusCode.OK
