"""An e-mail's MIME structure, and its wire bytes built once per mailing.

`build_message` is the one definition of what copnet sends: the headers in order,
a text and an HTML alternative, and for convenings the iCalendar object twice (the
`text/calendar` alternative mail clients act on, and an `.ics` attachment), as the
email package builds them (`policy.SMTP`); `wire_bytes` flattens a message for SMTP
(CRLF, 7-bit bodies).

The members of a mailing (a convening's invitations, a newsletter) get messages
that differ only in a few headers (`PERSONAL_HEADERS`) and in their bodies' personal
values. `MailAssembler.wire` builds, once per mailing and choice of transfer
encodings, a skeleton with the email package: the message flattened with markers in
its bodies, split at them, and its header block split per header. Each member's
message is then that skeleton with their own folded headers (the policy folds them,
as the generator would) and their bodies encoded as `set_content` encodes them (the
email package's own `_encode_text` heuristics: 7bit, quoted-printable or base64; a
body that would be 8bit, which the 7-bit wire policy re-encodes, is built in full).
The bytes are those of `wire_bytes(build_message(mail))` but for the MIME boundaries,
which the email package draws at random for every message anyway
(`tests/unit/test_notify_mailing.py` parses both and compares every header and part).
"""

from __future__ import annotations

import binascii
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from email import policy, quoprimime
from email.contentmanager import _encode_base64, _encode_text  # type: ignore[attr-defined]
from email.message import EmailMessage

# CRLF line ends and 7-bit bodies (quoted-printable or base64), so any server takes them;
# headers folded only beyond 998 characters, so that a long List-Unsubscribe URL (one word,
# which cannot be folded) stays a plain <URL> rather than becoming an encoded word.
WIRE_POLICY = policy.SMTP.clone(cte_type="7bit", max_line_length=998)
# The policy messages are built with (and their bodies encoded by).
BUILD_POLICY = policy.SMTP
# The longest body line before an encoding (the policy's: 78).
LINE_LIMIT: int = BUILD_POLICY.max_line_length or 78
# Headers whose values differ from one member of a mailing to the next.
PERSONAL_HEADERS = frozenset(
    {"To", "Date", "Message-ID", "List-Unsubscribe", "X-Copnet-Notification"}
)
CACHED_SKELETONS = 64

_TEXT, _HTML = "copnet-skeleton-text-slot", "copnet-skeleton-html-slot"
_ICS = b"copnet-skeleton-calendar-slot"
_NEWLINES = re.compile(r"\r\n|\r|\n")
# The email package's MIME boundaries: a 7-bit body containing this is built in full.
_BOUNDARY_MARK = b"==============="


@dataclass(frozen=True)
class Mail:
    """One e-mail: its headers in order, its text and HTML, and (method, iCalendar text)."""

    headers: tuple[tuple[str, str], ...]
    text: str
    html: str
    calendar: tuple[str, str] | None = None

    def header(self, name: str) -> str:
        return next(value for key, value in self.headers if key == name)


def build_message(mail: Mail, ctes: tuple[str | None, str | None] = (None, None)) -> EmailMessage:
    """The message, built by the email package (`ctes`: the text's and the HTML's transfer
    encodings; None chooses as `set_content` does)."""
    message = EmailMessage(policy=BUILD_POLICY)
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.text, cte=ctes[0])
    message.add_alternative(mail.html, subtype="html", cte=ctes[1])
    if mail.calendar is not None:
        method, ics = mail.calendar
        # As bytes: the email package re-joins a text part's lines with bare LFs before
        # base64, and RFC 5545 lines end with CRLF (the attachment is bytes too).
        message.add_alternative(
            ics.encode(),
            maintype="text",
            subtype="calendar",
            params={"method": method, "charset": "utf-8"},
        )
        name = "cancel.ics" if method == "CANCEL" else "invite.ics"
        message.add_attachment(ics.encode(), maintype="application", subtype="ics", filename=name)
    return message


