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

A convening's invitations differ only in their ATTENDEE and in the calendar's own
UID (a new one per message): `Invitations` renders a convening's calendar once per
state (the shared `CalendarEvent`, method and organizer) and puts each member's
ATTENDEE line, as icalendar writes and folds it, in the place of a marker's.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Hashable
from datetime import date
from email.utils import parseaddr
from functools import lru_cache
from uuid import UUID

from icalendar import Calendar, Timezone, vCalAddress
from icalendar.parser import Contentline

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
    shown = calendar_event(convening, community_name, organiser_names, show_join_link)
    return _invitation(convening, shown, organiser_names, attendee, organizer, uuid.uuid4())


def _invitation(
    convening: TrackedConvening,
    shown: CalendarEvent,
    organiser_names: dict[UUID, str],
    attendee: tuple[str, str],
    organizer: str,
    calendar_uid: UUID,
) -> tuple[str, str]:
    method = "CANCEL" if convening.is_cancelled else "REQUEST"
    event = vevent(shown)
    community_name = shown.community_name
    first = organiser_names.get(convening.organiser_ids[0]) if convening.organiser_ids else None
    organiser = vCalAddress(f"mailto:{parseaddr(organizer)[1]}")
    organiser.name = f"{first} ({community_name})" if first else community_name
    event["ORGANIZER"] = organiser
    event.add("ATTENDEE", _guest(attendee))
    calendar = Calendar.new(prodid=PRODID, method=method, uid=calendar_uid)
    zone = _timezone(convening.time_zone, convening.starts_at.year)
    if zone is not None:
        calendar.add_component(zone)
    calendar.add_component(event)
    return method, calendar.to_ical().decode()


def _guest(attendee: tuple[str, str]) -> vCalAddress:
    name, address = attendee
    guest = vCalAddress(f"mailto:{address}")
    guest.name = name or address
    guest.params["ROLE"] = "REQ-PARTICIPANT"
    guest.params["PARTSTAT"] = "NEEDS-ACTION"
    guest.params["RSVP"] = "FALSE"
    return guest


def attendee_lines(attendee: tuple[str, str]) -> str:
    """The ATTENDEE property of one recipient as icalendar writes it (folded, CRLF)."""
    guest = _guest(attendee)
    line = Contentline.from_parts("ATTENDEE", guest.params, guest, sorted=True)
    return line.to_ical().decode() + "\r\n"


_MARK_ATTENDEE = ("copnet attendee", "attendee@copnet.invalid")
_MARK_UID = UUID(int=0)
CACHED_CALENDARS = 64


class Invitations:
    """Invitations rendered once per convening state and personalised per recipient; the
    same text as `invitation` (the first recipient's is compared with a full rendering, and
    a difference means every one is rendered in full)."""

    def __init__(self, cached: int = CACHED_CALENDARS) -> None:
        self._cached = cached
        self._shared: OrderedDict[Hashable, tuple[str, tuple[str, str] | None]] = OrderedDict()
        self._lock = threading.Lock()

    def invitation(
        self,
        convening: TrackedConvening,
        community_name: str,
        organiser_names: dict[UUID, str],
        show_join_link: bool,
        attendee: tuple[str, str],
        organizer: str,
    ) -> tuple[str, str]:
        shown = calendar_event(convening, community_name, organiser_names, show_join_link)
        first = organiser_names.get(convening.organiser_ids[0]) if convening.organiser_ids else None
        key = (shown, first, organizer, convening.is_cancelled)
        with self._lock:
            entry = self._shared.get(key)
            if entry is not None:
                self._shared.move_to_end(key)
        if entry is not None and entry[1] is not None:
            return entry[0], _personal(entry[1], attendee, uuid.uuid4())
        calendar_uid = uuid.uuid4()
        full = _invitation(convening, shown, organiser_names, attendee, organizer, calendar_uid)
        if entry is None and self._cached > 0:
            method, text = _invitation(
                convening, shown, organiser_names, _MARK_ATTENDEE, organizer, _MARK_UID
            )
            parts = text.split(attendee_lines(_MARK_ATTENDEE))
            shared = (parts[0], parts[1]) if len(parts) == 2 else None
            if shared is not None and _personal(shared, attendee, calendar_uid) != full[1]:
                shared = None
            with self._lock:
                self._shared[key] = (method, shared)
                while len(self._shared) > self._cached:
                    self._shared.popitem(last=False)
        return full


def _personal(shared: tuple[str, str], attendee: tuple[str, str], calendar_uid: UUID) -> str:
    before, after = shared
    before = before.replace(f"UID:{_MARK_UID}\r\n", f"UID:{calendar_uid}\r\n", 1)
    return before + attendee_lines(attendee) + after


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
