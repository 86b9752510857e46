"""Helpers for servicers: the transport edge of each service.

Servicers validate and translate requests, then call the application in a
worker thread (eventsourcing and psycopg block) and translate the answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeAlias, TypeVar
from uuid import UUID

import grpc
from google.protobuf.message import Message

from services.common.apiwork import current_api_work
from services.common.application import KEEP
from services.common.errors import InvalidArgument, Unavailable, Violations, stand_in
from services.common.grpc_server import current_caller
from services.common.idempotency import Command
from services.common.identity import require_self_or_operator
from services.common.paging import Page, parse_page_size, parse_page_token
from services.common.projection import ProjectionFollower

T = TypeVar("T")
P = ParamSpec("P")

# The context of a unary call, as a servicer's handler receives it. Its type parameters
# (the stream's messages) matter only to streaming calls; grpc.aio is not generic at run time.
if TYPE_CHECKING:
    Context: TypeAlias = grpc.aio.ServicerContext[Message, Message]
else:
    Context = grpc.aio.ServicerContext

READ_YOUR_WRITES_TIMEOUT = 5.0


def parse_uuid(value: str) -> UUID:
    if not value:
        raise ValueError("is required")
    try:
        return UUID(value)
    except ValueError:
        raise ValueError("must be a UUID") from None


def parse_optional_uuid(value: str) -> UUID | None:
    return parse_uuid(value) if value else None


def required_uuid(field: str, value: str) -> UUID:
    """The UUID in a request's field, or INVALID_ARGUMENT at once (for reads)."""
    v = Violations()
    parsed = v.check(field, parse_uuid, value)
    v.raise_if_any()
    return parsed


def uuid_list(
    field: str, values: Iterable[str], v: Violations, repeated: str, limit: int
) -> list[UUID]:
    """The UUIDs of a repeated field of at most `limit`; `repeated` is the violation when one
    comes twice."""
    values = list(values)
    if len(values) > limit:
        v.add(field, f"must name at most {limit}")
        return []
    parsed = []
    for index, value in enumerate(values):
        item = v.check(f"{field}[{index}]", parse_uuid, value)
        if item is not None:
            parsed.append(item)
    if len(set(parsed)) != len(parsed):
        v.add(field, repeated)
    return parsed


def optional(request: Message, field: str, v: Violations, parse: Callable[[Any], Any]) -> Any:
    """KEEP when the optional field is unset, else its parsed value."""
    if not request.HasField(field):
        return KEEP
    return v.check(field, parse, getattr(request, field))


def _request_uuid(value: str) -> None:
    try:
        UUID(value)
    except ValueError:
        raise ValueError(
            "must be a UUID (e.g. a random one per intended change), reused on retry"
        ) from None


# What a request's fingerprint leaves out: how it is identified and how fresh a read it
# needs, not what it asks for (a retry may carry a newer consistency token).
NOT_CONTENT = ("request_id", "min_registry_position")


def fingerprint(request: Message) -> str:
    """Identifies a request's content, ignoring its request_id and min_registry_position."""
    copy = type(request)()
    copy.CopyFrom(request)
    for name in NOT_CONTENT:
        if name in copy.DESCRIPTOR.fields_by_name:
            copy.ClearField(name)
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def command(request: Message, name: str, violations: Violations) -> Command:
    """The application command for a mutating request; records a violation for a bad request_id."""
    request_id = getattr(request, "request_id", "")
    if not request_id:
        violations.add(
            "request_id", "is required: a unique id per intended change (a UUID), reused on retry"
        )
    else:
        violations.check("request_id", _request_uuid, request_id)
    return Command(
        name=name, request_id=request_id, caller=current_caller(), fingerprint=fingerprint(request)
    )


class PageRequest(Protocol):
    """A list request: every one has these two fields."""

    page_size: int
    page_token: str


def page(request: PageRequest, filters: dict[str, Any], violations: Violations) -> Page:
    """The page a list request asks for (a `stand_in` when the request is invalid)."""
    size = violations.check("page_size", parse_page_size, request.page_size)
    if size is None:
        return stand_in(Page)
    return violations.check("page_token", parse_page_token, size, request.page_token, filters)


async def run(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Runs blocking application code off the event loop, keeping the trace context,
    on the threads of the service whose call this is."""
    work = current_api_work()
    if work is None:
        return await asyncio.to_thread(function, *args, **kwargs)
    return await work.run(function, *args, **kwargs)


async def read_your_writes(follower: ProjectionFollower, min_position: int) -> None:
    """Waits until a view reflects `min_position` (from a command's response); a position
    beyond the service's log is INVALID_ARGUMENT at once (no command of it returned that)."""
    if follower.position < min_position:
        last = await run(follower.app.recorder.max_notification_id) or 0
        if min_position > last:
            raise InvalidArgument.single(
                "min_position",
                f"is beyond this service's log (its last position is {last}): pass the "
                "`position` a call of this service returned",
            )
    deadline = time.monotonic() + READ_YOUR_WRITES_TIMEOUT
    pause = 0.002
    while follower.position < min_position and time.monotonic() < deadline:
        await asyncio.sleep(pause)  # no thread held while waiting
        pause = min(pause * 2, 0.05)
    if follower.position < min_position:
        raise Unavailable(
            f"the list has not caught up with position {min_position} yet; retry shortly"
        )


async def member_export(member_id_text: str, collect: Callable[[UUID], dict[str, Any]]) -> str:
    """A service's part of a subject access export, as JSON: who may ask (the node
    operator, or the member themselves) is checked before anything is read."""
    member_id = required_uuid("member_id", member_id_text)
    require_self_or_operator(current_caller(), member_id, "export a member's data")
    document = await run(collect, member_id)
    return json.dumps({"member_id": str(member_id), **document}, sort_keys=True, default=str)
