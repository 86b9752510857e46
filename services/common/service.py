"""One service process: its application, projections, gRPC API and relay.

    python -m services.<service> [all|api|worker] [--rebuild-views]

`all` (the default) runs everything. `api` serves gRPC and keeps the service's
own read models; `worker` runs the relay and the inbox consumers, the work
that must run once per node. A deployment can scale the API apart from the
single worker. Settings come from COPNET_* variables.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar
from uuid import UUID

import grpc

from services.common.apiwork import ApiWork
from services.common.application import Clock, CopnetApplication
from services.common.grpc_server import ServerHandle, start_server
from services.common.guard import Consistency
from services.common.health import Backoff, Progress, check_interval, describe_error
from services.common.inbox import Inbox, InboxView, IntegrationHandler
from services.common.integration import IntegrationMap
from services.common.keyring import node_secret_reader
from services.common.members import KnownMembers
from services.common.messaging import FederationLimits, NodeIdentity
from services.common.metrics import RuntimeSampler
from services.common.natslink import NatsLink, client_tls
from services.common.nodeauth import ServiceGrants, inbox_prefix, seed_for
from services.common.projection import Projection, ProjectionFollower
from services.common.region import DIRECTORY_SUBJECT
from services.common.relay import Relay
from services.common.settings import NodeSettings
from services.common.shutdown import bounded, finish
from services.common.sqlstore import SqlStore
from services.common.stores import check_failures
from services.common.telemetry import RpcTelemetry
from services.common.tokens import TokenAuthority
from services.common.transport import ServerTls, check_binding
from services.common.trust import node_keys

log = logging.getLogger(__name__)

A = TypeVar("A", bound=CopnetApplication)
V = TypeVar("V", bound=Projection)

# A worker that fails this many times within CRASH_WINDOW seconds stops the process.
MAX_WORKER_CRASHES = 5
CRASH_WINDOW = 300.0
# Exit status of a service process whose background work cannot continue (EX_SOFTWARE).
EXIT_GAVE_UP = 70
# How long the store may take to answer a health check before it counts as unreachable.
STORE_CHECK_TIMEOUT = 3.0


@dataclass(frozen=True)
class InboxDefinition:
    """Integration events a service consumes, and what it does with them.

    With a `view`, that read model (also queried by the API) keeps the events. Without
    one, the handler of the same name in the service's parts (`ServiceParts.handlers`,
    e.g. an event-sourced policy) receives each message.
    """

    name: str
    subjects: Callable[[NodeIdentity], list[str]]
    view: type[InboxView] | None = None
    # The node's own stream unless said otherwise (e.g. a federation stream).
    stream: Callable[[NodeIdentity], str] = lambda identity: identity.stream_name
    # Other nodes' messages: each is checked against the region's keys before use.
    federated: bool = False


class Worker(Protocol):
    """Background work: runs until `stopping` is set (a `progress` attribute, if it has
    one, takes part in readiness)."""

    async def run(self, stopping: asyncio.Event) -> None: ...


class ApiServicer(Protocol):
    """A service's gRPC servicer, which adds itself to a server."""

    def add_to_server(self, server: grpc.aio.Server) -> None: ...


@dataclass(frozen=True, kw_only=True)
class ServiceParts:
    """What a service builds around its application once the application and its read
    models exist (`ServiceDefinition.build`). Each part is a factory, called only in
    the role that runs it."""

    # The gRPC servicer (the API role).
    servicer: Callable[[], ApiServicer]
    # Background work of the worker role (e.g. notify's dispatcher, learning's federation
    # links) and of the API role (e.g. notify's unsubscribe pages).
    workers: Sequence[Callable[[], Worker]] = ()
    api_workers: Sequence[Callable[[], Worker]] = ()
    # The handler of each inbox without a view, by the inbox's name (the worker role).
    handlers: Mapping[str, Callable[[], IntegrationHandler]] = field(default_factory=dict)
    # How far the service's registry mirror has read the registry's log, for services that
    # keep one: a request's `min_registry_position` waits for it (`guard.Consistency`).
    registry_position: Callable[[], int] | None = None
    # Is a member id the node's (blocking), and is that the authority? (`common.members`)
    known_member: Callable[[UUID], bool] | None = None
    known_member_authoritative: bool = False


