"""A mailing's shared parts are built once and personalised per member: the bytes each
member gets are those of a full rendering (templates, iCalendar, MIME built by the email
package), but for the MIME boundaries and the calendar's own UID, which are new for every
message either way."""

from __future__ import annotations

import re
import uuid
from email import message_from_bytes, policy
from email.utils import format_datetime, formataddr
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.notify.delivery import ics
from services.notify.delivery.ics import Invitations, invitation
from services.notify.delivery.mailing import (
    BUILD_POLICY,
    Mail,
    MailAssembler,
    _encoded_text,
    build_message,
    fold,
    fold_personal,
    wire_bytes,
)
from services.notify.delivery.rendering import TemplateLibrary
from services.notify.domain import Kind
from tests.unit.test_notify_rendering import COMMON, CONTEXTS, convening

SENDER = "Cancer CoP network <notify@guys.copnet.example>"
# Names as members give them: plain, accented, quoted, with commas, long, and nothing.
MEMBERS = [
    ("Bonnie Green", "bonnie.green@example.nhs.uk"),
    ("Zoë Ó Súilleabháin", "zoe@example.nhs.uk"),
    ('Jo "JJ" Smith, RN', "jo@example.nhs.uk"),
    ("Dr. O'Brien (Guy's) <nurse>", "obrien@example.nhs.uk"),
    ("Wei 王伟", "wei@example.nhs.uk"),
    ("A" * 120, "long.name@example.nhs.uk"),
    ("", "nameless@example.nhs.uk"),
]
BOUNDARY = re.compile(rb"={15}\d+==")


