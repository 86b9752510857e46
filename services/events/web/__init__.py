"""The events service's web pages: calendar feeds and CPD certificate verification, a
small ASGI app (starlette) served by hypercorn on the service's event loop
(`services.common.webserver`, the same stack and limits as notify's unsubscribe pages),
over HTTPS when the node has a certificate (`COPNET_EVENTS_TLS_CERT`/`_KEY`, else
`COPNET_TLS_CERT`/`_KEY`).

- `GET /calendars/feeds/<feed id>/<secret>.ics`: a member's feed (their convenings, with
  the verification link of each certificate they have, or one community's), as
  IssueCalendarFeed gave it. A wrong or old secret, a revoked
  feed, an erased member, or a member who left a community that is not public: 404.
- `GET /calendars/communities/<community id>.ics`: a public (open) community's
  calendar, without join links; 404 for any other community.
- Feeds answer with a strong `ETag` (a hash of the text) and `Last-Modified` (when this
  process first served that text), and `If-None-Match` / `If-Modified-Since` with 304. The
  text of a feed is rendered once per change (`MemberEvidence`), so a calendar
  application polling every few minutes costs one small query.
- `GET /cpd/verify/<reference>`: whether a CPD certificate is genuine (200) or not (404),
  with what it certifies, and a link to:
- `GET /cpd/certificates/<reference>.pdf`: the certificate itself while it is genuine
  (whoever holds the reference holds the certificate's text already), else 404.
- `GET /healthz`: "ok".

Nothing here accepts a body (GET and HEAD only). Reads run on the API's threads
(`ApiWork`), as the gRPC handlers' do.
"""

from __future__ import annotations

import html
import logging
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from uuid import UUID

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.common.apiwork import ApiWork
from services.common.errors import Unavailable
from services.common.webserver import ServedPages, TlsFiles, WebLimits
from services.events.application import Events
from services.events.cpd.documents import PDF, hours_text
from services.events.web.reader import FeedBody, MemberEvidence
from services.events.web.settings import (
    CERTIFICATES_PATH,
    COMMUNITIES_PATH,
    FEEDS_PATH,
    VERIFY_PATH,
    EventsLinks,
)

log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
CALENDAR = "text/calendar; charset=utf-8"
# Every answer: no referrer leaks a secret URL, no content sniffing; pages run no script.
SAFE = {"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _plain(status: int, text: str) -> Response:
    headers = {"Cache-Control": "no-store", **SAFE}
    return Response(text.encode(), status, headers, media_type=TEXT)


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;max-width:600px;margin:40px auto;'
        f'padding:0 16px;color:#212b32;"><h1 style="font-size:22px;">{html.escape(title)}</h1>'
        f"{body}</body></html>"
    )
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": PAGE_POLICY, **SAFE}
    return Response(text.encode(), status, headers, media_type=HTML)


def not_modified(request: Request, body: FeedBody) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or body.etag in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return body.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def feed_response(request: Request, body: FeedBody, private: bool) -> Response:
    headers = {
        "ETag": body.etag,
        "Last-Modified": format_datetime(body.last_modified, usegmt=True),
        # Calendar applications ask again with the ETag; shared caches keep no secret feed.
        "Cache-Control": ("private" if private else "public") + ", no-cache",
        **SAFE,
    }
    if not_modified(request, body):
        return Response(b"", 304, headers)
    return Response(body.ics, 200, headers, media_type=CALENDAR)