@dataclass(frozen=True)
class ServiceDefinition(Generic[A]):
    """A service: its application, what it publishes, its read models and inboxes, and
    `build`, which connects the application to its read models and makes the parts."""

    name: str
    application: type[A]
    integration: IntegrationMap
    grpc_service_name: str
    build: Callable[[ServiceRuntime[A]], ServiceParts]
    projections: Sequence[type[Projection]] = field(default_factory=tuple)
    inboxes: Sequence[InboxDefinition] = field(default_factory=tuple)
    # Projections the worker role keeps current too, because its work reads them (the
    # API role follows every projection).
    worker_follows: Sequence[type[Projection]] = field(default_factory=tuple)

    def nats_grants(self, identity: NodeIdentity) -> ServiceGrants:
        """What this service does on its node's NATS: its user's allow-list comes from it."""
        federated = any(inbox.federated for inbox in self.inboxes)
        return ServiceGrants(
            self.name,
            tuple((inbox.stream(identity), f"{self.name}-{inbox.name}") for inbox in self.inboxes),
            federation=federated,
            requests=(DIRECTORY_SUBJECT,) if federated else (),
            erases=self.integration.erases_personal_data,
        )


class ServiceRuntime(Generic[A]):
    """One service process in its roles: builds what every service has (the application,
    the read models and their followers, the relay, the inboxes, the NATS link, health),
    then the service's own parts (`definition.build`), and runs them."""

    def __init__(
        self,
        definition: ServiceDefinition[A],
        settings: NodeSettings,
        roles: Sequence[str] = ("api", "worker"),
        address: str | None = None,
        authority: TokenAuthority | None = None,
        clock: Clock | None = None,
        rebuild_views: bool = False,
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.roles = set(roles)
        self.address = address or settings.address(definition.name)
        # TLS (or mutual TLS) when the node has a certificate; plain only where allowed.
        self.tls = ServerTls.of(settings)
        if "api" in self.roles:
            check_binding(definition.name, self.address, settings)
        self.identity = NodeIdentity(settings.node_id, settings.region, FederationLimits.from_env())
        # The region's keys (to check other nodes' messages) and this node's (to sign its own).
        self.trust, self.signer = node_keys(settings, self.identity)
        # Public keys only (never the signing key), and secrets from the node's secret.
        self.authority = authority or TokenAuthority.for_services(settings)
        self.derived_secret = node_secret_reader(settings.key_files, settings.node_id)
        stores = settings.stores
        stores.prepare(definition.name)
        env = {
            **stores.application_env(definition.name),
            "COPNET_TIME_ZONE": settings.time_zone,
            "COPNET_NODE_ID": settings.node_id,
        }
        self.app: A = definition.application(env=env, clock=clock)
        # The service's one NATS connection, shared by its relay, inboxes and workers.
        self.nats = NatsLink(
            settings.nats_url,
            f"copnet-{definition.name}-{settings.node_id}",
            seed=seed_for(os.environ, settings.data_dir, definition.name),
            inbox_prefix=inbox_prefix(definition.name),
            tls=client_tls(settings),
        )
        self.api_work = ApiWork(stores.connections, f"{definition.name}-api")
        self._health_checks = ThreadPoolExecutor(1, thread_name_prefix=f"{definition.name}-health")
        self._store_check: asyncio.Future[None] | None = None
        self.projections: dict[str, Projection] = {}
        self.followers: dict[str, ProjectionFollower] = {}
        for projection_class in definition.projections:
            projection = self._open_view(projection_class, rebuild_views)
            if "api" in self.roles:  # the API keeps its views current (read your writes)
                self.followers[projection_class.name] = ProjectionFollower(self.app, projection)
        for projection_class in definition.worker_follows:
            if "worker" in self.roles and projection_class.name not in self.followers:
                projection = self.projections[projection_class.name]
                self.followers[projection_class.name] = ProjectionFollower(self.app, projection)
        self.relay: Relay | None = None
        self.inboxes: list[Inbox] = []
        for inbox in definition.inboxes:
            if inbox.view is not None:
                self._open_view(inbox.view, rebuild_views)
        self.parts = definition.build(self)
        self.workers: list[Worker] = []
        if "api" in self.roles:
            self.workers += [build() for build in self.parts.api_workers]
        if "worker" in self.roles:
            self.workers += [build() for build in self.parts.workers]
            self.relay = Relay(
                self.app,
                definition.integration,
                SqlStore(f"{definition.name}_relay", stores.tracking_env(definition.name, "relay")),
                self.identity,
                self.nats,
                signer=self.signer,
            )
            self.inboxes = [self._inbox(inbox) for inbox in definition.inboxes]
        self.server: ServerHandle | None = None
        self.serving: bool | None = None
        # Why the service is not ready, by the worker concerned ("store" for the store).
        self.problems: dict[str, str] = {}
        self._stopping = asyncio.Event()
        # Set when background work cannot continue: the process should exit non-zero.
        self.gave_up = asyncio.Event()
        self.fatal = ""
        self._tasks: list[asyncio.Task[None]] = []

    def _open_view(self, view_class: type[Projection], rebuild: bool) -> Projection:
        if view_class.name in self.projections:
            return self.projections[view_class.name]
        store = SqlStore(
            f"{self.definition.name}_{view_class.name}",
            self.settings.stores.tracking_env(self.definition.name, view_class.name),
        )
        view = view_class(store)
        if rebuild:
            log.info("rebuilding %s from the events", view_class.name)
            view.reset()
        self.projections[view_class.name] = view
        return view

    def _inbox(self, inbox: InboxDefinition) -> Inbox:
        handler: IntegrationHandler
        if inbox.view is not None:
            handler = self.view(inbox.view)
        elif inbox.name in self.parts.handlers:
            handler = self.parts.handlers[inbox.name]()
        else:
            raise LookupError(f"inbox {inbox.name} needs a view or a handler of that name")
        return Inbox(
            f"{self.definition.name}-{inbox.name}",
            inbox.stream(self.identity),
            inbox.subjects(self.identity),
            handler,
            self.nats,
            recipient=self.identity.node_id,
            federated=inbox.federated,
            trust=self.trust,
        )

    def view(self, view_class: type[V]) -> V:
        """The running read model of a projection or inbox view of the definition."""
        view = self.projections[view_class.name]
        if not isinstance(view, view_class):
            raise TypeError(f"{view_class.name} is a {type(view).__name__}")
        return view

    @property
    def port(self) -> int:
        assert self.server is not None, "the API is not running"
        return self.server.port

    def follower(self, name: str) -> ProjectionFollower:
        return self.followers[name]

    def progresses(self) -> list[Progress]:
        """Every piece of background work whose progress decides readiness."""
        found = [follower.progress for follower in self.followers.values()]
        if "worker" in self.roles:
            found.append(self.nats.progress)
        for worker in [self.relay, *self.inboxes, *self.workers]:
            progress = getattr(worker, "progress", None)
            if isinstance(progress, Progress):
                found.append(progress)
        return found

    async def start(self) -> None:
        for follower in self.followers.values():
            follower.start()
        self._spawn("NATS connection", self.nats.run)
        if "api" in self.roles:
            servicer = self.parts.servicer()
            self.server = await start_server(
                self.address,
                self.authority,
                servicer.add_to_server,
                [self.definition.grpc_service_name],
                work=self.api_work,
                tls=self.tls,
                consistency=(
                    Consistency(self.parts.registry_position)
                    if self.parts.registry_position is not None
                    else None
                ),
                telemetry=RpcTelemetry(self.definition.name, self.identity.node_id, self.address),
                maximum_concurrent_rpcs=self.settings.max_concurrent_rpcs,
                members=KnownMembers.of(self.parts, self.api_work),
            )
        await self._check_health()
        self._tasks.append(asyncio.create_task(self._watch_health(), name="health checks"))
        self.sampler = RuntimeSampler(self)
        self._tasks.append(asyncio.create_task(self.sampler.run(self._stopping), name="metrics"))
        if self.relay is not None:
            self._spawn("relay", self.relay.run, self.relay.progress)
        for worker in [*self.inboxes, *self.workers]:
            name = getattr(worker, "name", None) or type(worker).__name__
            self._spawn(name, worker.run, getattr(worker, "progress", None))
        log.info(
            "%s of node %s started (%s)%s",
            self.definition.name,
            self.identity.node_id,
            ", ".join(sorted(self.roles)),
            f" on {self.address.rsplit(':', 1)[0]}:{self.port} ({self._transport()})"
            if self.server
            else "",
        )

    def _transport(self) -> str:
        return self.tls.describe() if self.tls else "plain gRPC"

    def _spawn(
        self,
        name: str,
        run: Callable[[asyncio.Event], Awaitable[None]],
        progress: Progress | None = None,
    ) -> None:
        self._tasks.append(asyncio.create_task(self._keep_running(name, run, progress), name=name))

    async def _keep_running(
        self,
        name: str,
        run: Callable[[asyncio.Event], Awaitable[None]],
        progress: Progress | None,
    ) -> None:
        """Runs a worker until the service stops: whatever escapes it is reported at
        ERROR (with its traceback) and the worker is started again after a back-off. A
        worker that keeps escaping (MAX_WORKER_CRASHES within CRASH_WINDOW seconds) cannot
        continue in this process: the process exits non-zero, to be started afresh."""
        backoff = Backoff(base=0.5, cap=30.0)
        crashes: deque[float] = deque(maxlen=MAX_WORKER_CRASHES)
        while not self._stopping.is_set():
            try:
                await run(self._stopping)
                if self._stopping.is_set():
                    return
                raise RuntimeError("it returned while the service was running")
            except Exception as error:
                crashes.append(time.monotonic())
                if len(crashes) == crashes.maxlen and crashes[-1] - crashes[0] < CRASH_WINDOW:
                    self._give_up(f"{name} failed {len(crashes)} times: {describe_error(error)}")
                    return
                delay = backoff.next_delay()
                log.error(
                    "%s of %s failed; starting it again in %.1fs",
                    name,
                    self.definition.name,
                    delay,
                    exc_info=error,
                )
                if progress is not None:
                    progress.failing(f"crashed: {describe_error(error)}", delay)
                await backoff.wait(self._stopping, delay)

    def _give_up(self, reason: str) -> None:
        log.critical("%s cannot continue (%s): the process exits", self.definition.name, reason)
        self.fatal = reason
        self.gave_up.set()

    async def _store_reachable(self) -> bool:
        """Whether the store answers within STORE_CHECK_TIMEOUT. A check that hangs (a frozen
        database) counts as an outage, and no second one is started while it hangs."""
        if self._store_check is None or self._store_check.done():
            loop = asyncio.get_running_loop()
            check = functools.partial(self.settings.stores.check_reachable, self.definition.name)
            self._store_check = loop.run_in_executor(self._health_checks, check)
        try:
            await asyncio.wait_for(asyncio.shield(self._store_check), STORE_CHECK_TIMEOUT)
        except check_failures() as error:
            if self.api_work.store_available:
                reason = str(error) or f"no answer within {STORE_CHECK_TIMEOUT:.0f}s"
                log.error("the %s store is unreachable: %s", self.definition.name, reason)
            return False
        return True

    async def _check_health(self) -> None:
        """Readiness: the store answers and every worker is making progress."""
        store_ok = await self._store_reachable()
        self.api_work.store_available = store_ok
        problems = {} if store_ok else {"store": "the store is unreachable"}
        catching_up = True  # every problem is work still catching up (no fault)
        for progress in self.progresses():
            problem = progress.problem()
            if problem:
                problems[progress.name] = problem
                catching_up = catching_up and progress.holding
        serving = not problems
        if serving != self.serving or sorted(problems) != sorted(self.problems):
            if serving and self.serving is False:
                log.info("%s is SERVING again", self.definition.name)
            elif not serving:
                log.log(
                    logging.INFO if store_ok and catching_up else logging.ERROR,
                    "%s is NOT_SERVING: %s",
                    self.definition.name,
                    "; ".join(problems.values()),
                )
            if self.server is not None and serving != self.serving:
                await self.server.set_serving(serving)
            self.serving = serving
        self.problems = problems

    async def _watch_health(self) -> None:
        started = time.monotonic()
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), check_interval(started, self.serving))
            if self._stopping.is_set():
                return
            try:
                await self._check_health()
            except Exception:
                log.exception("health check of %s failed", self.definition.name)

    async def stop(self, grace: float = 5.0) -> None:
        """Stops within a bounded time (at most about 4 x grace + 4 s), even if some
        background work is stuck: the API, then every task together under one deadline
        (stragglers are cancelled, and named in the log), then the NATS connection and
        the followers."""
        what = f"{self.definition.name} of node {self.identity.node_id}"
        self._stopping.set()
        self.app.changes.wake_all()
        if self.server is not None:
            await bounded("gRPC server", self.server.stop(grace), grace + 1.0, what)
        await finish(self._tasks, grace, what)
        await bounded("NATS connection close", self.nats.close(), grace, what)
        followers = [asyncio.to_thread(f.stop, grace) for f in self.followers.values()]
        await bounded("read model followers", asyncio.gather(*followers), grace + 1.0, what)
        for projection in self.projections.values():
            projection.store.close()
        if self.relay is not None:
            self.relay.tracking.close()
        self.api_work.close()
        self._health_checks.shutdown(wait=False)
        self.app.close()


class ServiceThread:
    """Runs a ServiceRuntime on an event loop of its own thread (embedding, tests, benchmarks)."""

    def __init__(self, runtime_factory: Callable[[], ServiceRuntime]) -> None:
        self._factory = runtime_factory
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.runtime: ServiceRuntime | None = None

    def start(self, timeout: float = 30.0) -> ServiceRuntime:
        self._thread.start()

        async def create_and_start() -> ServiceRuntime:
            runtime = self._factory()
            await runtime.start()
            return runtime

        self.runtime = asyncio.run_coroutine_threadsafe(create_and_start(), self._loop).result(
            timeout
        )
        return self.runtime

    def stop(self, timeout: float = 30.0, grace: float = 5.0) -> None:
        try:
            if self.runtime is not None:
                stopped = asyncio.run_coroutine_threadsafe(self.runtime.stop(grace), self._loop)
                self.runtime = None
                stopped.result(timeout)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self._loop.close()
