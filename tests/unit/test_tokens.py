"""Bearer tokens: issued by the node, verified, remembered only while valid."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from services.common.errors import Unauthenticated
from services.common.tokens import CLOCK_SKEW_LEEWAY, TokenAuthority, load_or_create_signing_key


def test_operator_and_member_tokens(tmp_path: Path):
    authority = TokenAuthority.for_node("guys", tmp_path / "key.pem")
    assert authority.verify(authority.issue("operator")).is_operator
    member = uuid.uuid4()
    caller = authority.verify(authority.issue(str(member)))
    assert caller.member_id == member and not caller.is_operator
    with pytest.raises(ValueError):
        authority.issue("not-a-member-id")


def test_other_nodes_and_tampered_tokens_are_refused(tmp_path: Path):
    guys = TokenAuthority.for_node("guys", tmp_path / "guys.pem")
    kings = TokenAuthority.for_node("kings", tmp_path / "kings.pem")
    with pytest.raises(Unauthenticated):
        guys.verify(kings.issue("operator"))
    token = guys.issue("operator")
    with pytest.raises(Unauthenticated):
        guys.verify(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])


def test_a_remembered_token_is_checked_again_once_it_has_expired(tmp_path: Path, monkeypatch):
    authority = TokenAuthority.for_node("guys", tmp_path / "key.pem")
    token = authority.issue("operator", ttl=timedelta(seconds=30))
    assert authority.verify(token).is_operator  # verified, and now remembered
    checks: list[str] = []
    verify_signed = authority._verify_signed

    def counted(t: str):
        checks.append(t)
        return verify_signed(t)

    monkeypatch.setattr(authority, "_verify_signed", counted)
    authority.verify(token)
    assert checks == [], "a remembered token is not checked again while valid"
    later = time.time() + 30 + CLOCK_SKEW_LEEWAY.total_seconds() + 1
    monkeypatch.setattr(time, "time", lambda: later)
    authority.verify(token)
    assert checks == [token], "an expired memory is dropped and the token checked again"


def test_the_signing_key_is_created_once_and_kept(tmp_path: Path):
    first = load_or_create_signing_key(tmp_path / "secrets" / "key.pem")
    again = load_or_create_signing_key(tmp_path / "secrets" / "key.pem")
    assert first.private_bytes_raw() == again.private_bytes_raw()
    assert oct((tmp_path / "secrets" / "key.pem").stat().st_mode & 0o777) == "0o600"
    files = sorted(p.name for p in (tmp_path / "secrets").iterdir())
    assert files == [".key.pem.lock", "key.pem", "key.token-verification-keys.json"]
