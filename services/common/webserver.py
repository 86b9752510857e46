"""Serving a small ASGI app over HTTP/1.1, with limits, on the running event loop.

The HTTP itself is hypercorn's (h11 parsing, its connection handling and timeouts, its TLS
context); this module owns only the listening sockets' accept step, to bound how many
connections are open at once, which hypercorn's own `serve()` cannot. What each limit
does (`WebLimits`):

- a connection idle for `idle_timeout` seconds is closed: from the moment it is
  accepted, or its last response, until a request's headers are complete (hypercorn's
  keep-alive timer runs until h11 has the whole head). So a client that sends its
  headers byte by byte, or nothing at all, is cut off after `idle_timeout`;
- a request's head may take at most `max_head_bytes` (request line and headers; h11
  answers 400 beyond it), a read may wait at most `read_timeout`, and a TLS handshake
  `tls_handshake_timeout`;
- at most `max_connections` are open at once, counted from the moment they are
  accepted (before any TLS handshake): beyond that, a new connection is closed at once.
  This bounds memory too: asyncio gives each TLS connection a 256 KiB read buffer, so
  128 connections hold about 32 MiB;
- at most `max_requests_per_connection` requests on one connection.

(A connection its client closed is released when hypercorn's idle timer ends, within
`idle_timeout`: it counts against `max_connections` until then.)

The body's own limits (size, how long it may take) are the app's to enforce: only it
knows what it expects (see notify's unsubscribe pages). Without TLS files the server
speaks plain HTTP; with them, HTTPS only (HTTP/1.1 by ALPN; no HTTP/2).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.asyncio.worker_context import WorkerContext
from hypercorn.config import Config
from hypercorn.typing import ASGIFramework, LifespanState
from hypercorn.utils import wrap_app

from services.common.apiwork import ApiWork
from services.common.health import Progress

log = logging.getLogger(__name__)

# While connections are being refused at the limit, how often that is logged.
WARN_EVERY = 60.0


@dataclass(frozen=True)
class WebLimits:
    """What one HTTP server allows its clients (seconds and bytes)."""

    # Largest request body the app reads (enforced by the app; see the module's notes).
    max_body: int = 4096
    # How long a request's body may take to arrive, once its head is in (the app's too).
    body_timeout: float = 10.0
    max_connections: int = 128
    idle_timeout: int = 5
    read_timeout: int = 10
    tls_handshake_timeout: float = 10.0
    max_head_bytes: int = 8192
    max_requests_per_connection: int = 100
    backlog: int = 128
    # On stopping, how long requests in flight may take to finish.
    graceful_timeout: float = 3.0

    def __post_init__(self) -> None:
        if min(self.max_body, self.max_connections, self.idle_timeout, self.read_timeout) < 1:
            raise ValueError("web limits must be positive")


@dataclass(frozen=True)
class TlsFiles:
    """A server certificate (PEM, with any intermediates after it) and its private key."""

    cert_file: Path
    key_file: Path


class WebServer:
    """Serves `app` at `address` ("host:port", port 0 for any) until `stop()`."""

    def __init__(
        self,
        app: Callable[[Any, Any, Any], Awaitable[None]],
        address: str,
        limits: WebLimits,
        tls: TlsFiles | None = None,
        name: str = "web",
    ) -> None:
        self.limits = limits
        self.tls = tls
        self.name = name
        self.config = _config(address, limits, tls, name)
        asgi = cast(ASGIFramework, app)  # any ASGI 3 app (starlette's types are its own)
        self._app = wrap_app(asgi, self.config.wsgi_max_body_size, "asgi")
        self._context = WorkerContext(None)
        self._state: LifespanState = {}
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[None]] = set()
        self._warned_at = -WARN_EVERY
        self._ssl: ssl.SSLContext | None = None
        self.refused = 0

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def host_and_port(self) -> tuple[str, int]:
        assert self._servers, f"{self.name} is not serving"
        sockets = self._servers[0].sockets
        host, port = sockets[0].getsockname()[:2]
        return str(host), int(port)

    @property
    def connections(self) -> int:
        return len(self._connections)

    def serving(self) -> bool:
        return bool(self._servers) and all(server.is_serving() for server in self._servers)

    async def start(self) -> None:
        """Binds and starts accepting (raises if the address cannot be had, or the TLS
        files cannot be read)."""
        self._ssl = self.config.create_ssl_context()
        sockets = self.config.create_sockets()
        bound = sockets.secure_sockets if self._ssl else sockets.insecure_sockets
        try:
            for sock in bound:
                self._servers.append(
                    await asyncio.start_server(
                        self._connected, sock=sock, backlog=self.limits.backlog
                    )
                )
        except BaseException:
            for server in self._servers:
                server.close()
            self._servers.clear()
            for sock in bound:
                sock.close()
            raise

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One accepted connection: counted from the start (a TLS connection holds asyncio's
        256 KiB read buffer from its handshake on), closed at once beyond the limit, else
        upgraded to TLS (within the handshake timeout) and handed to hypercorn."""
        if len(self._connections) >= self.limits.max_connections:
            self._refuse(writer)
            return
        task = cast("asyncio.Task[None]", asyncio.current_task())
        self._connections.add(task)
        try:
            if self._ssl is not None:
                try:  # before any other await: nothing may read the ClientHello first
                    await writer.start_tls(
                        self._ssl, ssl_handshake_timeout=self.limits.tls_handshake_timeout
                    )
                except (OSError, ssl.SSLError, TimeoutError) as error:
                    log.debug("%s: TLS handshake failed: %s", self.name, error)
                    writer.transport.abort()
                    return
            loop = asyncio.get_running_loop()
            context, state = self._context, self._state
            await TCPServer(self._app, loop, self.config, context, state, reader, writer).run()
        finally:
            self._connections.discard(task)

    def _refuse(self, writer: asyncio.StreamWriter) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self._warned_at > WARN_EVERY:
            log.warning(
                "%s: %d connections open, the most allowed: closing new ones (%d so far)",
                self.name,
                len(self._connections),
                self.refused,
            )
            self._warned_at = now
        writer.transport.abort()

    async def stop(self) -> None:
        """Stops accepting, lets requests in flight finish (`graceful_timeout`), closes
        idle connections at once and the rest after that."""
        for server in self._servers:
            server.close()
        await self._context.terminated.set()  # idle connections close now
        if self._connections:
            await asyncio.wait(set(self._connections), timeout=self.limits.graceful_timeout)
        for task in set(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(set(self._connections), timeout=1.0)
        for server in self._servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 1.0)
        self._servers.clear()


