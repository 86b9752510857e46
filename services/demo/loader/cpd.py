"""What a member keeps, shown with the cancer CoP: a short webinar held while the demo
loads (the seed's 2023 convenings were imported as counts, so nobody in them is named),
three generated members signed up, two recorded as attending; one of them gets a CPD
certificate (written to `<demo dir>/cpd/`) and a calendar feed URL.

Loading again finds the webinar by its title and replays every other call (same
request ids), so it adds nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from copnet.events.v1 import events_pb2 as epb
from services.demo.client import NodeClient
from services.demo.loader.base import MemberKeeps, Steps

TITLE = "Cancer CoP journal club: Enhanced Supportive Care"
TIME_ZONE = "Europe/London"
# How far ahead of loading it starts (it may start only in the future).
LEAD_TIME = timedelta(seconds=2)


class CpdSteps(Steps):
    def cpd(self) -> None:
        spec = self.scenario.community(self.scenario.cancer_community)
        client = self.clients[spec.node_id]
        lead = self.loaded.founder(spec.key)
        community_id = self.loaded.communities[spec.key]
        people = [m.member_id for m in self.loaded.members[spec.key][1:4]]
        convening_id, starts_at = self._journal_club(client, community_id, lead)
        for member in people:
            client.call(
                "events",
                "SignUp",
                epb.SignUpRequest(
                    request_id=client.request_id("cpd-sign-up", member),
                    convening_id=convening_id,
                ),
                member=member,
            )
        client.wait_until("the journal club starting", lambda: datetime.now(UTC) >= starts_at)
        came = epb.ATTENDANCE_ATTENDED
        client.call(
            "events",
            "RecordAttendance",
            epb.RecordAttendanceRequest(
                request_id=client.request_id("cpd-attendance", convening_id),
                convening_id=convening_id,
                entries=[
                    epb.AttendanceEntry(
                        member_id=m, attendance=came if i < 2 else epb.ATTENDANCE_NO_SHOW
                    )
                    for i, m in enumerate(people)
                ],
            ),
            member=lead,
        )
        client.call(
            "events",
            "CloseConvening",
            epb.CloseConveningRequest(
                request_id=client.request_id("cpd-close", convening_id),
                convening_id=convening_id,
                outcomes=[
                    epb.LearningOutcome(
                        kind=epb.OUTCOME_KIND_ONLINE_RESOURCE,
                        text="Early referral criteria for enhanced supportive care, shared",
                    )
                ],
            ),
            member=lead,
        )
        member = people[0]
        certificate = client.call(
            "events",
            "GetCpdCertificate",
            epb.GetCpdCertificateRequest(convening_id=convening_id),
            member=member,
        )
        folder = client.access.data_dir.parent / "cpd"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / certificate.file_name
        path.write_bytes(certificate.pdf)
        feed = client.call(
            "events",
            "IssueCalendarFeed",
            epb.IssueCalendarFeedRequest(
                request_id=client.request_id("cpd-feed", member),
                kind=epb.CALENDAR_FEED_KIND_MEMBER,
            ),
            member=member,
        ).feed
        self.loaded.keeps = MemberKeeps(
            member, convening_id, feed.url, path, certificate.verification_url
        )
        self.say(
            f"  {spec.name}: '{TITLE}' held, 2 of 3 attended; a certificate in {path}; "
            f"a member's calendar feed at {feed.url}"
        )

    def _journal_club(
        self, client: NodeClient, community_id: str, lead: str
    ) -> tuple[str, datetime]:
        """The journal club (found if an earlier load scheduled it) and when it starts."""
        found = client.call(
            "events",
            "ListConvenings",
            epb.ListConveningsRequest(
                community_id=community_id,
                page_size=200,
                min_position=client.positions.get("events", 0),
            ),
        )
        for convening in found.convenings:
            if convening.title == TITLE:
                return convening.convening_id, convening.starts_at.ToDatetime(tzinfo=UTC)
        local = datetime.now(ZoneInfo(TIME_ZONE)).replace(microsecond=0) + LEAD_TIME
        end = local + timedelta(hours=1)
        wall = "%Y-%m-%dT%H:%M:%S"
        reply = client.call(
            "events",
            "ScheduleConvening",
            epb.ScheduleConveningRequest(
                request_id=client.request_id("cpd-journal-club", time.time_ns()),
                community_id=community_id,
                title=TITLE,
                topic="Enhanced Supportive Care",
                format=epb.CONVENING_FORMAT_WEBINAR,
                join_link="https://meet.example.org/cancer-cop-journal-club",
                start=local.strftime(wall),
                end=end.strftime(wall),
                time_zone=TIME_ZONE,
                registration_closes=end.strftime(wall),
            ),
            member=lead,
        )
        return reply.convening.convening_id, local.astimezone(UTC)