def wire_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=WIRE_POLICY)


def _wire(encoded: str) -> bytes:
    """An encoded body as the generator writes it (every line ending CRLF)."""
    return _NEWLINES.sub("\r\n", encoded).encode("ascii")


def _encoded_text(text: str, cte: str | None) -> tuple[str, str]:
    """(transfer encoding, body) as `set_content` encodes `text` (the email package's own
    `_encode_text`), with quoted-printable lines kept from one member's mail to the next:
    that encoding is line by line, and most lines of a mailing are everyone's."""
    lines = text.encode("utf-8").splitlines()
    if cte is not None or not lines:
        encoded: tuple[str, str] = _encode_text(text, "utf-8", cte, BUILD_POLICY)
        return encoded
    limit = LINE_LIMIT
    if max(len(line) for line in lines) <= limit:
        try:
            return "7bit", (b"\n".join(lines) + b"\n").decode("ascii")
        except UnicodeDecodeError:
            pass
        if BUILD_POLICY.cte_type == "8bit":
            return "8bit", (b"\n".join(lines) + b"\n").decode("ascii", "surrogateescape")
    sniff_qp = _quoted_printable(lines[:10])
    if len(sniff_qp) > len(binascii.b2a_base64(b"\r\n".join(lines[:10]) + b"\r\n")):
        return "base64", _encode_base64(b"\r\n".join(lines) + b"\r\n", limit)
    return "quoted-printable", sniff_qp if len(lines) <= 10 else _quoted_printable(lines)


_QP_LINES: dict[str, str] = {}
QP_CACHED_LINES = 20000


def _quoted_printable(lines: list[bytes]) -> str:
    """`quoprimime.body_encode` of the lines joined (each line is encoded on its own)."""
    out = []
    for line in lines:
        text = line.decode("latin-1")
        encoded = _QP_LINES.get(text)
        if encoded is None:
            encoded = quoprimime.body_encode(text, LINE_LIMIT)
            if len(_QP_LINES) >= QP_CACHED_LINES:
                _QP_LINES.clear()
            _QP_LINES[text] = encoded
        out.append(encoded)
    return "\n".join(out) + "\n"


def _encoded_calendar(ics: str) -> bytes:
    return _wire(_encode_base64(ics.encode(), BUILD_POLICY.max_line_length))


def fold(name: str, value: str) -> bytes:
    """A header as the generator writes it: parsed as the message would store it, then
    folded by the wire policy."""
    _, header = BUILD_POLICY.header_store_parse(name, value)
    return WIRE_POLICY.fold_binary(name, header)


# Values the policy writes back as they are (parsing them costs more than the rest of a
# message): a printable ASCII value without encoded words, and an address `Name <a@b>`
# whose name is atoms (formataddr quotes any other) and whose address is a dot-atom.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
_ADDRESS = re.compile(
    rf"{_ATEXT}(?: {_ATEXT})* <{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>"
)
_AS_IS = {"Date": _PLAIN, "Message-ID": _PLAIN, "X-Copnet-Notification": _PLAIN}


def fold_personal(name: str, value: str) -> bytes:
    """`fold(name, value)`, without parsing the plain values of the personal headers."""
    shape = _ADDRESS if name == "To" else _AS_IS.get(name)
    if name == "List-Unsubscribe":
        shape = _PLAIN
    if (
        shape is not None
        and len(name) + len(value) < 900
        and "=?" not in value
        and shape.fullmatch(value)
    ):
        return f"{name}: {value}\r\n".encode("ascii")
    return fold(name, value)


@dataclass(frozen=True)
class _Skeleton:
    names: tuple[str, ...]  # the mail's headers, in order
    headers: tuple[bytes, ...]  # each folded (the personal ones the first member's)
    tail: bytes  # the headers the email package adds (MIME-Version, Content-Type) and a blank
    body: tuple[bytes | int, ...]  # literal bytes, or the index of a slot


