"""The registry's read model: `directory.Directory` (the projection behind every List
call) and the records it answers with (`records`)."""

from services.registry.views.directory import Directory
from services.registry.views.records import (
    CommunityRecord,
    MemberRecord,
    MembershipRecord,
    OrganisationRecord,
)

__all__ = ["CommunityRecord", "Directory", "MemberRecord", "MembershipRecord", "OrganisationRecord"]
