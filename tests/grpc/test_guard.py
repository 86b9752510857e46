"""The transport guard on a real gRPC server (`start_server`): what a handler raises becomes a
clear, bounded status; a bug is INTERNAL with a trace id and nothing of Python in it; a
request's min_registry_position waits for the mirror, bounded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status

from copnet.events.v1 import events_pb2 as epb
from services.common import errors, guard
from services.common.grpc_server import ServerHandle, start_server
from services.common.tokens import TokenAuthority
from tests.support.aio import LoopThread

SERVICE = "copnet.test.v1.Guarded"


async def boom(request: Any, context: Any) -> Any:
    raise RuntimeError("<class 'KeyError'> leaked")


async def many_violations(request: Any, context: Any) -> Any:
    raise errors.InvalidArgument(
        [
            errors.FieldViolation(f"entries[{i}].member_id", "must be a UUID " * 40)
            for i in range(600)
        ]
    )


async def accents(request: Any, context: Any) -> Any:
    raise errors.InvalidArgument(
        [errors.FieldViolation(f"champ_é✓[{i}]" * 20, "é✓ß" * 500) for i in range(100)]
    )


async def long_message(request: Any, context: Any) -> Any:
    raise errors.FailedPrecondition("these are not members: " + ", ".join(["x" * 36] * 3000))


async def echo(request: Any, context: Any) -> Any:
    return health_pb2.HealthCheckResponse(status=guard.registry_floor())


def register(server: grpc.aio.Server) -> None:
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=epb.ListConveningsRequest.FromString,
            response_serializer=health_pb2.HealthCheckResponse.SerializeToString,
        )
        for name, behaviour in {
            "Boom": boom, "Many": many_violations, "Long": long_message,
            "Accents": accents, "Echo": echo,
        }.items()
    }  # fmt: skip
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])


class MirrorAt:
    """A mirror position the test moves."""

    def __init__(self) -> None:
        self.at = 0

    def __call__(self) -> int:
        return self.at


@pytest.fixture
def served(
    authority: TokenAuthority,
) -> Iterator[tuple[grpc.Channel, list[tuple[str, str]], MirrorAt]]:
    loop = LoopThread()
    mirror = MirrorAt()
    handle: ServerHandle = loop.run(
        start_server(
            "127.0.0.1:0", authority, register, [SERVICE],
            consistency=guard.Consistency(mirror, timeout=0.5),
        )
    )  # fmt: skip
    channel = grpc.insecure_channel(f"127.0.0.1:{handle.port}")
    try:
        yield channel, [("authorization", f"Bearer {authority.issue('operator')}")], mirror
    finally:
        channel.close()
        loop.run(handle.stop(0))
        loop.close()


def call(served: Any, method: str, payload: bytes = b"") -> grpc.RpcError:
    channel, metadata, _ = served
    with pytest.raises(grpc.RpcError) as raised:
        channel.unary_unary(f"/{SERVICE}/{method}")(payload, metadata=metadata, timeout=10)
    return raised.value


def test_a_bug_is_internal_with_a_trace_id_and_no_python_in_it(served):
    error = call(served, "Boom")
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "quote trace id" in error.details()
    assert "<class" not in error.details() and "RuntimeError" not in error.details()


def test_statuses_are_bounded(served):
    error = call(served, "Many")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(error)
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    shown = len(bad_request.field_violations)
    assert 5 <= shown <= guard.MAX_VIOLATIONS
    assert f"and {600 - shown} more violations" in bad_request.field_violations[-1].description
    assert bad_request.ByteSize() <= guard.MAX_DETAILS_BYTES
    assert sum(len(v) for _, v in error.trailing_metadata()) < 8 * 1024
    long = call(served, "Long")
    assert long.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert len(long.details().encode()) <= guard.MAX_MESSAGE_BYTES
    assert long.details().endswith("(shortened)")
    accents = call(served, "Accents")  # non-ASCII travels percent-encoded
    assert accents.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sum(len(v) for _, v in accents.trailing_metadata()) < 8 * 1024


def test_undecodable_bytes_are_invalid_argument(served):
    error = call(served, "Echo", b"\x0a\xff\x01abc")  # a length beyond the message's end
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "EchoRequest" in error.details() and "<class" not in error.details()


def test_min_registry_position_waits_for_the_mirror(served):
    channel, metadata, mirror = served
    echo = channel.unary_unary(f"/{SERVICE}/Echo")

    def floor(position: int) -> int:
        request = epb.ListConveningsRequest(min_registry_position=position)
        reply = echo(request.SerializeToString(), metadata=metadata, timeout=10)
        return health_pb2.HealthCheckResponse.FromString(reply).status

    assert floor(0) == 0  # no wait asked
    mirror.at = 5
    assert floor(5) == 5 and floor(3) == 3
    with pytest.raises(grpc.RpcError) as raised:
        floor(6)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "up to position 5, not yet min_registry_position 6" in raised.value.details()


def test_consistency_waits_for_the_mirror_then_gives_up():
    mirror = MirrorAt()
    consistency = guard.Consistency(mirror, timeout=0.3)
    loop = LoopThread()
    try:
        mirror.at = 7
        loop.run(consistency.reach(7))
        with pytest.raises(errors.Unavailable, match="up to position 7, not yet"):
            loop.run(consistency.reach(8))
    finally:
        loop.close()
