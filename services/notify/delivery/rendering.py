"""The template library: every e-mail's subject, plain text and HTML, from Jinja templates.

`templates/` holds one layout per format (`layout.txt`, `layout.html`: greeting,
footer with why the member receives it and the unsubscribe link) and, per kind of
notification, `<kind>.txt` (whose `subject` block is the subject line) and
`<kind>.html`; partials start with `_`. HTML is autoescaped; undefined variables
are errors, so a template and its context cannot drift apart silently.

A mailing (a convening's invitations, a newsletter, a learning notice) sends the
same text to many members but for their name and their unsubscribe link
(`PERSONAL`). `render` renders a kind once per shared context, with markers in
place of those two values, and fills them in per member (HTML-escaped in the HTML,
as autoescaping would); the first member's mail is also rendered in full and
compared, so a template that transforms a personal value (a filter, a subject
naming the member) is simply rendered in full for everyone.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from services.notify.domain import Kind, Topic

_URL = re.compile(r"https?://[^\s<>\"')]+")


def _link(match: re.Match[str]) -> str:
    """A URL as a link; punctuation that ends its sentence stays outside."""
    url = match.group(0).rstrip(".,;:!?")
    tail = match.group(0)[len(url) :]
    return f'<a href="{url}" style="color:#005eb8;">{url}</a>{tail}'


def paragraphs(text: str) -> Markup:
    """Plain text as HTML paragraphs: blank lines separate them, line breaks stay, and
    links become clickable."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    html = []
    for block in blocks:
        linked = _URL.sub(_link, str(escape(block)))
        html.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return Markup("\n".join(html))


# What each topic is, in words a member reads in footers, on the unsubscribe page and in
# the reasons a notification was skipped.
TOPIC_PHRASES = {
    Topic.INVITATIONS: "invitations to your communities' meetings",
    Topic.MY_SIGN_UPS: "reminders and updates for meetings you signed up to",
    Topic.LEARNING: "e-mails about new learning",
    Topic.NEWSLETTERS: "newsletters",
}


def label(value: str) -> str:
    """An enum value as a label: 'face_to_face' -> 'Face to face'."""
    return value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


# The context values that differ from one member of a mailing to the next, and the markers
# rendered in their place (NUL never survives the kernel's text parsing, so no one's words
# can contain a marker).
PERSONAL = ("member_name", "unsubscribe_url")
_MARKERS = {key: f"\x00{key}\x00" for key in PERSONAL}
CACHED_MAILINGS = 256


def frozen(value: Any) -> Hashable:
    """A context as a hashable key: equal keys render equal mail (types are kept, so a
    tuple and a list of the same items stay apart)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), frozen(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(frozen(v) for v in value))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted(repr(frozen(v)) for v in value)))
    if isinstance(value, Markup):
        return ("markup", str(value))
    return (type(value).__name__, value)


@dataclass(frozen=True)
class _Shared:
    """A kind rendered once for a shared context, markers in place of the personal values;
    None texts: rendered in full per member."""

    subject: str
    text: str | None
    html: str | None

    def personalise(self, context: dict[str, Any]) -> RenderedMail:
        assert self.text is not None and self.html is not None
        text, html = self.text, self.html
        for key, marker in _MARKERS.items():
            value = str(context[key])
            text = text.replace(marker, value)
            html = html.replace(marker, str(escape(value)))
        return RenderedMail(subject=self.subject, text=_tidy(text), html=html)


class TemplateLibrary:
    def __init__(self, cached: int = CACHED_MAILINGS) -> None:
        self.environment = Environment(
            loader=PackageLoader("services.notify.delivery", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # templates are part of the release: no stat per message
        )
        self.environment.filters["paragraphs"] = paragraphs
        self._cached = cached
        self._shared: OrderedDict[Hashable, _Shared] = OrderedDict()
        self._lock = threading.Lock()

    def kinds(self) -> list[str]:
        return [kind.value for kind in Kind]

    def render(self, kind: Kind, context: dict[str, Any]) -> RenderedMail:
        """The mail of `kind` for `context`: from the shared rendering of its mailing when
        there is one, else rendered in full (and kept for the next member)."""
        if self._cached <= 0 or not all(key in context for key in PERSONAL):
            return self.render_full(kind, context)
        markers = {key: _MARKERS[key] if context[key] else "" for key in PERSONAL}
        shared_context = {**context, **markers}
        try:
            key = (kind, frozen(shared_context))
            hash(key)
        except TypeError:  # a value that cannot be a key: nothing shared
            return self.render_full(kind, context)
        with self._lock:
            shared = self._shared.get(key)
            if shared is not None:
                self._shared.move_to_end(key)
        if shared is not None and shared.text is not None:
            return shared.personalise(context)
        full = self.render_full(kind, context)
        if shared is None:
            self._keep(key, self._share(kind, shared_context, full, context))
        return full

    def _share(
        self, kind: Kind, shared_context: dict[str, Any], full: RenderedMail, context: dict
    ) -> _Shared:
        marked = self.render_full(kind, shared_context, tidy=False)
        shared = _Shared(marked.subject, marked.text, marked.html)
        if "\x00" in marked.subject or shared.personalise(context) != full:
            return _Shared(full.subject, None, None)  # a personal value is not used as is
        return shared

    def _keep(self, key: Hashable, shared: _Shared) -> None:
        with self._lock:
            self._shared[key] = shared
            while len(self._shared) > self._cached:
                self._shared.popitem(last=False)

    def render_full(self, kind: Kind, context: dict[str, Any], tidy: bool = True) -> RenderedMail:
        """The mail rendered from its templates, nothing shared."""
        text_template = self.environment.get_template(f"{kind.value}.txt")
        subject_block = text_template.blocks["subject"]
        subject = " ".join("".join(subject_block(text_template.new_context(context))).split())
        full = {**context, "subject": subject}
        text = text_template.render(full)
        html = self.environment.get_template(f"{kind.value}.html").render(full)
        return RenderedMail(subject=subject, text=_tidy(text) if tidy else text, html=html)


def _tidy(text: str) -> str:
    """At most one blank line in a row, and none at the start."""
    return re.sub(r"\n{3,}", "\n\n", text).lstrip("\n")
