"""iCalendar invitations (iTIP, RFC 5546) for convenings, on the events service's VEVENT.

The event itself comes from `services.events.calendar.vevent`, so an invitation
and the community's calendar feed agree: the same UID (`<convening id>@copnet`),
SEQUENCE (raised by every change a calendar shows), times with their zone,
STATUS and description. An e-mailed invitation adds what iTIP needs:
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

from services.events.calendar import PRODID, CalendarEntry, vevent
from services.events.values import TimeSlot
from services.events.views import ConveningRecord
from services.notify.domain import TrackedConvening


def convening_record(c: TrackedConvening) -> ConveningRecord:
    """The events service's record of a convening, from what notify knows of it."""
    return ConveningRecord(
        convening_id=c.convening_id,
        community_id=c.community_id,
        plan_id=None,
        title=c.details.get("title", ""),
        topic=c.details.get("topic", ""),
        description=c.details.get("description", ""),
        format=c.details.get("format", "face_to_face"),
        venue=c.details.get("venue", ""),
        join_link=c.join_link,
        slot=TimeSlot(c.starts_at, c.ends_at, c.time_zone),
        planned_starts_at=c.starts_at,
        capacity=None,
        registration_opens_at=None,
        registration_closes_at=c.starts_at,
        status=c.status,
        sequence=c.sequence,
        organiser_ids=list(c.organiser_ids),
        cancel_reason=c.cancel_reason,
        reschedules=[],
        outcomes=[],
        attendee_count=None,
        places_taken=0,
        waitlist_length=0,
        pending_approvals=0,
        attended=0,
        no_shows=0,
        feedback_count=0,
        feedback_sum=0,
        version=c.version,
        created_at=c.created_at,
        updated_at=c.updated_at,
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
    record = convening_record(convening)
    event = vevent(CalendarEntry(record, show_join_link), community_name, organiser_names)
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
