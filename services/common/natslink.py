"""A service's one connection to its node's nats-server, connected and watched in the background.

The relay, the inboxes and other workers of a service share it (`await
link.client()`). `run` connects (retrying until the server answers), then
sends a PING every `ping_every` seconds and expects the PONG within
`ping_timeout`: a server that is down, unreachable or frozen (SIGSTOP) makes
the link's `Progress` unhealthy within seconds, which turns the service's
health NOT_SERVING. The client itself also pings (and reconnects after two
unanswered pings), so it leaves a frozen server for a restarted one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client as NATS

from services.common.errors import Unavailable
from services.common.health import Backoff, Progress, describe_error
from services.common.settings import NodeSettings

log = logging.getLogger(__name__)


class LinkHalted(asyncio.CancelledError):
    """The link stopped (its service is stopping) before it had a connection to give."""


def client_tls(settings: NodeSettings) -> ssl.SSLContext | None:
    """How a service reaches its node's NATS: over TLS when the node has a certificate
    (trusting `tls_ca`, else the system's roots), in clear otherwise."""
    if settings.tls_cert is None:
        return None
    return ssl.create_default_context(cafile=str(settings.tls_ca) if settings.tls_ca else None)


class NatsLink:
    def __init__(
        self,
        url: str,
        name: str,
        ping_every: float = 0.25,
        ping_timeout: float = 1.0,
        misses_allowed: int = 1,
        seed: str | None = None,
        inbox_prefix: str = "",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`seed`: the nkey this service logs in with (its node's server admits no one
        else); `inbox_prefix`: where replies to it go (the only subjects it may read)."""
        self.seed = seed
        self.inbox_prefix = inbox_prefix
        self.tls = tls
        self.url = url
        self.name = name
        self.ping_every = ping_every
        self.ping_timeout = ping_timeout
        self.misses_allowed = misses_allowed
        self.progress = Progress(f"NATS connection ({url})", stall_after=30.0)
        self._client: NATS | None = None
        self._connected = asyncio.Event()
        # Set once the link stops for good (the service is stopping, or it was closed).
        self._halted = asyncio.Event()
        self._closing = False

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def client(self) -> NATS:
        """The connection, once it is established (the same one every time). Work waiting
        for it when the link stops is cancelled (LinkHalted), so that it stops too."""
        if not self._connected.is_set():
            connected = asyncio.ensure_future(self._connected.wait())
            halted = asyncio.ensure_future(self._halted.wait())
            try:
                await asyncio.wait([connected, halted], return_when=asyncio.FIRST_COMPLETED)
            finally:
                connected.cancel()
                halted.cancel()
        if self._client is None:
            raise LinkHalted(f"{self.name}: stopped before a connection was made")
        return self._client

    async def client_now(self, wait: float = 2.0) -> NATS:
        """The connection for a call being served: UNAVAILABLE (retry) if there is none
        within `wait` seconds."""
        try:
            return await asyncio.wait_for(self.client(), wait)
        except TimeoutError:
            raise Unavailable("this node's NATS server is not reachable now") from None

    async def run(self, stopping: asyncio.Event) -> None:
        try:
            await self._run(stopping)
        finally:
            if stopping.is_set():
                self._halted.set()

    async def _run(self, stopping: asyncio.Event) -> None:
        client = self._client = await self._connect(stopping)
        if client is None:
            return
        self._connected.set()
        misses = 0
        while not stopping.is_set() and self._client is client:  # until stopped or closed
            try:
                if not client.is_connected:  # a flush would "succeed" into the buffer
                    raise ConnectionError("not connected (reconnecting)")
                # nats-py annotates the timeout as int; it takes seconds for asyncio.wait_for.
                await client.flush(timeout=self.ping_timeout)  # type: ignore[arg-type]
                misses = 0
                self.progress.ok()
            except (nats.errors.Error, TimeoutError, OSError) as error:
                misses += 1
                if misses > self.misses_allowed or isinstance(error, ConnectionError):
                    self.progress.failing(f"no answer from nats-server ({describe_error(error)})")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.ping_every)

    async def _connect(self, stopping: asyncio.Event) -> NATS | None:
        """The first connection, tried until it succeeds or `stopping` is set. Each try is
        bounded: nats-py would otherwise retry an unreachable server for ever inside
        `nats.connect` (with max_reconnect_attempts=-1), where a cancellation can be lost
        (asyncio.wait_for in Python 3.11), and stopping the service would hang."""
        backoff = Backoff(base=0.1, cap=2.0)
        while not stopping.is_set():
            attempt = asyncio.ensure_future(self._connect_once())
            halt = asyncio.ensure_future(stopping.wait())
            try:
                await asyncio.wait([attempt, halt], return_when=asyncio.FIRST_COMPLETED)
            finally:
                halt.cancel()
                if not attempt.done():  # stopping, or this task was cancelled
                    attempt.cancel()
                    attempt.add_done_callback(_close_late_client)
            if not attempt.done():
                return None
            try:
                client = attempt.result()
            except Exception as error:  # nats-py raises several unrelated types here
                delay = backoff.next_delay()
                self.progress.failing(f"cannot connect: {type(error).__name__}: {error}", delay)
                await backoff.wait(stopping, delay)
                continue
            if stopping.is_set():
                await client.close()
                return None
            # Connected: from now on the client reconnects by itself, for ever.
            client.options["max_reconnect_attempts"] = -1
            return client
        return None

    async def _connect_once(self) -> NATS:
        # max_reconnect_attempts=1: nats.connect gives up after two tries (about
        # 2 x connect_timeout + reconnect_time_wait at most) instead of never.
        return await nats.connect(
            servers=[self.url],
            name=self.name,
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.5,
            ping_interval=2,
            max_outstanding_pings=2,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
            **self._credentials(),
        )

    def _credentials(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.seed:
            options["nkeys_seed_str"] = self.seed
        if self.inbox_prefix:
            options["inbox_prefix"] = self.inbox_prefix
        if self.tls is not None:
            options["tls"] = self.tls
        return options

    # The client's own reports: its errors while reconnecting are the outage `progress`
    # reports already (without a traceback per attempt).

    async def _on_error(self, error: Exception) -> None:
        log.debug("NATS client error: %s", error)

    async def _on_disconnected(self) -> None:
        if self._closing:
            return
        log.warning("%s: disconnected from %s; reconnecting", self.name, self.url)

    async def _on_reconnected(self) -> None:
        log.info("%s: reconnected to %s", self.name, self.url)

    async def close(self) -> None:
        self._closing = True
        self._halted.set()
        client, self._client = self._client, None
        self._connected.clear()
        if client is not None and not client.is_closed:
            try:
                await client.close()
            except Exception:  # closing a broken connection must not mask the real error
                log.debug("error closing the NATS connection", exc_info=True)


def _close_late_client(attempt: asyncio.Future[NATS]) -> None:
    """A connection made after all by an attempt that was cancelled is closed."""
    if attempt.cancelled() or attempt.exception() is not None:
        return
    client = attempt.result()
    if not client.is_closed:
        _LATE_CLOSES.add(closing := asyncio.ensure_future(client.close()))
        closing.add_done_callback(_LATE_CLOSES.discard)


_LATE_CLOSES: set[asyncio.Future[None]] = set()
