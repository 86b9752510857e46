"""The unsubscribe pages: a small ASGI app (starlette), served by hypercorn on the notify
process's event loop (`services.common.webserver`), over HTTPS when the node has a
certificate (`COPNET_NOTIFY_TLS_CERT`/`_KEY`, else `COPNET_TLS_CERT`/`_KEY`).

- `GET /unsubscribe?token=...` (the link in every e-mail) shows what the link
  turns off and one button. It changes nothing by itself, because mail scanners
  and link previews fetch links that nobody clicked.
- `POST /unsubscribe?token=...` applies it: the page's button, and RFC 8058
  one-click unsubscribing by mail clients (`List-Unsubscribe=One-Click` in the
  body, as the `List-Unsubscribe-Post` header announces). Applying a link twice
  changes nothing more.
- `GET /healthz` answers "ok".
The signed token is the authority (no login); the change is recorded as made by
the member the token names. The application's (blocking) calls run on the API's
threads (`ApiWork`), as the gRPC handlers' do.

Limits (`WebLimits`, see services/common/webserver.py): a body declared larger than
`max_body` is refused (413) before any of it is read, a chunked one once it grows past
it, one that takes longer than `body_timeout` gets 408; slow or idle clients are cut
off after `idle_timeout`; at most `max_connections` are open at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import uuid
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from services.common.apiwork import ApiWork
from services.common.errors import CopnetError, Unavailable
from services.common.idempotency import Command
from services.common.identity import Caller
from services.common.webserver import ServedPages, TlsFiles, WebLimits
from services.notify.application import Notify
from services.notify.delivery.rendering import TOPIC_PHRASES
from services.notify.directory import NotifyDirectory
from services.notify.domain import Frequency, Topic, UnsubscribeScope, Unsubscription
from services.notify.settings import NotifySettings
from services.notify.unsubscribe import UnsubscribeTokens

log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
# How often the serving pages report that they are alive (readiness).


def describe(unsubscription: Unsubscription, directory: NotifyDirectory) -> str:
    """What a link turns off, in the member's words."""
    if unsubscription.scope is UnsubscribeScope.NEWSLETTER:
        name = directory.community_name(unsubscription.target) or "this community"
        return f"newsletters of {name}"
    if unsubscription.scope is UnsubscribeScope.DIGEST:
        label = "daily" if unsubscription.target == Frequency.DAILY_DIGEST.value else "weekly"
        return f"the {label} digest (everything you receive in it)"
    return TOPIC_PHRASES[Topic(unsubscription.target)]


def unsubscribe_command(token: str, member_id: uuid.UUID) -> Command:
    return Command(
        name="Unsubscribe",
        request_id=str(uuid.uuid4()),
        caller=Caller.member(member_id),
        fingerprint=hashlib.sha256(token.encode()).hexdigest(),
    )


