"""RegistryService over gRPC: validation and translation only.

Rules live in the domain and the application; this module checks request
shapes (collecting every field violation), calls the application off the event
loop, and turns its answers into protobuf messages.

The servicer's calls are grouped by what they act on (`organisations`, `communities`,
`members`, `memberships`); `requests` reads requests, `responses` builds answers.
"""

from __future__ import annotations

import grpc

from copnet.registry.v1 import registry_pb2 as pb
from copnet.registry.v1 import registry_pb2_grpc as pb_grpc
from services.registry.grpc_api.communities import CommunityCalls
from services.registry.grpc_api.members import MemberCalls
from services.registry.grpc_api.memberships import MembershipCalls
from services.registry.grpc_api.organisations import OrganisationCalls

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RegistryService"].full_name


class RegistryServicer(OrganisationCalls, CommunityCalls, MemberCalls, MembershipCalls):
    """Every RegistryService call; each group lives in its own module."""

    def add_to_server(self, server: grpc.aio.Server) -> None:
        pb_grpc.add_RegistryServiceServicer_to_server(self, server)
