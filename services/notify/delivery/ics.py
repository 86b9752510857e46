"""iCalendar invitations (iTIP, RFC 5546) for convenings.

The event itself is the kernel's VEVENT (`services.kernel.calendar.vevent`), filled
from what notify tracks of the convening, so an invitation and the events
service's calendar feed agree: the same UID (`<convening id>@copnet`), SEQUENCE
(raised by every change a calendar shows), times with their zone, STATUS and
description. An e-mailed invitation adds what iTIP needs:
- METHOD:REQUEST for an invitation or an update, METHOD:CANCEL once cancelled;
- the recipient as the ATTENDEE (their own address, in their own mail only);
- the node's notification mailbox as the ORGANIZER (mail clients send replies
  there; copnet never publishes members' addresses), named after the first
  organiser and the community.
"""

from __future__ import annotations

from datetime import date
from email.utils import parseaddr
from functools import lru_cache
from uuid import UUID

from icalendar import Calendar, Timezone, vCalAddress

from services.kernel.calendar import PRODID, CalendarEvent, uid_of, vevent
from services.notify.domain import TrackedConvening


def calendar_event(
    c: TrackedConvening, community_name: str, organiser_names: dict[UUID, str], show_join_link: bool
) -> CalendarEvent:
    """The convening as a calendar shows it, from what notify knows of it."""
    first = c.organiser_ids[0] if c.organiser_ids else None
    return CalendarEvent(
        uid=uid_of(c.convening_id),
        title=c.details.get("title", ""),
        starts_at=c.starts_at,
        ends_at=c.ends_at,
        time_zone=c.time_zone,
        sequence=c.sequence,
        created_at=c.created_at,
        updated_at=c.updated_at,
        community_name=community_name,
        description=c.details.get("description", ""),
        topic=c.details.get("topic", ""),
        format=c.details.get("format", "face_to_face"),
        venue=c.details.get("venue", ""),
        join_link=c.join_link if show_join_link else "",
        join_link_hidden=bool(c.join_link) and not show_join_link,
        cancelled=c.is_cancelled,
        cancel_reason=c.cancel_reason,
        organiser_id=first,
        organiser_name=organiser_names.get(first, "") if first else "",
    )


def invitation(
    convening: TrackedConvening,
    community_name: str,
    organiser_names: dict[UUID, str],
    show_join_link: bool,
    attendee: tuple[str, str],
    organizer: str,
) -> tuple[str, str]:
    """(method, iCalendar text) for one recipient: attendee = (display name, address),
    organizer = the sender's address (`Name <addr>` or `addr`)."""
    method = "CANCEL" if convening.is_cancelled else "REQUEST"
    event = vevent(calendar_event(convening, community_name, organiser_names, show_join_link))
    first = organiser_names.get(convening.organiser_ids[0]) if convening.organiser_ids else None
    organiser = vCalAddress(f"mailto:{parseaddr(organizer)[1]}")
    organiser.name = f"{first} ({community_name})" if first else community_name
    event["ORGANIZER"] = organiser
    name, address = attendee
    guest = vCalAddress(f"mailto:{address}")
    guest.name = name or address
    guest.params["ROLE"] = "REQ-PARTICIPANT"
    guest.params["PARTSTAT"] = "NEEDS-ACTION"
    guest.params["RSVP"] = "FALSE"
    event.add("ATTENDEE", guest)
    calendar = Calendar.new(prodid=PRODID, method=method)
    zone = _timezone(convening.time_zone, convening.starts_at.year)
    if zone is not None:
        calendar.add_component(zone)
    calendar.add_component(event)
    return method, calendar.to_ical().decode()


@lru_cache(maxsize=64)
def _timezone(tzid: str, year: int) -> Timezone | None:
    """The VTIMEZONE of a zone from a year before to a year after `year` (what the events
    service's calendars include), built once: every invitation of a convening needs it."""
    try:
        return Timezone.from_tzid(
            tzid, first_date=date(year - 1, 1, 1), last_date=date(year + 1, 12, 31)
        )
    except ValueError:
        return None
