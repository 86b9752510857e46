"""The API's edges, one test per defect an integrator found (issue 14): undecodable requests,
out-of-range times, unbounded error payloads, read-your-writes across services, the
inconsistent answers, and the line endings of e-mailed iCalendar parts. One real node
(NATS, the four services, an SMTP server), real gRPC."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from copnet.events.v1 import events_pb2 as epb
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.notify.v1 import notify_pb2 as npb
from copnet.registry.v1 import registry_pb2 as rpb
from services.common.guard import CONSISTENCY_TIMEOUT, MAX_MESSAGE_BYTES, MAX_VIOLATIONS
from services.events.values import MAX_ORGANISERS
from tests.support.events_node import Cop, Failure
from tests.support.events_world import MovableClock
from tests.support.notify_node import (
    NotifyNode,
    email_of,
    schedule_in,
    start_notify_node,
    stop_notify_node,
)
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually

START = datetime(2024, 1, 8, 9, tzinfo=UTC)
TRAILERS_LIMIT = 8 * 1024


def rid() -> str:
    return str(uuid.uuid4())


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpSink) -> Iterator[NotifyNode]:
    running = start_notify_node(tmp_path_factory.mktemp("api-edge"), MovableClock(START), smtp)
    yield running
    stop_notify_node(running)


@pytest.fixture(scope="module")
def cop(node: NotifyNode) -> Cop:
    assert node.api is not None
    return Cop(node.api, members=2)


def trailers_size(error: grpc.RpcError) -> int:
    return sum(
        len(k) + len(v if isinstance(v, bytes) else v.encode())
        for k, v in error.trailing_metadata() or ()
    )


def fails(call, method: str, request, who: str | None = None) -> Failure:
    with pytest.raises(grpc.RpcError) as raised:
        call(method, request, who)
    return Failure(raised.value)


def raw_call(node: NotifyNode, channel: grpc.Channel, method: str, payload: bytes) -> Failure:
    call = channel.unary_unary(method)  # identity serializers: the bytes go out as they are
    assert node.api is not None
    with pytest.raises(grpc.RpcError) as raised:
        call(payload, metadata=node.api._metadata(None), timeout=30)
    return Failure(raised.value)


# 1. Requests that do not decode


def test_invalid_utf8_in_a_string_field_is_invalid_argument(node: NotifyNode):
    assert node.api is not None
    # CreateOrganisation{name: "Trust \ud83e"}: field 2, an emoji cut in half.
    name = b"Trust " + "\U0001f9e1".encode()[:3]
    payload = bytes([0x12, len(name)]) + name
    failure = raw_call(
        node, node.api.registry_channel, "/copnet.registry.v1.RegistryService/CreateOrganisation",
        payload,
    )  # fmt: skip
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT, failure
    assert "request" in failure.violations and "CreateOrganisationRequest" in failure.message
    assert "<class" not in failure.message and "DecodeError" not in failure.message


def test_a_truncated_message_is_invalid_argument_on_every_service(node: NotifyNode):
    assert node.api is not None
    calls = {
        node.api.events_channel: "/copnet.events.v1.EventsService/ListConvenings",
        node.channels["learning"]: "/copnet.learning.v1.LearningService/SearchCatalogue",
        node.channels["notify"]: "/copnet.notify.v1.NotifyService/GetPreferences",
    }
    for channel, method in calls.items():
        failure = raw_call(node, channel, method, b"\x0a\xff\x01abc")  # length beyond the end
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT, (method, failure)


def test_a_bad_request_is_still_unauthenticated_without_a_token(node: NotifyNode):
    assert node.api is not None
    call = node.api.registry_channel.unary_unary(
        "/copnet.registry.v1.RegistryService/CreateOrganisation"
    )
    with pytest.raises(grpc.RpcError) as raised:
        call(b"\x12\x02\xff\xfe", timeout=10)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


# 2. Times out of range


def test_times_out_of_range_are_field_violations(node: NotifyNode, cop: Cop):
    assert node.api is not None
    far = node.api.fails(
        "ScheduleConvening",
        epb.ScheduleConveningRequest(
            request_id=rid(), community_id=cop.community_id, title="Far", topic="Far",
            format=epb.CONVENING_FORMAT_WEBINAR, join_link="https://meet.nhs.uk/far",
            start="9999-12-31T22:00", end="9999-12-31T23:00", time_zone="Etc/GMT+12",
        ),
        cop.lead,
    )  # fmt: skip
    assert far.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "1900 and 2200" in far.violations["start"]
    for stamp in (
        Timestamp(seconds=10**12),
        Timestamp(seconds=-62135596801),
        Timestamp(seconds=0, nanos=2_000_000_000),
    ):
        listed = node.api.fails("ListConvenings", epb.ListConveningsRequest(starts_from=stamp))
        assert listed.code == grpc.StatusCode.INVALID_ARGUMENT
        assert set(listed.violations) == {"starts_from"}
        before = node.api.fails("ListConvenings", epb.ListConveningsRequest(starts_before=stamp))
        assert set(before.violations) == {"starts_before"}
        feed = node.api.fails(
            "GetCommunityCalendar",
            epb.GetCommunityCalendarRequest(community_id=cop.community_id, starts_from=stamp),
        )
        assert set(feed.violations) == {"starts_from"}
    search = fails(
        node.learning,
        "SearchCatalogue",
        lpb.SearchCatalogueRequest(published_from="garbage", published_until="soon"),
    )
    assert search.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(search.violations) == {"published_from", "published_until"}
    old = fails(
        node.learning, "SearchCatalogue", lpb.SearchCatalogueRequest(published_from="1066-10-14")
    )
    assert "1900 and 2200" in old.violations["published_from"]


def test_plans_reaching_beyond_the_years_are_field_violations(node: NotifyNode, cop: Cop):
    assert node.api is not None
    for rule, zone in (
        ("FREQ=YEARLY;INTERVAL=1000;COUNT=9", "Europe/London"),
        ("FREQ=DAILY;UNTIL=99991231T235959Z", "Etc/GMT-14"),
    ):
        plan = node.api.fails(
            "CreateMeetingPlan",
            epb.CreateMeetingPlanRequest(
                request_id=rid(), community_id=cop.community_id, title="Far", time_zone=zone,
                format=epb.CONVENING_FORMAT_WEBINAR, join_link="https://meet.nhs.uk/far",
                duration_minutes=60,
                recurrence=epb.Recurrence(rule=rule, first_start="2199-12-01T10:00"),
            ),
            cop.lead,
        )  # fmt: skip
        assert plan.code == grpc.StatusCode.INVALID_ARGUMENT, plan
        assert "1900 and 2200" in plan.violations["recurrence.rule"]


def test_huge_search_text_is_invalid_argument(node: NotifyNode):
    huge = fails(node.learning, "SearchCatalogue", lpb.SearchCatalogueRequest(text="care " * 20000))
    assert huge.code == grpc.StatusCode.INVALID_ARGUMENT and "text" in huge.violations


# 3. Bounded errors and lists


def test_organiser_ids_are_bounded_and_unknown_ones_are_listed_briefly(node: NotifyNode, cop: Cop):
    assert node.api is not None

    def schedule(organisers: list[str]) -> Failure:
        with pytest.raises(grpc.RpcError) as raised:
            node.api.events(  # type: ignore[union-attr]
                "ScheduleConvening",
                epb.ScheduleConveningRequest(
                    request_id=rid(), community_id=cop.community_id, title="T", topic="T",
                    format=epb.CONVENING_FORMAT_WEBINAR, join_link="https://meet.nhs.uk/t",
                    start="2024-03-01T10:00", end="2024-03-01T11:00", organiser_ids=organisers,
                ),
                cop.lead,
            )  # fmt: skip
        assert trailers_size(raised.value) < TRAILERS_LIMIT
        return Failure(raised.value)

    too_many = schedule([rid() for _ in range(400)])
    assert too_many.code == grpc.StatusCode.INVALID_ARGUMENT
    assert too_many.violations == {"organiser_ids": f"must name at most {MAX_ORGANISERS}"}
    strangers = schedule([rid() for _ in range(MAX_ORGANISERS)])
    assert strangers.code == grpc.StatusCode.FAILED_PRECONDITION
    assert f"and {MAX_ORGANISERS - 10} more" in strangers.message
    assert len(strangers.message.encode()) <= MAX_MESSAGE_BYTES


def test_attendance_errors_are_bounded(node: NotifyNode, cop: Cop):
    assert node.api is not None
    convening = schedule_in(cop, node, days=1)
    node.clock.set(START + timedelta(days=1, hours=1))
    try:
        people = [epb.AttendanceEntry(member_id=rid(), attendance=epb.ATTENDANCE_ATTENDED)]
        with pytest.raises(grpc.RpcError) as raised:
            node.api.events(
                "RecordAttendance",
                epb.RecordAttendanceRequest(
                    request_id=rid(), convening_id=convening.convening_id, entries=people * 600
                ),
            )
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # named 600 times
        assert trailers_size(raised.value) < TRAILERS_LIMIT
        failure = Failure(raised.value)
        assert len(failure.violations) <= MAX_VIOLATIONS
        assert any("more violations" in text for text in failure.violations.values())
        strangers = [
            epb.AttendanceEntry(member_id=rid(), attendance=epb.ATTENDANCE_ATTENDED)
            for _ in range(600)
        ]
        unknown = node.api.fails(
            "RecordAttendance",
            epb.RecordAttendanceRequest(
                request_id=rid(), convening_id=convening.convening_id, entries=strangers
            ),
        )
        assert unknown.code == grpc.StatusCode.FAILED_PRECONDITION
        assert (
            "and 590 more" in unknown.message and len(unknown.message.encode()) <= MAX_MESSAGE_BYTES
        )
    finally:
        node.clock.set(START)


# 4. Read your writes across services


def test_a_community_is_usable_at_once_with_its_consistency_token(node: NotifyNode):
    assert node.api is not None
    cop = Cop(node.api, members=0)  # an organisation and a lead the services know by now
    for attempt in range(3):
        created = node.api.registry(
            "CreateCommunity",
            rpb.CreateCommunityRequest(
                request_id=rid(), slug=f"fresh-{uuid.uuid4().hex[:8]}", name="Fresh CoP",
                domain="cancer-care", region="london", joining_policy=rpb.JOINING_POLICY_OPEN,
            ),
            cop.lead,
        )  # fmt: skip
        community = created.community.community_id
        request = epb.ScheduleConveningRequest(
            request_id=rid(), community_id=community, title="First", topic="First",
            format=epb.CONVENING_FORMAT_WEBINAR, join_link="https://meet.nhs.uk/first",
            start="2024-03-01T10:00", end="2024-03-01T11:00",
            min_registry_position=created.position,
        )  # fmt: skip
        scheduled = node.api.events("ScheduleConvening", request, cop.lead)
        assert scheduled.convening.community_id == community
        # A retry with another token is the same request: it answers the first outcome.
        request.min_registry_position = 1
        again = node.api.events("ScheduleConvening", request, cop.lead)
        assert again.convening.convening_id == scheduled.convening.convening_id
        item = node.learning(
            "CreateItem",
            lpb.CreateItemRequest(
                request_id=rid(), kind=lpb.ITEM_KIND_RESOURCE, title=f"Notes {attempt}",
                community_id=community, min_registry_position=created.position,
            ),
            cop.lead,
        )  # fmt: skip
        assert item.item.community_id == community
    registered = node.api.registry(
        "RegisterMember",
        rpb.RegisterMemberRequest(
            request_id=rid(), display_name="Newcomer", profession=rpb.PROFESSION_NURSE,
            home_organisation_id=cop.trust, email=f"{uuid.uuid4().hex}@example.nhs.uk",
        ),
    )  # fmt: skip
    member = registered.member.member_id
    prefs = node.notify(
        "GetPreferences",
        npb.GetPreferencesRequest(member_id=member, min_registry_position=registered.position),
    )
    assert prefs.preferences.member_id == member


def test_an_id_the_mirror_caught_up_past_is_not_found(node: NotifyNode, cop: Cop):
    assert node.api is not None
    organisation = node.api.registry(
        "CreateOrganisation",
        rpb.CreateOrganisationRequest(
            request_id=rid(), name="Later Trust", kind=rpb.ORGANISATION_KIND_NHS_TRUST,
            region="london",
        ),
    )  # fmt: skip
    unknown = node.api.fails(
        "ScheduleConvening",
        epb.ScheduleConveningRequest(
            request_id=rid(), community_id=rid(), title="Lost", topic="Lost",
            format=epb.CONVENING_FORMAT_WEBINAR, join_link="https://meet.nhs.uk/lost",
            start="2024-03-01T10:00", end="2024-03-01T11:00",
            min_registry_position=organisation.position,
        ),
        cop.lead,
    )  # fmt: skip
    assert unknown.code == grpc.StatusCode.NOT_FOUND
    assert "min_registry_position" in unknown.message
    notify = node.notify_fails(
        "GetPreferences",
        npb.GetPreferencesRequest(member_id=rid(), min_registry_position=organisation.position),
    )
    learning = fails(
        node.learning,
        "CreateItem",
        lpb.CreateItemRequest(
            request_id=rid(),
            kind=lpb.ITEM_KIND_RESOURCE,
            title="X",
            community_id=rid(),
            organisation_id=organisation.organisation.organisation_id,
            min_registry_position=organisation.position,
        ),
    )
    for service, failure in (("notify", notify), ("learning", learning)):
        assert failure.code == grpc.StatusCode.NOT_FOUND, (service, failure)


def test_a_position_the_mirror_never_reaches_is_unavailable_after_a_bounded_wait(
    node: NotifyNode,
):
    assert node.api is not None
    started = time.monotonic()
    later = node.api.fails("ListConvenings", epb.ListConveningsRequest(min_registry_position=10**9))
    waited = time.monotonic() - started
    assert later.code == grpc.StatusCode.UNAVAILABLE and "retry" in later.message
    assert CONSISTENCY_TIMEOUT - 0.5 <= waited < CONSISTENCY_TIMEOUT + 5


# 6. Inconsistencies


def test_the_answers_integrators_found_inconsistent(node: NotifyNode, cop: Cop):
    assert node.api is not None
    outsider = cop.person("Outsider two")
    not_member = fails(
        node.learning,
        "CreateItem",
        lpb.CreateItemRequest(
            request_id=rid(), kind=lpb.ITEM_KIND_RESOURCE, title="Mine",
            community_id=cop.community_id,
        ),
        outsider,
    )  # fmt: skip
    assert not_member.code == grpc.StatusCode.PERMISSION_DENIED
    accept = fails(
        node.api.registry,
        "AcceptInvitation",
        rpb.AcceptInvitationRequest(request_id=rid(), community_id=cop.community_id),
        outsider,
    )
    approve = fails(
        node.api.registry,
        "ApproveMembershipRequest",
        rpb.ApproveMembershipRequestRequest(
            request_id=rid(), community_id=cop.community_id, member_id=outsider
        ),
        cop.lead,
    )
    assert accept.code == approve.code == grpc.StatusCode.FAILED_PRECONDITION
    bad_id = fails(
        node.api.registry,
        "CreateOrganisation",
        rpb.CreateOrganisationRequest(
            request_id="abc", name="T", kind=rpb.ORGANISATION_KIND_OTHER, region="x"
        ),
    )
    assert bad_id.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "UUID" in bad_id.violations["request_id"]


# 7. CRLF in every iCalendar part


def test_every_icalendar_part_of_an_invitation_ends_its_lines_with_crlf(
    node: NotifyNode, cop: Cop, smtp: SmtpSink
):
    convening = schedule_in(cop, node, days=5, title="Line endings: Überblick ✓")
    reader = email_of(node, cop.members[0])

    def invitation():
        for received in smtp.to(reader):
            part = received.part("text/calendar")
            if part is not None and convening.convening_id.encode() in part.get_payload(
                decode=True
            ):
                return received
        return None

    message = eventually(invitation)
    parts = [
        part
        for part in message.message.walk()
        if part.get_content_type() in ("text/calendar", "application/ics")
    ]
    assert {p.get_content_type() for p in parts} == {"text/calendar", "application/ics"}
    for part in parts:
        data = part.get_payload(decode=True)
        assert data.startswith(b"BEGIN:VCALENDAR\r\n"), part.get_content_type()
        assert data.count(b"\n") == data.count(b"\r\n") > 10, part.get_content_type()


def test_a_min_position_beyond_the_log_is_invalid_at_once(node: NotifyNode):
    assert node.api is not None
    started = time.monotonic()
    beyond = node.api.fails("ListConvenings", epb.ListConveningsRequest(min_position=10**9))
    assert beyond.code == grpc.StatusCode.INVALID_ARGUMENT and "min_position" in beyond.violations
    assert time.monotonic() - started < 2
