"""What a supervisor (`copnet up`, `copnet hub`, `copnet demo`) needs so it cannot corrupt its node.

- `DataDirLock`: an exclusive `flock` on `<data-dir>/copnet.lock`, taken before
  anything starts. Every child inherits the locked file, so the lock is held
  until the supervisor *and all its children* are gone: a second supervisor on
  the same directory refuses (naming the holders) instead of starting a second
  nats-server on the same JetStream store.
- `spawn`: starts a child that dies with the supervisor. On Linux the child
  asks the kernel for SIGTERM when its parent dies (`PR_SET_PDEATHSIG`); the
  kernel means the parent *thread*, so every child is forked from one thread
  that lives as long as the process.
- `RestartPolicy`: the delay before restarting a child that exited, growing
  with each quick exit and reset after a healthy period.
- `check_ports_free`: ports in use are refused at start, with who holds them.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

log = logging.getLogger(__name__)

LOCK_FILE = "copnet.lock"
# How long a new supervisor waits for the children of one that died to exit.
ORPHAN_WAIT = 20.0
PR_SET_PDEATHSIG = 1


class DataDirInUse(RuntimeError):
    """Another supervisor, or processes left by one, hold the data directory."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_name(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [w.decode(errors="replace") for w in command if w]
    if len(words) >= 3 and words[1] == "-m":
        return " ".join(words[2:4])  # python -m services.registry
    return Path(words[0]).name if words else "?"


def holders_of(path: Path) -> list[int]:
    """The processes that have `path` open (Linux /proc; empty elsewhere)."""
    target = str(path.resolve())
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        found.append(int(entry.name))
                        break
    return sorted(p for p in found if p != os.getpid())


def describe_pids(pids: Sequence[int]) -> str:
    return ", ".join(f"{pid} ({process_name(pid)})" for pid in pids) or "unknown processes"


class DataDirLock:
    def __init__(self, directory: Path, what: str) -> None:
        self.directory = directory
        self.what = what
        self.path = directory / LOCK_FILE
        self.fd: int | None = None

    def acquire(self, wait_for_orphans: float = ORPHAN_WAIT) -> None:
        import fcntl

        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait_for_orphans
        waiting = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = self._recorded_holder()
                pid = int(holder.get("pid", 0))
                if pid and _alive(pid) and pid in holders_of(self.path):
                    os.close(fd)
                    raise DataDirInUse(
                        f"{self.directory} is in use by {holder.get('what', 'a supervisor')} "
                        f"(pid {pid}, started {holder.get('started_at', '?')}); stop it first"
                    ) from None
                if time.monotonic() > deadline:
                    os.close(fd)
                    pids = holders_of(self.path)
                    raise DataDirInUse(
                        f"{self.directory} is still held by processes of a supervisor that died "
                        f"(pid {pid or '?'}): {describe_pids(pids)}. They should have stopped "
                        "with it; stop them (kill <pid>) and start again"
                    ) from None
                if not waiting:
                    waiting = True
                    log.warning(
                        "%s: the supervisor that held it (pid %s) is gone; waiting up to %.0fs "
                        "for its processes to stop: %s",
                        self.directory,
                        pid or "?",
                        wait_for_orphans,
                        describe_pids(holders_of(self.path)),
                    )
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        record = {
            "pid": os.getpid(),
            "what": self.what,
            "started_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
        }
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        self.fd = fd

    def _recorded_holder(self) -> dict[str, Any]:
        with contextlib.suppress(OSError, ValueError):
            return dict(json.loads(self.path.read_text() or "{}"))
        return {}

    def release(self) -> None:
        """Closes the supervisor's copy; the lock is free once no child holds it either."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    @property
    def inherited(self) -> tuple[int, ...]:
        return (self.fd,) if self.fd is not None else ()


# Children that die with their parent


def _pdeathsig() -> Callable[[], None] | None:
    """A `preexec_fn` asking the kernel for SIGTERM when the parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    parent = os.getpid()

    def die_with_parent() -> None:  # runs in the child between fork and exec
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return die_with_parent


_spawner: ThreadPoolExecutor | None = None
_spawner_guard = threading.Lock()


