"""The template library: every e-mail's subject, plain text and HTML, from Jinja templates.

`templates/` holds one layout per format (`layout.txt`, `layout.html`: greeting,
footer with why the member receives it and the unsubscribe link) and, per kind of
notification, `<kind>.txt` (whose `subject` block is the subject line) and
`<kind>.html`; partials start with `_`. HTML is autoescaped; undefined variables
are errors, so a template and its context cannot drift apart silently.
"""

from __future__ import annotations

import re
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


class TemplateLibrary:
    def __init__(self) -> None:
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

    def kinds(self) -> list[str]:
        return [kind.value for kind in Kind]

    def render(self, kind: Kind, context: dict[str, Any]) -> RenderedMail:
        text_template = self.environment.get_template(f"{kind.value}.txt")
        subject_block = text_template.blocks["subject"]
        subject = " ".join("".join(subject_block(text_template.new_context(context))).split())
        full = {**context, "subject": subject}
        text = text_template.render(full)
        html = self.environment.get_template(f"{kind.value}.html").render(full)
        return RenderedMail(subject=subject, text=_tidy(text), html=html)


def _tidy(text: str) -> str:
    """At most one blank line in a row, and none at the start."""
    return re.sub(r"\n{3,}", "\n\n", text).lstrip("\n")
