"""What consumers of learning's item snapshots share with the producer: the contributors'
pseudonyms. Member ids are personal data (pseudonymous) and stay on their node, so a
snapshot names its contributors only by a value keyed by the item: the same member gets
an unrelated value on every item, and the origin's own services (notify, which does not
announce an item to those who wrote it) compute it to recognise them."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID


def contributor_pseudonym(item_id: str | UUID, member_id: str | UUID) -> str:
    key = str(item_id).encode()
    return hmac.new(key, str(member_id).encode(), hashlib.sha256).hexdigest()[:32]
