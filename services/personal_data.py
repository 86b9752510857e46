"""`copnet erase-member` and `copnet export-member`: a node operator's tools for the
rights of data subjects (docs/data-protection.md), as clients of the node's gRPC APIs.

- `export-member MEMBER_ID --out FILE`: every service's part of a subject access
  export, in one JSON document (written 0600: it is personal data).
- `erase-member MEMBER_ID`: erasure by crypto-shredding (the registry's
  `EraseMember`; every other service follows on its own).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc

from copnet.events.v1 import events_pb2, events_pb2_grpc
from copnet.learning.v1 import learning_pb2, learning_pb2_grpc
from copnet.notify.v1 import notify_pb2, notify_pb2_grpc
from copnet.registry.v1 import registry_pb2, registry_pb2_grpc
from services.common.channels import node_channel
from services.common.identity import OPERATOR_SUBJECT
from services.common.pki import write_file
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority

EXPORT_FORMAT = "copnet.member-export.v1"
CALL_TIMEOUT = 30.0
TOKEN_TTL = timedelta(minutes=5)

# Each service: its stub, and its ExportMemberData request.
_EXPORTERS: dict[str, tuple[Callable[[grpc.Channel], Any], Callable[..., Any]]] = {
    "registry": (registry_pb2_grpc.RegistryServiceStub, registry_pb2.ExportMemberDataRequest),
    "events": (events_pb2_grpc.EventsServiceStub, events_pb2.ExportMemberDataRequest),
    "learning": (learning_pb2_grpc.LearningServiceStub, learning_pb2.ExportMemberDataRequest),
    "notify": (notify_pb2_grpc.NotifyServiceStub, notify_pb2.ExportMemberDataRequest),
}


def _operator_metadata(settings: NodeSettings) -> list[tuple[str, str]]:
    authority = TokenAuthority.for_node(settings.node_id, settings.signing_key_file)
    token = authority.issue(OPERATOR_SUBJECT, ttl=TOKEN_TTL)
    return [("authorization", f"Bearer {token}")]


def export_member(settings: NodeSettings, member_id: str, services: list[str]) -> dict[str, Any]:
    """The export document: each running service's part (an error for one that is not)."""
    metadata = _operator_metadata(settings)
    parts: dict[str, Any] = {}
    for service in services:
        stub_class, request_class = _EXPORTERS[service]
        with node_channel(settings, service) as channel:
            reply = stub_class(channel).ExportMemberData(
                request_class(member_id=member_id), metadata=metadata, timeout=CALL_TIMEOUT
            )
        parts[service] = json.loads(reply.document_json)
    return {
        "format": EXPORT_FORMAT,
        "node_id": settings.node_id,
        "member_id": member_id,
        "exported_at": datetime.now(tz=UTC).isoformat(),
        "services": parts,
    }


def write_export(document: dict[str, Any], out: Path) -> None:
    write_file(out, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode(), 0o600)


def erase_member(settings: NodeSettings, member_id: str) -> int:
    """Erases a member; the position of the erasure in the registry's log."""
    with node_channel(settings, "registry") as channel:
        reply = registry_pb2_grpc.RegistryServiceStub(channel).EraseMember(
            registry_pb2.EraseMemberRequest(request_id=str(uuid.uuid4()), member_id=member_id),
            metadata=_operator_metadata(settings),
            timeout=CALL_TIMEOUT,
        )
    return int(reply.position)
