"""Personal fields of stored events, encrypted per data subject (crypto-shredding).

An application declares which fields of which event classes are personal data, and
whose (`PersonalFields`: the attribute naming the subject, e.g. `originator_id` or
`member_id`, and each field's tombstone). `ShreddingMapper` (an eventsourcing
`Mapper`) seals those fields with the subject's key (AES-256-GCM, a fresh nonce per
field, the event's originator and the field's name as associated data) before the
event is stored, and opens them when it is read. Once the subject's key is erased
(`keystore.SubjectKeys.erase`), every such field reads as its tombstone: aggregates
whose history names the subject still load, and replaying the store yields no
personal data. Events stored before this existed keep their plain values.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from services.common.keystore import SubjectKeys

SEALED = "copnet-sealed:v1:"
NONCE_BYTES = 12


@dataclass(frozen=True)
class PersonalFields:
    """Which fields of an event class are personal data of which subject."""

    # The event attribute holding the subject's id (a UUID).
    subject: str
    # Each personal field and what it reads as once the subject is erased.
    fields: Mapping[str, Any]


def _associated(originator_id: Any, field: str) -> bytes:
    return f"{originator_id}:{field}".encode()


class ShreddingMapper(Mapper[UUID]):
    def __init__(
        self,
        transcoder: Transcoder,
        keys: SubjectKeys,
        personal: Mapping[type, PersonalFields],
        erasures: Mapping[type, str] | None = None,
    ) -> None:
        super().__init__(transcoder)
        self.keys = keys
        self.personal = {get_topic(cls): spec for cls, spec in personal.items()}
        # Event classes that record an erasure, and the attribute naming the subject.
        self.erasures = {get_topic(cls): attr for cls, attr in (erasures or {}).items()}

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        spec = self.personal.get(get_topic(type(domain_event)))
        if spec is None:
            return super().to_stored_event(domain_event)
        subject = str(getattr(domain_event, spec.subject))
        key = self.keys.key(subject, create=True)
        sealed = object.__new__(type(domain_event))
        state = dict(vars(domain_event))
        for field, tombstone in spec.fields.items():
            if field in state:
                state[field] = (
                    tombstone
                    if key is None
                    else self._seal(key, state["originator_id"], field, state[field])
                )
        object.__setattr__(sealed, "__dict__", state)
        return super().to_stored_event(sealed)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        domain_event = super().to_domain_event(stored_event)
        erased = self.erasures.get(stored_event.topic)
        if erased is not None:
            self.keys.forget(str(getattr(domain_event, erased)))
        spec = self.personal.get(stored_event.topic)
        if spec is None:
            return domain_event
        state = vars(domain_event)
        sealed = [
            field
            for field in spec.fields
            if isinstance(state.get(field), str) and state[field].startswith(SEALED)
        ]
        if not sealed:
            return domain_event
        key = self.keys.key(str(state[spec.subject]), create=False)
        for field in sealed:
            state[field] = (
                spec.fields[field]
                if key is None
                else self._open(key, state["originator_id"], field, state[field])
            )
        return domain_event

    def _seal(self, key: bytes, originator_id: Any, field: str, value: Any) -> str:
        nonce = os.urandom(NONCE_BYTES)
        plain = self.transcoder.encode(value)
        cipher = AESGCM(key).encrypt(nonce, plain, _associated(originator_id, field))
        return SEALED + base64.b64encode(nonce + cipher).decode()

    def _open(self, key: bytes, originator_id: Any, field: str, value: str) -> Any:
        raw = base64.b64decode(value[len(SEALED) :])
        plain = AESGCM(key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated(originator_id, field)
        )
        return self.transcoder.decode(plain)
