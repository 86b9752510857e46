"""iCalendar files and feeds of convenings: each convening as the kernel's
`CalendarEvent` (services.kernel.calendar, which holds the rules every copnet
calendar follows), for one reader (who may or may not see the join link).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

from services.events.values import ConveningStatus
from services.events.views import ConveningRecord
from services.kernel import calendar as ical
from services.kernel.calendar import CONTENT_TYPE, CalendarEvent, uid_of

__all__ = ["CONTENT_TYPE", "CalendarEntry", "calendar", "calendar_event", "uid_of"]


@dataclass(frozen=True)
class CalendarEntry:
    convening: ConveningRecord
    # Whether the reader may see the join link.
    show_join_link: bool
    # The reader waits for a place.
    tentative: bool = False
    # More lines for the description.
    notes: tuple[str, ...] = ()


def calendar_event(
    entry: CalendarEntry, community_name: str, organiser_names: dict[UUID, str]
) -> CalendarEvent:
    c = entry.convening
    first = c.organiser_ids[0] if c.organiser_ids else None
    return CalendarEvent(
        uid=uid_of(c.convening_id),
        title=c.title,
        starts_at=c.slot.starts_at,
        ends_at=c.slot.ends_at,
        time_zone=c.slot.time_zone,
        sequence=c.sequence,
        created_at=c.created_at,
        updated_at=c.updated_at,
        community_name=community_name,
        description=c.description,
        topic=c.topic,
        format=c.format,
        venue=c.venue,
        join_link=c.join_link if entry.show_join_link else "",
        join_link_hidden=bool(c.join_link) and not entry.show_join_link,
        cancelled=c.status == ConveningStatus.CANCELLED.value,
        cancel_reason=c.cancel_reason,
        tentative=entry.tentative,
        notes=entry.notes,
        organiser_id=first,
        organiser_name=organiser_names.get(first, "") if first else "",
    )


def calendar(
    entries: Iterable[CalendarEntry],
    name: str,
    uid: str,
    community_names: Callable[[UUID], str],
    organiser_names: dict[UUID, str],
) -> str:
    events = [
        calendar_event(entry, community_names(entry.convening.community_id), organiser_names)
        for entry in entries
    ]
    return ical.calendar(events, name, uid)
