"""The registry's domain: organisations, communities of practice, members and memberships,
a module per aggregate.

- `organisation.Organisation`, `community.Community`, `member.Member` (personal data:
  its events travel only on node-local subjects), `membership.Membership` (a member's
  relationship with one community, with `RoleTerm`s).
- `values`: the enumerations and the parsers of the registry's own values.

Public methods check the rules and raise; the `@event` methods they call only
record what happened, so replaying history never re-checks today's rules. Events
stored before this package existed name `services.registry.domain:<class>`:
`services.registry.topics` keeps those topics resolving.
"""

from services.registry import topics  # noqa: F401  (old topics of these classes)
from services.registry.domain.community import Community
from services.registry.domain.member import Member
from services.registry.domain.membership import Membership, RoleTerm
from services.registry.domain.organisation import Organisation
from services.registry.domain.values import (
    JoiningPolicy,
    Lifecycle,
    MembershipStatus,
    OrganisationKind,
    Profession,
    Role,
    parse_email,
    parse_enum,
    parse_ods_code,
)

__all__ = [
    "Community",
    "JoiningPolicy",
    "Lifecycle",
    "Member",
    "Membership",
    "MembershipStatus",
    "Organisation",
    "OrganisationKind",
    "Profession",
    "Role",
    "RoleTerm",
    "parse_email",
    "parse_enum",
    "parse_ods_code",
]
