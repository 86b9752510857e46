"""Notify's learning inbox is sent only the learning events it reacts to.

On a real node (registry, events, learning and notify over a real nats-server), an
item is published and a presentation of it recorded: the node stream holds both
events, notify's consumer is handed the publication only (a presentation changes
nothing notify announces), and notify still records what it saw of the item.
"""

from __future__ import annotations

import uuid

from copnet.learning.v1 import learning_pb2 as lpb
from services.notify.domain import LearningNotice
from services.notify.reactions.policy import LEARNING_EVENT_TYPES
from tests.support.events_node import Cop
from tests.support.notify_node import NotifyNode
from tests.support.streams import read_stream
from tests.support.waiting import eventually


def _publish(node: NotifyNode, cop: Cop, title: str) -> lpb.LearningItem:
    published: list[lpb.LearningItem] = []

    def attempt() -> bool:
        try:
            published.append(node.publish(cop.community_id, cop.lead, title, ["sepsis"]))
        except Exception as error:  # the learning service may not know the community yet
            if "not known" in str(error):
                return False
            raise
        return True

    eventually(attempt)
    return published[0]


def test_the_learning_inbox_is_sent_only_what_notify_reacts_to(node: NotifyNode) -> None:
    cop = Cop(node.api, members=1, name="Sepsis CoP")
    node.settle()
    item = _publish(node, cop, "Sepsis screening at triage")
    node.learning(
        "RecordPresentation",
        lpb.RecordPresentationRequest(
            request_id=str(uuid.uuid4()),
            item_id=item.item_id,
            convening_id=str(uuid.uuid4()),
            title="Grand round",
            presented_on="2026-03-02",
        ),
        cop.lead,
    )
    node.settle()

    runtime = node.notify_runtime
    identity = runtime.identity
    learning = [
        m
        for m in read_stream(node.settings.nats_url, identity.stream_name)
        if m.envelope.service == "learning"
    ]
    types = [m.envelope.event_type for m in learning]
    assert "item_published" in types and "item_presented" in types, types
    wanted = [t for t in types if t in LEARNING_EVENT_TYPES]
    assert len(wanted) < len(types), "the stream holds learning events notify is not sent"

    inbox = next(i for i in runtime.inboxes if i.name == "notify-learning")
    assert set(inbox.subjects) == set(identity.event_subjects("learning", LEARNING_EVENT_TYPES))

    def handed_only_those() -> bool:
        return inbox.stats.applied + inbox.stats.duplicates == len(wanted)

    eventually(handed_only_those)
    assert inbox.stats.applied == len(wanted)
    notice = node.app._find(LearningNotice.create_id(item.item_id), LearningNotice)
    assert notice is not None and notice.announced_revision == item.revision
