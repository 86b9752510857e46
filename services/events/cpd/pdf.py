"""The CPD documents as PDFs (fpdf2's core Helvetica, a QR code by segno): imported by
`documents` when the first PDF is asked for, so an events service that makes none
holds neither library."""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from services.events.cpd.documents import (
    MAX_OUTCOME_CHARS,
    CertificateFacts,
    CpdEntry,
    hours_text,
    latin1,
)


class _Document(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.set_title(latin1(title))
        self.set_creator("copnet")
        self.set_auto_page_break(True, margin=18)
        self.set_margins(20, 20, 20)
        self.add_page()

    def line_of(self, text: str, size: float = 11, style: str = "", align: str = "L") -> None:
        self.set_font("Helvetica", style, size)
        text = latin1(text)
        height = size * 0.5
        room = self.epw - 2 * self.c_margin
        width = self.get_string_width(text)
        # fpdf2's line breaking costs milliseconds a line (more for a long link): text that
        # fits is one cell, a link too long is cut into pieces that fit.
        if width < room:
            self.cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        elif " " not in text.strip():
            step = max(1, int(len(text) * room / width) - 1)
            for start in range(0, len(text), step):
                piece = text[start : start + step]
                self.cell(0, height, piece, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            self.multi_cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def gap(self, height: float = 4) -> None:
        self.ln(height)


def certificate_pdf(facts: CertificateFacts) -> bytes:
    e = facts.entry
    pdf = _Document(f"Certificate of attendance: {e.title}")
    pdf.line_of("Certificate of attendance", 22, "B", "C")
    pdf.line_of("Continuing professional development", 12, "", "C")
    pdf.gap(8)
    pdf.line_of("This certifies that", 11, "", "C")
    pdf.line_of(facts.member_name, 18, "B", "C")
    pdf.line_of("attended", 11, "", "C")
    pdf.line_of(e.title, 15, "B", "C")
    pdf.line_of(f"a convening of {e.community_name}", 11, "", "C")
    pdf.gap(6)
    rows = [
        ("Date", f"{e.day.strftime('%A %d %B %Y')}, {e.times}"),
        ("CPD hours", hours_text(e.hours)),
        ("Format", e.format.replace("_", " ")),
    ]
    if e.topic:
        rows.append(("Topic", e.topic))
    if facts.organiser_names:
        rows.append(("Organisers", ", ".join(facts.organiser_names)))
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(35, 6, latin1(label))
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if e.outcomes:
        pdf.gap()
        pdf.line_of("Learning outcomes recorded", 12, "B")
        for outcome in e.outcomes:
            pdf.line_of(f"- {outcome[:MAX_OUTCOME_CHARS]}", 10)
    pdf.gap(8)
    top = pdf.get_y()
    qr = io.BytesIO()
    segno.make(e.verification_url, error="m").save(qr, kind="png", scale=4, border=2)
    qr.seek(0)
    pdf.image(qr, x=pdf.l_margin, y=top, w=32, h=32)
    pdf.set_xy(pdf.l_margin + 38, top)
    pdf.set_font("Helvetica", "", 9)
    lines = [
        f"Issued on {facts.issued_on.isoformat()} by copnet node {facts.node_id}.",
        "Check that this certificate is genuine at:",
        e.verification_url,
        f"Reference: {facts.reference}",
    ]
    for text in lines:
        pdf.set_x(pdf.l_margin + 38)
        link = e.verification_url if text == e.verification_url else None
        pdf.multi_cell(0, 5, latin1(text), link=link, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def record_pdf(
    member_name: str, period: str, entries: Sequence[CpdEntry], total_hours: float
) -> bytes:
    pdf = _Document(f"CPD record: {member_name}")
    pdf.line_of("Record of continuing professional development", 16, "B")
    pdf.line_of(f"{member_name} - {period}", 11)
    pdf.line_of(f"{len(entries)} activities, {hours_text(total_hours)} in all", 11)
    pdf.gap()
    for e in entries:
        pdf.line_of(f"{e.day.isoformat()}  {e.title}  ({hours_text(e.hours)})", 11, "B")
        pdf.line_of(f"{e.community_name}; {e.format.replace('_', ' ')}; {e.times}", 9)
        if e.topic:
            pdf.line_of(f"Topic: {e.topic}", 9)
        for outcome in e.outcomes:
            pdf.line_of(f"Learned: {outcome[:MAX_OUTCOME_CHARS]}", 9)
        if e.verification_url:
            pdf.line_of("Certificate:", 8)
            pdf.line_of(e.verification_url, 7)
        pdf.gap(3)
    return bytes(pdf.output())
