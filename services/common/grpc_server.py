"""The gRPC server every copnet service runs.

- Authentication: every call but health and reflection must carry
  `authorization: Bearer <token>`; the caller is then available to servicers
  through `current_caller()`.
- Errors: copnet errors become their gRPC status (with `google.rpc.BadRequest`
  field violations for INVALID_ARGUMENT); store outages become UNAVAILABLE;
  anything else is logged and answered INTERNAL with the trace id to quote.
- Standard health (`grpc.health.v1`) and server reflection are served (on the same
  port, so over TLS too when the node serves TLS).
- Transport: TLS or mutual TLS when given a `ServerTls` (`services.common.transport`);
  the client certificate's CN and SANs join the Caller (`client_certificate`), the
  call's span (`copnet.client.cn`, `copnet.client.san`) and DEBUG logs.
- OpenTelemetry: a server span and the RED metrics of each call (`telemetry.RpcTelemetry`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status
from opentelemetry import trace

from services.common import errors
from services.common.apiwork import ApiWork, use_api_work
from services.common.apiwork import reset_api_work as _reset_api_work
from services.common.identity import Caller
from services.common.stores import STORE_OUTAGES
from services.common.telemetry import RpcTelemetry
from services.common.tokens import TokenAuthority
from services.common.transport import ServerTls, client_certificate

log = logging.getLogger(__name__)

HEALTH_SERVICE = "grpc.health.v1.Health"
OPEN_SERVICE_PREFIXES = (
    f"/{HEALTH_SERVICE}/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)

_current_caller: ContextVar[Caller | None] = ContextVar("copnet_caller", default=None)

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


def current_caller() -> Caller:
    caller = _current_caller.get()
    if caller is None:  # Only reachable if a servicer runs outside the interceptor.
        raise errors.Unauthenticated("no caller on this call")
    return caller


def status_of(error: errors.CopnetError) -> status_pb2.Status:
    code = next(c for kind, c in _CODES.items() if isinstance(error, kind))
    status = status_pb2.Status(code=code, message=str(error))
    if isinstance(error, errors.InvalidArgument):
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
        detail = any_pb2.Any()
        detail.Pack(bad_request)
        status.details.append(detail)
    return status


def _bearer_token(metadata: Sequence[Any]) -> str:
    for key, value in metadata or ():
        if key == "authorization":
            scheme, _, token = str(value).partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            raise errors.Unauthenticated("authorization metadata must be 'Bearer <token>'")
    raise errors.Unauthenticated(
        "this call needs 'authorization: Bearer <token>' metadata (see `copnet token`)"
    )


class CallInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates unary calls and maps what they raise to gRPC statuses."""

    def __init__(self, authority: TokenAuthority, work: ApiWork | None = None) -> None:
        self.authority = authority
        self.work = work

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_SERVICE_PREFIXES):
            return handler
        if handler.unary_unary is None:  # copnet APIs are unary; refuse anything else closed.
            return handler
        # On a grpc.aio server a handler is a coroutine function taking an aio context.
        inner = cast(
            Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]],
            handler.unary_unary,
        )
        metadata = details.invocation_metadata
        method = details.method

        async def behaviour(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                caller = _with_transport(self.authority.verify(_bearer_token(metadata)), context)
                log.debug("%s by %s from %s", method, caller.actor, _who(caller))
                token = _current_caller.set(caller)
                work = use_api_work(self.work)
                try:
                    return await inner(request, context)
                finally:
                    _reset_api_work(work)
                    _current_caller.reset(token)
            except grpc.aio.AbortError:
                raise
            except errors.CopnetError as error:
                await context.abort_with_status(rpc_status.to_status(status_of(error)))
            except STORE_OUTAGES as error:
                log.warning("%s: store unavailable: %s", method, error)
                unavailable = errors.Unavailable("the store is unavailable; retry shortly")
                await context.abort_with_status(rpc_status.to_status(status_of(unavailable)))
            except Exception:
                trace_id = trace.get_current_span().get_span_context().trace_id
                log.exception("%s failed", method)
                await context.abort(
                    grpc.StatusCode.INTERNAL,
                    f"internal error; quote trace id {trace_id:032x} to the node operator",
                )

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _with_transport(caller: Caller, context: grpc.aio.ServicerContext) -> Caller:
    """The caller, with who the connection is from (its client certificate under mTLS)."""
    certificate = client_certificate(context)
    caller = dataclasses.replace(caller, client_certificate=certificate, peer=context.peer())
    if certificate is not None:
        span = trace.get_current_span()
        span.set_attribute("copnet.client.cn", certificate.common_name)
        span.set_attribute("copnet.client.san", list(certificate.sans))
    return caller


def _who(caller: Caller) -> str:
    certificate = caller.client_certificate
    return f"{caller.peer} ({certificate.describe()})" if certificate else caller.peer


@dataclass
class ServerHandle:
    server: grpc.aio.Server
    health: HealthServicer
    port: int
    service_names: list[str] = field(default_factory=list)

    async def set_alive(self) -> None:
        """Health of service "" means the process is up (a liveness probe)."""
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)

    async def set_serving(self, serving: bool) -> None:
        """Health of the named services means they can serve: their store answers
        (a readiness probe)."""
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in self.service_names:
            await self.health.set(name, status)

    async def stop(self, grace: float = 5.0) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


async def start_server(
    address: str,
    authority: TokenAuthority,
    register: Callable[[grpc.aio.Server], None],
    service_names: list[str],
    options: Sequence[tuple[str, Any]] = (),
    work: ApiWork | None = None,
    tls: ServerTls | None = None,
    telemetry: RpcTelemetry | None = None,
) -> ServerHandle:
    """Builds, binds and starts a server (over `tls` when given, else plain); the named
    services report NOT_SERVING until told otherwise, service "" SERVING from the start."""
    server = grpc.aio.server(
        interceptors=[telemetry or RpcTelemetry(address=address), CallInterceptor(authority, work)],
        options=[("grpc.so_reuseport", 0), *options],
    )
    register(server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        [*service_names, reflection.SERVICE_NAME, HEALTH_SERVICE], server
    )
    if tls is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, tls.credentials())
    if port == 0:
        raise OSError(f"could not bind gRPC server to {address}")
    await server.start()
    handle = ServerHandle(server=server, health=health, port=port, service_names=service_names)
    await handle.set_serving(False)
    await handle.set_alive()
    return handle
