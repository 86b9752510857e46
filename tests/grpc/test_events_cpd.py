"""CPD evidence: certificates for the convenings a member attended (PDF text extracted
with pypdf), their verification page over real HTTP, a correction that voids one, and the
member's record (gRPC, CSV and PDF).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import grpc
import httpx
from pypdf import PdfReader

from copnet.events.v1 import events_pb2 as pb
from copnet.registry.v1 import registry_pb2 as rpb
from tests.support.events_node import Api, Cop, rid
from tests.support.waiting import eventually


def pdf_text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def attendance(api: Api, cop: Cop, convening_id: str, member: str, value: int) -> int:
    return api.events(
        "RecordAttendance",
        pb.RecordAttendanceRequest(
            request_id=rid(),
            convening_id=convening_id,
            entries=[pb.AttendanceEntry(member_id=member, attendance=value)],
        ),
        cop.lead,
    ).position


def certificate(api: Api, convening_id: str, member: str) -> pb.GetCpdCertificateResponse:
    return api.events(
        "GetCpdCertificate", pb.GetCpdCertificateRequest(convening_id=convening_id), member
    )


def test_certificates_for_what_was_attended_and_their_verification(api: Api, clock):
    cop = Cop(api, members=2)
    member, other = cop.members
    first = cop.schedule(title="Enhanced supportive care", start="2024-02-21T12:00",
                         end="2024-02-21T13:00")  # fmt: skip
    second = cop.schedule(title="Acute oncology triage", start="2024-02-22T09:00",
                          end="2024-02-22T11:30")  # fmt: skip
    third = cop.schedule(title="Psycho-oncology referrals", start="2024-02-23T14:00",
                         end="2024-02-23T15:00")  # fmt: skip
    for convening in (first, second, third):
        cop.sign_up(convening.convening_id, member)
    # Organisers give the second two CPD hours (its duration would give 2.5).
    credit = api.events(
        "SetConveningCpd",
        pb.SetConveningCpdRequest(
            request_id=rid(), convening_id=second.convening_id, counts_for_cpd=True, cpd_hours=2
        ),
        cop.facilitator,
    ).credit
    assert credit.cpd_hours == 2 and not credit.hours_from_duration
    bad = api.fails(
        "SetConveningCpd",
        pb.SetConveningCpdRequest(
            request_id=rid(), convening_id=second.convening_id, counts_for_cpd=True, cpd_hours=0.3
        ),
        cop.lead,
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and "cpd_hours" in bad.violations
    not_organiser = api.fails(
        "SetConveningCpd",
        pb.SetConveningCpdRequest(request_id=rid(), convening_id=second.convening_id),
        member,
    )
    assert not_organiser.code == grpc.StatusCode.PERMISSION_DENIED

    clock.set(datetime(2024, 2, 24, 9, tzinfo=UTC))
    attendance(api, cop, first.convening_id, member, pb.ATTENDANCE_ATTENDED)
    attendance(api, cop, second.convening_id, member, pb.ATTENDANCE_ATTENDED)
    attendance(api, cop, third.convening_id, member, pb.ATTENDANCE_NO_SHOW)
    closed = api.events(
        "CloseConvening",
        pb.CloseConveningRequest(
            request_id=rid(),
            convening_id=first.convening_id,
            outcomes=[
                pb.LearningOutcome(
                    kind=pb.OUTCOME_KIND_REPLICABLE_MODEL,
                    text="A model for early palliative referral",
                )
            ],
        ),
        cop.lead,
    )

    one = certificate(api, first.convening_id, member)
    two = certificate(api, second.convening_id, member)
    assert one.content_type == "application/pdf" and one.pdf.startswith(b"%PDF")
    text_one, text_two = pdf_text(one.pdf), pdf_text(two.pdf)
    assert "Enhanced supportive care" in text_one and "1 hour" in text_one
    assert "Cancer Community of Practice" in text_one and "Member 0" in text_one
    assert "Wednesday 21 February 2024" in text_one
    assert "A model for early palliative referral" in text_one
    assert "Lead" in text_one  # the organiser
    assert "Acute oncology triage" in text_two and "2 hours" in text_two
    assert "Enhanced supportive care" not in text_two
    assert one.verification_url in text_one.replace(" ", "")  # printed (wrapped) under the QR
    no_show = api.fails(
        "GetCpdCertificate", pb.GetCpdCertificateRequest(convening_id=third.convening_id), member
    )
    assert no_show.code == grpc.StatusCode.FAILED_PRECONDITION
    stranger = api.fails(
        "GetCpdCertificate",
        pb.GetCpdCertificateRequest(convening_id=first.convening_id, member_id=member),
        other,
    )
    assert stranger.code == grpc.StatusCode.PERMISSION_DENIED

    for answer, title in ((one, "Enhanced supportive care"), (two, "Acute oncology triage")):
        page = httpx.get(answer.verification_url, timeout=10)
        assert page.status_code == 200 and "Certificate genuine" in page.text
        assert title in page.text and "Member 0" in page.text
        # The page links the certificate itself (no gRPC needed).
        download = answer.verification_url.replace("/cpd/verify/", "/cpd/certificates/") + ".pdf"
        assert f'href="{download}"' in page.text
        pdf = httpx.get(download, timeout=10)
        assert pdf.headers["content-type"] == "application/pdf" and title in pdf_text(pdf.content)
    # The member's own feed links each certificate from its convening.
    feed = api.events(
        "IssueCalendarFeed",
        pb.IssueCalendarFeedRequest(request_id=rid(), kind=pb.CALENDAR_FEED_KIND_MEMBER),
        member,
    ).feed
    text = eventually(lambda: (r := httpx.get(feed.url, timeout=10)).status_code == 200 and r.text)
    unfolded = text.replace("\r\n ", "")
    assert one.verification_url in unfolded and two.verification_url in unfolded
    url = one.verification_url
    forged = url[:-3] + ("BBB" if url.endswith("AAA") else "AAA")
    assert httpx.get(forged, timeout=10).status_code == 404

    record = api.events(
        "GetCpdRecord", pb.GetCpdRecordRequest(min_position=closed.position), member
    )
    assert [(a.title, a.hours, a.date) for a in record.activities] == [
        ("Enhanced supportive care", 1.0, "2024-02-21"),
        ("Acute oncology triage", 2.0, "2024-02-22"),
    ]
    assert record.total_hours == 3.0 and record.member_name == "Member 0"
    assert list(record.activities[0].outcomes) == ["A model for early palliative referral"]
    exported = api.events(
        "ExportCpdRecord",
        pb.ExportCpdRecordRequest(format=pb.CPD_RECORD_FORMAT_CSV, from_date="2024-02-22"),
        member,
    )
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [(r["activity"], r["hours"]) for r in rows] == [("Acute oncology triage", "2")]
    as_pdf = api.events(
        "ExportCpdRecord", pb.ExportCpdRecordRequest(format=pb.CPD_RECORD_FORMAT_PDF), member
    )
    assert "Acute oncology triage" in pdf_text(as_pdf.content)
    assert api.fails("GetCpdRecord", pb.GetCpdRecordRequest(member_id=member), other).code == (
        grpc.StatusCode.PERMISSION_DENIED
    )

    # Attendance at the second is corrected: its certificate no longer verifies; the
    # first's still does; a new record leaves it out.
    position = attendance(api, cop, second.convening_id, member, pb.ATTENDANCE_NO_SHOW)
    page = httpx.get(two.verification_url, timeout=10)
    assert page.status_code == 404 and "corrected" in page.text
    voided = two.verification_url.replace("/cpd/verify/", "/cpd/certificates/") + ".pdf"
    assert httpx.get(voided, timeout=10).status_code == 404
    eventually(
        lambda: (
            two.verification_url not in httpx.get(feed.url, timeout=10).text.replace("\r\n ", "")
        )
    )
    assert httpx.get(one.verification_url, timeout=10).status_code == 200
    after = api.events("GetCpdRecord", pb.GetCpdRecordRequest(min_position=position), member)
    assert [a.title for a in after.activities] == ["Enhanced supportive care"]
    # Organisers say the first does not count for CPD after all: it no longer verifies.
    api.events(
        "SetConveningCpd",
        pb.SetConveningCpdRequest(
            request_id=rid(), convening_id=first.convening_id, counts_for_cpd=False
        ),
        cop.lead,
    )
    eventually(lambda: httpx.get(one.verification_url, timeout=10).status_code == 404)


def test_an_erased_member_s_feeds_and_certificates_stop_working(api: Api, clock):
    cop = Cop(api, members=2)
    member, other = cop.members
    convening = cop.schedule(title="Lymphoedema clinic review")
    for who in (member, other):
        cop.sign_up(convening.convening_id, who)
    clock.set(datetime(2024, 2, 21, 12, 30, tzinfo=UTC))
    for who in (member, other):
        attendance(api, cop, convening.convening_id, who, pb.ATTENDANCE_ATTENDED)
    feed = api.events(
        "IssueCalendarFeed",
        pb.IssueCalendarFeedRequest(request_id=rid(), kind=pb.CALENDAR_FEED_KIND_MEMBER),
        member,
    )
    theirs = certificate(api, convening.convening_id, member)
    others = certificate(api, convening.convening_id, other)
    eventually(lambda: httpx.get(feed.feed.url, timeout=10).status_code == 200)
    assert httpx.get(theirs.verification_url, timeout=10).status_code == 200

    api.registry(
        "EraseMember", rpb.EraseMemberRequest(request_id=rid(), member_id=member), "operator"
    )
    # The events service hears of it through its erasures inbox (NATS).
    eventually(lambda: httpx.get(feed.feed.url, timeout=10).status_code == 404)
    page = httpx.get(theirs.verification_url, timeout=10)
    assert page.status_code == 404 and "no longer holds" in page.text
    assert httpx.get(others.verification_url, timeout=10).status_code == 200

    def listed() -> list[tuple[bool, str]]:
        request = pb.ListCalendarFeedsRequest(member_id=member, include_revoked=True)
        return [
            (f.revoked, f.revoke_reason) for f in api.events("ListCalendarFeeds", request).feeds
        ]

    eventually(lambda: listed() == [(True, "member erased")])