def spawn(command: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """`subprocess.Popen` for a child that receives SIGTERM when this process dies.

    On Linux, util-linux's `setpriv --pdeathsig` (everywhere util-linux is) makes the
    request and execs the command; without it, a `preexec_fn` does (which costs a plain
    fork, and gRPC's fork handlers then log a warning). Either way the child is forked
    from one long-lived thread: the kernel signals the child when the *thread* that
    forked it ends, not only the process."""
    global _spawner
    with _spawner_guard:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(1, thread_name_prefix="copnet-spawner")
    argv = list(command)
    hook = None
    if sys.platform.startswith("linux"):
        setpriv = shutil.which("setpriv")
        if setpriv:
            argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
        else:
            hook = _pdeathsig()

    def start() -> subprocess.Popen[bytes]:
        # Binary pipes: no caller asks for text mode (which would make it a Popen[str]).
        return cast(
            "subprocess.Popen[bytes]",
            subprocess.Popen(argv, preexec_fn=hook, start_new_session=True, **popen),
        )

    return _spawner.submit(start).result()


@dataclass
class RestartPolicy:
    """Delays before restarting a child: `base`, doubling with each exit that follows a
    short run, up to `cap`; a run of `healthy_after` seconds starts again from `base`."""

    base: float = 0.25
    cap: float = 30.0
    healthy_after: float = 60.0
    quick_exits: int = 0

    def delay(self, ran_for: float) -> float:
        if ran_for >= self.healthy_after:
            self.quick_exits = 0
        delay = min(self.cap, self.base * 2**self.quick_exits)
        self.quick_exits += 1
        return delay

    @classmethod
    def from_env(cls) -> RestartPolicy:
        healthy = os.environ.get("COPNET_RESTART_HEALTHY_SECONDS", "")
        return cls(healthy_after=float(healthy)) if healthy else cls()


class Child(Protocol):
    """A process a supervisor keeps running (a service process, a nats-server)."""

    @property
    def name(self) -> str: ...

    @property
    def started_at(self) -> float: ...

    def start(self) -> None: ...

    def poll(self) -> int | None: ...


class Answering(Child, Protocol):
    def ping(self, timeout: float) -> bool: ...

    def kill(self) -> None: ...


class Keeper:
    """Keeps a supervisor's children running.

    `tend(child)`: a child that exited is started again after its
    `RestartPolicy` delay (logged at ERROR with its exit status and how long it
    ran). `watch(server)`: a server that stops answering pings (frozen, or
    wedged) for `misses` checks in a row is killed, so `tend` restarts it."""

    def __init__(
        self,
        owner: str,
        policy: Callable[[], RestartPolicy] = RestartPolicy.from_env,
        ping_every: float = 1.0,
        ping_timeout: float = 1.0,
        misses: int = 2,
    ) -> None:
        self.owner = owner
        self._policy = policy
        self._policies: dict[str, RestartPolicy] = {}
        self._due: dict[str, float] = {}
        self.ping_every = ping_every
        self.ping_timeout = ping_timeout
        self.misses = misses
        self._missed = 0
        self._pinged_at = 0.0
        self.restarts: dict[str, int] = {}

    def tend(self, child: Child) -> None:
        status = child.poll()
        if status is None and child.started_at:
            return
        now = time.monotonic()
        if child.name not in self._due:
            ran_for = now - child.started_at
            policy = self._policies.setdefault(child.name, self._policy())
            delay = policy.delay(ran_for)
            log.error(
                "%s of %s exited with %s after %.1fs; starting it again in %.2fs",
                child.name,
                self.owner,
                status,
                ran_for,
                delay,
            )
            self._due[child.name] = now + delay
        if now < self._due[child.name]:
            return
        del self._due[child.name]
        self.restarts[child.name] = self.restarts.get(child.name, 0) + 1
        try:
            child.start()
        except Exception as error:  # it exited at once: the next round backs off further
            log.error("%s of %s could not start: %s", child.name, self.owner, error)

    def watch(self, server: Answering) -> None:
        now = time.monotonic()
        if server.poll() is not None or now - self._pinged_at < self.ping_every:
            return
        self._pinged_at = now
        if server.ping(self.ping_timeout):
            self._missed = 0
            return
        self._missed += 1
        if self._missed >= self.misses:
            self._missed = 0
            log.error(
                "%s of %s has not answered for %.0fs (frozen?); killing it to start it again",
                server.name,
                self.owner,
                self.misses * (self.ping_every + self.ping_timeout),
            )
            server.kill()


# Ports


def port_holders(port: int) -> list[int]:
    """Processes listening on a TCP port (needs psutil; empty when it cannot tell)."""
    try:
        import psutil

        return sorted(
            {
                c.pid
                for c in psutil.net_connections(kind="tcp")
                if c.laddr and c.laddr.port == port and c.status == "LISTEN" and c.pid
            }
        )
    except Exception:
        return []


def check_ports_free(addresses: Sequence[tuple[str, int, str]]) -> None:
    """Raises DataDirInUse naming the holder when any (host, port, what) is taken."""
    taken = []
    for host, port, what in addresses:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                taken.append(
                    f"{what} port {host}:{port} (held by {describe_pids(port_holders(port))})"
                )
    if taken:
        raise DataDirInUse("ports in use: " + "; ".join(taken))


def listens_on(pid: int, port: int) -> bool | None:
    """Whether process `pid` is the one listening on `port` (None: cannot tell)."""
    try:
        import psutil

        return any(
            c.laddr and c.laddr.port == port and c.status == "LISTEN"
            for c in psutil.Process(pid).net_connections(kind="tcp")
        )
    except Exception:
        return None
