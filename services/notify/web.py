"""The unsubscribe pages: a small HTTP server (standard library) in the notify process.

- `GET /unsubscribe?token=...` (the link in every e-mail) shows what the link
  turns off and one button. It changes nothing by itself, because mail scanners
  and link previews fetch links that nobody clicked.
- `POST /unsubscribe?token=...` applies it: the page's button, and RFC 8058
  one-click unsubscribing by mail clients (`List-Unsubscribe=One-Click` in the
  body, as the `List-Unsubscribe-Post` header announces). Applying a link twice
  changes nothing more.
- `GET /healthz` answers "ok".
The signed token is the authority (no login); the change is recorded as made by
the member the token names.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from services.common.errors import CopnetError
from services.common.idempotency import Command
from services.common.identity import Caller
from services.notify.application import Notify
from services.notify.delivery.rendering import TOPIC_PHRASES
from services.notify.directory import NotifyDirectory
from services.notify.domain import Frequency, Topic, UnsubscribeScope, Unsubscription
from services.notify.settings import NotifySettings
from services.notify.unsubscribe import UnsubscribeTokens

log = logging.getLogger(__name__)

MAX_BODY = 4096


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
        return f"http://{self.served_at or self.settings.http_address}"


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


class UnsubscribePages:
    def __init__(
        self,
        app: Notify,
        directory: NotifyDirectory,
        tokens: UnsubscribeTokens,
        address: str,
        links: LinkBase,
    ) -> None:
        self.app = app
        self.directory = directory
        self.tokens = tokens
        self.address = address
        self.links = links
        self.server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self.server is not None, "the pages are not served"
        return self.server.server_address[1]

    def start(self) -> None:
        host, _, port = self.address.rpartition(":")
        self.server = ThreadingHTTPServer((host, int(port)), self._handler_class())
        self.server.daemon_threads = True
        self.links.served_at = f"{host}:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="notify-web", daemon=True
        )
        self._thread.start()
        log.info("unsubscribe pages at http://%s:%d/unsubscribe", host, self.port)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    async def run(self, stopping: asyncio.Event) -> None:
        await asyncio.to_thread(self.start)
        try:
            await stopping.wait()
        finally:
            await asyncio.to_thread(self.stop)

    # What the pages do

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
            return _page(
                "Not now",
                "<p>Your choice could not be recorded just now. Please try again later.</p>",
                HTTPStatus.SERVICE_UNAVAILABLE,
            )
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

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        pages = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "copnet-notify"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("web: %s %s", self.command, urlsplit(self.path).path)

            def _token(self) -> str:
                values = parse_qs(urlsplit(self.path).query).get("token", [])
                return values[0] if values else ""

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _not_found(self) -> None:
                status, body = _page("Not found", "", HTTPStatus.NOT_FOUND)
                self._answer(status, body, "text/html; charset=utf-8")

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/healthz":
                    self._answer(200, b"ok\n", "text/plain; charset=utf-8")
                elif path == "/unsubscribe":
                    self._answer(*pages.preview(self._token()), "text/html; charset=utf-8")
                else:
                    self._not_found()

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._answer(413, b"too large\n", "text/plain; charset=utf-8")
                    return
                body = self.rfile.read(length).decode(errors="replace") if length else ""
                token = self._token() or parse_qs(body).get("token", [""])[0]
                if path != "/unsubscribe":
                    self._not_found()
                    return
                self._answer(*pages.apply(token), "text/html; charset=utf-8")

        return Handler