def _config(address: str, limits: WebLimits, tls: TlsFiles | None, name: str) -> Config:
    config = Config()
    config.bind = [address]
    config.keep_alive_timeout = limits.idle_timeout
    config.read_timeout = limits.read_timeout
    config.h11_max_incomplete_size = limits.max_head_bytes
    config.keep_alive_max_requests = limits.max_requests_per_connection
    config.graceful_timeout = limits.graceful_timeout
    config.backlog = limits.backlog
    config.alpn_protocols = ["http/1.1"]
    config.include_server_header = False
    config.accesslog = None
    config.errorlog = logging.getLogger(f"{__name__}.{name}")
    if tls is not None:
        config.certfile = str(tls.cert_file)
        config.keyfile = str(tls.key_file)
    return config


class ServedAt(Protocol):
    """Where the pages' links point: the address actually served, once it is known."""

    served_at: str | None


# How often a page worker says it is alive while all is well.
BEAT_EVERY = 10.0


class ServedPages:
    """A service's web pages as a worker of its API role: serves `asgi()` on `address`
    until stopping; a server that stops accepting fails the worker (it is restarted) and
    readiness follows `progress`. Subclasses give the app, `what` they are (for logs) and
    `server_name`."""

    what = "web pages"
    server_name = "web"
    log_path = ""

    def __init__(
        self,
        address: str,
        links: ServedAt,
        work: ApiWork,
        tls: TlsFiles | None = None,
        limits: WebLimits | None = None,
    ) -> None:
        self.address = address
        self.links = links
        self.work = work
        self.tls = tls
        self.limits = limits or WebLimits()
        self.progress = Progress(self.what)
        self.server: WebServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None, "the pages are not served"
        return self.server.host_and_port[1]

    def asgi(self) -> Callable[[Any, Any, Any], Awaitable[None]]:
        raise NotImplementedError

    async def run(self, stopping: asyncio.Event) -> None:
        server = WebServer(self.asgi(), self.address, self.limits, self.tls, self.server_name)
        await server.start()
        host, port = self.address.rpartition(":")[0], server.host_and_port[1]
        self.links.served_at = f"{host}:{port}"  # as configured: "[::]" keeps its brackets
        self.server = server  # last: whoever sees the server sees its links too
        log.info("%s at %s://%s:%d%s", self.what, server.scheme, host, port, self.log_path)
        try:
            while not stopping.is_set():
                if not server.serving():
                    raise RuntimeError(f"the {self.what}' server stopped accepting")
                self.progress.ok()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), BEAT_EVERY)
        finally:
            self.server = None
            await server.stop()
