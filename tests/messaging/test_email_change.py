"""Issue 13: a member's new address is theirs only once they confirm it with the code
mailed to it (registry -> node-local event -> notify -> a real SMTP server), and asking
answers the same whether or not the address is registered; on SQLite and PostgreSQL
(with the newsletter readers' query, also tested in tests/grpc/test_notify_grpc.py)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest

from copnet.registry.v1 import registry_pb2 as rpb
from services.notify.delivery.compose import ADDRESS_RETRY
from tests.support.events_node import Cop
from tests.support.events_world import MovableClock
from tests.support.notify_node import NotifyNode, start_notify_node, stop_notify_node
from tests.support.smtp import Received, SmtpSink
from tests.support.waiting import eventually

CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\b")


def rid() -> str:
    return str(uuid.uuid4())


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpSink
) -> Iterator[NotifyNode]:
    dsn = request.getfixturevalue("postgres_dsn") if request.param == "postgres" else ""
    clock = MovableClock(datetime(2024, 1, 8, 9, tzinfo=UTC))
    running = start_notify_node(
        tmp_path_factory.mktemp("email-change"), clock, smtp, postgres_dsn=dsn
    )
    yield running
    stop_notify_node(running)


def email(node: NotifyNode, member: str) -> str:
    return node.api.registry("GetMember", rpb.GetMemberRequest(member_id=member)).member.email


def code_mail(node: NotifyNode, smtp: SmtpSink, address: str, seen: int = 0) -> Received:
    """The confirmation mail. Notify reads the requested address from its directory (fed by
    another consumer than the request's); a mail composed before the address arrived is
    retried a minute later, so while waiting, the node's clock moves on by that minute
    every two seconds (at most half an hour in all, well within the request's lifetime)."""
    moved = {"at": time.monotonic(), "minutes": 0}

    def arrived() -> list[Received]:
        mails = [m for m in smtp.to(address) if "Confirm your new e-mail" in m.subject]
        if not mails[seen:] and time.monotonic() - moved["at"] > 2 and moved["minutes"] < 30:
            node.clock.set(node.clock.now() + ADDRESS_RETRY)
            moved["at"], moved["minutes"] = time.monotonic(), moved["minutes"] + 1
        return mails[seen:]

    return eventually(arrived, message=f"a confirmation code for {address}")[0]


def code_in(mail: Received) -> str:
    found = CODE.search(mail.text())
    assert found, mail.text()
    return found.group(1)


def failure(node: NotifyNode, method: str, request, who: str) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        node.api.registry(method, request, who)
    return raised.value.code()


def test_a_new_address_takes_effect_only_with_the_mailed_code(node: NotifyNode, smtp: SmtpSink):
    cop = Cop(node.api, members=2)
    asker, owner = cop.members
    old, taken = email(node, asker), email(node, owner)
    fresh = f"new-{uuid.uuid4().hex[:8]}@nhs.example"

    # The same answer for a registered and an unregistered address. The registered
    # address's owner hears of it (and can ignore it): the code is useless to the asker,
    # who never sees it. (Each mail is awaited before the next request replaces it.)
    answers = []
    for wanted in (taken, fresh):
        answers.append(
            node.api.registry(
                "RequestEmailChange",
                rpb.RequestEmailChangeRequest(request_id=rid(), email=wanted),
                asker,
            )
        )
        if wanted == taken:
            to_owner = code_mail(node, smtp, taken)
            assert to_owner.message["List-Unsubscribe"] is None
    assert [sorted(f.name for f, _ in a.ListFields()) for a in answers] == [
        ["expires_at", "position"]
    ] * 2
    assert email(node, asker) == old  # nothing changes yet
    mail = code_mail(node, smtp, fresh)
    assert mail.message["List-Unsubscribe"] is None
    assert fresh in mail.recipients and old not in mail.recipients
    code = code_in(mail)

    confirm = rpb.ConfirmEmailChangeRequest
    wrong = failure(
        node, "ConfirmEmailChange", confirm(request_id=rid(), code="AAAA-BBBB-CCCC"), asker
    )
    assert wrong == grpc.StatusCode.FAILED_PRECONDITION
    stale = failure(
        node, "ConfirmEmailChange", confirm(request_id=rid(), code=code_in(to_owner)), asker
    )
    assert stale == grpc.StatusCode.FAILED_PRECONDITION  # replaced by the newer request
    someone_else = failure(
        node, "ConfirmEmailChange", confirm(request_id=rid(), member_id=asker, code=code), owner
    )
    assert someone_else == grpc.StatusCode.PERMISSION_DENIED
    assert email(node, asker) == old

    confirmed = node.api.registry(
        "ConfirmEmailChange", confirm(request_id=rid(), code=code.lower()), asker
    )
    assert confirmed.member.email == fresh == email(node, asker)
    again = failure(node, "ConfirmEmailChange", confirm(request_id=rid(), code=code), asker)
    assert again == grpc.StatusCode.FAILED_PRECONDITION  # used up
    # notify now mails the member at the new address (its directory followed the change).
    eventually(lambda: node.app._directory().person(uuid.UUID(asker))[1] == fresh)


def test_confirming_an_address_registered_meanwhile_is_refused(node: NotifyNode, smtp: SmtpSink):
    cop = Cop(node.api, members=2)
    asker, owner = cop.members
    taken = email(node, owner)
    seen = len([m for m in smtp.to(taken) if "Confirm your new e-mail" in m.subject])
    node.api.registry(
        "RequestEmailChange", rpb.RequestEmailChangeRequest(request_id=rid(), email=taken), asker
    )
    code = code_in(code_mail(node, smtp, taken, seen))  # as if the asker could read it
    refused = failure(
        node,
        "ConfirmEmailChange",
        rpb.ConfirmEmailChangeRequest(request_id=rid(), code=code),
        asker,
    )
    assert refused == grpc.StatusCode.ALREADY_EXISTS
    assert email(node, owner) == taken and email(node, asker) != taken


def test_newsletter_readers_on_this_store(node: NotifyNode):
    from copnet.notify.v1 import notify_pb2 as npb

    cop = Cop(node.api, policy=rpb.JOINING_POLICY_INVITE_ONLY, members=1)
    node.settle()
    composed = node.notify(
        "ComposeNewsletter",
        npb.ComposeNewsletterRequest(
            request_id=rid(), community_id=cop.community_id, subject="Draft", body="Body"
        ),
        cop.lead,
    )

    def ids(who: str) -> list[str]:
        listed = node.notify(
            "ListNewsletters", npb.ListNewslettersRequest(min_position=composed.position), who
        )
        return [n.newsletter_id for n in listed.newsletters]

    assert composed.newsletter.newsletter_id in ids(cop.lead)
    assert composed.newsletter.newsletter_id not in ids(cop.member)
