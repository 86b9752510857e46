"""Feed URL secrets and certificate references: derived, unforgeable, canonical; and the
CSV record's cells that spreadsheets would run."""

from __future__ import annotations

import csv
import io
from datetime import date
from uuid import uuid4

import pytest

from services.events.cpd.documents import CpdEntry, latin1, record_csv
from services.events.cpd.keys import CertificateClaim, CertificateTokens, FeedSecrets, secret_hash


def test_feed_secrets_are_per_feed_and_generation_and_stored_only_hashed():
    secrets = FeedSecrets(b"k" * 32)
    feed = uuid4()
    first, second = secrets.secret(feed, 1), secrets.secret(feed, 2)
    assert first == secrets.secret(feed, 1) and first != second
    assert first != secrets.secret(uuid4(), 1)
    assert FeedSecrets(b"j" * 32).secret(feed, 1) != first  # another node's key
    assert len(first) == 32 and first not in secrets.hash(feed, 1)
    assert FeedSecrets.matches(first, secrets.hash(feed, 1))
    assert not FeedSecrets.matches(second, secrets.hash(feed, 1))
    assert not FeedSecrets.matches("", secret_hash(""))
    assert not FeedSecrets.matches("x" * 1000, secret_hash("x" * 1000))


def test_certificate_references_round_trip_and_refuse_any_change():
    tokens = CertificateTokens(b"c" * 32)
    claim = CertificateClaim(uuid4(), uuid4(), 12, 150)
    token = tokens.issue(claim)
    assert tokens.read(token) == claim
    payload, mac = token.split(".")
    for bad in (
        "",
        token + "A",
        f"{payload}.{mac[:-1]}B" if not mac.endswith("B") else f"{payload}.{mac[:-1]}C",
        f"{payload[:-2]}AA.{mac}",
        f"{payload}={mac}",
        f"{payload}.{mac}.x",
        "a" * 500,
    ):
        with pytest.raises(ValueError):
            tokens.read(bad)
    with pytest.raises(ValueError, match="not issued by this node"):
        CertificateTokens(b"d" * 32).read(token)


def test_the_csv_record_quotes_what_a_spreadsheet_would_run():
    entry = CpdEntry(
        "=HYPERLINK(1)", "", "Cancer CoP", "webinar", date(2024, 2, 21), "12:00-13:00", 1.5,
        ("+1 idea", "shared"), "https://node/cpd/verify/x",
    )  # fmt: skip
    (row,) = csv.DictReader(io.StringIO(record_csv([entry]).decode()))
    assert row["activity"] == "'=HYPERLINK(1)" and row["hours"] == "1.5"
    assert row["what was learned"] == "'+1 idea; shared"


def test_pdf_text_keeps_latin1_and_drops_only_what_it_cannot_show():
    assert latin1("Zoë Ødegård") == "Zoë Ødegård"
    assert latin1("Žofie Łukasz") == "Zofie ?ukasz"
