"""RegistryService over real gRPC on a loopback port: statuses, retries, identity."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from copnet.registry.v1 import registry_pb2 as pb
from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
from services.common.service import ServiceRuntime, ServiceThread
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from services.registry.service import DEFINITION


class Api:
    """A real client: a channel, the stub, and tokens."""

    def __init__(self, port: int, authority: TokenAuthority) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = pb_grpc.RegistryServiceStub(self.channel)
        self.authority = authority
        self.operator = authority.issue("operator")

    def token_for(self, member_id: str) -> str:
        return self.authority.issue(member_id)

    def __call__(self, method: str, request, token: str | None = None):
        metadata = [("authorization", f"Bearer {token or self.operator}")]
        return getattr(self.stub, method)(request, metadata=metadata, timeout=10)

    def fails(self, method: str, request, token: str | None = "operator", metadata=None):
        """Calls and returns (code, message, {field: description}) of the expected failure."""
        if metadata is None:
            bearer = self.operator if token == "operator" else token
            metadata = [("authorization", f"Bearer {bearer}")] if bearer else []
        with pytest.raises(grpc.RpcError) as raised:
            getattr(self.stub, method)(request, metadata=metadata, timeout=10)
        error = raised.value
        violations = {}
        status = rpc_status.from_call(error)
        for detail in status.details if status else []:
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(bad_request):
                violations.update({v.field: v.description for v in bad_request.field_violations})
        return error.code(), error.details(), violations


@pytest.fixture
def service(node_settings: NodeSettings, authority: TokenAuthority):
    thread = ServiceThread(
        lambda: ServiceRuntime(
            DEFINITION, node_settings, roles=("api",), address="127.0.0.1:0", authority=authority
        )
    )
    runtime = thread.start()
    yield runtime
    thread.stop()


@pytest.fixture
def api(service: ServiceRuntime, authority: TokenAuthority) -> Api:
    client = Api(service.port, authority)
    yield client
    client.channel.close()


def rid() -> str:
    return str(uuid.uuid4())


def create_trust(api: Api, name: str = "Guy's and St Thomas'", ods: str = "RJ1") -> pb.Organisation:
    return api(
        "CreateOrganisation",
        pb.CreateOrganisationRequest(
            request_id=rid(),
            name=name,
            kind=pb.ORGANISATION_KIND_NHS_TRUST,
            region="south-east-london",
            ods_code=ods,
        ),
    ).organisation


def register(api: Api, organisation_id: str, email: str, name: str = "Sam") -> pb.Member:
    return api(
        "RegisterMember",
        pb.RegisterMemberRequest(
            request_id=rid(),
            display_name=name,
            profession=pb.PROFESSION_NURSE,
            home_organisation_id=organisation_id,
            email=email,
        ),
    ).member


def create_community(api: Api, token: str, policy=pb.JOINING_POLICY_OPEN, slug="cancer-cop"):
    return api(
        "CreateCommunity",
        pb.CreateCommunityRequest(
            request_id=rid(),
            slug=slug,
            name="Cancer CoP",
            domain="cancer-care",
            region="london",
            joining_policy=policy,
        ),
        token,
    ).community


class TestServing:
    def test_health_reports_serving(self, api: Api):
        health = health_pb2_grpc.HealthStub(api.channel)
        for name in ["", "copnet.registry.v1.RegistryService"]:
            reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING

    def test_reflection_lists_the_service_without_a_token(self, api: Api):
        stub = reflection_pb2_grpc.ServerReflectionStub(api.channel)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        names = {s.name for r in replies for s in r.list_services_response.service}
        assert "copnet.registry.v1.RegistryService" in names


class TestIdentity:
    def test_calls_without_a_token_are_unauthenticated(self, api: Api):
        code, message, _ = api.fails("ListOrganisations", pb.ListOrganisationsRequest(), None)
        assert code == grpc.StatusCode.UNAUTHENTICATED
        assert "Bearer" in message

    @pytest.mark.parametrize("scheme", ["Basic abc", "Bearer", "Bearer not-a-jwt"])
    def test_malformed_authorization_is_unauthenticated(self, api: Api, scheme: str):
        code, _, _ = api.fails(
            "ListOrganisations",
            pb.ListOrganisationsRequest(),
            metadata=[("authorization", scheme)],
        )
        assert code == grpc.StatusCode.UNAUTHENTICATED

    def test_expired_tokens_and_other_nodes_tokens_are_refused(self, api: Api, tmp_path: Path):
        expired = api.authority.issue("operator", ttl=timedelta(seconds=-120))
        code, message, _ = api.fails("ListOrganisations", pb.ListOrganisationsRequest(), expired)
        assert code == grpc.StatusCode.UNAUTHENTICATED and "expired" in message
        stranger = TokenAuthority.for_node("testnode", tmp_path / "other.pem").issue("operator")
        code, _, _ = api.fails("ListOrganisations", pb.ListOrganisationsRequest(), stranger)
        assert code == grpc.StatusCode.UNAUTHENTICATED

    def test_members_may_not_do_operator_work(self, api: Api):
        trust = create_trust(api)
        member = register(api, trust.organisation_id, "sam@nhs.net")
        code, _, _ = api.fails(
            "CreateOrganisation",
            pb.CreateOrganisationRequest(
                request_id=rid(), name="X", kind=pb.ORGANISATION_KIND_OTHER, region="x"
            ),
            api.token_for(member.member_id),
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED

    def test_e_mail_addresses_are_shown_only_to_their_owner_and_the_operator(self, api: Api):
        trust = create_trust(api)
        sam = register(api, trust.organisation_id, "sam@nhs.net", "Sam")
        pat = register(api, trust.organisation_id, "pat@nhs.net", "Pat")
        request = pb.GetMemberRequest(member_id=sam.member_id)
        assert api("GetMember", request).member.email == "sam@nhs.net"
        assert api("GetMember", request, api.token_for(sam.member_id)).member.email
        assert api("GetMember", request, api.token_for(pat.member_id)).member.email == ""


class TestStatuses:
    def test_invalid_argument_lists_every_bad_field(self, api: Api):
        code, _, violations = api.fails(
            "CreateOrganisation",
            pb.CreateOrganisationRequest(name=" ", kind=42, region="South London", ods_code="!"),
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert set(violations) == {"request_id", "name", "kind", "region", "ods_code"}
        assert "ORGANISATION_KIND_NHS_TRUST" in violations["kind"]

    def test_unknown_ids_are_not_found_and_malformed_ids_invalid(self, api: Api):
        code, _, _ = api.fails(
            "GetOrganisation", pb.GetOrganisationRequest(organisation_id=str(uuid.uuid4()))
        )
        assert code == grpc.StatusCode.NOT_FOUND
        code, _, violations = api.fails(
            "GetOrganisation", pb.GetOrganisationRequest(organisation_id="guys")
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "organisation_id" in violations

    @pytest.mark.both_stores
    def test_duplicate_slug_is_already_exists(self, api: Api):
        trust = create_trust(api)
        lead = register(api, trust.organisation_id, "lead@nhs.net")
        create_community(api, api.token_for(lead.member_id))
        code, message, _ = api.fails(
            "CreateCommunity",
            pb.CreateCommunityRequest(
                request_id=rid(),
                slug="cancer-cop",
                name="Again",
                domain="x",
                region="london",
                joining_policy=pb.JOINING_POLICY_OPEN,
                host_organisation_ids=[trust.organisation_id],
            ),
        )
        assert code == grpc.StatusCode.ALREADY_EXISTS and "cancer-cop" in message

    def test_approving_a_request_that_does_not_exist_is_failed_precondition(self, api: Api):
        trust = create_trust(api)
        lead = register(api, trust.organisation_id, "lead@nhs.net")
        other = register(api, trust.organisation_id, "other@nhs.net")
        community = create_community(api, api.token_for(lead.member_id), pb.JOINING_POLICY_APPROVAL)
        code, message, _ = api.fails(
            "ApproveMembershipRequest",
            pb.ApproveMembershipRequestRequest(
                request_id=rid(), community_id=community.community_id, member_id=other.member_id
            ),
            api.token_for(lead.member_id),
        )
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "no pending request" in message

    def test_joining_a_closed_community_is_failed_precondition(self, api: Api):
        trust = create_trust(api)
        lead = register(api, trust.organisation_id, "lead@nhs.net")
        late = register(api, trust.organisation_id, "late@nhs.net")
        community = create_community(api, api.token_for(lead.member_id))
        api(
            "ChangeCommunityLifecycle",
            pb.ChangeCommunityLifecycleRequest(
                request_id=rid(),
                community_id=community.community_id,
                lifecycle=pb.COMMUNITY_LIFECYCLE_CLOSED,
                reason="funding ended",
            ),
            api.token_for(lead.member_id),
        )
        code, message, _ = api.fails(
            "JoinCommunity",
            pb.JoinCommunityRequest(request_id=rid(), community_id=community.community_id),
            api.token_for(late.member_id),
        )
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "closed" in message

    @pytest.mark.both_stores
    def test_a_stale_expected_version_is_aborted(self, api: Api):
        trust = create_trust(api)
        update = pb.UpdateOrganisationRequest(
            request_id=rid(),
            organisation_id=trust.organisation_id,
            name="Renamed",
            expected_version=trust.version,
        )
        renamed = api("UpdateOrganisation", update).organisation
        assert renamed.version == 2 and renamed.name == "Renamed"
        stale = pb.UpdateOrganisationRequest(
            request_id=rid(),
            organisation_id=trust.organisation_id,
            name="Again",
            expected_version=1,
        )
        code, message, _ = api.fails("UpdateOrganisation", stale)
        assert code == grpc.StatusCode.ABORTED and "version 2" in message

    def test_no_request_shape_causes_an_internal_error(self, api: Api):
        """Every RPC, called with an empty request and with junk in every string field."""
        service = pb.DESCRIPTOR.services_by_name["RegistryService"]
        for method in service.methods:
            request_class = getattr(pb, method.input_type.name)
            junk = request_class()
            for field in request_class.DESCRIPTOR.fields:
                if field.type == field.TYPE_STRING and not field.is_repeated:
                    setattr(junk, field.name, "\x00junk' OR 1=1 --" * 50)
            for request in (request_class(), junk):
                try:
                    api(method.name, request)
                except grpc.RpcError as error:
                    assert error.code() not in (
                        grpc.StatusCode.INTERNAL,
                        grpc.StatusCode.UNKNOWN,
                    ), (method.name, error.details())


class TestRetries:
    def test_a_retry_with_the_same_request_id_returns_the_first_response(self, api: Api):
        request = pb.CreateOrganisationRequest(
            request_id="6f1c2a4e-0b7d-4c1e-9a55-3f2b8d7e1c01",
            name="Haringey GP Federation",
            kind=pb.ORGANISATION_KIND_GP_PRACTICE,
            region="north-central-london",
        )
        first = api("CreateOrganisation", request)
        second = api("CreateOrganisation", request)
        assert second.organisation == first.organisation
        assert second.position == first.position  # the first outcome's, not the log's now
        listed = api("ListOrganisations", pb.ListOrganisationsRequest(min_position=second.position))
        assert [o.organisation_id for o in listed.organisations] == [
            first.organisation.organisation_id
        ]
        later = pb.CreateOrganisationRequest(
            request_id=str(uuid.uuid4()), name="Later", kind=pb.ORGANISATION_KIND_OTHER, region="x"
        )
        assert api("CreateOrganisation", later).position > first.position
        assert api("CreateOrganisation", request).position == first.position

    def test_a_request_id_cannot_be_reused_for_a_different_request(self, api: Api):
        base = dict(kind=pb.ORGANISATION_KIND_OTHER, region="x", request_id=str(uuid.uuid4()))
        api("CreateOrganisation", pb.CreateOrganisationRequest(name="A", **base))
        code, _, violations = api.fails(
            "CreateOrganisation", pb.CreateOrganisationRequest(name="B", **base)
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "request_id" in violations


@pytest.mark.both_stores
class TestQueries:
    def test_lists_read_your_writes_and_page(self, api: Api):
        trust = create_trust(api)
        position = 0
        for i in range(5):
            position = api(
                "RegisterMember",
                pb.RegisterMemberRequest(
                    request_id=rid(),
                    display_name=f"Pharmacist {i}",
                    profession=pb.PROFESSION_PHARMACIST,
                    home_organisation_id=trust.organisation_id,
                    email=f"p{i}@nhs.net",
                ),
            ).position
        names, token = [], ""
        while True:
            reply = api(
                "ListMembers",
                pb.ListMembersRequest(
                    page_size=2,
                    page_token=token,
                    profession=pb.PROFESSION_PHARMACIST,
                    min_position=position,
                ),
            )
            names += [m.display_name for m in reply.members]
            token = reply.next_page_token
            if not token:
                break
        assert names == [f"Pharmacist {i}" for i in range(5)]
        code, _, violations = api.fails(
            "ListMembers", pb.ListMembersRequest(page_token="forged", page_size=9999)
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert set(violations) == {"page_size"} or set(violations) >= {"page_size"}

    def test_co_leads_on_a_date_and_the_history_of_a_membership(self, api: Api):
        trust = create_trust(api)
        lead = register(api, trust.organisation_id, "lead@nhs.net")
        second = register(api, trust.organisation_id, "second@nhs.net", "Second")
        community = create_community(api, api.token_for(lead.member_id))
        api(
            "JoinCommunity",
            pb.JoinCommunityRequest(request_id=rid(), community_id=community.community_id),
            api.token_for(second.member_id),
        )
        assigned = api(
            "AssignRole",
            pb.AssignRoleRequest(
                request_id=rid(),
                community_id=community.community_id,
                member_id=second.member_id,
                role=pb.ROLE_CO_LEAD,
                start_date="2020-06-01",
            ),
            api.token_for(lead.member_id),
        )
        ended = api(
            "EndRole",
            pb.EndRoleRequest(
                request_id=rid(),
                community_id=community.community_id,
                member_id=second.member_id,
                role=pb.ROLE_CO_LEAD,
                end_date="2021-06-01",
            ),
        )
        assert [(t.role, t.start_date, t.end_date) for t in ended.membership.role_terms][1] == (
            pb.ROLE_CO_LEAD,
            "2020-06-01",
            "2021-06-01",
        )

        def co_leads(day: str) -> set[str]:
            reply = api(
                "ListMemberships",
                pb.ListMembershipsRequest(
                    community_id=community.community_id,
                    role=pb.ROLE_CO_LEAD,
                    as_of=day,
                    min_position=ended.position,
                ),
            )
            return {m.member_id for m in reply.memberships}

        assert co_leads("2020-12-25") == {second.member_id}
        assert co_leads("2021-06-01") == set()
        assert co_leads("") == {lead.member_id}  # today
        history = api(
            "ListEntityHistory",
            pb.ListEntityHistoryRequest(entity_id=assigned.membership.membership_id),
        ).entries
        assert [e.event_type for e in history] == [
            "membership_opened",
            "membership_joined",
            "membership_role_assigned",
            "membership_role_assigned",
            "membership_role_ended",
        ]
        assert history[3].actor == f"member:{lead.member_id}"
        assert history[3].changes["start_date"] == "2020-06-01"
        assert history[4].actor == "operator"
