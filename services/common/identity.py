"""Who is calling: a member of this node, the node operator, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from services.common.errors import PermissionDenied

OPERATOR_SUBJECT = "operator"
SYSTEM_SUBJECT = "system"


@dataclass(frozen=True)
class ClientCertificate:
    """The certificate a caller showed under mutual TLS (verified by the node's client CA):
    who the connection is from. The bearer token still decides what the caller may do."""

    common_name: str
    sans: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"CN={self.common_name}" + (f" SAN={','.join(self.sans)}" if self.sans else "")


@dataclass(frozen=True)
class Caller:
    subject: str
    member_id: UUID | None = None
    is_operator: bool = False
    # A named operator's name (`copnet token --operator --name alice`): in every audit record.
    name: str = ""
    # The transport: the client's certificate (mTLS), and its address as gRPC gives it.
    client_certificate: ClientCertificate | None = field(default=None, compare=False)
    peer: str = field(default="", compare=False)

    @classmethod
    def operator(cls, name: str = "") -> Caller:
        return cls(subject=OPERATOR_SUBJECT, is_operator=True, name=name)

    @classmethod
    def system(cls) -> Caller:
        return cls(subject=SYSTEM_SUBJECT, is_operator=True)

    @classmethod
    def member(cls, member_id: UUID) -> Caller:
        return cls(subject=str(member_id), member_id=member_id)

    @property
    def actor(self) -> str:
        """How events record who caused them: never contact details."""
        if self.member_id is not None:
            return f"member:{self.member_id}"
        if self.is_operator and self.name:
            return f"{self.subject}:{self.name}"
        return self.subject

    def is_member(self, member_id: UUID) -> bool:
        return self.member_id is not None and self.member_id == member_id


def require_operator(caller: Caller, action: str) -> None:
    if not caller.is_operator:
        raise PermissionDenied(f"only the node operator may {action}")


def require_self_or_operator(caller: Caller, member_id: UUID, action: str) -> None:
    if not (caller.is_operator or caller.is_member(member_id)):
        raise PermissionDenied(f"only the member themselves or the node operator may {action}")
