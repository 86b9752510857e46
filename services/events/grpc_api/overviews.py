"""EventsService calls that look across convenings: calendars, analytics, and what the
service knows of a community.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from copnet.events.v1 import events_pb2 as pb
from services.common.errors import NotFound, Violations
from services.common.grpc_server import current_caller
from services.common.paging import Page
from services.common.protoconv import optional_time
from services.common.servicer import (
    Context,
    member_export,
    page,
    parse_optional_uuid,
    read_your_writes,
    required_uuid,
    run,
)
from services.events import calendar, codecs
from services.events.grpc_api.base import Servicer
from services.events.grpc_api.responses import metrics_pb
from services.events.values import Grouping
from services.events.views import ConveningRecord
from services.kernel.parsing import parse_optional_date

CALENDAR_LIMIT = 1000
CALENDAR_LOOKBACK = timedelta(days=365)


class OverviewCalls(Servicer):
    async def GetConveningCalendar(
        self, request: pb.GetConveningCalendarRequest, context: Context
    ) -> pb.GetConveningCalendarResponse:
        convening_id = required_uuid("convening_id", request.convening_id)
        convening = await run(self.app.convening, convening_id)
        caller = current_caller()
        show = await run(self.app.may_join_online, caller, convening)
        entry = calendar.CalendarEntry(ConveningRecord.of(convening), show)
        ics = await run(self._ics, [entry], convening.details.title, calendar.uid_of(convening.id))
        return pb.GetConveningCalendarResponse(
            ics=ics, content_type=calendar.CONTENT_TYPE, file_name=f"convening-{convening.id}.ics"
        )

    async def GetCommunityCalendar(
        self, request: pb.GetCommunityCalendarRequest, context: Context
    ) -> pb.GetCommunityCalendarResponse:
        community_id = required_uuid("community_id", request.community_id)
        v = Violations()
        starts_from = v.check("starts_from", optional_time, request, "starts_from")
        v.raise_if_any()
        starts_from = starts_from or (self.app.clock.now() - CALENDAR_LOOKBACK)
        community = await run(self.mirror.community, community_id)
        if community is None:
            raise NotFound(f"community {community_id} is not known to the events service")
        await read_your_writes(self.follower, request.min_position)
        records, _ = await run(
            self.schedule.list_convenings,
            Page(size=CALENDAR_LIMIT, after=None, filters_digest=""),
            str(community_id),
            "",
            "",
            starts_from,
            None,
        )
        visible = await run(self._join_links_visible, records)
        entries = [calendar.CalendarEntry(r, r.convening_id in visible) for r in records]
        ics = await run(self._ics, entries, community.name, f"{community_id}@copnet")
        return pb.GetCommunityCalendarResponse(
            ics=ics, content_type=calendar.CONTENT_TYPE, file_name=f"{community.slug}.ics"
        )

    def _ics(self, entries: list[calendar.CalendarEntry], name: str, uid: str) -> str:
        communities: dict[UUID, str] = {}
        organisers: set[UUID] = set()
        for entry in entries:
            organisers.update(entry.convening.organiser_ids[:1])

        def community_name(community_id: UUID) -> str:
            if community_id not in communities:
                known = self.mirror.community(community_id)
                communities[community_id] = known.name if known else "a community of practice"
            return communities[community_id]

        names = self.mirror.display_names(organisers)
        return calendar.calendar(entries, name, uid, community_name, names)

    # Analytics

    async def GetAnalytics(
        self, request: pb.GetAnalyticsRequest, context: Context
    ) -> pb.GetAnalyticsResponse:
        v = Violations()
        grouping = v.check("group_by", codecs.GROUPING.to_domain, request.group_by)
        community = v.check("community_id", parse_optional_uuid, request.community_id)
        from_date = v.check("from_date", parse_optional_date, request.from_date)
        before_date = v.check("before_date", parse_optional_date, request.before_date)
        filters = {
            "group_by": grouping or "",
            "community": str(community or ""),
            "from": request.from_date,
            "before": request.before_date,
        }
        page_ = page(request, filters, v)
        v.raise_if_any()
        await read_your_writes(self.follower, request.min_position)
        groups, totals, token = await run(
            self.schedule.analytics,
            page_,
            grouping.value,
            self.app.clock.now(),
            str(community or ""),
            from_date,
            before_date,
        )
        if grouping is Grouping.COMMUNITY:
            for group in groups:
                known = await run(self.mirror.community, UUID(group.key))
                group.label = known.name if known else group.key
        return pb.GetAnalyticsResponse(
            groups=[metrics_pb(m) for m in groups],
            totals=metrics_pb(totals),
            next_page_token=token,
        )

    # Communities

    async def GetCommunity(
        self, request: pb.GetCommunityRequest, context: Context
    ) -> pb.GetCommunityResponse:
        community_id = required_uuid("community_id", request.community_id)
        community = await run(self.mirror.community, community_id)
        position = await run(self.mirror.registry_position)
        if community is None:
            raise NotFound(
                f"community {community_id} is not known to the events service (registry events "
                f"applied up to position {position})"
            )
        organisers = await run(self.mirror.organisers, community_id, self.app.clock.today())
        may_organise = await run(self.app.may_organise, current_caller(), community)
        return pb.GetCommunityResponse(
            community=pb.Community(
                community_id=str(community.community_id),
                slug=community.slug,
                name=community.name,
                joining_policy=codecs.JOINING_POLICY.to_pb(community.joining_policy),
                lifecycle=codecs.LIFECYCLE.to_pb(community.lifecycle),
                organiser_ids=[str(m) for m in organisers],
                caller_may_organise=may_organise,
            ),
            registry_position=position,
        )

    async def ExportMemberData(
        self, request: pb.ExportMemberDataRequest, context: Context
    ) -> pb.ExportMemberDataResponse:
        document = await member_export(request.member_id, self._member_data)
        return pb.ExportMemberDataResponse(document_json=document)

    def _member_data(self, member_id: UUID) -> dict[str, Any]:
        """The schedule's rows about the member, and their calendar feeds (without URLs)."""
        return {
            **self.schedule.member_data(member_id),
            **self.evidence.feeds.member_data(member_id),
        }
