"""NotifyService over real gRPC: statuses, field violations, permissions, idempotency.

The node is real (NATS, registry, events, learning, notify): notify knows members and
communities only from the registry's events.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from copnet.notify.v1 import notify_pb2 as npb
from copnet.notify.v1 import notify_pb2_grpc as npb_grpc
from services.notify.domain import Topic, UnsubscribeScope, Unsubscription
from tests.support.events_node import Cop
from tests.support.events_world import MovableClock
from tests.support.notify_node import NotifyNode, start_notify_node, stop_notify_node
from tests.support.smtp import SmtpSink
from tests.support.waiting import eventually


def rid() -> str:
    return str(uuid.uuid4())


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotifyNode]:
    smtp = SmtpSink().start()
    running = start_notify_node(
        tmp_path_factory.mktemp("notify-grpc"),
        MovableClock(datetime(2024, 1, 8, 9, tzinfo=UTC)),
        smtp,
    )
    yield running
    stop_notify_node(running)
    smtp.stop()


@pytest.fixture(scope="module")
def cop(node: NotifyNode) -> Cop:
    community = Cop(node.api, members=2)
    node.settle()
    return community


def code(failure) -> str:
    return failure.code.name


def set_request(
    member: str = "", mask: list[str] | None = None, **fields
) -> npb.SetPreferencesRequest:
    return npb.SetPreferencesRequest(
        request_id=rid(),
        preferences=npb.Preferences(member_id=member, **fields),
        update_mask=FieldMask(paths=mask or []),
    )


def test_preferences_start_as_the_defaults_and_are_private(node, cop):
    member, other = cop.members
    reply = node.notify("GetPreferences", npb.GetPreferencesRequest(), member).preferences
    assert reply.member_id == member and reply.version == 0
    assert (reply.invitations, reply.my_sign_ups, reply.learning, reply.newsletters) == (
        npb.FREQUENCY_IMMEDIATELY,
        npb.FREQUENCY_IMMEDIATELY,
        npb.FREQUENCY_WEEKLY_DIGEST,
        npb.FREQUENCY_IMMEDIATELY,
    )
    assert reply.learning_from_my_communities and reply.default_reminder_hours_before == 24
    assert not reply.HasField("updated_at")
    by_operator = node.notify("GetPreferences", npb.GetPreferencesRequest(member_id=member))
    assert by_operator.preferences == reply

    assert (
        code(
            node.notify_fails("GetPreferences", npb.GetPreferencesRequest(member_id=other), member)
        )
        == "PERMISSION_DENIED"
    )
    failure = node.notify_fails("GetPreferences", npb.GetPreferencesRequest())
    assert code(failure) == "INVALID_ARGUMENT" and "member_id" in failure.violations
    failure = node.notify_fails("GetPreferences", npb.GetPreferencesRequest(member_id="x"))
    assert failure.violations == {"member_id": "must be a UUID"}
    unknown = node.notify_fails("GetPreferences", npb.GetPreferencesRequest(member_id=rid()))
    assert code(unknown) == "NOT_FOUND" and "not known" in unknown.message


def test_every_bad_preference_is_reported_at_once(node, cop):
    member = cop.members[0]
    request = set_request(
        member,
        mask=[
            "my_sign_ups",
            "learning_domains",
            "learning_communities",
            "reminder_hours_before",
            "colour",
        ],
        my_sign_ups=npb.FREQUENCY_DAILY_DIGEST,
        learning_domains=["Not A Slug"],
        learning_communities=["nope"],
        reminder_hours_before=24 * 15,
    )
    request.request_id = ""
    failure = node.notify_fails("SetPreferences", request, member)
    assert code(failure) == "INVALID_ARGUMENT"
    assert set(failure.violations) == {
        "request_id",
        "update_mask",
        "preferences.my_sign_ups",
        "preferences.learning_domains",
        "preferences.learning_communities",
        "preferences.reminder_hours_before",
    }
    assert "colour" in failure.violations["update_mask"]
    assert "too late" in failure.violations["preferences.my_sign_ups"]
    masked = node.notify_fails(
        "SetPreferences", set_request(member, mask=["learning"]), member
    )  # an explicitly named frequency must be given
    assert "preferences.learning" in masked.violations
    reply = node.notify("GetPreferences", npb.GetPreferencesRequest(), member).preferences
    assert reply.version == 0  # nothing was half-written


def test_setting_preferences_by_mask_with_concurrency_and_idempotency(node, cop):
    member, other = cop.members
    request = set_request(
        mask=["learning", "learning_domains"],
        learning=npb.FREQUENCY_DAILY_DIGEST,
        learning_domains=["diabetes", "cancer-care", "diabetes"],
        invitations=npb.FREQUENCY_NEVER,  # not in the mask: unchanged
    )
    first = node.notify("SetPreferences", request, member)
    again = node.notify("SetPreferences", request, member)
    assert again.preferences == first.preferences
    prefs = first.preferences
    assert prefs.learning == npb.FREQUENCY_DAILY_DIGEST
    assert list(prefs.learning_domains) == ["diabetes", "cancer-care"]
    assert prefs.invitations == npb.FREQUENCY_IMMEDIATELY
    assert prefs.version == 1 and prefs.HasField("updated_at")  # one change: version 1

    reused = npb.SetPreferencesRequest()
    reused.CopyFrom(request)
    reused.preferences.learning = npb.FREQUENCY_NEVER
    failure = node.notify_fails("SetPreferences", reused, member)
    assert code(failure) == "INVALID_ARGUMENT" and "request_id" in failure.violations

    stale = set_request(mask=["newsletters"], newsletters=npb.FREQUENCY_NEVER)
    stale.expected_version = 2
    assert code(node.notify_fails("SetPreferences", stale, member)) == "ABORTED"

    # No mask: every field; an unspecified frequency keeps its value, lists are replaced.
    everything = set_request(
        member,
        my_sign_ups=npb.FREQUENCY_NEVER,
        reminder_hours_before=2,
        learning_from_my_communities=False,
    )
    everything.expected_version = 1
    prefs = node.notify("SetPreferences", everything, member).preferences
    assert prefs.version == 2
    assert prefs.learning == npb.FREQUENCY_DAILY_DIGEST
    assert prefs.my_sign_ups == npb.FREQUENCY_NEVER and prefs.reminder_hours_before == 2
    assert list(prefs.learning_domains) == [] and not prefs.learning_from_my_communities

    assert code(node.notify_fails("SetPreferences", set_request(member), other)) == (
        "PERMISSION_DENIED"
    )
    by_operator = node.notify(
        "SetPreferences", set_request(other, mask=["learning"], learning=npb.FREQUENCY_NEVER)
    )
    assert by_operator.preferences.learning == npb.FREQUENCY_NEVER


def test_unsubscribe_by_token(node, cop):
    member = cop.members[1]
    token = node.parts.tokens.issue(
        Unsubscription(uuid.UUID(member), UnsubscribeScope.TOPIC, Topic.LEARNING.value)
    )
    reply = node.notify("Unsubscribe", npb.UnsubscribeRequest(request_id=rid(), token=token))
    assert reply.preferences.learning == npb.FREQUENCY_NEVER
    assert reply.description == "You will no longer receive e-mails about new learning."
    newsletters = node.parts.tokens.issue(
        Unsubscription(uuid.UUID(member), UnsubscribeScope.NEWSLETTER, cop.community_id)
    )
    reply = node.notify(
        "Unsubscribe", npb.UnsubscribeRequest(request_id=rid(), token=newsletters), member
    )
    assert list(reply.preferences.newsletter_opt_outs) == [cop.community_id]
    assert "newsletters of Cancer Community of Practice" in reply.description
    for bad in ("", "abc.def", token[:-2] + "xx"):
        failure = node.notify_fails(
            "Unsubscribe", npb.UnsubscribeRequest(request_id=rid(), token=bad)
        )
        assert code(failure) == "INVALID_ARGUMENT" and "token" in failure.violations


def test_notifications_are_private_and_only_failures_can_be_resent(node, cop):
    member, other = cop.members
    assert (
        code(
            node.notify_fails(
                "ListNotifications", npb.ListNotificationsRequest(member_id=other), member
            )
        )
        == "PERMISSION_DENIED"
    )
    failure = node.notify_fails(
        "ListNotifications", npb.ListNotificationsRequest(page_token="garbage", page_size=600)
    )
    assert set(failure.violations) == {"page_size"}
    failure = node.notify_fails(
        "ListNotifications", npb.ListNotificationsRequest(page_token="garbage")
    )
    assert set(failure.violations) == {"page_token"}
    failure = node.notify_fails(
        "ListNotifications", npb.ListNotificationsRequest(status=99, kind=42)
    )
    assert set(failure.violations) == {"status", "kind"}
    missing = node.notify_fails(
        "GetNotification", npb.GetNotificationRequest(notification_id=rid())
    )
    assert code(missing) == "NOT_FOUND"
    assert (
        code(
            node.notify_fails(
                "ResendNotification",
                npb.ResendNotificationRequest(request_id=rid(), notification_id=rid()),
            )
        )
        == "NOT_FOUND"
    )
    assert (
        code(
            node.notify_fails(
                "ResendNotification",
                npb.ResendNotificationRequest(request_id=rid(), notification_id=rid()),
                member,
            )
        )
        == "PERMISSION_DENIED"
    )

    # A real one: a newsletter to the community.
    draft = node.notify(
        "ComposeNewsletter",
        npb.ComposeNewsletterRequest(
            request_id=rid(), community_id=cop.community_id, subject="News", body="Hello."
        ),
        cop.lead,
    ).newsletter
    node.notify(
        "SendNewsletter",
        npb.SendNewsletterRequest(request_id=rid(), newsletter_id=draft.newsletter_id),
        cop.lead,
    )
    node.settle()

    [mine] = eventually(
        lambda: [
            n
            for n in node.notifications(member, kind=npb.NOTIFICATION_KIND_NEWSLETTER)
            if n.status == npb.DELIVERY_STATUS_SENT
        ]
    )
    own = node.notify(
        "GetNotification", npb.GetNotificationRequest(notification_id=mine.notification_id), member
    ).notification
    assert own.notification_id == mine.notification_id and own.newsletter_id
    assert (
        code(
            node.notify_fails(
                "GetNotification",
                npb.GetNotificationRequest(notification_id=mine.notification_id),
                other,
            )
        )
        == "NOT_FOUND"
    )
    sent = node.notify_fails(
        "ResendNotification",
        npb.ResendNotificationRequest(request_id=rid(), notification_id=mine.notification_id),
    )
    assert code(sent) == "FAILED_PRECONDITION"
    listed = node.notify("ListNotifications", npb.ListNotificationsRequest(), member)
    assert all(n.member_id == member for n in listed.notifications)
    assert node.notifications(member)


def test_newsletters_need_a_co_lead_and_a_real_draft(node, cop):
    failure = node.notify_fails(
        "ComposeNewsletter",
        npb.ComposeNewsletterRequest(request_id=rid(), community_id="nope", subject=" "),
        cop.lead,
    )
    assert set(failure.violations) == {"community_id", "subject", "body"}
    unknown = node.notify_fails(
        "ComposeNewsletter",
        npb.ComposeNewsletterRequest(request_id=rid(), community_id=rid(), subject="S", body="B"),
        cop.lead,
    )
    assert code(unknown) == "NOT_FOUND"
    denied = node.notify_fails(
        "ComposeNewsletter",
        npb.ComposeNewsletterRequest(
            request_id=rid(), community_id=cop.community_id, subject="S", body="B"
        ),
        cop.members[0],
    )
    assert code(denied) == "PERMISSION_DENIED"
    composed = node.notify(
        "ComposeNewsletter",
        npb.ComposeNewsletterRequest(
            request_id=rid(), community_id=cop.community_id, subject="Draft", body="Body"
        ),
    )
    draft = composed.newsletter
    assert draft.author_member_id == "" and draft.version == 1
    stale = node.notify_fails(
        "SendNewsletter",
        npb.SendNewsletterRequest(
            request_id=rid(), newsletter_id=draft.newsletter_id, expected_version=7
        ),
    )
    assert code(stale) == "ABORTED"
    assert (
        code(
            node.notify_fails(
                "SendNewsletter", npb.SendNewsletterRequest(request_id=rid(), newsletter_id=rid())
            )
        )
        == "NOT_FOUND"
    )
    got = node.notify("GetNewsletter", npb.GetNewsletterRequest(newsletter_id=draft.newsletter_id))
    assert got.newsletter.status == npb.NEWSLETTER_STATUS_DRAFT
    listed = node.notify(
        "ListNewsletters",
        npb.ListNewslettersRequest(community_id=cop.community_id, min_position=composed.position),
    ).newsletters
    assert draft.newsletter_id in [n.newsletter_id for n in listed]


def test_digest_previews_are_private(node, cop):
    member, other = cop.members
    assert node.notify("PreviewDigest", npb.PreviewDigestRequest(), member).digests == []
    assert (
        code(node.notify_fails("PreviewDigest", npb.PreviewDigestRequest(member_id=other), member))
        == "PERMISSION_DENIED"
    )


def test_calls_need_a_token(node):
    stub = npb_grpc.NotifyServiceStub(node.channels["notify"])
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetPreferences(npb.GetPreferencesRequest(), timeout=10)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
