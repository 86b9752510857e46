"""EventsService calls on what a member keeps: calendar feeds (issue, rotate, revoke,
list) and CPD evidence (a convening's CPD credit, certificates, the member's record).
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from copnet.events.v1 import events_pb2 as pb
from services.common.errors import Violations
from services.common.grpc_server import current_caller
from services.common.identity import require_self_or_operator
from services.common.protoconv import timestamp
from services.common.servicer import (
    Context,
    command,
    page,
    parse_uuid,
    read_your_writes,
    run,
)
from services.events import codecs
from services.events.application.evidence import MAX_CPD_MINUTES, Attended
from services.events.cpd import documents
from services.events.domain import CalendarFeed, Convening, FeedKind
from services.events.grpc_api.base import Servicer
from services.events.grpc_api.requests import parse_reason
from services.events.views import FeedRecord
from services.kernel.parsing import parse_optional_date


def parse_cpd_hours(value: float) -> int:
    """Hours in quarter hours, to minutes."""
    minutes = value * 60
    if not 0 < minutes <= MAX_CPD_MINUTES:
        raise ValueError(f"must be more than 0 and at most {MAX_CPD_MINUTES // 60}")
    if minutes % 15:
        raise ValueError("must be in quarter hours (0.25, 0.5, 0.75, ...)")
    return int(minutes)


def feed_pb(feed: CalendarFeed | FeedRecord, url: str = "") -> pb.CalendarFeed:
    if isinstance(feed, CalendarFeed):
        record = FeedRecord(
            feed.id,
            feed.member_id,
            feed.kind.value,
            feed.community_id,
            feed.revoked,
            feed.revoke_reason,
            feed.generation - 1,
            feed.version,
            feed.created_on,
            feed.modified_on,
        )
    else:
        record = feed
    return pb.CalendarFeed(
        feed_id=str(record.feed_id),
        member_id=str(record.member_id),
        kind=codecs.FEED_KIND.to_pb(record.kind),
        community_id=str(record.community_id or ""),
        url=url,
        revoked=record.revoked,
        revoke_reason=record.revoke_reason,
        rotations=record.rotations,
        created_at=timestamp(record.created_at),
        updated_at=timestamp(record.updated_at),
        version=record.version,
    )


def credit_pb(c: Convening) -> pb.CpdCredit:
    return pb.CpdCredit(
        convening_id=str(c.id),
        counts_for_cpd=c.counts_for_cpd,
        cpd_hours=c.cpd_hours,
        hours_from_duration=c.cpd_minutes is None,
        version=c.version,
    )


class EvidenceCalls(Servicer):
    # Calendar feeds

    async def _feed_answer(self, feed: CalendarFeed) -> pb.CalendarFeed:
        url = ""
        if not feed.revoked:
            url = self.evidence.links.feed(feed.id, self.app.feed_url_secret(feed))
        return feed_pb(feed, url)

    async def IssueCalendarFeed(
        self, request: pb.IssueCalendarFeedRequest, context: Context
    ) -> pb.IssueCalendarFeedResponse:
        v = Violations()
        cmd = command(request, "IssueCalendarFeed", v)
        member_id = self._subject_member(request.member_id, v)
        kind = v.check("kind", codecs.FEED_KIND.to_domain, request.kind)
        community_id = None
        if kind is FeedKind.COMMUNITY:
            community_id = v.check("community_id", parse_uuid, request.community_id)
        elif request.community_id:
            v.add("community_id", "is only for a community feed")
        v.raise_if_any()
        outcome = await run(self.app.issue_calendar_feed, cmd, member_id, kind, community_id)
        feed = await self._entity(outcome)
        return pb.IssueCalendarFeedResponse(
            feed=await self._feed_answer(feed), position=outcome.position
        )

    async def RotateCalendarFeed(
        self, request: pb.RotateCalendarFeedRequest, context: Context
    ) -> pb.RotateCalendarFeedResponse:
        v = Violations()
        cmd = command(request, "RotateCalendarFeed", v)
        feed_id = v.check("feed_id", parse_uuid, request.feed_id)
        v.raise_if_any()
        outcome = await run(self.app.rotate_calendar_feed, cmd, feed_id, request.expected_version)
        feed = await self._entity(outcome)
        return pb.RotateCalendarFeedResponse(
            feed=await self._feed_answer(feed), position=outcome.position
        )

    async def RevokeCalendarFeed(
        self, request: pb.RevokeCalendarFeedRequest, context: Context
    ) -> pb.RevokeCalendarFeedResponse:
        v = Violations()
        cmd = command(request, "RevokeCalendarFeed", v)
        feed_id = v.check("feed_id", parse_uuid, request.feed_id)
        reason = parse_reason(v, request.reason)
        v.raise_if_any()
        outcome = await run(self.app.revoke_calendar_feed, cmd, feed_id, reason)
        feed = await self._entity(outcome)
        return pb.RevokeCalendarFeedResponse(feed=feed_pb(feed), position=outcome.position)

    async def ListCalendarFeeds(
        self, request: pb.ListCalendarFeedsRequest, context: Context
    ) -> pb.ListCalendarFeedsResponse:
        v = Violations()
        member_id = self._subject_member(request.member_id, v)
        filters = {"member": str(member_id), "revoked": request.include_revoked}
        page_ = page(request, filters, v)
        v.raise_if_any()
        self._require_self_or_operator(member_id)
        await read_your_writes(self.evidence_follower, request.min_position)
        records, token = await run(
            self.evidence.feeds.list_feeds, page_, member_id, request.include_revoked
        )
        return pb.ListCalendarFeedsResponse(
            feeds=[feed_pb(r) for r in records], next_page_token=token
        )

    def _require_self_or_operator(self, member_id: UUID) -> None:
        require_self_or_operator(current_caller(), member_id, "see their feeds and CPD record")

    # CPD

    async def SetConveningCpd(
        self, request: pb.SetConveningCpdRequest, context: Context
    ) -> pb.SetConveningCpdResponse:
        v = Violations()
        cmd = command(request, "SetConveningCpd", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        minutes = None
        if request.HasField("cpd_hours"):
            minutes = v.check("cpd_hours", parse_cpd_hours, request.cpd_hours)
        v.raise_if_any()
        outcome = await run(
            self.app.set_cpd_credit,
            cmd,
            convening_id,
            request.counts_for_cpd,
            minutes,
            request.expected_version,
        )
        convening = await self._entity(outcome)
        return pb.SetConveningCpdResponse(credit=credit_pb(convening), position=outcome.position)

    async def GetCpdCertificate(
        self, request: pb.GetCpdCertificateRequest, context: Context
    ) -> pb.GetCpdCertificateResponse:
        v = Violations()
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = self._subject_member(request.member_id, v)
        v.raise_if_any()
        document = await run(self.evidence.certificate, current_caller(), convening_id, member_id)
        return pb.GetCpdCertificateResponse(
            pdf=document.content,
            content_type=documents.PDF,
            file_name=document.file_name,
            verification_url=document.verification_url,
        )

    async def _record(
        self, member_raw: str, from_raw: str, before_raw: str, min_position: int, v: Violations
    ) -> tuple[UUID, list[Attended], bool, tuple[date | None, date | None]]:
        member_id = self._subject_member(member_raw, v)
        from_date = v.check("from_date", parse_optional_date, from_raw)
        before_date = v.check("before_date", parse_optional_date, before_raw)
        if from_date and before_date and before_date <= from_date:
            v.add("before_date", "must be after from_date")
        v.raise_if_any()
        self._require_self_or_operator(member_id)
        await read_your_writes(self.follower, min_position)
        found, truncated = await run(self.evidence.activities, member_id, from_date, before_date)
        return member_id, found, truncated, (from_date, before_date)

    async def GetCpdRecord(
        self, request: pb.GetCpdRecordRequest, context: Context
    ) -> pb.GetCpdRecordResponse:
        v = Violations()
        member_id, found, truncated, _ = await self._record(
            request.member_id, request.from_date, request.before_date, request.min_position, v
        )
        entries = await run(lambda: [self.evidence.entry(a) for a in found])
        activities = []
        for attended, entry in zip(found, entries, strict=True):
            c = attended.convening
            activities.append(
                pb.CpdActivity(
                    convening_id=str(c.id),
                    community_id=str(c.community_id),
                    community_name=entry.community_name,
                    title=entry.title,
                    topic=entry.topic,
                    format=entry.format,
                    date=entry.day.isoformat(),
                    starts_at=timestamp(c.slot.starts_at),
                    ends_at=timestamp(c.slot.ends_at),
                    hours=entry.hours,
                    outcomes=list(entry.outcomes),
                    verification_url=entry.verification_url,
                )
            )
        return pb.GetCpdRecordResponse(
            member_id=str(member_id),
            member_name=await run(self.evidence.member_name, member_id),
            activities=activities,
            total_hours=sum(a.hours for a in activities),
            truncated=truncated,
        )

    async def ExportCpdRecord(
        self, request: pb.ExportCpdRecordRequest, context: Context
    ) -> pb.ExportCpdRecordResponse:
        v = Violations()
        if request.format not in (pb.CPD_RECORD_FORMAT_CSV, pb.CPD_RECORD_FORMAT_PDF):
            v.add("format", "must be one of CPD_RECORD_FORMAT_CSV, CPD_RECORD_FORMAT_PDF")
        member_id, found, _, (from_date, before_date) = await self._record(
            request.member_id, request.from_date, request.before_date, request.min_position, v
        )
        content, content_type, suffix = await run(
            self._export, member_id, found, request.format, from_date, before_date
        )
        return pb.ExportCpdRecordResponse(
            content=content, content_type=content_type, file_name=f"cpd-record.{suffix}"
        )

    def _export(
        self,
        member_id: UUID,
        found: list[Attended],
        format_: int,
        from_date: date | None,
        before_date: date | None,
    ) -> tuple[bytes, str, str]:
        entries = [self.evidence.entry(a) for a in found]
        if format_ == pb.CPD_RECORD_FORMAT_CSV:
            return documents.record_csv(entries), documents.CSV, "csv"
        period = (
            f"{from_date.isoformat() if from_date else 'the start'} to "
            f"{before_date.isoformat() if before_date else 'today'}"
        )
        name = self.evidence.member_name(member_id)
        total = sum(e.hours for e in entries)
        return documents.record_pdf(name, period, entries, total), documents.PDF, "pdf"
