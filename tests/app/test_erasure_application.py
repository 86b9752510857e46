"""Sealing and erasure in the registry's application, on SQLite and PostgreSQL: what the
store holds, who may erase, what an erased member's history reads as, and the
unique-address claim."""

from __future__ import annotations

import stat
import uuid
from datetime import date
from pathlib import Path

import pytest

from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
)
from services.common.identity import Caller
from services.common.keystore import SqliteKeys, SubjectKeys
from services.common.settings import NodeSettings
from services.common.shredding import SEALED
from services.registry.application import MEMBER_EMAIL, Registry
from services.registry.domain import (
    JoiningPolicy,
    Member,
    Membership,
    OrganisationKind,
    Profession,
)
from tests.app.test_registry_application import FixedClock, cmd, open_registry

NAME, ADDRESS = "Philippa Wrenhaven", "philippa.wrenhaven@nhs.net"


@pytest.fixture
def registry(node_settings: NodeSettings):
    app = open_registry(node_settings, FixedClock(date(2024, 1, 15)))
    yield app
    app.close()


def raw_states(app: Registry) -> list[bytes]:
    """Every stored event's state, as the store holds it."""
    return [n.state for n in app.recorder.select_notifications(start=0, limit=100_000)]


def setup(app: Registry) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    trust = app.create_organisation(
        cmd(), "Lewisham and Greenwich", OrganisationKind.NHS_TRUST, "london", None
    ).entity_id
    lead = app.register_member(cmd(), "Lead Nurse", Profession.NURSE, trust, "l@nhs.net").entity_id
    community = app.create_community(
        cmd(Caller.member(lead)), "cop", "CoP", "care", "", "london", [], JoiningPolicy.APPROVAL
    ).entity_id
    member = app.register_member(cmd(), NAME, Profession.GP, trust, ADDRESS).entity_id
    app.request_membership(cmd(Caller.member(member)), community, member, f"Hello, I am {NAME}")
    return trust, community, member


@pytest.mark.both_stores
def test_personal_fields_are_sealed_in_the_store_and_read_back(registry: Registry):
    _, community, member = setup(registry)
    stored = b"".join(raw_states(registry))
    assert NAME.encode() not in stored and ADDRESS.encode() not in stored
    assert SEALED.encode() in stored
    assert b"Lead Nurse" not in stored, "every member's name is sealed"
    loaded = registry.load(member, Member, "member")
    assert (loaded.display_name, loaded.email) == (NAME, ADDRESS)
    request = next(
        e
        for e in registry.events.get(Membership.create_id(community, member))
        if isinstance(e, Membership.Requested)
    )
    assert request.message == f"Hello, I am {NAME}"


@pytest.mark.both_stores
def test_an_erased_member_reads_as_tombstones_and_their_address_is_free(registry: Registry):
    trust, community, member = setup(registry)
    someone = Caller.member(uuid.uuid4())
    with pytest.raises(PermissionDenied):
        registry.erase_member(cmd(someone), member, confirm=True)
    with pytest.raises(InvalidArgument):
        registry.erase_member(cmd(Caller.member(member)), member, confirm=False)
    registry.erase_member(cmd(Caller.member(member)), member, confirm=True)

    for event in registry.events.get(member):
        assert NAME not in repr(vars(event)) and ADDRESS not in repr(vars(event))
    erased = registry.member_export(member)
    assert (erased["display_name"], erased["email"], erased["erased"]) == (
        "Erased member",
        "",
        True,
    )
    request = next(
        e
        for e in registry.events.get(Membership.create_id(community, member))
        if isinstance(e, Membership.Requested)
    )
    assert request.message == "", "what they wrote is gone too"
    with pytest.raises(FailedPrecondition):
        registry.erase_member(cmd(), member, confirm=False)
    with pytest.raises(FailedPrecondition):
        registry.update_member(cmd(), member, 0, display_name="Back again")
    with pytest.raises(PermissionDenied):
        registry.create_community(
            cmd(Caller.member(member)), "x", "X", "care", "", "london", [], JoiningPolicy.OPEN
        )
    # Their address may be registered again (the claim was released).
    registry.register_member(cmd(), "Someone Else", Profession.GP, trust, ADDRESS)


@pytest.mark.both_stores
def test_the_address_claim_holds_a_keyed_hash_not_the_address(registry: Registry):
    trust, _, _ = setup(registry)
    assert registry.holder_of(MEMBER_EMAIL, ADDRESS) is None, "no claim keyed by the address"
    assert registry.holder_of(MEMBER_EMAIL, registry.email_key(ADDRESS)) is not None
    with pytest.raises(AlreadyExists):
        registry.register_member(cmd(), "Twin", Profession.GP, trust, ADDRESS.upper())


def test_a_claim_keyed_by_the_address_before_hashing_still_counts(registry: Registry):
    trust, _, _ = setup(registry)
    legacy = uuid.uuid4()
    registry.save(registry.claim(MEMBER_EMAIL, "old@nhs.net", legacy, "taken"))
    with pytest.raises(AlreadyExists):
        registry.register_member(cmd(), "Newcomer", Profession.GP, trust, "old@nhs.net")


def test_an_erased_key_leaves_the_key_store_file_and_its_log(tmp_path: Path):
    keys = SubjectKeys(SqliteKeys(tmp_path / "keys.sqlite"))
    key = keys.key("member-1", create=True)
    others = [keys.key(f"member-{i}", create=True) for i in range(2, 6)]
    assert key is not None and all(others)

    def holding(secret: bytes) -> list[str]:
        return [p.name for p in tmp_path.iterdir() if secret in p.read_bytes()]

    assert holding(key), "written before"
    keys.erase("member-1")
    assert holding(key) == []
    assert keys.key("member-1", create=True) is None, "never made again"
    assert [keys.key(f"member-{i}", create=False) for i in range(2, 6)] == others
    assert stat.S_IMODE((tmp_path / "keys.sqlite").stat().st_mode) == 0o600
    keys.close()
