"""The template library and the iCalendar invitations: every kind renders, text and HTML."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from jinja2 import UndefinedError

from services.notify.delivery.ics import invitation
from services.notify.delivery.rendering import TemplateLibrary, paragraphs
from services.notify.domain import Kind, TrackedConvening

COMMON = {
    "member_name": "Bonnie Green",
    "node_id": "guys",
    "unsubscribe_url": "https://copnet.example/unsubscribe?token=abc.def",
    "unsubscribe_label": "Unsubscribe from invitations",
    "footer_reason": "You receive this because you are a member of Cancer CoP.",
}
CONVENING = {
    "c": {
        "title": "Cancer Rehab & Lymphoedema",
        "topic": "Rehabilitation",
        "description": "Lunchtime webinar.\n\nBring questions.",
        "format_label": "Webinar",
        "venue": "",
        "join_link": "https://meet.example/x",
        "join_note": "",
        "community_name": "Cancer CoP",
        "organisers": ["Fiona Dickinson"],
        "when": "Wednesday 12 July 2023, 12:30\u201313:30 (Europe/London)",
        "cancel_reason": "speaker unwell",
    },
    "change": {"kind": "time", "reason": "strike", "previous_when": "Tuesday 11 July 2023"},
    "how": "promoted",
    "starts_in": "in 23 hours",
}
CONTEXTS = {
    Kind.INVITATION: CONVENING,
    Kind.CONVENING_UPDATE: CONVENING,
    Kind.CONVENING_CANCELLED: CONVENING,
    Kind.REMINDER: CONVENING,
    Kind.PLACE_CONFIRMED: CONVENING,
    Kind.LEARNING: {
        "item": {
            "title": "GDm-Health",
            "revision": 1,
            "kind_label": "Replicable model",
            "community_name": "DiP CoP",
            "organisation_name": "Guy's",
            "origin_node": "kings",
            "domain_tags": ["diabetes"],
            "summary": "Remote monitoring.",
            "links": [("Guide", "https://example.nhs.uk/guide")],
        },
        "revised": False,
        "local": False,
    },
    Kind.DIGEST: {
        "label": "weekly",
        "entry_count": 1,
        "sections": [
            {
                "title": "New learning",
                "groups": [
                    {
                        "heading": "DiP CoP (node kings)",
                        "entries": [
                            {"title": "GDm", "when": "", "note": "Toolkit", "summary": "S"}
                        ],
                    }
                ],
            }
        ],
    },
    Kind.NEWSLETTER: {
        "newsletter": {
            "subject": "Autumn <news>",
            "body": "Over 150 members.\n\nSee https://example.nhs.uk/cop.",
            "community_name": "Cancer CoP",
        }
    },
    Kind.ADDRESS_CONFIRMATION: {"code": "ABCD-EFGH-JKLM", "expires": "9 January 2024, 09:00 UTC"},
}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_renders_a_subject_text_and_html(kind: Kind):
    mail = TemplateLibrary().render(kind, {**COMMON, **CONTEXTS[kind]})
    assert mail.subject and "\n" not in mail.subject
    assert not mail.text.startswith("\n") and "\n\n\n" not in mail.text
    assert COMMON["unsubscribe_url"] in mail.text
    assert f'href="{COMMON["unsubscribe_url"]}"' in mail.html
    assert mail.html.startswith("<!DOCTYPE html>") and mail.html.rstrip().endswith("</html>")
    assert COMMON["footer_reason"] in mail.text


def test_an_address_confirmation_has_its_code_and_no_unsubscribe_link():
    context = {**COMMON, **CONTEXTS[Kind.ADDRESS_CONFIRMATION], "unsubscribe_url": ""}
    mail = TemplateLibrary().render(Kind.ADDRESS_CONFIRMATION, context)
    assert "ABCD-EFGH-JKLM" in mail.text and "ABCD-EFGH-JKLM" in mail.html
    assert "nsubscribe" not in mail.text and "nsubscribe" not in mail.html


def test_html_escapes_what_people_wrote_and_links_urls():
    mail = TemplateLibrary().render(Kind.NEWSLETTER, {**COMMON, **CONTEXTS[Kind.NEWSLETTER]})
    assert mail.subject == "Autumn <news>"
    assert "Autumn &lt;news&gt;" in mail.html and "<news>" not in mail.html
    assert '<a href="https://example.nhs.uk/cop" style="color:#005eb8;">' in mail.html
    assert "https://example.nhs.uk/cop</a>." in mail.html
    assert str(paragraphs("<b>hi</b>\nthere\n\nnext")) == (
        "<p>&lt;b&gt;hi&lt;/b&gt;<br>\nthere</p>\n<p>next</p>"
    )


def test_a_missing_value_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        TemplateLibrary().render(Kind.INVITATION, COMMON)


def convening(status: str = "scheduled", sequence: int = 2) -> TrackedConvening:
    c = TrackedConvening(
        convening_id=uuid.uuid4(),
        community_id=uuid.uuid4(),
        details={
            "title": "QI in practice",
            "topic": "QI",
            "description": "",
            "format": "hybrid",
            "venue": "Guy's Hospital",
        },
        starts_at=datetime(2023, 10, 18, 12, tzinfo=UTC),
        ends_at=datetime(2023, 10, 18, 14, tzinfo=UTC),
        time_zone="Europe/London",
        sequence=sequence,
        at=datetime(2023, 9, 1, tzinfo=UTC),
    )
    c.change_join_link("https://meet.example/qi", sequence, datetime(2023, 9, 2, tzinfo=UTC))
    if status == "cancelled":
        c.cancel("no room", sequence + 1, datetime(2023, 9, 3, tzinfo=UTC))
    return c


def test_an_invitation_is_an_itip_request_for_one_attendee():
    c = convening()
    method, text = invitation(
        c, "Cancer CoP", {}, False, ("Bonnie Green", "bonnie@example.org"), "n <n@guys.example>"
    )
    calendar = Calendar.from_ical(text)
    [event] = calendar.walk("VEVENT")
    assert method == "REQUEST" and str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"{c.convening_id}@copnet"
    assert int(event["SEQUENCE"]) == 2
    assert str(event["ATTENDEE"]) == "mailto:bonnie@example.org"
    assert event["ATTENDEE"].params["CN"] == "Bonnie Green"
    assert str(event["ORGANIZER"]) == "mailto:n@guys.example"
    assert event["ORGANIZER"].params["CN"] == "Cancer CoP"
    assert "meet.example" not in text  # no place, no link
    assert str(event["LOCATION"]) == "Guy's Hospital"
    assert calendar.walk("VTIMEZONE")

    _, with_link = invitation(c, "Cancer CoP", {}, True, ("B", "b@example.org"), "n@guys.example")
    assert "https://meet.example/qi" in with_link


def test_a_cancelled_convening_is_an_itip_cancel_with_a_higher_sequence():
    method, text = invitation(
        convening("cancelled"), "Cancer CoP", {}, False, ("B", "b@x.org"), "n@x.org"
    )
    [event] = Calendar.from_ical(text).walk("VEVENT")
    assert method == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 3
