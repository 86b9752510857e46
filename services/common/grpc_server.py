"""The gRPC server every copnet service runs.

- Authentication: every call but health and reflection must carry
  `authorization: Bearer <token>`; a member's token must name a member the service
  knows (`services.common.members`); the caller is then available to servicers
  through `current_caller()`.
- Errors: `services.common.guard` answers every call: a request that does not decode
  is INVALID_ARGUMENT, copnet errors become their gRPC status (with `google.rpc.BadRequest`
  field violations for INVALID_ARGUMENT), bounded; store outages become UNAVAILABLE;
  anything else is logged and answered INTERNAL with the trace id to quote. A request's
  `min_registry_position` waits for the service's registry mirror (`guard.Consistency`).
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
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from opentelemetry import trace

from services.common import errors, guard
from services.common.apiwork import ApiWork, use_api_work
from services.common.apiwork import reset_api_work as _reset_api_work
from services.common.identity import Caller
from services.common.members import KnownMembers
from services.common.settings import DEFAULT_MAX_CONCURRENT_RPCS
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


def current_caller() -> Caller:
    caller = _current_caller.get()
    if caller is None:  # Only reachable if a servicer runs outside the interceptor.
        raise errors.Unauthenticated("no caller on this call")
    return caller


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

    def __init__(
        self,
        authority: TokenAuthority,
        work: ApiWork | None = None,
        consistency: guard.Consistency | None = None,
        members: KnownMembers | None = None,
    ) -> None:
        self.authority = authority
        self.work = work
        self.consistency = consistency
        self.members = members

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

        consistency = self.consistency

        async def behaviour(request: Any, context: grpc.aio.ServicerContext) -> Any:
            async def call() -> Any:
                caller = _with_transport(self.authority.verify(_bearer_token(metadata)), context)
                log.debug("%s by %s from %s", method, caller.actor, _who(caller))
                token = _current_caller.set(caller)
                work = use_api_work(self.work)

                async def run() -> Any:
                    # After any min_registry_position wait: a member token must name a
                    # member the service knows.
                    if self.members is not None:
                        await self.members.check(caller)
                    return await inner(request, context)

                try:
                    return await guard.admitted(method, request, run, consistency)
                finally:
                    _reset_api_work(work)
                    _current_caller.reset(token)

            return await guard.guarded(method, context, call)

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=guard.tolerant(handler.request_deserializer),
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
    consistency: guard.Consistency | None = None,
    telemetry: RpcTelemetry | None = None,
    maximum_concurrent_rpcs: int | None = DEFAULT_MAX_CONCURRENT_RPCS,
    members: KnownMembers | None = None,
) -> ServerHandle:
    """Builds, binds and starts a server (over `tls` when given, else plain); the named
    services report NOT_SERVING until told otherwise, service "" SERVING from the start.
    Beyond `maximum_concurrent_rpcs` calls at once, gRPC answers RESOURCE_EXHAUSTED."""
    server = grpc.aio.server(
        interceptors=[
            telemetry or RpcTelemetry(address=address),
            CallInterceptor(authority, work, consistency, members),
        ],
        options=[("grpc.so_reuseport", 0), *options],
        maximum_concurrent_rpcs=maximum_concurrent_rpcs,
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
