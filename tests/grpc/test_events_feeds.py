"""Calendar feeds over real HTTP: a member's feed and a community's, valid RFC 5545
(parsed with icalendar), conditional requests, updates in place, rotation and revocation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import grpc
import httpx
from icalendar import Calendar

from copnet.events.v1 import events_pb2 as pb
from copnet.registry.v1 import registry_pb2 as rpb
from tests.support.events_node import Api, Cop, rid
from tests.support.waiting import eventually

FEED_REQUEST = "6d1a0c5e-0f0b-4c8e-9a55-2f4f3c0b7d11"


def fetch(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=10)


def events_of(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def issue(api: Api, member: str, kind: int, community_id: str = "", request_id: str = ""):
    return api.events(
        "IssueCalendarFeed",
        pb.IssueCalendarFeedRequest(
            request_id=request_id or rid(), kind=kind, community_id=community_id
        ),
        member,
    )


def test_member_and_community_feeds_follow_changes(api: Api):
    cop = Cop(api, policy=rpb.JOINING_POLICY_APPROVAL, members=2)
    member, other = cop.members
    a = cop.schedule(title="Lymphoedema clinic review", start="2024-02-21T12:00")
    b = cop.schedule(
        title="Survivorship pathways",
        start="2024-02-28T12:00",
        end="2024-02-28T13:00",
        fmt=pb.CONVENING_FORMAT_FACE_TO_FACE,
    )
    cop.sign_up(a.convening_id, member)

    mine = issue(api, member, pb.CALENDAR_FEED_KIND_MEMBER, request_id=FEED_REQUEST)
    theirs = issue(api, member, pb.CALENDAR_FEED_KIND_COMMUNITY, cop.community_id)
    assert mine.feed.url.startswith("http://127.0.0.1:") and mine.feed.url.endswith(".ics")
    # A retry gives the same URL; the URL is unguessable and differs per feed.
    again = issue(api, member, pb.CALENDAR_FEED_KIND_MEMBER, request_id=FEED_REQUEST)
    assert again.feed == mine.feed
    assert mine.feed.url != theirs.feed.url
    # Not a member of an approval community: no feed of it.
    refused = api.fails(
        "IssueCalendarFeed",
        pb.IssueCalendarFeedRequest(
            request_id=rid(), kind=pb.CALENDAR_FEED_KIND_COMMUNITY, community_id=cop.community_id
        ),
        cop.outsider,
    )
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED
    missing = api.fails(
        "IssueCalendarFeed",
        pb.IssueCalendarFeedRequest(request_id=rid(), kind=pb.CALENDAR_FEED_KIND_COMMUNITY),
        member,
    )
    assert missing.code == grpc.StatusCode.INVALID_ARGUMENT and "community_id" in missing.violations

    uid_a, uid_b = f"{a.convening_id}@copnet", f"{b.convening_id}@copnet"
    eventually(lambda: len(events_of(fetch(mine.feed.url))) == 1)
    own = events_of(fetch(mine.feed.url))[uid_a]
    assert own["SUMMARY"] == "Lymphoedema clinic review"
    assert str(own["URL"]) == "https://meet.example.nhs.uk/cop"  # holds a place: the link
    community = events_of(fetch(theirs.feed.url))
    assert set(community) == {uid_a, uid_b}
    # The community's calendar is not public: no URL without a secret.
    base = theirs.feed.url.split("/calendars/")[0]
    public = f"{base}/calendars/communities/{cop.community_id}.ics"
    assert fetch(public).status_code == 404

    # Conditional requests: 304 until something changes.
    first = fetch(mine.feed.url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert fetch(mine.feed.url, **{"If-None-Match": etag}).status_code == 304
    assert fetch(mine.feed.url, **{"If-Modified-Since": modified}).status_code == 304
    assert fetch(mine.feed.url, **{"If-None-Match": '"other"'}).status_code == 200
    sequence = int(own["SEQUENCE"])

    api.events(
        "RescheduleConvening",
        pb.RescheduleConveningRequest(
            request_id=rid(),
            convening_id=a.convening_id,
            start="2024-02-21T14:00",
            end="2024-02-21T15:00",
            reason="theatre list overran",
        ),
        cop.lead,
    )
    changed = eventually(
        lambda: (r := fetch(mine.feed.url, **{"If-None-Match": etag})).status_code == 200 and r
    )
    moved = events_of(changed)[uid_a]
    assert moved["DTSTART"].dt.astimezone(UTC) == datetime(2024, 2, 21, 14, tzinfo=UTC)
    assert int(moved["SEQUENCE"]) > sequence
    assert changed.headers["etag"] != etag

    api.events(
        "CancelConvening",
        pb.CancelConveningRequest(request_id=rid(), convening_id=b.convening_id, reason="strike"),
        cop.lead,
    )
    eventually(lambda: str(events_of(fetch(theirs.feed.url))[uid_b]["STATUS"]) == "CANCELLED")

    # Rotation: the old URL stops working, the new one works; revocation ends it.
    rotated = api.events(
        "RotateCalendarFeed",
        pb.RotateCalendarFeedRequest(request_id=rid(), feed_id=mine.feed.feed_id),
        member,
    ).feed
    assert rotated.url != mine.feed.url and rotated.rotations == 1
    assert fetch(mine.feed.url).status_code == 404
    assert uid_a in events_of(fetch(rotated.url))
    stranger = api.fails(
        "RevokeCalendarFeed",
        pb.RevokeCalendarFeedRequest(request_id=rid(), feed_id=mine.feed.feed_id),
        other,
    )
    assert stranger.code == grpc.StatusCode.NOT_FOUND
    revoked = api.events(
        "RevokeCalendarFeed",
        pb.RevokeCalendarFeedRequest(
            request_id=rid(), feed_id=mine.feed.feed_id, reason="lost my phone"
        ),
        member,
    )
    assert revoked.feed.revoked and not revoked.feed.url
    assert fetch(rotated.url).status_code == 404
    assert fetch(rotated.url.replace(".ics", "x.ics")).status_code == 404

    listed = api.events(
        "ListCalendarFeeds",
        pb.ListCalendarFeedsRequest(include_revoked=True, min_position=revoked.position),
        member,
    ).feeds
    assert {(f.feed_id, f.revoked, f.url) for f in listed} == {
        (mine.feed.feed_id, True, ""),
        (theirs.feed.feed_id, False, ""),
    }
    active = api.events("ListCalendarFeeds", pb.ListCalendarFeedsRequest(), member).feeds
    assert [f.feed_id for f in active] == [theirs.feed.feed_id]
    # A member who leaves the community loses its feed.
    api.registry(
        "LeaveCommunity",
        rpb.LeaveCommunityRequest(request_id=rid(), community_id=cop.community_id),
        member,
    )
    eventually(lambda: fetch(theirs.feed.url).status_code == 404)


def test_a_public_community_has_a_feed_without_secrets(api: Api):
    cop = Cop(api, policy=rpb.JOINING_POLICY_OPEN)
    convening = cop.schedule(title="Open webinar on prehabilitation")
    member_feed = issue(api, cop.member, pb.CALENDAR_FEED_KIND_MEMBER).feed
    base = member_feed.url.split("/calendars/")[0]
    public = f"{base}/calendars/communities/{cop.community_id}.ics"
    entries = eventually(lambda: (e := events_of(fetch(public))) and e)
    entry = entries[f"{convening.convening_id}@copnet"]
    assert "URL" not in entry and "meet.example" not in entry.to_ical().decode()
    response = fetch(public)
    assert "public" in response.headers["cache-control"]
    assert fetch(f"{base}/calendars/communities/not-a-uuid.ics").status_code == 404
    # GET and HEAD only; HEAD has the same headers and no body.
    assert httpx.post(public, content=b"x", timeout=10).status_code == 405
    head = httpx.head(public, timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == response.headers["etag"]
    # One feed's secret opens no other feed.
    secret = member_feed.url.rsplit("/", 1)[1]
    other = issue(api, cop.facilitator, pb.CALENDAR_FEED_KIND_MEMBER).feed
    assert fetch(other.url.rsplit("/", 1)[0] + "/" + secret).status_code == 404
    # A waitlisted member's own feed shows the convening as tentative, without its link.
    full = cop.schedule(title="Small group", capacity=1, start="2024-03-01T12:00",
                        end="2024-03-01T13:00")  # fmt: skip
    cop.sign_up(full.convening_id, cop.facilitator)
    cop.sign_up(full.convening_id, cop.member)
    waiting = eventually(
        lambda: events_of(fetch(member_feed.url)).get(f"{full.convening_id}@copnet")
    )
    assert str(waiting["STATUS"]) == "TENTATIVE" and "URL" not in waiting
    # Cancelling the sign-up takes it out of the feed: a conditional request sees the change
    # whether it asks by ETag or by date.
    before = fetch(member_feed.url)
    # HTTP dates have whole seconds: change it in a later second than Last-Modified says.
    stamp = parsedate_to_datetime(before.headers["last-modified"])
    eventually(lambda: datetime.now(UTC) >= stamp + timedelta(seconds=1))
    api.events(
        "CancelSignUp",
        pb.CancelSignUpRequest(request_id=rid(), convening_id=full.convening_id),
        cop.member,
    )
    since = {"If-Modified-Since": before.headers["last-modified"]}
    changed = eventually(lambda: (r := fetch(member_feed.url, **since)).status_code == 200 and r)
    assert f"{full.convening_id}@copnet" not in events_of(changed)
    assert changed.headers["etag"] != before.headers["etag"]
