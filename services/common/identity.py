"""Who is calling: a member of this node, the node operator, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

OPERATOR_SUBJECT = "operator"
SYSTEM_SUBJECT = "system"


@dataclass(frozen=True)
class Caller:
    subject: str
    member_id: UUID | None = None
    is_operator: bool = False

    @classmethod
    def operator(cls) -> Caller:
        return cls(subject=OPERATOR_SUBJECT, is_operator=True)

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
        return self.subject

    def is_member(self, member_id: UUID) -> bool:
        return self.member_id is not None and self.member_id == member_id
