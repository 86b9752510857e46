"""The unsubscribe pages over HTTPS on a real node (NATS, registry, events, learning, notify,
a real SMTP server), with a certificate from a real CA (services/common/pki.py): what the
mail links to, what a client that trusts the CA sees, and what the limits do to clients
that send too much, too slowly, or nothing at all.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import psutil
import pytest

from copnet.notify.v1 import notify_pb2 as npb
from copnet.registry.v1 import registry_pb2 as rpb
from services.common.pki import Issued, RegionPki
from services.common.service import ServiceRuntime, ServiceThread
from services.common.webserver import WebLimits
from services.notify.service import definition
from services.notify.web import UnsubscribePages
from tests.support.events_node import Cop, eventually
from tests.support.events_world import MovableClock
from tests.support.notify_node import (
    NotifyNode,
    notify_settings,
    start_notify_node,
    stop_notify_node,
)
from tests.support.smtp import SmtpSink

LIMITS = WebLimits(idle_timeout=2, read_timeout=3, body_timeout=2.0, tls_handshake_timeout=2.0)
# A refusal that waited for the body (or a timeout) would take LIMITS' seconds at least.
QUICKLY = 1.0
START = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    pki = RegionPki(tmp_path_factory.mktemp("pki"))
    return pki.server_cert("notify-web", ["127.0.0.1", "localhost"])


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def node(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpSink, certificate: Issued
) -> Iterator[NotifyNode]:
    running = start_notify_node(
        tmp_path_factory.mktemp("notify-web"),
        MovableClock(START),
        smtp,
        tls_cert=certificate.cert_file,
        tls_key=certificate.key_file,
        web_limits=LIMITS,
    )
    yield running
    stop_notify_node(running)


def pages_of(runtime: ServiceRuntime) -> UnsubscribePages:
    return next(w for w in runtime.workers if isinstance(w, UnsubscribePages))


@pytest.fixture(scope="module")
def port(node: NotifyNode) -> int:
    pages = pages_of(node.notify_runtime)
    eventually(lambda: pages.server is not None)
    return pages.port


def trusting(certificate: Issued) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate.ca_file))


def fetch(
    url: str, certificate: Issued, data: bytes | None = None, method: str | None = None
) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10, context=trusting(certificate)) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def tls_socket(port: int, certificate: Issued) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return trusting(certificate).wrap_socket(raw, server_hostname="127.0.0.1")


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed the connection (without waiting)."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        return sock.recv(65536) == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except OSError:
        return True


def answer_of(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    began = time.monotonic()
    received = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            received += chunk
    return received, time.monotonic() - began


def test_the_pages_answer_over_https_and_the_mail_links_to_them(node, smtp, certificate, port):
    cop = Cop(node.api, members=1)
    [member] = cop.members
    cop.schedule(start="2024-02-01T10:00", end="2024-02-01T11:00", topic="QI in practice")
    address = node.api.registry("GetMember", rpb.GetMemberRequest(member_id=member)).member.email
    eventually(lambda: smtp.to(address))
    link = str(smtp.to(address)[0].message["List-Unsubscribe"]).strip("<>")
    assert link.startswith(f"https://127.0.0.1:{port}/unsubscribe?token=")
    assert node.parts.links() == f"https://127.0.0.1:{port}"

    # A client that trusts the node's CA: looking changes nothing, posting applies.
    status, page = fetch(link, certificate)
    assert status == 200 and "Stop receiving invitations" in page and 'method="post"' in page
    status, page = fetch(link, certificate, b"List-Unsubscribe=One-Click")
    assert status == 200 and "You will no longer receive invitations" in page
    reply = node.notify("GetPreferences", npb.GetPreferencesRequest(member_id=member))
    assert reply.preferences.invitations == npb.FREQUENCY_NEVER
    assert fetch(link, certificate, b"confirm=yes")[0] == 200  # twice is harmless
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"][0]
    assert fetch(link.replace(token, token[:-2]), certificate, b"confirm=yes")[0] == 400
    assert fetch(f"https://127.0.0.1:{port}/healthz", certificate) == (200, "ok\n")
    assert fetch(f"https://127.0.0.1:{port}/healthz", certificate, method="HEAD") == (200, "")
    status, page = fetch(f"https://127.0.0.1:{port}/elsewhere", certificate)
    assert status == 404 and "Not found" in page

    # A client that does not trust the CA refuses the certificate; plain HTTP gets nowhere.
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(link, timeout=10, context=ssl.create_default_context())
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    plain = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    with pytest.raises((http.client.HTTPException, OSError)):
        plain.request("GET", "/healthz")
        plain.getresponse()
    plain.close()


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", b"400"), ("abc", b"400"), ("4097", b"413"), (str(2**40), b"413")],
)
def test_a_bad_or_large_content_length_is_refused_before_the_body(
    port, certificate, length, status
):
    with tls_socket(port, certificate) as sock:
        sock.sendall(
            b"POST /unsubscribe?token=x HTTP/1.1\r\nHost: copnet\r\n"
            + f"Content-Length: {length}\r\n\r\n".encode()
        )
        answer, took = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 " + status), answer
    assert took < QUICKLY


def test_a_chunked_body_is_cut_at_the_limit(port, certificate):
    with tls_socket(port, certificate) as sock:
        sock.sendall(
            b"POST /unsubscribe?token=x HTTP/1.1\r\nHost: copnet\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"a" * 2048
        for _ in range(3):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        answer, took = answer_of(sock)  # the last chunk (0) never comes
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert took < QUICKLY


def test_slow_clients_are_cut_off(port, certificate):
    # Headers a byte at a time: closed once the connection has been idle too long, though
    # bytes keep coming.
    began = time.monotonic()
    with tls_socket(port, certificate) as sock:
        request = b"GET /healthz HTTP/1.1\r\nHost: copnet\r\nX-Slow: " + b"a" * 1000
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            if closed_by_server(sock):
                break
            time.sleep(0.05)
        took = time.monotonic() - began
    assert LIMITS.idle_timeout - 0.5 < took < LIMITS.idle_timeout + 1.5

    # A body that never ends: 408 once the body timeout passes.
    with tls_socket(port, certificate) as sock:
        sock.sendall(
            b"POST /unsubscribe?token=x HTTP/1.1\r\nHost: copnet\r\n"
            b"Content-Length: 100\r\n\r\nconfirm=yes"
        )
        answer, took = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert LIMITS.body_timeout - 0.5 < took < LIMITS.body_timeout + 1.5

    # Nothing at all, after the handshake; and no handshake either.
    with tls_socket(port, certificate) as sock:
        answer, took = answer_of(sock)
    assert answer == b"" and took < LIMITS.idle_timeout + 1.5
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        answer, took = answer_of(raw)
    assert took < LIMITS.tls_handshake_timeout + 1.5


def test_without_a_certificate_the_same_limits_hold_over_plain_http(node, tmp_path):
    with notify_alone(node, tmp_path / "alone", web_limits=LIMITS) as runtime:
        pages = pages_of(runtime)
        eventually(lambda: pages.server is not None)
        assert runtime.parts.links() == f"http://127.0.0.1:{pages.port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{pages.port}/healthz") as answer:
            assert answer.read() == b"ok\n"
        for length, status in (("-1", b"400"), (str(2**40), b"413")):
            with socket.create_connection(("127.0.0.1", pages.port), timeout=10) as sock:
                sock.sendall(
                    b"POST /unsubscribe HTTP/1.1\r\nHost: copnet\r\n"
                    + f"Content-Length: {length}\r\n\r\n".encode()
                )
                answer, took = answer_of(sock)
            assert answer.startswith(b"HTTP/1.1 " + status) and took < QUICKLY, answer
        with socket.create_connection(("127.0.0.1", pages.port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: copnet\r\n")  # never finished
            answer, took = answer_of(sock)
        assert answer == b"" and LIMITS.idle_timeout - 0.5 < took < LIMITS.idle_timeout + 1.5


@contextlib.contextmanager
def notify_alone(node: NotifyNode, root: Path, **overrides: Any) -> Iterator[ServiceRuntime]:
    """Another notify process's API role (its own stores), beside the node's."""
    settings = notify_settings(None, root, **overrides)
    thread = ServiceThread(
        lambda: ServiceRuntime(
            definition(settings),
            node.settings.with_overrides(data_dir=root),
            roles=("api",),
            address="127.0.0.1:0",
            authority=node.authority,
        )
    )
    runtime = thread.start()
    try:
        yield runtime
    finally:
        thread.stop()


# Opens N TLS connections to the port, says how many the server left open, and holds them
# (sending nothing) until its standard input closes.
HOLDER = textwrap.dedent(
    """
    import select, socket, ssl, sys, time
    port, cafile, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    context = ssl.create_default_context(cafile=cafile)
    held = []
    for _ in range(count):
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=10)
            held.append(context.wrap_socket(raw, server_hostname="127.0.0.1"))
        except OSError:
            pass
    time.sleep(0.5)
    def is_open(sock):
        if not select.select([sock], [], [], 0)[0]:
            return True
        sock.setblocking(False)
        try:
            return sock.recv(1) != b""
        except ssl.SSLWantReadError:
            return True
        except OSError:
            return False
    print(sum(1 for sock in held if is_open(sock)), flush=True)
    sys.stdin.read()
    """
)


def test_idle_connections_leave_threads_and_memory_bounded(node, certificate, tmp_path):
    limits = WebLimits(idle_timeout=15, max_connections=128)
    with notify_alone(
        node,
        tmp_path / "alone",
        tls_cert=certificate.cert_file,
        tls_key=certificate.key_file,
        web_limits=limits,
    ) as runtime:
        pages = pages_of(runtime)
        eventually(lambda: pages.server is not None)
        server, url = pages.server, f"https://127.0.0.1:{pages.port}/healthz"
        assert server is not None and fetch(url, certificate) == (200, "ok\n")
        process = psutil.Process()
        threads, rss = threading.active_count(), process.memory_info().rss
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(pages.port), str(certificate.ca_file), "500"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            left_open = int(holder.stdout.readline())
            grown_threads = threading.active_count() - threads
            grown_rss = (process.memory_info().rss - rss) / 2**20
            print(
                f"500 idle TLS connections: {left_open} held open by the server, "
                f"{server.refused} closed at the limit; threads +{grown_threads}, "
                f"RSS +{grown_rss:.1f} MiB"
            )
            assert left_open == server.connections == limits.max_connections
            assert server.refused == 500 - limits.max_connections
            assert grown_threads <= 5
            assert grown_rss < 50
            # At the limit, a new connection is turned away ...
            with pytest.raises((urllib.error.URLError, OSError, http.client.HTTPException)):
                fetch(url, certificate)
        finally:
            holder.communicate(timeout=30)
        # ... and once the idle ones are gone, the pages answer again.
        eventually(lambda: server.connections == 0)
        assert fetch(url, certificate) == (200, "ok\n")
        assert threading.active_count() - threads <= 5


def test_the_service_is_not_ready_while_its_pages_cannot_be_served(node, certificate, tmp_path):
    busy = socket.create_server(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    with notify_alone(
        node,
        tmp_path / "alone",
        http_address=f"127.0.0.1:{port}",
        tls_cert=certificate.cert_file,
        tls_key=certificate.key_file,
    ) as runtime:
        try:
            eventually(lambda: "unsubscribe pages" in runtime.problems, 10)
            assert runtime.serving is False
        finally:
            busy.close()
        # The runtime starts the pages again: they bind, and the service is ready.
        eventually(lambda: runtime.serving is True, 20)
        assert fetch(f"https://127.0.0.1:{port}/healthz", certificate) == (200, "ok\n")
        assert not runtime.gave_up.is_set()


@pytest.mark.parametrize(
    "forged",
    [
        "garbage",
        "%ff%fe.%00",
        "eyJhbGciOiJub25lIn0.e30",  # a JWT-looking one
        "W10.AAAAAAAAAAAAAAAAAAAAAA",  # a well-formed payload ([]) with a made-up mac
        "\u00e9t\u00e9.x",
        "a." + "b" * 390,
        "a" * 5000,
        "..",
    ],
)
def test_a_forged_unsubscribe_token_gets_a_400_page(node, certificate, port, forged):
    """Issue 13: a token that does not parse or verify is a 400 with a plain page, never
    an error with a trace, whether looked at or posted; over gRPC, INVALID_ARGUMENT."""
    query = urllib.parse.quote(forged, safe="%")
    url = f"https://127.0.0.1:{port}/unsubscribe?token={query}"
    for data in (None, b"confirm=yes"):
        status, page = fetch(url, certificate, data)
        assert status == 400, (forged, data, status)
        assert "This link does not work" in page and "Traceback" not in page
    with pytest.raises(grpc.RpcError) as refused:
        node.notify(
            "Unsubscribe", npb.UnsubscribeRequest(request_id=str(uuid.uuid4()), token=forged)
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
