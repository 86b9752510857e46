"""One trace from a client's PublishItem on node guys to the e-mail notify sends on node
kings, exported over OTLP to a receiver in the test: a real hub and two real nodes (registry,
learning, notify each), a real SMTP server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from opentelemetry.proto.trace.v1 import trace_pb2

from copnet.learning.v1 import learning_pb2 as lpb
from copnet.learning.v1 import learning_pb2_grpc as lpb_grpc
from copnet.notify.v1 import notify_pb2 as npb
from copnet.notify.v1 import notify_pb2_grpc as npb_grpc
from services.notify.service import definition
from tests.support import otlp
from tests.support.notify_node import notify_settings
from tests.support.region import Region, rid
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def region(tmp_path: Path, smtp: SmtpSink) -> Iterator[Region]:
    region = Region(
        tmp_path,
        ["guys", "kings"],
        extra=lambda node: {"notify": definition(notify_settings(smtp, tmp_path / node))},
    )
    yield region
    region.close()


def attributes(span: trace_pb2.Span) -> dict[str, object]:
    found: dict[str, object] = {}
    for a in span.attributes:
        value = a.value
        found[a.key] = value.string_value or value.int_value or value.bool_value
    return found


def test_one_trace_runs_from_publish_item_on_one_node_to_the_email_on_another(
    region: Region, smtp: SmtpSink
):
    guys = region.community("guys", "dip-cop")
    kings = region.community("kings", "maternity-cop")
    reader_address = "lead-maternity-cop@kings.nhs.net"
    notify = npb_grpc.NotifyServiceStub(region["kings"].channels["notify"])

    def prefer_at_once() -> bool:
        try:
            notify.SetPreferences(
                npb.SetPreferencesRequest(
                    request_id=rid(),
                    preferences=npb.Preferences(
                        learning=npb.FREQUENCY_IMMEDIATELY, learning_domains=["diabetes"]
                    ),
                    update_mask=FieldMask(paths=["learning", "learning_domains"]),
                ),
                metadata=[("authorization", f"Bearer {kings.lead_token}")],
                timeout=20,
            )
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                return False  # notify has not heard of the member yet
            raise
        return True

    eventually(prefer_at_once)
    region.subscribe("kings", "guys", ["diabetes"])
    learning = lpb_grpc.LearningServiceStub(region["guys"].channels["learning"])
    lead = [("authorization", f"Bearer {guys.lead_token}")]
    item = learning.CreateItem(
        lpb.CreateItemRequest(
            request_id=rid(),
            kind=lpb.ITEM_KIND_REPLICABLE_MODEL,
            title="GDm-Health remote monitoring",
            summary="Remote monitoring of gestational diabetes",
            body="How it works.",
            domain_tags=["diabetes"],
            community_id=guys.community_id,
            visibility=lpb.VISIBILITY_REGION,
        ),
        metadata=lead,
        timeout=20,
    ).item

    trace_id = uuid.uuid4().hex
    client_span = uuid.uuid4().hex[:16]
    with otlp.collector() as (receiver, port), otlp.exporting_to(port):
        learning.PublishItem(
            lpb.PublishItemRequest(request_id=rid(), item_id=item.item_id),
            metadata=[*lead, ("traceparent", f"00-{trace_id}-{client_span}-01")],
            timeout=20,
        )
        eventually(lambda: any("GDm-Health" in m.subject for m in smtp.to(reader_address)), 60)
        eventually(lambda: receiver.named("notify deliver"), 20)
        spans = eventually(
            lambda: (
                [s for s in receiver.of_trace(trace_id) if s.name == "notify deliver"]
                and receiver.of_trace(trace_id)
            ),
            20,
        )

    by_id = {span.span_id: span for span in spans}
    names = [span.name for span in spans]
    [server] = [s for s in spans if s.name == "copnet.learning.v1.LearningService/PublishItem"]
    assert server.parent_span_id.hex() == client_span
    assert server.kind == trace_pb2.Span.SPAN_KIND_SERVER
    assert attributes(server)["rpc.grpc.status_code"] == 0
    assert any(name.startswith("save ") for name in names), names  # the store write
    publishes = [s for s in spans if s.kind == trace_pb2.Span.SPAN_KIND_PRODUCER]
    assert any(".guys.learning." in s.name for s in publishes), names
    for publish in publishes:  # each ended on its PubAck
        assert attributes(publish)["copnet.stream.sequence"], publish.name
        assert attributes(publish)["messaging.operation.name"] == "publish"
        assert attributes(publish)["server.address"] == "127.0.0.1"
    consumers = [s for s in spans if s.kind == trace_pb2.Span.SPAN_KIND_CONSUMER]
    kings_inboxes = {attributes(s).get("messaging.consumer.group.name") for s in consumers}
    assert kings_inboxes & {"learning-federation", "notify-federation", "notify-learning"}
    for consumer in consumers:
        assert attributes(consumer)["copnet.stream.sequence"], consumer.name
        assert attributes(consumer)["copnet.delivery_count"] == 1
    assert any(name.startswith("project ") for name in names), names  # a read model
    [deliver] = [s for s in spans if s.name == "notify deliver"]
    assert attributes(deliver)["copnet.delivery.outcome"] == "delivered"
    # Every span hangs from the client's call: the chain of parents reaches it.
    for span in spans:
        hops = 0
        while span.span_id != server.span_id:
            span = by_id[span.parent_span_id]
            hops += 1
        assert hops < 30
