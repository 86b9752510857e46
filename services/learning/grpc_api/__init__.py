"""LearningService over gRPC: validation and translation only.

The servicer's calls are grouped by what they act on (`items`, `adoption`,
`subscriptions`); `requests` reads requests, `base` holds what they share.
"""

from __future__ import annotations

import grpc

from copnet.learning.v1 import learning_pb2 as pb
from copnet.learning.v1 import learning_pb2_grpc as pb_grpc
from services.learning.grpc_api.adoption import AdoptionCalls
from services.learning.grpc_api.items import ItemCalls
from services.learning.grpc_api.subscriptions import SubscriptionCalls

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["LearningService"].full_name


class LearningServicer(ItemCalls, AdoptionCalls, SubscriptionCalls):
    """Every LearningService call; each group lives in its own module."""

    def add_to_server(self, server: grpc.aio.Server) -> None:
        pb_grpc.add_LearningServiceServicer_to_server(self, server)
