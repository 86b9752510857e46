"""Erasure by crypto-shredding, and subject access export, on a whole node: a real
nats-server, the four services on loopback gRPC, SQLite files or PostgreSQL schemas.

A member who joined, received mail, signed up, attended, gave feedback naming
themselves and contributed a learning item is exported, then erased. Afterwards no
file under the node's data directory (event stores, read models with their WAL, the
JetStream store, the outbox) and no PostgreSQL row holds their name or address,
while the community's figures are what they were.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest

from copnet.events.v1 import events_pb2 as epb
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.notify.v1 import notify_pb2 as npb
from copnet.registry.v1 import registry_pb2 as rpb
from tests.support.events_node import Cop
from tests.support.events_world import MovableClock
from tests.support.notify_node import (
    START,
    NotifyNode,
    schedule_in,
    start_notify_node,
    stop_notify_node,
)
from tests.support.waiting import eventually

NAME = "Zephyrine Quillfeather"
ADDRESS = "zephyrine.quillfeather@example.nhs.uk"
NEEDLES = (NAME.encode(), ADDRESS.encode(), b"Quillfeather", b"quillfeather")


def rid() -> str:
    return str(uuid.uuid4())


def files_naming_them(root: Path) -> list[str]:
    """Every file under `root` whose bytes hold the name or the address."""
    hits = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # removed while walking (a WAL, a staging file)
            continue
        if any(needle in data for needle in NEEDLES):
            hits.append(str(path.relative_to(root)))
    return sorted(hits)


def files_holding(root: Path, secrets: list[Any]) -> list[str]:
    """Every file under `root` holding one of `secrets` (bytes)."""
    found = []
    for path in root.rglob("*"):
        try:
            if path.is_file() and any(secret in path.read_bytes() for secret in secrets):
                found.append(str(path))
        except FileNotFoundError:
            continue
    return found


def rows_naming_them(dsn: str, prefix: str) -> list[str]:
    """Every PostgreSQL row of the node's schemas holding the name or the address (text,
    JSON or bytes: stored events are bytea)."""
    hits = []
    with psycopg.connect(dsn, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema LIKE %s AND table_type = 'BASE TABLE'",
            (prefix.replace("_", "\\_") + "%",),
        ).fetchall()
        for schema, table in tables:
            for row in connection.execute(f'SELECT * FROM "{schema}"."{table}"'):
                for value in row:
                    data = value if isinstance(value, bytes) else str(value).encode()
                    if any(needle in data for needle in NEEDLES):
                        hits.append(f"{schema}.{table}")
    return sorted(set(hits))


def export(node: NotifyNode, member: str, who: str | None = None) -> dict[str, Any]:
    """The four services' parts of a subject access export."""
    request = {"member_id": member}
    parts = {
        "registry": node.api.registry(  # type: ignore[union-attr]
            "ExportMemberData", rpb.ExportMemberDataRequest(**request), who
        ),
        "events": node.api.events(  # type: ignore[union-attr]
            "ExportMemberData", epb.ExportMemberDataRequest(**request), who
        ),
        "learning": node.learning("ExportMemberData", lpb.ExportMemberDataRequest(**request), who),
        "notify": node.notify("ExportMemberData", npb.ExportMemberDataRequest(**request), who),
    }
    return {service: json.loads(reply.document_json) for service, reply in parts.items()}


def signed_up(cop: Cop, convening: str, member: str) -> bool:
    """Signs a member up, once the events service knows their membership."""
    try:
        cop.sign_up(convening, member)
    except grpc.RpcError as error:
        waiting = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.FAILED_PRECONDITION)
        if error.code() in waiting:
            return False
        raise
    return True


def figures(node: NotifyNode, cop: Cop, convening: str) -> dict[str, Any]:
    api = node.api
    assert api is not None
    held = api.events("GetConvening", epb.GetConveningRequest(convening_id=convening)).convening
    totals = api.events(
        "GetAnalytics",
        epb.GetAnalyticsRequest(
            community_id=cop.community_id, group_by=epb.ANALYTICS_GROUPING_COMMUNITY
        ),
    ).totals
    members = api.registry(
        "ListMemberships",
        rpb.ListMembershipsRequest(community_id=cop.community_id, page_size=500),
    ).memberships
    return {
        "places_taken": held.places_taken,
        "attended": held.attended,
        "no_shows": held.no_shows,
        "feedback_count": held.feedback_count,
        "analytics": totals.SerializeToString(deterministic=True),
        "memberships": len(members),
    }


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def node(request: pytest.FixtureRequest, tmp_path: Path):
    dsn = request.getfixturevalue("postgres_dsn") if request.param == "postgres" else ""
    running = start_notify_node(tmp_path, MovableClock(START), smtp=None, postgres_dsn=dsn)
    yield running
    stop_notify_node(running)


