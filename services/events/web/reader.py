"""What the web pages and the CPD calls show, read from the events service's own records:
calendar feeds (rendered once per change, with the ETag and Last-Modified that answer
conditional requests), CPD activities, certificates and records.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from services.common.identity import Caller
from services.common.paging import Page
from services.events import calendar
from services.events.application import Events
from services.events.application.evidence import Attended, is_public
from services.events.cpd.documents import CertificateFacts, CpdEntry, certificate_pdf
from services.events.domain import CalendarFeed, FeedKind
from services.events.mirror import CommunityDirectoryView
from services.events.values import local_time
from services.events.views import ConveningRecord, Evidence, Schedule
from services.events.web.settings import EventsLinks

CALENDAR_LIMIT = 1000
CALENDAR_LOOKBACK = timedelta(days=365)
RECORD_LIMIT = 1000
CACHE_SIZE = 512


@dataclass(frozen=True)
class FeedBody:
    ics: bytes
    # A strong ETag (quoted), from the text itself.
    etag: str
    # When this process first served the text as it is.
    last_modified: datetime


@dataclass(frozen=True)
class Document:
    content: bytes
    file_name: str
    verification_url: str = ""


class MemberEvidence:
    """Feeds, CPD activities and certificates, for the web pages and the gRPC calls."""

    def __init__(
        self,
        app: Events,
        schedule: Schedule,
        feeds: Evidence,
        mirror: CommunityDirectoryView,
        links: EventsLinks,
        node_id: str,
    ) -> None:
        self.app = app
        self.schedule = schedule
        self.feeds = feeds
        self.mirror = mirror
        self.links = links
        self.node_id = node_id
        self._bodies: OrderedDict[Hashable, FeedBody] = OrderedDict()
        self._first_seen: OrderedDict[Hashable, datetime] = OrderedDict()
        self._lock = threading.Lock()

    # Calendar feeds

    def feed_body(self, feed: CalendarFeed) -> FeedBody:
        if feed.kind is FeedKind.MEMBER:
            fingerprint = self.schedule.member_fingerprint(feed.member_id)
            return self._cached(
                ("member", feed.id), (feed.version, fingerprint), lambda: self._member_feed(feed)
            )
        assert feed.community_id is not None
        community_id = feed.community_id
        fingerprint = self.schedule.community_fingerprint(community_id)
        return self._cached(
            ("community", feed.id),
            (feed.version, fingerprint),
            lambda: self._community_feed(community_id, feed.member_id),
        )

    def public_feed_body(self, community_id: UUID) -> FeedBody | None:
        """A public community's calendar (no join links), or None."""
        community = self.mirror.community(community_id)
        if community is None or not is_public(community):
            return None
        fingerprint = self.schedule.community_fingerprint(community_id)
        return self._cached(
            ("public", community_id), fingerprint, lambda: self._community_feed(community_id)
        )

    def _cached(
        self, feed: tuple[Hashable, ...], fingerprint: Hashable, render: Callable[[], bytes]
    ) -> FeedBody:
        """The feed's text, rendered again only when what it shows may have changed (the
        fingerprint, the names it shows: the registry position, and the one-year window:
        the day). Last-Modified is when this process first rendered the text as it is (a
        restart or an eviction makes it later: a client downloads the feed once more)."""
        key = (feed, fingerprint, self.mirror.registry_position(), self.app.clock.today())
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
                return body
        ics = render()
        etag = '"' + hashlib.sha256(ics).hexdigest()[:32] + '"'
        with self._lock:
            first = self._first_seen.setdefault(
                (feed, etag), datetime.now(UTC).replace(microsecond=0)
            )
            self._first_seen.move_to_end((feed, etag))
            body = FeedBody(ics, etag, first)
            self._bodies[key] = body
            for cache in (self._bodies, self._first_seen):
                while len(cache) > CACHE_SIZE:
                    cache.popitem(last=False)
        return body

    def _member_feed(self, feed: CalendarFeed) -> bytes:
        records, registered, attended = self.schedule.member_convenings(
            feed.member_id, self._window_start(), CALENDAR_LIMIT
        )
        certificates = self._certificate_notes(feed.member_id, attended)
        organised = self._organised(feed.member_id, records)
        entries = [
            calendar.CalendarEntry(
                r,
                bool(r.join_link) and (r.convening_id in registered or r.community_id in organised),
                tentative=r.convening_id not in registered,
                notes=certificates.get(r.convening_id, ()),
            )
            for r in records
        ]
        return self._render(entries, "My convenings", f"{feed.id}@copnet")

    def _certificate_notes(
        self, member_id: UUID, attended: set[UUID]
    ) -> dict[UUID, tuple[str, ...]]:
        """For each convening the member attended that counts for CPD, where its
        certificate is checked and downloaded."""
        notes: dict[UUID, tuple[str, ...]] = {}
        for convening_id in attended:
            convening = self.app.convening(convening_id)
            attendance = self.app.attendance_of(convening, member_id)
            if attendance is not None and convening.counts_for_cpd:
                url = self.links.verification(attendance.token)
                notes[convening_id] = (f"Your CPD certificate: {url}",)
        return notes

    def _community_feed(self, community_id: UUID, member_id: UUID | None = None) -> bytes:
        community = self.mirror.community(community_id)
        name = community.name if community else "A community of practice"
        records, _ = self.schedule.list_convenings(
            _first_page(), str(community_id), "", "", self._window_start(), None
        )
        visible: set[UUID] = set()
        if member_id is not None:
            with_links = [r.convening_id for r in records if r.join_link]
            if self._organised(member_id, records):
                visible = set(with_links)
            else:
                visible = self.schedule.registered_convenings(member_id, with_links)
        entries = [calendar.CalendarEntry(r, r.convening_id in visible) for r in records]
        return self._render(entries, name, f"{community_id}@copnet")

    def _organised(self, member_id: UUID, records: list[ConveningRecord]) -> set[UUID]:
        caller = Caller.member(member_id)
        return {
            community_id
            for community_id in {r.community_id for r in records if r.join_link}
            if self.app.may_see_sign_ups(caller, community_id)
        }

    def _window_start(self) -> datetime:
        return self.app.clock.now() - CALENDAR_LOOKBACK

    def _render(
        self,
        entries: list[calendar.CalendarEntry],
        name: str,
        uid: str,
    ) -> bytes:
        communities: dict[UUID, str] = {}

        def community_name(community_id: UUID) -> str:
            if community_id not in communities:
                known = self.mirror.community(community_id)
                communities[community_id] = known.name if known else "a community of practice"
            return communities[community_id]

        organisers = {m for e in entries for m in e.convening.organiser_ids[:1]}
        names = self.mirror.display_names(organisers)
        return calendar.calendar(entries, name, uid, community_name, names).encode()

    # CPD

    def entry(self, attended: Attended) -> CpdEntry:
        c = attended.convening
        start = local_time(c.slot.starts_at, c.slot.time_zone)
        end = local_time(c.slot.ends_at, c.slot.time_zone)
        known = self.mirror.community(c.community_id)
        return CpdEntry(
            title=c.details.title,
            topic=c.details.topic,
            community_name=known.name if known else "a community of practice",
            format=c.details.format.value,
            day=start.date(),
            times=f"{start:%H:%M}-{end:%H:%M} {c.slot.time_zone}",
            hours=c.cpd_hours,
            outcomes=tuple(o.text for o in c.outcomes),
            verification_url=self.links.verification(attended.token),
        )

    def activities(
        self, member_id: UUID, from_date: date | None, before_date: date | None
    ) -> tuple[list[Attended], bool]:
        """The convenings that count for CPD the member attended (oldest first), and whether
        there were more than the limit."""
        records = self.schedule.attended_convenings(
            member_id, from_date, before_date, RECORD_LIMIT + 1
        )
        found = []
        for record in records[:RECORD_LIMIT]:
            convening = self.app.convening(record.convening_id)
            attended = self.app.attendance_of(convening, member_id)
            if attended is not None and convening.counts_for_cpd:
                found.append(attended)
        return found, len(records) > RECORD_LIMIT

    def member_name(self, member_id: UUID) -> str:
        return self.mirror.display_names([member_id]).get(member_id, "") or "A member"

    def certificate(self, caller: Caller, convening_id: UUID, member_id: UUID) -> Document:
        return self.certificate_of(self.app.attended(caller, convening_id, member_id))

    def certificate_of(self, attended: Attended) -> Document:
        """The certificate of one attendance (checked by the caller: `Events.attended`, or
        a verified reference)."""
        member_id = attended.sign_up.member_id
        convening_id = attended.convening.id
        entry = self.entry(attended)
        organisers = self.mirror.display_names(attended.convening.organiser_ids)
        facts = CertificateFacts(
            member_name=self.member_name(member_id),
            entry=entry,
            organiser_names=tuple(
                organisers[m] for m in attended.convening.organiser_ids if organisers.get(m)
            ),
            node_id=self.node_id,
            reference=attended.token.rsplit(".", 1)[-1],
            issued_on=self.app.clock.today(),
        )
        return Document(
            certificate_pdf(facts),
            f"cpd-certificate-{convening_id}.pdf",
            entry.verification_url,
        )


def _first_page() -> Page:
    return Page(size=CALENDAR_LIMIT, after=None, filters_digest="")