class MailAssembler:
    """Wire bytes of mail, from skeletons kept per mailing (the last `cached`)."""

    def __init__(self, cached: int = CACHED_SKELETONS) -> None:
        self._cached = cached
        self._skeletons: OrderedDict[Hashable, _Skeleton | None] = OrderedDict()
        self._lock = threading.Lock()

    def wire(self, mail: Mail) -> bytes:
        if self._cached <= 0:
            return wire_bytes(build_message(mail))
        text_cte, text = _encoded_text(mail.text, None)
        html_cte, html = _encoded_text(mail.html, None)
        slots = [_wire(text), _wire(html)]
        plain = [s for s, cte in zip(slots, (text_cte, html_cte), strict=True) if cte == "7bit"]
        if "8bit" in (text_cte, html_cte) or any(_BOUNDARY_MARK in slot for slot in plain):
            return wire_bytes(build_message(mail))
        method = mail.calendar[0] if mail.calendar else None
        shared = tuple((n, v) for n, v in mail.headers if n not in PERSONAL_HEADERS)
        key = (tuple(n for n, _ in mail.headers), shared, text_cte, html_cte, method)
        with self._lock:
            known = key in self._skeletons
            skeleton = self._skeletons.get(key)
            if known:
                self._skeletons.move_to_end(key)
        if not known:
            skeleton = _skeleton(mail, (text_cte, html_cte))
            with self._lock:
                self._skeletons[key] = skeleton
                while len(self._skeletons) > self._cached:
                    self._skeletons.popitem(last=False)
        if skeleton is None:
            return wire_bytes(build_message(mail))
        if mail.calendar is not None:
            ics = _encoded_calendar(mail.calendar[1])
            slots += [ics, ics]
        out = [
            fold_personal(name, value) if name in PERSONAL_HEADERS else folded
            for (name, value), folded in zip(mail.headers, skeleton.headers, strict=True)
        ]
        out.append(skeleton.tail)
        out += [slots[piece] if isinstance(piece, int) else piece for piece in skeleton.body]
        return b"".join(out)


def _skeleton(mail: Mail, ctes: tuple[str, str]) -> _Skeleton | None:
    """The mail flattened with markers in its bodies, split at them; None when the
    flattened message does not have the expected shape (then every one is built in full)."""
    calendar = (mail.calendar[0], _ICS.decode()) if mail.calendar else None
    marked = Mail(mail.headers, _TEXT, _HTML, calendar)
    data = wire_bytes(build_message(marked, ctes))
    head, blank, body = data.partition(b"\r\n\r\n")
    if not blank:
        return None
    groups = re.split(rb"\r\n(?=[^ \t])", head)
    names = tuple(n for n, _ in mail.headers)
    if len(groups) < len(names) or any(
        not g.lower().startswith(n.lower().encode() + b":")
        for g, n in zip(groups[: len(names)], names, strict=True)
    ):
        return None
    headers = tuple(g + b"\r\n" for g in groups[: len(names)])
    tail = b"".join(g + b"\r\n" for g in groups[len(names) :]) + b"\r\n"
    markers = [_wire(_encoded_text(_TEXT, ctes[0])[1]), _wire(_encoded_text(_HTML, ctes[1])[1])]
    if calendar is not None:
        markers.append(_wire(_encode_base64(_ICS, BUILD_POLICY.max_line_length)))
    pieces = re.split(b"(" + b"|".join(re.escape(m) for m in markers) + b")", body)
    shaped: list[bytes | int] = []
    found: list[int] = []
    for i, piece in enumerate(pieces):
        if i % 2:
            slot = markers.index(piece)
            # The calendar is in the message twice: inline, then attached.
            slot = slot if slot < 2 else 2 + found.count(2)
            found.append(min(slot, 2))
            shaped.append(slot)
        elif piece:
            shaped.append(piece)
    expected = [0, 1] + ([2, 2] if calendar is not None else [])
    if found != expected:
        return None
    return _Skeleton(names, headers, tail, tuple(shaped))