def test_an_erased_member_leaves_no_trace_and_the_figures_stay(node: NotifyNode):
    api = node.api
    assert api is not None
    data_dir = node.settings.data_dir
    cop = Cop(api, members=2)
    subject = api.registry(
        "RegisterMember",
        rpb.RegisterMemberRequest(
            request_id=rid(),
            display_name=NAME,
            profession=rpb.PROFESSION_PATIENT_PARTNER,
            home_organisation_id=cop.trust,
            email=ADDRESS,
        ),
    ).member.member_id
    cop.admit([subject])
    # Notify must know them as a member before the convening is announced.
    node.settle()

    # Mail: an invitation to every member, written to the outbox (no mail server).
    convening = schedule_in(cop, node, days=2).convening_id
    node.settle()
    eventually(lambda: node.dispatch() >= 0 and files_naming_them(data_dir / "notify" / "outbox"))
    # A sign-up, attendance and feedback that names them.
    for member in (subject, cop.member):
        eventually(lambda m=member: signed_up(cop, convening, m))
    node.clock.advance(timedelta(days=2, hours=2))
    api.events(
        "RecordAttendance",
        epb.RecordAttendanceRequest(
            request_id=rid(),
            convening_id=convening,
            entries=[
                epb.AttendanceEntry(member_id=m, attendance=epb.ATTENDANCE_ATTENDED)
                for m in (subject, cop.member)
            ],
        ),
        cop.lead,
    )
    api.events(
        "GiveFeedback",
        epb.GiveFeedbackRequest(
            request_id=rid(),
            convening_id=convening,
            rating=5,
            comment=f"I am {NAME} and this helped me",
        ),
        subject,
    )
    # A learning item they contributed to.
    created: list[lpb.LearningItem] = []

    def contribute() -> bool:
        try:
            created.append(
                node.learning(
                    "CreateItem",
                    lpb.CreateItemRequest(
                        request_id=rid(),
                        kind=lpb.ITEM_KIND_REPLICABLE_MODEL,
                        title="Patient partner induction pack",
                        summary="How new patient partners are welcomed",
                        body="Three short sessions.",
                        domain_tags=["cancer-care"],
                        community_id=cop.community_id,
                        contributor_member_ids=[subject],
                    ),
                    cop.lead,
                ).item
            )
        except grpc.RpcError as error:  # the learning service may not know them yet
            if error.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND):
                return False
            raise
        return True

    eventually(contribute)
    item = created[0]
    node.settle()
    before = figures(node, cop, convening)
    assert before["attended"] == 2 and before["places_taken"] == 2

    # Subject access: every service's data about them, for them or the operator only.
    exported = export(node, subject, who=subject)
    assert exported["registry"]["display_name"] == NAME
    assert exported["registry"]["email"] == ADDRESS
    assert [m["community_id"] for m in exported["registry"]["memberships"]] == [cop.community_id]
    assert exported["events"]["sign_ups"][0]["attendance"] == "attended"
    assert NAME in exported["events"]["feedback"][0]["comment"]
    assert [i["item_id"] for i in exported["learning"]["contributed_items"]] == [item.item_id]
    assert exported["notify"]["email"] == ADDRESS
    assert exported["notify"]["notifications"], "the invitation"
    assert export(node, subject) == exported  # the operator sees the same
    with pytest.raises(grpc.RpcError) as denied:
        export(node, subject, who=cop.member)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # Before erasure the name is on disk and in rows (so the searches below can fail).
    assert files_naming_them(data_dir)
    dsn, prefix = node.settings.postgres_dsn, node.settings.postgres_schema_prefix
    if dsn:
        assert rows_naming_them(dsn, prefix)

    # Their data keys, to look for once erased (crypto-shredding: they must be gone).
    keys = [
        node.runtime(service).app.subject_keys.key(subject, create=False)
        for service in ("registry", "events")
    ]
    assert all(keys)

    # Who may erase: not another member; the member only with confirmation.
    erase = rpb.EraseMemberRequest(request_id=rid(), member_id=subject)
    with pytest.raises(grpc.RpcError) as other:
        api.registry("EraseMember", erase, cop.member)
    assert other.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as unconfirmed:
        api.registry("EraseMember", erase, subject)
    assert unconfirmed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    api.registry(
        "EraseMember",
        rpb.EraseMemberRequest(request_id=rid(), member_id=subject, confirm=True),
        subject,
    )

    node.settle()
    eventually(
        lambda: node.dispatcher.sweep_erased() >= 0 and not files_naming_them(data_dir),
        60,
        message=lambda: str(files_naming_them(data_dir)),
    )
    if node.settings.postgres_dsn:
        assert not rows_naming_them(
            node.settings.postgres_dsn, node.settings.postgres_schema_prefix
        )
    else:
        assert list(data_dir.rglob("keys.sqlite")), "the key stores are files of the node"

    # The figures are what they were; aggregates that name them still load.
    assert figures(node, cop, convening) == before
    member = api.registry("GetMember", rpb.GetMemberRequest(member_id=subject)).member
    assert (member.display_name, member.email) == ("Erased member", "")
    history = api.registry(
        "ListEntityHistory", rpb.ListEntityHistoryRequest(entity_id=subject, page_size=50)
    )
    assert [e.event_type for e in history.entries][-1] == "member_erased"
    assert node.learning("GetItem", lpb.GetItemRequest(item_id=item.item_id)).item.item_id
    after = export(node, subject)
    assert after["registry"]["erased"] and after["notify"]["erased"]
    assert after["events"]["feedback"][0]["comment"] == ""
    assert after["events"]["feedback"][0]["rating"] == 5
    assert after["notify"]["email"] is None
    # Replaying every service's store yields no personal data.
    for service in ("registry", "events", "learning", "notify"):
        app = node.runtime(service).app
        for notification in app.recorder.select_notifications(start=0, limit=1_000_000):
            event = app.mapper.to_domain_event(notification)
            text = repr(vars(event)).encode()
            assert not any(needle in text for needle in NEEDLES), (service, event)
    # Erased: nothing more can be done in their name.
    with pytest.raises(grpc.RpcError) as again:
        api.registry("EraseMember", rpb.EraseMemberRequest(request_id=rid(), member_id=subject))
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
