"""A property-based sweep of every RPC of the four services (issue 14).

The RPCs are read from the generated stubs' service descriptors; each example is a random
request message built from the method's input descriptor and encoded by hand on the wire,
so that it may hold what no well-behaved client sends: invalid UTF-8 in string fields,
Timestamps out of protobuf's range, unknown enum numbers, huge repeated fields, long text,
ids of real entities mixed with garbage. It goes out through a generic callable with
identity serializers (raw bytes), as the operator, on one real node.

Whatever arrives, the answer is never UNKNOWN or INTERNAL, its trailers stay under 8 KiB,
and the services answer health checks throughout.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copnet.events.v1 import events_pb2
from copnet.learning.v1 import learning_pb2
from copnet.notify.v1 import notify_pb2
from copnet.registry.v1 import registry_pb2
from tests.support.events_node import Cop
from tests.support.events_world import MovableClock
from tests.support.notify_node import NotifyNode, start_notify_node, stop_notify_node

SERVICES = {
    "registry": registry_pb2.DESCRIPTOR.services_by_name["RegistryService"],
    "events": events_pb2.DESCRIPTOR.services_by_name["EventsService"],
    "learning": learning_pb2.DESCRIPTOR.services_by_name["LearningService"],
    "notify": notify_pb2.DESCRIPTOR.services_by_name["NotifyService"],
}
EXAMPLES = 300  # per service
TRAILERS_LIMIT = 8 * 1024
# Fields that make a call wait (for a view or the registry mirror) are kept small: a wait of
# seconds per example would make the sweep minutes long. tests/grpc/test_api_edge.py waits.
WAITING_FIELDS = {"min_position", "min_registry_position"}
SEEN_IDS: list[str] = []  # ids of real entities on the node, set by the fixture

F = FieldDescriptor


# Encoding on the wire, by hand (so that strings may be invalid UTF-8)


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def delimited(number: int, payload: bytes) -> bytes:
    return key(number, 2) + varint(len(payload)) + payload


def encode_scalar(field: FieldDescriptor, value: Any) -> bytes:
    kind = field.type
    if kind in (F.TYPE_STRING, F.TYPE_BYTES, F.TYPE_MESSAGE):
        return delimited(field.number, value)
    if kind in (F.TYPE_DOUBLE,):
        return key(field.number, 1) + struct.pack("<d", value)
    if kind in (F.TYPE_FLOAT,):
        return key(field.number, 5) + struct.pack("<f", value)
    if kind in (F.TYPE_FIXED64, F.TYPE_SFIXED64):
        return key(field.number, 1) + struct.pack("<Q", value & ((1 << 64) - 1))
    if kind in (F.TYPE_FIXED32, F.TYPE_SFIXED32):
        return key(field.number, 5) + struct.pack("<I", value & ((1 << 32) - 1))
    if kind in (F.TYPE_SINT32, F.TYPE_SINT64):
        return key(field.number, 0) + varint((value << 1) ^ (value >> 63))
    return key(field.number, 0) + varint(int(value))


# Values, by field type and name

INVALID_UTF8 = [b"Trust \xed\xa0\xbe", b"\xff\xfe", b"caf\xc3", b"\x80abc", b"ok\xe2\x82"]
TEXTS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "2024-06-18T19:00",
            "9999-12-31T22:00",
            "0001-01-01T00:00",
            "garbage",
            "2024-02-30",
            "Europe/London",
            "Etc/GMT+12",
            "https://meet.nhs.uk/x",
            "abc",
            "FREQ=WEEKLY;COUNT=3",
            "FREQ=DAILY;UNTIL=99991231T000000Z",
            "FREQ=YEARLY;INTERVAL=1000;COUNT=9",
            "Etc/GMT-14",
            "2200-12-31T23:00",
            "cancer-care",
            "*",
        ]
    ),
    st.text(min_size=190, max_size=210),
    st.integers(5_000, 300_000).map(lambda n: "x" * n),
)


def string_value(field: FieldDescriptor) -> st.SearchStrategy[bytes]:
    texts = TEXTS
    if field.name.endswith(("_id", "_ids")) or field.name in {"member", "community"}:
        texts = st.one_of(st.sampled_from(SEEN_IDS or ["x"]), st.uuids().map(str), TEXTS)
    return st.one_of(
        texts.map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.sampled_from(INVALID_UTF8),
    )


def timestamp_bytes() -> st.SearchStrategy[bytes]:
    seconds = st.one_of(
        st.integers(-62135596801, 253402300800),
        st.sampled_from([10**12, -62135596801, 253402300800, 0, 1718733600, -(2**63)]),
        st.integers(-(2**63), 2**63 - 1),
    )
    nanos = st.one_of(st.integers(0, 999_999_999), st.sampled_from([2_000_000_000, -1]))
    return st.tuples(seconds, nanos).map(
        lambda sn: key(1, 0) + varint(sn[0]) + key(2, 0) + varint(sn[1])
    )


def scalar_value(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    kind = field.type
    if field.name in WAITING_FIELDS:
        return st.just(0)
    if kind == F.TYPE_STRING:
        return string_value(field)
    if kind == F.TYPE_BYTES:
        return st.binary(max_size=64)
    if kind == F.TYPE_BOOL:
        return st.booleans()
    if kind in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return st.floats(allow_nan=True, width=64 if kind == F.TYPE_DOUBLE else 32)
    if kind == F.TYPE_ENUM:
        return st.one_of(
            st.sampled_from([v.number for v in field.enum_type.values]), st.integers(-5, 99)
        )
    if kind == F.TYPE_MESSAGE:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            return timestamp_bytes()
        if depth > 3:
            return st.just(b"")
        return message_bytes(field.message_type, depth + 1)
    if kind in (F.TYPE_UINT32, F.TYPE_FIXED32):
        return st.one_of(st.integers(0, 600), st.integers(0, 2**32 - 1))
    if kind in (F.TYPE_UINT64, F.TYPE_FIXED64):
        return st.one_of(st.integers(0, 600), st.integers(0, 2**64 - 1))
    if kind in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32):
        return st.one_of(st.integers(-5, 600), st.integers(-(2**31), 2**31 - 1))
    return st.one_of(st.integers(-5, 600), st.integers(-(2**63), 2**63 - 1))


def field_bytes(field: FieldDescriptor, depth: int) -> st.SearchStrategy[bytes]:
    one = scalar_value(field, depth)
    if not field.is_repeated:
        return one.map(lambda value: encode_scalar(field, value))
    sizes = st.one_of(st.integers(0, 4), st.sampled_from([50, 201, 600, 3000]))

    @st.composite
    def repeated(draw: st.DrawFn) -> bytes:
        count = draw(sizes)
        if count > 20:  # huge lists: the same drawn value, many times (fast to build)
            item = encode_scalar(field, draw(one))
            return item * max(1, min(count, 2_000_000 // len(item)))
        return b"".join(encode_scalar(field, draw(one)) for _ in range(count))

    return repeated()


def message_bytes(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[bytes]:
    fields = list(descriptor.fields)
    if not fields:
        return st.just(b"")

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        chosen = draw(st.lists(st.sampled_from(fields), max_size=len(fields), unique=True))
        return b"".join(draw(field_bytes(field, depth)) for field in chosen)

    return build()


def requests(service: str) -> st.SearchStrategy[tuple[MethodDescriptor, bytes]]:
    methods = list(SERVICES[service].methods)
    return st.sampled_from(methods).flatmap(
        lambda m: st.tuples(st.just(m), message_bytes(m.input_type))
    )


# The node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotifyNode]:
    running = start_notify_node(
        tmp_path_factory.mktemp("sweep"), MovableClock(datetime(2024, 1, 8, 9, tzinfo=UTC)), None
    )
    assert running.api is not None
    cop = Cop(running.api, members=2)
    SEEN_IDS[:] = [cop.community_id, cop.lead, cop.trust, *cop.members, cop.facilitator]
    yield running
    stop_notify_node(running)


def channel_of(node: NotifyNode, service: str) -> grpc.Channel:
    assert node.api is not None
    if service == "registry":
        return node.api.registry_channel
    if service == "events":
        return node.api.events_channel
    return node.channels[service]


def serving(channel: grpc.Channel, service: str) -> bool:
    health = health_pb2_grpc.HealthStub(channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def trailers_size(metadata: Any) -> int:
    return sum(len(k) + len(v if isinstance(v, bytes) else v.encode()) for k, v in metadata or ())


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_request_gets_unknown_or_internal(node: NotifyNode, service: str):
    channel = channel_of(node, service)
    full_name = SERVICES[service].full_name
    metadata = [("authorization", f"Bearer {node.api.operator}")]  # type: ignore[union-attr]
    seen: dict[str, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests(service))
    def sweep(drawn: tuple[MethodDescriptor, bytes]) -> None:
        method, payload = drawn
        call = channel.unary_unary(f"/{full_name}/{method.name}")  # identity serializers
        try:
            _, outcome = call.with_call(payload, metadata=metadata, timeout=30)
            code, trailers, details = grpc.StatusCode.OK, outcome.trailing_metadata(), ""
        except grpc.RpcError as error:
            code, trailers, details = error.code(), error.trailing_metadata(), error.details()
        seen[code.name] = seen.get(code.name, 0) + 1
        assert code not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL), (
            method.name,
            details,
        )
        assert trailers_size(trailers) < TRAILERS_LIMIT, (method.name, code, details[:200])
        assert "<class" not in (details or ""), details
        if sum(seen.values()) % 50 == 0:  # and the service stays healthy throughout
            assert serving(channel, full_name)

    sweep()
    assert serving(channel, full_name)
    assert len(seen) > 1, seen  # the sweep reached past one kind of answer