class LinkBase:
    """The base URL of the links in e-mails: the configured public URL, else where this
    process serves the pages, else the configured address."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self.served_at: str | None = None

    def __call__(self) -> str:
        if self.settings.public_url:
            return self.settings.public_url
        scheme = "https" if self.settings.tls else "http"
        return f"{scheme}://{self.served_at or self.settings.http_address}"


def _page(title: str, body: str, status: HTTPStatus = HTTPStatus.OK) -> tuple[int, bytes]:
    text = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;max-width:560px;margin:40px auto;'
        f'padding:0 16px;color:#212b32;"><h1 style="font-size:22px;">{html.escape(title)}</h1>'
        f"{body}</body></html>"
    )
    return status, text.encode()


def _not_now() -> tuple[int, bytes]:
    return _page(
        "Not now",
        "<p>Your choice could not be recorded just now. Please try again later.</p>",
        HTTPStatus.SERVICE_UNAVAILABLE,
    )


def _answer(status: int, body: bytes, content_type: str, close: bool = False) -> Response:
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if close:  # the request's body was not read: the connection cannot be reused
        headers["Connection"] = "close"
    return Response(body, status, headers, media_type=content_type)


class UnsubscribePages(ServedPages):
    """The pages as a worker of the API role: serves them until the service stops. A
    server that stops serving fails the worker (the runtime starts it again, and exits the
    process if that keeps happening); readiness follows `progress`."""

    what = "unsubscribe pages"
    server_name = "notify-web"
    log_path = "/unsubscribe"

    def __init__(
        self,
        app: Notify,
        directory: NotifyDirectory,
        tokens: UnsubscribeTokens,
        address: str,
        links: LinkBase,
        work: ApiWork,
        tls: TlsFiles | None = None,
        limits: WebLimits | None = None,
    ) -> None:
        super().__init__(address, links, work, tls, limits)
        self.app = app
        self.directory = directory
        self.tokens = tokens

    def asgi(self) -> Starlette:
        methods = ["GET", "HEAD"]
        return Starlette(
            routes=[
                Route("/healthz", self._healthz, methods=methods),
                Route("/unsubscribe", self._unsubscribe, methods=[*methods, "POST"]),
            ],
            exception_handlers={HTTPException: self._http_error},
        )

    # The HTTP side

    async def _healthz(self, request: Request) -> Response:
        return _answer(200, b"ok\n", TEXT)

    async def _http_error(self, request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, HTTPException) else 500
        title = "Not found" if status == 404 else HTTPStatus(status).phrase
        return _answer(*_page(title, "", HTTPStatus(status)), HTML)

    async def _unsubscribe(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        if request.method != "POST":
            return await self._page(self.preview, token)
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        token = token or parse_qs(body.decode(errors="replace")).get("token", [""])[0]
        return await self._page(self.apply, token)

    async def _page(self, page: Callable[[str], tuple[int, bytes]], token: str) -> Response:
        try:
            status, content = await self.work.run(page, token)
        except Unavailable:
            status, content = _not_now()
        return _answer(status, content, HTML)

    async def _read_body(self, request: Request) -> bytes | Response:
        """The body (a form: the page's button, or RFC 8058's one-click), or the answer that
        refuses it: a declared length over the limit before any of it is read, a chunked
        body once it grows past it, one too slow to arrive."""
        limit = self.limits.max_body
        declared = request.headers.get("content-length")
        if declared is not None:  # h11 has already refused a malformed or negative one
            if not declared.strip().isdigit():
                return _answer(400, b"bad Content-Length\n", TEXT, close=True)
            if int(declared) > limit:
                return _answer(413, b"too large\n", TEXT, close=True)
        body = bytearray()
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > limit:
                        return _answer(413, b"too large\n", TEXT, close=True)
        except TimeoutError:
            return _answer(408, b"the request took too long\n", TEXT, close=True)
        except ClientDisconnect:
            return _answer(400, b"incomplete request\n", TEXT, close=True)
        return bytes(body)

    # What the pages do (on the API's threads: they read and write the stores)

    def preview(self, token: str) -> tuple[int, bytes]:
        try:
            unsubscription = self.tokens.read(token)
        except ValueError:
            return self._invalid()
        what = html.escape(describe(unsubscription, self.directory))
        action = f"/unsubscribe?token={html.escape(token, quote=True)}"
        return _page(
            "Unsubscribe",
            f"<p>Stop receiving {what}?</p>"
            f'<form method="post" action="{action}">'
            '<input type="hidden" name="confirm" value="yes">'
            '<button type="submit" style="font-size:16px;padding:8px 16px;">Unsubscribe</button>'
            "</form><p>You can change your choices again at any time in copnet.</p>",
        )

    def apply(self, token: str) -> tuple[int, bytes]:
        try:
            unsubscription = self.tokens.read(token)
        except ValueError:
            return self._invalid()
        try:
            command = unsubscribe_command(token, unsubscription.member_id)
            self.app.unsubscribe(command, unsubscription)
        except CopnetError as error:
            log.warning("an unsubscribe link could not be applied: %s", error)
            return _not_now()
        what = html.escape(describe(unsubscription, self.directory))
        return _page("Unsubscribed", f"<p>You will no longer receive {what}.</p>")

    @staticmethod
    def _invalid() -> tuple[int, bytes]:
        return _page(
            "This link does not work",
            "<p>This unsubscribe link is not valid on this node (it may be incomplete: "
            "copy the whole link from the e-mail).</p>",
            HTTPStatus.BAD_REQUEST,
        )
