"""CPD documents: a certificate of attendance (PDF with a QR code) and a member's record
(PDF or CSV), in the shape revalidation portfolios ask for (activity, date, hours, what
was learned).

PDFs use fpdf2's core Helvetica, which covers Latin-1: other characters are written
without their accents where that is possible, else as "?" (`latin1`).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

PDF = "application/pdf"
CSV = "text/csv; charset=utf-8"
MAX_OUTCOME_CHARS = 600


@dataclass(frozen=True)
class CpdEntry:
    """One attended convening, as a CPD record lists it."""

    title: str
    topic: str
    community_name: str
    format: str
    # The local date it started on, and its local times ("19:00-20:30 Europe/London").
    day: date
    times: str
    hours: float
    outcomes: tuple[str, ...]
    verification_url: str


@dataclass(frozen=True)
class CertificateFacts:
    member_name: str
    entry: CpdEntry
    organiser_names: tuple[str, ...]
    node_id: str
    reference: str
    issued_on: date


def latin1(text: str) -> str:
    """Text the core PDF fonts can show: each other character without its accents where
    that is enough ("Ž" as "Z"), else "?"."""
    return "".join(c if ord(c) < 256 else _plain(c) for c in text)


def _plain(c: str) -> str:
    base = "".join(d for d in unicodedata.normalize("NFKD", c) if not unicodedata.combining(d))
    return base if base and all(ord(d) < 256 for d in base) else "?"


def hours_text(hours: float) -> str:
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def certificate_pdf(facts: CertificateFacts) -> bytes:
    """A certificate of attendance (fpdf2 and segno, about 22 MB, load with the first PDF:
    `pdf.py`)."""
    from services.events.cpd import pdf

    return pdf.certificate_pdf(facts)


def record_pdf(
    member_name: str, period: str, entries: Sequence[CpdEntry], total_hours: float
) -> bytes:
    """A member's CPD record as a PDF (`pdf.py`)."""
    from services.events.cpd import pdf

    return pdf.record_pdf(member_name, period, entries, total_hours)


RECORD_COLUMNS = ("date", "activity", "community", "topic", "format", "hours", "what was learned")


def record_csv(entries: Sequence[CpdEntry]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*RECORD_COLUMNS, "certificate"])
    for e in entries:
        writer.writerow(
            [
                e.day.isoformat(),
                _cell(e.title),
                _cell(e.community_name),
                _cell(e.topic),
                e.format,
                f"{e.hours:g}",
                _cell("; ".join(e.outcomes)),
                e.verification_url,
            ]
        )
    return out.getvalue().encode()


def _cell(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: such text gets a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
