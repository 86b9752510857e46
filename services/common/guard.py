"""The guard at the transport edge: whatever a client sends, it gets a clear, bounded status.

- A request that does not decode (invalid UTF-8 in a string field, a truncated or
  malformed message) is answered INVALID_ARGUMENT naming what failed, not grpc's UNKNOWN
  with a Python class name: `tolerant` wraps every method's request deserializer and
  `admitted` answers for the marker it returns (after authentication).
- copnet errors become their status (`status_of`), store outages UNAVAILABLE; anything
  else is a bug: logged with its traceback and answered INTERNAL with the trace id only.
- Bounded: a status message is at most `MAX_MESSAGE_BYTES`, a BadRequest at most
  `MAX_DETAILS_BYTES` with at most `MAX_VIOLATIONS` violations (the last says how many
  more there were), so every status's trailers stay below the 8 KiB that gRPC clients'
  metadata limits allow, whatever the text (non-ASCII is percent-encoded, up to 3x).
- Read your writes across services: a request's `min_registry_position` (on every request
  of the services that mirror the registry) makes the call wait, bounded by
  `CONSISTENCY_TIMEOUT`, until the service's registry mirror has applied that registry
  position (`Consistency`), then UNAVAILABLE. `registry_floor()` is the position the call
  was promised (0: none asked).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from opentelemetry import trace

from services.common import errors
from services.common.stores import store_outages

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a status may carry, in UTF-8 bytes: gRPC clients refuse trailers over 8 KiB, and the
# message travels percent-encoded (up to 3x) and the details base64-encoded (4/3x).
MAX_MESSAGE_BYTES = 800
MAX_VIOLATIONS = 20
MAX_DESCRIPTION_BYTES = 200
MAX_FIELD_BYTES = 100
MAX_DETAILS_BYTES = 3000
CONSISTENCY_TIMEOUT = 5.0
CONSISTENCY_FIELD = "min_registry_position"

_CODES: dict[type[errors.CopnetError], int] = {
    errors.InvalidArgument: code_pb2.INVALID_ARGUMENT,
    errors.NotFound: code_pb2.NOT_FOUND,
    errors.AlreadyExists: code_pb2.ALREADY_EXISTS,
    errors.FailedPrecondition: code_pb2.FAILED_PRECONDITION,
    errors.ConcurrencyConflict: code_pb2.ABORTED,
    errors.PermissionDenied: code_pb2.PERMISSION_DENIED,
    errors.Unauthenticated: code_pb2.UNAUTHENTICATED,
    errors.Unavailable: code_pb2.UNAVAILABLE,
}

_registry_floor: ContextVar[int] = ContextVar("copnet_registry_floor", default=0)


def registry_floor() -> int:
    """The registry position this call asked for and the mirror had reached (0: none asked)."""
    return _registry_floor.get()


SHORTENED = " …(shortened)"


def clip(text: str, limit: int) -> str:
    """`text`, cut to at most `limit` bytes of UTF-8 (saying so)."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - len(SHORTENED.encode())].decode(errors="ignore") + SHORTENED


def status_of(error: errors.CopnetError) -> status_pb2.Status:
    """The status of a copnet error: code, bounded message, bounded field violations."""
    code = next(c for kind, c in _CODES.items() if isinstance(error, kind))
    status = status_pb2.Status(code=code, message=clip(str(error), MAX_MESSAGE_BYTES))
    if isinstance(error, errors.InvalidArgument):
        detail = any_pb2.Any()
        detail.Pack(bad_request(error.violations))
        status.details.append(detail)
    return status


