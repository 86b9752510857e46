"""iCalendar (RFC 5545, RFC 7986) for meetings, built with the icalendar library.

A service fills a `CalendarEvent` from its own data (the events service from its
convenings, notify from what it tracks of them) and `vevent` turns it into the
one VEVENT every calendar of a meeting carries, so that a feed and an e-mailed
invitation agree and a calendar client updates the entry it already has:
- UID is stable per meeting (`uid_of`: `<convening id>@copnet`);
- SEQUENCE is the count of calendar-visible changes (details, join link,
  organisers, new time, cancellation);
- STATUS is CANCELLED once cancelled, TENTATIVE for a reader on its waitlist,
  CONFIRMED otherwise;
- DTSTART/DTEND carry the meeting's IANA zone;
- the join link (URL, CONFERENCE, and LOCATION of a webinar) appears only when the
  reader may join; the venue always does;
- ORGANIZER names the first organiser (their display name as CN, or the
  community's, and a `urn:uuid:` of their member id: copnet never publishes
  e-mail addresses);
- DTSTAMP is when the meeting last changed, so the same state always gives the
  same text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # icalendar (about 3 MB) is imported with the first calendar made
    from icalendar import Event
    from icalendar.enums import STATUS

CONTENT_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//copnet//events service//EN"
WEBINAR = "webinar"


def uid_of(convening_id: UUID) -> str:
    return f"{convening_id}@copnet"


@dataclass(frozen=True)
class CalendarEvent:
    """One meeting as a calendar shows it to one reader."""

    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    sequence: int
    created_at: datetime
    updated_at: datetime
    community_name: str
    description: str = ""
    topic: str = ""
    # face_to_face, webinar or hybrid.
    format: str = ""
    venue: str = ""
    # The join link when the reader may see it, else "".
    join_link: str = ""
    # A join link exists but is not for this reader.
    join_link_hidden: bool = False
    cancelled: bool = False
    cancel_reason: str = ""
    # The reader waits for a place (a member's own feed).
    tentative: bool = False
    # More lines for the description (e.g. the reader's certificate of attendance).
    notes: tuple[str, ...] = ()
    organiser_id: UUID | None = None
    # The first organiser's display name ("" when unknown: the community's is shown).
    organiser_name: str = ""


def vevent(e: CalendarEvent) -> Event:
    from icalendar import Event, vCalAddress
    from icalendar.prop.conference import Conference

    zone = ZoneInfo(e.time_zone)
    lines = [e.description] if e.description else []
    if e.topic:
        lines.append(f"Topic: {e.topic}")
    lines.append(f"Community: {e.community_name}")
    if e.join_link:
        lines.append(f"Join online: {e.join_link}")
    elif e.join_link_hidden:
        lines.append("Join online: the link is shown to people holding a place")
    if e.cancelled:
        lines.append(f"Cancelled: {e.cancel_reason}")
    elif e.tentative:
        lines.append("You are on the waitlist for a place")
    lines.extend(e.notes)
    organizer = None
    if e.organiser_id is not None:
        organizer = vCalAddress(f"urn:uuid:{e.organiser_id}")
        organizer.name = e.organiser_name or e.community_name
    location = e.venue or (e.join_link if e.format == WEBINAR else "")
    link = e.join_link
    return Event.new(
        uid=e.uid,
        summary=e.title,
        description="\n".join(lines),
        start=e.starts_at.astimezone(zone),
        end=e.ends_at.astimezone(zone),
        stamp=e.updated_at,
        created=e.created_at,
        last_modified=e.updated_at,
        sequence=e.sequence,
        status=_status(e),
        location=location or None,
        url=link or None,
        conferences=[Conference(link, feature=["VIDEO"], label="Join online")] if link else None,
        organizer=organizer,
        categories=[part for part in (e.topic, e.format.replace("_", "-")) if part],
    )


def _status(e: CalendarEvent) -> STATUS:
    from icalendar.enums import STATUS

    if e.cancelled:
        return STATUS.CANCELLED
    return STATUS.TENTATIVE if e.tentative else STATUS.CONFIRMED


def calendar(events: Iterable[CalendarEvent], name: str, uid: str) -> str:
    """A calendar of meetings, with zone definitions just wide enough for them."""
    from icalendar import Calendar

    cal = Calendar.new(prodid=PRODID, name=name, uid=uid)
    firsts: list[date] = []
    lasts: list[date] = []
    for e in events:
        cal.add_component(vevent(e))
        firsts.append(e.starts_at.date())
        lasts.append(e.ends_at.date())
    if firsts:
        cal.add_missing_timezones(
            first_date=min(firsts) - timedelta(days=366), last_date=max(lasts) + timedelta(days=366)
        )
    return cal.to_ical().decode()
