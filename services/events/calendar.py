"""iCalendar (RFC 5545, RFC 7986) for convenings, built with the icalendar library.

- UID is stable per convening (`<convening id>@copnet`), so calendar clients
  update the entry they already have.
- SEQUENCE is the convening's count of calendar-visible changes (details,
  join link, organisers, new time, cancellation).
- STATUS is CANCELLED once cancelled, CONFIRMED otherwise.
- DTSTART/DTEND carry the convening's IANA zone (with its VTIMEZONE).
- The join link (URL, CONFERENCE, and LOCATION of a webinar) appears only for
  callers who may join; the venue always does.
- ORGANIZER names the first organiser (their display name as CN, and a
  `urn:uuid:` of their member id: copnet never publishes e-mail addresses).
- DTSTAMP is when the convening last changed, so the same state always gives
  the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress
from icalendar.prop.conference import Conference

from services.events.values import ConveningStatus, Format
from services.events.views import ConveningRecord

CONTENT_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//copnet//events service//EN"


@dataclass(frozen=True)
class CalendarEntry:
    convening: ConveningRecord
    # Whether the reader may see the join link.
    show_join_link: bool


def uid_of(convening_id: UUID) -> str:
    return f"{convening_id}@copnet"


def vevent(entry: CalendarEntry, community_name: str, organiser_names: dict[UUID, str]) -> Event:
    c = entry.convening
    zone = ZoneInfo(c.slot.time_zone)
    link = c.join_link if entry.show_join_link else ""
    lines = [c.description] if c.description else []
    if c.topic:
        lines.append(f"Topic: {c.topic}")
    lines.append(f"Community: {community_name}")
    if link:
        lines.append(f"Join online: {link}")
    elif c.join_link:
        lines.append("Join online: the link is shown to people holding a place")
    if c.status == ConveningStatus.CANCELLED.value:
        lines.append(f"Cancelled: {c.cancel_reason}")
    organizer = None
    if c.organiser_ids:
        first = c.organiser_ids[0]
        organizer = vCalAddress(f"urn:uuid:{first}")
        organizer.name = organiser_names.get(first) or community_name
    location = c.venue or (link if c.format == Format.WEBINAR.value else "")
    return Event.new(
        uid=uid_of(c.convening_id),
        summary=c.title,
        description="\n".join(lines),
        start=c.slot.starts_at.astimezone(zone),
        end=c.slot.ends_at.astimezone(zone),
        stamp=c.updated_at,
        created=c.created_at,
        last_modified=c.updated_at,
        sequence=c.sequence,
        status="CANCELLED" if c.status == ConveningStatus.CANCELLED.value else "CONFIRMED",
        location=location or None,
        url=link or None,
        conferences=[Conference(link, feature=["VIDEO"], label="Join online")] if link else None,
        organizer=organizer,
        categories=[part for part in (c.topic, c.format.replace("_", "-")) if part],
    )


def calendar(
    entries: Iterable[CalendarEntry],
    name: str,
    uid: str,
    community_names: Callable[[UUID], str],
    organiser_names: dict[UUID, str],
) -> str:
    cal = Calendar.new(prodid=PRODID, name=name, uid=uid)
    firsts: list[date] = []
    lasts: list[date] = []
    for entry in entries:
        c = entry.convening
        cal.add_component(vevent(entry, community_names(c.community_id), organiser_names))
        firsts.append(c.slot.starts_at.date())
        lasts.append(c.slot.ends_at.date())
    if firsts:
        # Zone definitions just wide enough for the events, to keep the text small.
        cal.add_missing_timezones(
            first_date=min(firsts) - timedelta(days=366), last_date=max(lasts) + timedelta(days=366)
        )
    return cal.to_ical().decode()
