"""The report page over HTTP(S): a starlette app served by `services.common.webserver`
(hypercorn, connection and time limits, HTTPS when the node has a certificate).

    GET  /           the page (query: community, from, before, topic); 401 with a sign-in
                     form without a token, 403 for a viewer without rights
    POST /sign-in    a form with the token: sets an HttpOnly, SameSite=Strict cookie
    POST /sign-out   forgets it
    GET  /healthz    "ok"

The figures are read on a thread (the gRPC calls block), at most `MAX_BUILDS` pages at
once, and a page is kept for `CACHE_SECONDS` per viewer scope and filters.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from services.common.errors import Unauthenticated
from services.common.webserver import TlsFiles, WebLimits, WebServer
from services.report.access import Refused, Viewer
from services.report.figures import Filters, InvalidFilter, Report
from services.report.source import SourceUnavailable

log = logging.getLogger("copnet.report")

COOKIE = "copnet_report"
MAX_BUILDS = 2
CACHE_SECONDS = 15.0
CACHE_ENTRIES = 64
HTML = "text/html; charset=utf-8"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


class Access(Protocol):
    def viewer(self, token: str) -> Viewer: ...


@dataclass(frozen=True)
class Site:
    """What a report server shows: who may see it and how its figures are read."""

    access: Access
    build: Callable[[Filters, Viewer], Report]
    title: str


def _page(status: int, title: str, body: str, headers: dict[str, str] | None = None) -> Response:
    content = (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:system-ui,sans-serif;max-width:600px;margin:40px auto">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(content, status, {**SECURITY_HEADERS, **(headers or {})}, media_type=HTML)


def _sign_in(status: int, site: Site, problem: str = "") -> Response:
    said = f'<p role="alert">{html.escape(problem)}</p>' if problem else ""
    body = (
        f"<p>{html.escape(site.title)}: sign in with a token of the node "
        "(<code>copnet token --operator</code>, or a co-lead's).</p>"
        f"{said}"
        '<form method="post" action="/sign-in"><label>Token '
        '<input name="token" type="password" autocomplete="off" required></label> '
        '<button type="submit">Sign in</button></form>'
    )
    return _page(status, "Sign in", body, {"WWW-Authenticate": 'Bearer realm="copnet report"'})


class ReportWeb:
    def __init__(self, site: Site, limits: WebLimits | None = None) -> None:
        self.site = site
        self.limits = limits or WebLimits()
        self._builds = asyncio.Semaphore(MAX_BUILDS)
        self._cache: dict[tuple[object, ...], tuple[float, str]] = {}
        self._cache_lock = threading.Lock()

    def asgi(self) -> Starlette:
        methods = ["GET", "HEAD"]
        return Starlette(
            routes=[
                Route("/", self._report, methods=methods),
                Route("/healthz", self._healthz, methods=methods),
                Route("/sign-in", self._sign_in, methods=["POST"]),
                Route("/sign-out", self._sign_out, methods=["POST"]),
            ],
            exception_handlers={HTTPException: self._http_error},
        )

    async def _healthz(self, request: Request) -> Response:
        return Response("ok\n", 200, SECURITY_HEADERS, media_type="text/plain")

    async def _http_error(self, request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, HTTPException) else 500
        return _page(status, str(status), "")

    @staticmethod
    def _cookie(request: Request) -> str:
        """The cookie's name: one per port, since cookies do not tell ports apart (the
        demo's node and region pages share a host)."""
        return f"{COOKIE}_{request.url.port or 0}"

    def _token(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return request.cookies.get(self._cookie(request), "")

    async def _viewer(self, token: str) -> Viewer:
        return await asyncio.to_thread(self.site.access.viewer, token)

    async def _report(self, request: Request) -> Response:
        token = self._token(request)
        if not token:
            return _sign_in(401, self.site)
        try:
            filters = Filters.parse(dict(request.query_params))
        except InvalidFilter as error:
            return _page(400, "Bad request", f"<p>{html.escape(str(error))}</p>")
        try:
            viewer = await self._viewer(token)
            content = await self._render(filters, viewer)
        except Unauthenticated as error:
            return _sign_in(401, self.site, str(error))
        except Refused as error:
            return _page(403, "Not for you", f"<p>{html.escape(str(error))}</p>")
        except SourceUnavailable as error:
            log.warning("report: %s", error)
            return _page(
                503,
                "Not now",
                "<p>A node's services did not answer; try again in a moment.</p>",
                {"Retry-After": "5"},
            )
        return Response(content, 200, SECURITY_HEADERS, media_type=HTML)

    async def _render(self, filters: Filters, viewer: Viewer) -> str:
        key = (viewer.communities, viewer.description, filters)
        with self._cache_lock:
            cached = self._cache.get(key)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        async with self._builds:

            def build() -> str:
                # The charts' libraries (altair, vl-convert and its JS engine: about 110 MB)
                # load with the first page built, not while nobody looks (< 1 s once).
                from services.report.page import render_page

                return render_page(self.site.build(filters, viewer), served=True)

            content = await asyncio.to_thread(build)
        with self._cache_lock:
            self._cache[key] = (time.monotonic(), content)
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.pop(next(iter(self._cache)))
        return content

    async def _sign_in(self, request: Request) -> Response:
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        token = parse_qs(body.decode(errors="replace")).get("token", [""])[0].strip()
        if not token:
            return _sign_in(400, self.site, "give a token")
        try:
            await self._viewer(token)
        except Unauthenticated as error:
            return _sign_in(401, self.site, str(error))
        except Refused as error:
            return _page(403, "Not for you", f"<p>{html.escape(str(error))}</p>")
        except SourceUnavailable:
            return _page(503, "Not now", "<p>Try again in a moment.</p>", {"Retry-After": "5"})
        response = RedirectResponse("/", 303, SECURITY_HEADERS)
        response.set_cookie(
            self._cookie(request),
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    async def _sign_out(self, request: Request) -> Response:
        response = RedirectResponse("/", 303, SECURITY_HEADERS)
        response.delete_cookie(self._cookie(request), path="/", httponly=True, samesite="strict")
        return response

    async def _read_body(self, request: Request) -> bytes | Response:
        """The sign-in form's body, within `max_body` and `body_timeout`."""
        limit = self.limits.max_body
        declared = request.headers.get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            return Response("too large\n", 413, {"Connection": "close"})
        body = bytearray()
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > limit:
                        return Response("too large\n", 413, {"Connection": "close"})
        except TimeoutError:
            return Response("the request took too long\n", 408, {"Connection": "close"})
        except ClientDisconnect:
            return Response("incomplete request\n", 400, {"Connection": "close"})
        return bytes(body)

    async def serve(
        self, address: str, stopping: asyncio.Event, tls: TlsFiles | None = None
    ) -> None:
        """Serves until `stopping` is set; `self.url` says where once it listens."""
        server = WebServer(self.asgi(), address, self.limits, tls, name="report")
        await server.start()
        host, port = server.host_and_port
        self.url = f"{server.scheme}://{address.rpartition(':')[0] or host}:{port}/"
        log.info("the report page at %s", self.url)
        try:
            while not stopping.is_set():
                if not server.serving():
                    raise RuntimeError("the report's server stopped accepting")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), 1.0)
        finally:
            await server.stop()

    url = ""
