"""Tokens and keys (issue 13): lifetimes bounded, signing keys rotated with an overlap,
revocation, named operators, verifiers without the private key, link secrets apart from
the signing key and rotated with an overlap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import jwt
import pytest

from services.common import keyring
from services.common.errors import Unauthenticated
from services.common.identity import Caller
from services.common.keyring import KeyFiles
from services.common.tokens import TokenAuthority, TokenLifetimeError, TokenLimits
from services.notify.domain import UnsubscribeScope, Unsubscription
from services.notify.unsubscribe import UnsubscribeTokens
from tests.support.waiting import eventually

NODE = "guys"


def _files(tmp_path: Path) -> KeyFiles:
    return KeyFiles.beside(tmp_path / "secrets" / "token-signing-key.pem")


def _accepted(verifier: TokenAuthority, token: str) -> Caller | None:
    try:
        return verifier.verify(token)
    except Unauthenticated:
        return None


def _refused(verifier: TokenAuthority, token: str) -> bool:
    try:
        verifier.verify(token)
    except Unauthenticated:
        return True
    return False


def test_a_token_longer_than_the_limit_is_refused_when_issued_and_when_shown(tmp_path: Path):
    files = _files(tmp_path)
    issuer = TokenAuthority.for_node(NODE, files.signing_key)
    member = str(uuid.uuid4())
    with pytest.raises(TokenLifetimeError):
        issuer.issue(member, ttl=timedelta(hours=13))
    with pytest.raises(TokenLifetimeError):
        issuer.issue("operator", ttl=timedelta(days=3650), name="alice")
    assert issuer.verify(issuer.issue("operator", ttl=timedelta(days=30), name="alice"))
    # A token some other issuer with the same key made for 100 years is refused on use.
    generous = TokenAuthority.for_node(
        NODE, files.signing_key, TokenLimits(operator_max_ttl=timedelta(days=36500))
    )
    century = generous.issue("operator", ttl=timedelta(days=36500), name="alice")
    with pytest.raises(Unauthenticated, match="longer than this node allows"):
        TokenAuthority.verifier(NODE, files).verify(century)


def test_copnet_token_refuses_a_ttl_over_the_limit_and_needs_an_operator_name(tmp_path: Path):
    data = tmp_path / "node"
    base = [sys.executable, "-m", "services.cli", "token", "--data-dir", str(data)]
    base += ["--node-id", NODE, "--region", "r"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
    keyring.ensure_keys(KeyFiles.beside(data / "secrets" / "token-signing-key.pem"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, env=env, timeout=60)

    refused = cli("--operator", "--name", "alice", "--ttl", "3650d")
    assert refused.returncode == 2 and "at most 30d" in refused.stderr
    assert cli("--operator", "--ttl", "1h").returncode == 2  # no name: refused
    issued = cli("--operator", "--name", "alice", "--ttl", "1h")
    assert issued.returncode == 0, issued.stderr
    files = KeyFiles.beside(data / "secrets" / "token-signing-key.pem")
    verifier = TokenAuthority.verifier(NODE, files)
    caller = verifier.verify(issued.stdout.strip())
    assert caller.is_operator and caller.actor == "operator:alice"

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        line = [sys.executable, "-m", "services.cli", *args, "--data-dir", str(data)]
        return subprocess.run(line, capture_output=True, text=True, env=env, timeout=60)

    assert command("keys", "rotate").returncode == 0
    listed = command("keys").stdout.splitlines()
    assert [line.split()[1] for line in listed] == ["signing", "verifying"]
    assert verifier.verify(issued.stdout.strip()).actor == "operator:alice"  # the overlap
    assert command("revoke", "--operator-name", "alice").returncode == 0
    eventually(lambda: _refused(verifier, issued.stdout.strip()), timeout=5)
    assert command("revoke", "--member", "not-a-uuid").returncode == 2


def test_a_rotated_signing_key_keeps_verifying_until_removed(tmp_path: Path):
    files = _files(tmp_path)
    issuer = TokenAuthority.for_node(NODE, files.signing_key)
    old_token = issuer.issue("operator", name="alice")
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    verifier = TokenAuthority.verifier(NODE, files)  # a running service
    assert verifier.verify(old_token).is_operator

    new_kid = keyring.rotate_signing_key(files)
    new_token = TokenAuthority.for_node(NODE, files.signing_key).issue("operator", name="bob")
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid != old_kid
    caller = eventually(lambda: _accepted(verifier, new_token), timeout=5)
    assert caller.actor == "operator:bob"
    assert verifier.verify(old_token).actor == "operator:alice"  # the overlap

    with pytest.raises(ValueError, match="current signing key"):
        keyring.remove_verification_key(files, new_kid)
    keyring.remove_verification_key(files, old_kid)
    eventually(lambda: _refused(verifier, old_token), timeout=5)
    assert verifier.verify(new_token).is_operator


def test_revoked_tokens_are_refused(tmp_path: Path):
    files = _files(tmp_path)
    issuer = TokenAuthority.for_node(NODE, files.signing_key)
    verifier = TokenAuthority.verifier(NODE, files)
    member = str(uuid.uuid4())
    one, other = issuer.issue(member), issuer.issue(member)
    assert verifier.verify(one).member_id == verifier.verify(other).member_id  # remembered
    keyring.revoke(files, jti=jwt.decode(one, options={"verify_signature": False})["jti"])
    eventually(lambda: _refused(verifier, one), timeout=5)
    assert verifier.verify(other).member_id is not None

    keyring.revoke(files, subject=f"member:{member}")  # every token issued before now
    eventually(lambda: _refused(verifier, other), timeout=5)
    later = TokenAuthority.for_node(NODE, files.signing_key)
    import time

    time.sleep(1.1)  # `iat` has whole seconds: a token issued after the revocation
    assert verifier.verify(later.issue(member)).member_id is not None


def test_a_verifier_never_reads_the_private_key(tmp_path: Path):
    files = _files(tmp_path)
    token = TokenAuthority.for_node(NODE, files.signing_key).issue("operator", name="alice")
    away = tmp_path / "elsewhere.pem"
    files.signing_key.rename(away)  # gone: a verifier must not need it
    try:
        verifier = TokenAuthority.verifier(NODE, files)
        assert verifier.verify(token).actor == "operator:alice"
        with pytest.raises(ValueError):
            verifier.issue("operator")
        assert not files.signing_key.exists()
    finally:
        away.rename(files.signing_key)
    for path in (files.signing_key, files.verification_keys):
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    listed = json.loads(files.verification_keys.read_text())["keys"]
    assert "PRIVATE" not in files.verification_keys.read_text() and len(listed) == 1


def test_a_read_only_mount_of_the_signing_key_alone_still_works(tmp_path: Path, monkeypatch):
    """Older deployments mount only the private key, read-only: the key files cannot be
    written, so the services verify with its public half (and a WARNING)."""
    files = _files(tmp_path)
    files.signing_key.parent.mkdir(parents=True)
    key = keyring.Ed25519PrivateKey.generate()
    files.signing_key.write_bytes(keyring._private_pem(key))

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(keyring, "write_file", read_only)
    issuer = TokenAuthority.for_node(NODE, files.signing_key)
    token = issuer.issue("operator", name="alice")
    assert TokenAuthority.verifier(NODE, files).verify(token).actor == "operator:alice"
    links = UnsubscribeTokens(keyring.link_secret_reader(files, NODE))
    wanted = Unsubscription(uuid.uuid4(), UnsubscribeScope.TOPIC, "learning")
    assert links.read(links.issue(wanted)) == wanted
    assert not files.verification_keys.exists() and not files.unsubscribe_secrets.exists()


def test_an_unsubscribe_link_from_before_a_rotation_works_during_the_overlap(tmp_path: Path):
    files = _files(tmp_path)
    keyring.ensure_keys(files)
    keyring.ensure_link_secrets(files, NODE)
    tokens = UnsubscribeTokens(keyring.link_secret_reader(files, NODE))
    wanted = Unsubscription(uuid.uuid4(), UnsubscribeScope.TOPIC, "learning")
    before = tokens.issue(wanted)

    keyring.rotate_signing_key(files)  # the token key: links are not tied to it
    assert tokens.read(before) == wanted
    keyring.rotate_link_secrets(files)
    after = eventually(lambda: (t := tokens.issue(wanted)) != before and t, timeout=5)
    assert tokens.read(before) == wanted and tokens.read(after) == wanted  # the overlap
    keyring.rotate_link_secrets(files)  # the next rotation retires the first secret
    eventually(lambda: _unreadable(tokens, before), timeout=5)
    assert tokens.read(after) == wanted
    assert oct(files.unsubscribe_secrets.stat().st_mode & 0o777) == "0o600"


def test_links_signed_before_the_secrets_had_a_file_keep_working(tmp_path: Path):
    """An existing node's first link secret is the one it derived from its signing key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    files = _files(tmp_path)
    keyring.ensure_keys(files)
    raw = keyring.read_signing_key(files.signing_key).private_bytes_raw()
    legacy = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=f"copnet:{NODE}".encode(),
        info=b"notify-unsubscribe-v1",
    ).derive(raw)
    wanted = Unsubscription(uuid.uuid4(), UnsubscribeScope.TOPIC, "learning")
    old_link = UnsubscribeTokens(legacy).issue(wanted)
    tokens = UnsubscribeTokens(keyring.link_secret_reader(files, NODE))
    assert tokens.read(old_link) == wanted


def _unreadable(tokens: UnsubscribeTokens, token: str) -> bool:
    try:
        tokens.read(token)
    except ValueError:
        return True
    return False
