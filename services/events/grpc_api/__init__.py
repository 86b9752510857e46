"""EventsService over gRPC: validation and translation only.

Rules live in the domain and the application; this module checks request
shapes (collecting every field violation), calls the application off the event
loop, and turns its answers into protobuf messages.

The servicer's calls are grouped by what they act on (`convenings`, `sign_ups`,
`plans`, `overviews`, `evidence`: calendar feeds and CPD); `requests` reads requests,
`responses` builds answers.
"""

from __future__ import annotations

import grpc

from copnet.events.v1 import events_pb2 as pb
from copnet.events.v1 import events_pb2_grpc as pb_grpc
from services.events.grpc_api.convenings import ConveningCalls
from services.events.grpc_api.evidence import EvidenceCalls
from services.events.grpc_api.overviews import OverviewCalls
from services.events.grpc_api.plans import PlanCalls
from services.events.grpc_api.sign_ups import SignUpCalls

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["EventsService"].full_name


class EventsServicer(ConveningCalls, SignUpCalls, PlanCalls, OverviewCalls, EvidenceCalls):
    """Every EventsService call; each group lives in its own module."""

    def add_to_server(self, server: grpc.aio.Server) -> None:
        pb_grpc.add_EventsServiceServicer_to_server(self, server)