def bad_request(violations: list[errors.FieldViolation]) -> error_details_pb2.BadRequest:
    """The first violations, as many as fit `MAX_VIOLATIONS` and `MAX_DETAILS_BYTES` (with
    room kept for the last to say how many more there were)."""
    shown = error_details_pb2.BadRequest()
    for v in violations[:MAX_VIOLATIONS]:
        item = error_details_pb2.BadRequest.FieldViolation(
            field=clip(v.field, MAX_FIELD_BYTES),
            description=clip(v.description, MAX_DESCRIPTION_BYTES),
        )
        if shown.ByteSize() + item.ByteSize() + 64 > MAX_DETAILS_BYTES:
            break
        shown.field_violations.append(item)
    omitted = len(violations) - len(shown.field_violations)
    if omitted and shown.field_violations:
        more = f" (and {omitted} more violations)"
        last = shown.field_violations[-1]
        last.description = clip(last.description, MAX_DESCRIPTION_BYTES - len(more)) + more
    return shown


@dataclass(frozen=True)
class Undecodable:
    """What `tolerant` deserializers answer for bytes that are not the request message."""

    reason: str


def tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """A request deserializer that answers `Undecodable` instead of raising."""
    if deserializer is None:
        return None
    parse = deserializer

    def deserialize(data: bytes) -> Any:
        try:
            return parse(data)
        except Exception as error:  # DecodeError, and anything a parser may raise on garbage
            return Undecodable(clip(str(error) or "malformed message", 200))

    return deserialize


@dataclass
class Consistency:
    """How far a service's registry mirror has read the registry's log (`position`)."""

    position: Callable[[], int]
    timeout: float = CONSISTENCY_TIMEOUT

    async def reach(self, wanted: int) -> None:
        """Waits until the mirror has applied registry position `wanted`, else UNAVAILABLE.

        The position is read on a thread (it is a store query), at growing intervals."""
        deadline = time.monotonic() + self.timeout
        pause = 0.002
        while True:
            reached = await asyncio.to_thread(self.position)
            if reached >= wanted:
                return
            if time.monotonic() >= deadline:
                raise errors.Unavailable(
                    f"this service has applied the registry's changes up to position {reached},"
                    f" not yet {CONSISTENCY_FIELD} {wanted}; retry shortly"
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)


def wanted_position(request: Any) -> int:
    """The request's `min_registry_position` (0 when it has none)."""
    value = getattr(request, CONSISTENCY_FIELD, 0)
    return value if isinstance(value, int) else 0


async def admitted(
    method: str,
    request: Any,
    call: Callable[[], Awaitable[T]],
    consistency: Consistency | None = None,
) -> T:
    """Runs an authenticated call: INVALID_ARGUMENT for a request that did not decode; first
    waits for the registry mirror to reach the request's `min_registry_position`."""
    if isinstance(request, Undecodable):
        raise errors.InvalidArgument.single(
            "request", f"is not a valid {_message_name(method)}: {request.reason}"
        )
    wanted = wanted_position(request)
    floor = _registry_floor.set(0)
    try:
        if wanted and consistency is not None:
            await consistency.reach(wanted)
            _registry_floor.set(wanted)
        return await call()
    finally:
        _registry_floor.reset(floor)


async def guarded(
    method: str, context: grpc.aio.ServicerContext, call: Callable[[], Awaitable[T]]
) -> T:
    """Runs one call's behaviour, answering every failure with a clear, bounded status."""
    try:
        return await call()
    except grpc.aio.AbortError:
        raise
    except errors.CopnetError as error:
        await context.abort_with_status(rpc_status.to_status(status_of(error)))
    except store_outages() as error:
        log.warning("%s: store unavailable: %s", method, error)
        unavailable = errors.Unavailable("the store is unavailable; retry shortly")
        await context.abort_with_status(rpc_status.to_status(status_of(unavailable)))
    except Exception:
        trace_id = trace.get_current_span().get_span_context().trace_id
        log.exception("%s failed (trace id %032x)", method, trace_id)
        await context.abort(
            grpc.StatusCode.INTERNAL,
            f"internal error; quote trace id {trace_id:032x} to the node operator",
        )
    raise AssertionError("unreachable: abort raises")  # pragma: no cover


def _message_name(method: str) -> str:
    """'/copnet.events.v1.EventsService/ScheduleConvening' -> 'ScheduleConveningRequest'."""
    return method.rsplit("/", 1)[-1] + "Request"