def mail_for(library: TemplateLibrary, invitations: Invitations | None, kind: Kind, member):
    name, address = member
    member_id = uuid.uuid5(uuid.NAMESPACE_URL, address)
    url = f"https://copnet.example/unsubscribe?token={member_id.hex}.x-Y_z"
    rendered = library.render(
        kind, {**COMMON, **CONTEXTS[kind], "member_name": name or "member", "unsubscribe_url": url}
    )
    calendar = None
    if invitations is not None:
        calendar = invitations.invitation(
            THE_CONVENING, "Cancer CoP", {}, False, (name or "member", address), SENDER
        )
    headers = (
        ("From", SENDER),
        ("To", formataddr((name, address))),
        ("Subject", rendered.subject),
        ("Date", format_datetime(NOW)),
        ("Message-ID", f"<notification.{member_id}@guys.copnet.example>"),
        ("List-Unsubscribe", f"<{url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("X-Copnet-Notification", str(member_id)),
        ("Auto-Submitted", "auto-generated"),
    )
    return Mail(headers, rendered.text, rendered.html, calendar)


THE_CONVENING = convening()
NOW = THE_CONVENING.starts_at


def comparable(data: bytes) -> bytes:
    """The wire bytes with the MIME boundaries (random per message) numbered."""
    seen: dict[bytes, bytes] = {}

    def number(match: re.Match[bytes]) -> bytes:
        return seen.setdefault(match.group(0), b"boundary-%d" % len(seen))

    return BOUNDARY.sub(number, data)


@pytest.fixture
def calendar_uid(monkeypatch: pytest.MonkeyPatch) -> uuid.UUID:
    """One calendar UID for every message (it is new for each, in either way of building)."""
    fixed = uuid.UUID("3b1e0c6e-52f4-4a34-8f0e-9d0c3f7e2a11")
    monkeypatch.setattr(ics, "uuid", SimpleNamespace(uuid4=lambda: fixed))
    return fixed


@pytest.mark.parametrize("kind", [Kind.INVITATION, Kind.NEWSLETTER, Kind.LEARNING])
def test_each_members_mail_is_the_full_rendering_of_it(kind: Kind, calendar_uid):
    shared = (TemplateLibrary(), Invitations() if kind is Kind.INVITATION else None)
    full = (TemplateLibrary(cached=0), Invitations(cached=0) if kind is Kind.INVITATION else None)
    assembler = MailAssembler()
    for member in MEMBERS * 2:  # the second round from the caches only
        fast_mail = mail_for(*shared, kind, member)
        full_mail = mail_for(*full, kind, member)
        fast = assembler.wire(fast_mail)
        slow = wire_bytes(build_message(full_mail))
        assert comparable(fast) == comparable(slow), member
        # The same message once parsed, as a mail client reads it.
        parsed = message_from_bytes(fast, policy=policy.default)
        assert parsed["To"].addresses[0].addr_spec == member[1]
        if member[0]:
            assert parsed["To"].addresses[0].display_name == member[0]
    # Built from the shared parts, not in full: one skeleton per choice of transfer
    # encodings, one rendering of the templates per mailing.
    assert 1 <= len(assembler._skeletons) <= 3
    assert all(skeleton is not None for skeleton in assembler._skeletons.values())
    assert [shared.text is not None for shared in shared[0]._shared.values()] == [True]


def test_personal_parts_differ_per_member_and_shared_parts_are_identical():
    library, invitations, assembler = TemplateLibrary(), Invitations(), MailAssembler()
    members = MEMBERS[:2]
    messages = [
        message_from_bytes(
            assembler.wire(mail_for(library, invitations, Kind.INVITATION, m)),
            policy=policy.default,
        )
        for m in members
    ]
    first, second = messages
    for header in ("From", "Subject", "List-Unsubscribe-Post", "Auto-Submitted"):
        assert first[header] == second[header]
    for header in ("To", "Message-ID", "List-Unsubscribe", "X-Copnet-Notification"):
        assert first[header] != second[header]
    texts = [m.get_body(("plain",)).get_content() for m in messages]
    htmls = [m.get_body(("html",)).get_content() for m in messages]
    for (name, _), text, html in zip(members, texts, htmls, strict=True):
        assert f"Dear {name}," in text and f"Dear {name}," in html
    masked = [
        t.replace(m["List-Unsubscribe"].strip("<>"), "URL").replace(name, "NAME")
        for t, m, (name, _) in zip(texts, messages, members, strict=True)
    ]
    assert masked[0] == masked[1]  # all else shared
    calendars = [
        next(p for p in m.walk() if p.get_content_type() == "text/calendar").get_content()
        for m in messages
    ]
    attendee = re.compile(r"(?m)^ATTENDEE[^\n]*\n( [^\n]*\n)*|^UID:[0-9a-f-]{36}\r?\n")
    assert "mailto:bonnie.green@example.nhs.uk" in calendars[0].replace("\r\n ", "")
    assert attendee.sub("", calendars[0]) == attendee.sub("", calendars[1])
    assert calendars[0] != calendars[1]


def test_a_calendar_is_personalised_as_a_full_rendering_would_be(calendar_uid):
    invitations = Invitations()
    for member in MEMBERS * 2:
        _, fast = invitations.invitation(THE_CONVENING, "Cancer CoP", {}, True, member, SENDER)
        _, full = invitation(THE_CONVENING, "Cancer CoP", {}, True, member, SENDER)
        assert fast == full
        assert f"UID:{calendar_uid}\r\n" in fast
    assert len(invitations._shared) == 1


def test_a_template_that_changes_a_personal_value_is_rendered_in_full():
    library = TemplateLibrary()
    library.environment.globals["shout"] = True
    template = library.environment.from_string("{{ member_name | upper }}")
    library.environment.get_template = lambda name: template  # type: ignore[method-assign]
    template.blocks["subject"] = lambda context: iter(["Hello"])
    for name in ("Bonnie", "Zoë"):
        mail = library.render(Kind.INVITATION, {**COMMON, "member_name": name})
        assert mail.text == name.upper()


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40),
    local=st.from_regex(r"[A-Za-z0-9._%+'-]{1,20}", fullmatch=True),
)
def test_personal_headers_are_folded_as_the_email_package_folds_them(name: str, local: str):
    address = f"{local}@example.nhs.uk"
    value = formataddr((name, address))
    try:
        expected = fold("To", value)
    except Exception:  # the email package refuses it: so must the fast path
        with pytest.raises(Exception):  # noqa: B017
            fold_personal("To", value)
        return
    assert fold_personal("To", value) == expected
    for header, plain in (
        ("Date", format_datetime(NOW)),
        ("Message-ID", f"<notification.{uuid.uuid4()}@guys.copnet.example>"),
        ("X-Copnet-Notification", str(uuid.uuid4())),
        ("List-Unsubscribe", f"<https://copnet.example/unsubscribe?token={local}.x>"),
    ):
        assert fold_personal(header, plain) == fold(header, plain)


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(
        st.one_of(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120),
            st.sampled_from(["Dear Zoë,", "  When:  09:00\u201310:00 ", "a" * 200, "=3D", " "]),
        ),
        max_size=30,
    ).map("\n".join)
)
def test_bodies_are_encoded_as_set_content_encodes_them(text: str):
    from email.contentmanager import _encode_text  # the email package's own

    expected = _encode_text(text, "utf-8", None, BUILD_POLICY)
    assert _encoded_text(text, None) == expected
    assert _encoded_text(text, None) == expected  # and again, from the kept lines
