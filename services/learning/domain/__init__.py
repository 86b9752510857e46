"""The learning exchange's domain.

- `LearningItem`: a piece of learning written on this node (its origin). It goes
  draft -> published -> revised (every revision kept) -> withdrawn, has a
  visibility (this node, the region, named partner nodes), and, being the
  origin, records which nodes received it and which organisations adopted it.
- `Adoption`: an organisation of this node's position on an item from anywhere.
- `ReceivedItem`: this node's copy of an item from another node, kept current
  from the item's snapshots.
- `Subscription`: this node's interest in another node's region-wide learning.

A module per aggregate (`item`, `adoption`, `received`, `subscription`); `values` holds
the enumerations, the value parsers and the values the aggregates are made of. Events
stored before this package existed name `services.learning.domain:<class>`:
`services.learning.topics` keeps those topics resolving.
"""

from services.learning import topics  # noqa: F401  (old topics of these classes)
from services.learning.domain.adoption import Adoption
from services.learning.domain.item import LearningItem
from services.learning.domain.received import ReceivedItem
from services.learning.domain.subscription import Subscription
from services.learning.domain.values import (
    MAX_CONTRIBUTORS,
    MAX_LINKS,
    MAX_PARTNER_NODES,
    MAX_SEARCH_TEXT,
    AdoptionReport,
    AdoptionStatus,
    Content,
    ItemKind,
    ItemStatus,
    Presentation,
    Visibility,
    parse_body,
    parse_node_id,
    parse_summary,
    parse_tags,
    parse_title,
    parse_url,
)

__all__ = [
    "MAX_CONTRIBUTORS",
    "MAX_LINKS",
    "MAX_PARTNER_NODES",
    "MAX_SEARCH_TEXT",
    "Adoption",
    "AdoptionReport",
    "AdoptionStatus",
    "Content",
    "ItemKind",
    "ItemStatus",
    "LearningItem",
    "Presentation",
    "ReceivedItem",
    "Subscription",
    "Visibility",
    "parse_body",
    "parse_node_id",
    "parse_summary",
    "parse_tags",
    "parse_title",
    "parse_url",
]