class EventsPages(ServedPages):
    """The pages as a worker of the API role (see notify's `UnsubscribePages`): a server
    that stops serving fails the worker; readiness follows `progress`."""

    what = "calendar feeds and CPD pages"
    server_name = "events-web"

    def __init__(
        self,
        app: Events,
        evidence: MemberEvidence,
        address: str,
        links: EventsLinks,
        work: ApiWork,
        tls: TlsFiles | None = None,
        limits: WebLimits | None = None,
    ) -> None:
        super().__init__(address, links, work, tls, limits)
        self.app = app
        self.evidence = evidence

    def asgi(self) -> Starlette:
        methods = ["GET", "HEAD"]
        return Starlette(
            routes=[
                Route("/healthz", self._healthz, methods=methods),
                Route(f"{FEEDS_PATH}/{{feed_id}}/{{secret}}.ics", self._feed, methods=methods),
                Route(f"{COMMUNITIES_PATH}/{{community_id}}.ics", self._public, methods=methods),
                Route(f"{VERIFY_PATH}/{{token}}", self._verify, methods=methods),
                Route(f"{CERTIFICATES_PATH}/{{token}}.pdf", self._pdf, methods=methods),
            ],
            exception_handlers={HTTPException: self._http_error},
        )

    async def _healthz(self, request: Request) -> Response:
        return _plain(200, "ok\n")

    async def _http_error(self, request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, HTTPException) else 500
        return _plain(status, HTTPStatus(status).phrase + "\n")

    async def _feed(self, request: Request) -> Response:
        feed_id = _uuid(request.path_params["feed_id"])
        secret = request.path_params["secret"]
        if feed_id is None:
            return _plain(404, "Not Found\n")
        try:
            body = await self.work.run(self._feed_body, feed_id, secret)
        except Unavailable:
            return _plain(503, "Not now: try again shortly\n")
        if body is None:
            return _plain(404, "Not Found\n")
        return feed_response(request, body, private=True)

    def _feed_body(self, feed_id: UUID, secret: str) -> FeedBody | None:
        feed = self.app.open_feed(feed_id, secret)
        return None if feed is None else self.evidence.feed_body(feed)

    async def _public(self, request: Request) -> Response:
        community_id = _uuid(request.path_params["community_id"])
        if community_id is None:
            return _plain(404, "Not Found\n")
        try:
            body = await self.work.run(self.evidence.public_feed_body, community_id)
        except Unavailable:
            return _plain(503, "Not now: try again shortly\n")
        if body is None:
            return _plain(404, "Not Found\n")
        return feed_response(request, body, private=False)

    async def _verify(self, request: Request) -> Response:
        try:
            return await self.work.run(self._verification, request.path_params["token"])
        except Unavailable:
            return _page("Not now", "<p>Please try again shortly.</p>", 503)

    async def _pdf(self, request: Request) -> Response:
        try:
            return await self.work.run(self._certificate_file, request.path_params["token"])
        except Unavailable:
            return _plain(503, "Not now: try again shortly\n")

    def _certificate_file(self, token: str) -> Response:
        verdict = self.app.verify_certificate(token)
        if not verdict.genuine or verdict.attended is None:
            return _plain(404, "Not Found\n")
        document = self.evidence.certificate_of(verdict.attended)
        headers = {
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="{document.file_name}"',
            **SAFE,
        }
        return Response(document.content, 200, headers, media_type=PDF)

    def _verification(self, token: str) -> Response:
        verdict = self.app.verify_certificate(token)
        if not verdict.genuine or verdict.attended is None:
            return _page(
                "Not a valid certificate",
                f"<p>{html.escape(verdict.reason)}</p><p>This node does not confirm this "
                "certificate.</p>",
                404,
            )
        a = verdict.attended
        entry = self.evidence.entry(a)
        name = self.evidence.member_name(a.sign_up.member_id)
        rows = [
            ("Member", name),
            ("Convening", entry.title),
            ("Community", entry.community_name),
            ("Date", f"{entry.day.isoformat()}, {entry.times}"),
            ("CPD hours", hours_text(entry.hours)),
        ]
        table = "".join(
            f"<tr><th style='text-align:left;padding-right:12px'>{html.escape(k)}</th>"
            f"<td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return _page(
            "Certificate genuine",
            f"<p>{html.escape(verdict.reason)} It was issued by copnet node "
            f"{html.escape(self.evidence.node_id)}, whose records confirm:</p>"
            f"<table>{table}</table>"
            f'<p><a href="{html.escape(self.evidence.links.certificate(a.token), quote=True)}">'
            "Download the certificate (PDF)</a></p>",
        )


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None
