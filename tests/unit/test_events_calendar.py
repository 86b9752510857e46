"""Convenings as iCalendar, read back with the icalendar library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from icalendar import Calendar

from services.events import calendar
from services.events.domain import Convening, ConveningDetails
from services.events.values import Format, RegistrationWindow, TimeSlot
from services.events.views import ConveningRecord

NOW = datetime(2024, 1, 10, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def hybrid() -> Convening:
    c = Convening.schedule(
        uuid4(),
        ConveningDetails(
            "Quality Improvement in practice",
            "Quality Improvement",
            "Sharing QI projects",
            Format.HYBRID,
            "Guy's Hospital, Great Maze Pond, London",
            "https://meet.example.nhs.uk/qi",
        ),
        TimeSlot.of_local(datetime(2024, 6, 18, 13), datetime(2024, 6, 18, 16), "Europe/London"),
        40,
        RegistrationWindow(),
        NOW,
    )
    c.set_organisers([uuid4()])
    return c


def ics(c: Convening, show_link: bool = True) -> str:
    entry = calendar.CalendarEntry(ConveningRecord.of(c), show_link)
    names = {c.organiser_ids[0]: "Sandra Lead"} if c.organiser_ids else {}
    return calendar.calendar(
        [entry], c.details.title, calendar.uid_of(c.id), lambda _: "Cancer CoP", names
    )


def only_event(text: str):
    parsed = Calendar.from_ical(text)
    (event,) = parsed.events
    return parsed, event


def test_one_convening_reads_back_with_its_zone_place_link_and_organiser():
    c = hybrid()
    parsed, event = only_event(ics(c))
    assert str(event.uid) == f"{c.id}@copnet"
    assert event.sequence == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event.start == datetime(2024, 6, 18, 13, tzinfo=LONDON)
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.end - event.start == timedelta(hours=3)
    assert str(event["LOCATION"]) == "Guy's Hospital, Great Maze Pond, London"
    assert str(event["URL"]) == "https://meet.example.nhs.uk/qi"
    assert [str(conference.uri) for conference in event.conferences] == [
        "https://meet.example.nhs.uk/qi"
    ]
    assert str(event["ORGANIZER"]) == f"urn:uuid:{c.organiser_ids[0]}"
    assert event["ORGANIZER"].params["CN"] == "Sandra Lead"
    assert "Topic: Quality Improvement" in str(event["DESCRIPTION"])
    assert [tz.tz_name for tz in parsed.timezones] == ["Europe/London"]


def test_the_join_link_is_left_out_for_those_who_may_not_join():
    text = ics(hybrid(), show_link=False)
    _, event = only_event(text)
    assert "meet.example.nhs.uk" not in text
    assert "URL" not in event and not event.conferences
    assert "shown to people holding a place" in str(event["DESCRIPTION"])


def test_the_uid_stays_and_the_sequence_rises_with_each_change_until_cancelled():
    c = hybrid()
    first = ics(c)
    assert ics(c) == first, "the same state gives the same text"
    c.reschedule(
        TimeSlot.of_local(datetime(2024, 6, 25, 13), datetime(2024, 6, 25, 16), "Europe/London"),
        "room double-booked",
        NOW,
    )
    _, moved = only_event(ics(c))
    c.cancel("strike action")
    _, cancelled = only_event(ics(c))
    assert {str(e.uid) for e in (only_event(first)[1], moved, cancelled)} == {f"{c.id}@copnet"}
    assert (moved.sequence, cancelled.sequence) == (1, 2)
    assert moved.start == datetime(2024, 6, 25, 13, tzinfo=LONDON)
    assert cancelled["STATUS"] == "CANCELLED"
    assert "Cancelled: strike action" in str(cancelled["DESCRIPTION"])
