"""`copnet token`, `copnet keys` and `copnet revoke`: tokens, the node's token keys, link
secrets and revocations (`services.common.keyring`), from the command line."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.common import keyring
from services.common.identity import OPERATOR_SUBJECT
from services.common.settings import NodeSettings


def token(settings: NodeSettings, options: argparse.Namespace) -> int:
    from services.common.tokens import TokenAuthority, TokenLifetimeError, parse_operator_name

    """`copnet token --operator --name NAME | --member ID [--ttl SPAN]`."""
    if not settings.signing_key_file.exists():
        print(
            f"no signing key at {settings.signing_key_file}: start the node once with "
            "`copnet up` (or give the same --data-dir)",
            file=sys.stderr,
        )
        return 2
    if options.operator and not options.name:
        print("copnet token: --operator needs --name (who the token is for)", file=sys.stderr)
        return 2
    if options.member and options.name:
        print("copnet token: --name is for operators", file=sys.stderr)
        return 2
    authority = TokenAuthority.for_node(
        settings.node_id, settings.signing_key_file, settings.token_limits
    )
    subject = OPERATOR_SUBJECT if options.operator else options.member
    try:
        if options.operator:
            parse_operator_name(options.name)
        print(authority.issue(subject, ttl=options.ttl, name=options.name or ""))
    except TokenLifetimeError as error:
        print(f"copnet token: --ttl refused: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(
            f"copnet token: {error if options.operator else 'give a member id (a UUID)'}",
            file=sys.stderr,
        )
        return 2
    return 0


def keys(settings: NodeSettings, action: str, kid: str | None) -> int:
    """`copnet keys [list|rotate|remove KID|rotate-links]`."""
    files = settings.key_files
    try:
        if action == "rotate":
            kid = keyring.rotate_signing_key(files)
            print(
                f"new signing key {kid}; tokens signed with the previous keys keep working "
                "until you remove them (`copnet keys remove KID`)"
            )
        elif action == "remove":
            if not kid:
                raise ValueError("name the key: copnet keys remove KID")
            keyring.remove_verification_key(files, kid)
            print(f"removed {kid}: tokens it signed are refused within a second")
        elif action == "rotate-links":
            keyring.ensure_link_secrets(files, settings.node_id)
            secret_id = keyring.rotate_link_secrets(files)
            print(
                f"new unsubscribe-link secret {secret_id}; links in mail already sent keep "
                "working until the next rotation"
            )
        else:
            keyring.ensure_keys(files)
            for number, entry in enumerate(keyring.list_verification_keys(files)):
                added = datetime.fromtimestamp(entry.get("added", 0)).isoformat(timespec="seconds")
                state = "signing" if number == 0 else "verifying"
                print(f"{entry['kid']}  {state:9}  added {added}")
    except (ValueError, FileNotFoundError) as error:
        print(f"copnet keys: {error}", file=sys.stderr)
        return 2
    return 0


def revoke(
    settings: NodeSettings,
    jti: str | None,
    member: str | None,
    operator_name: str | None,
    before_text: str | None,
) -> int:
    """`copnet revoke --jti J | --member ID | --operator-name NAME [--before T]`."""
    from services.common.tokens import parse_operator_name

    try:
        before = datetime.fromisoformat(before_text).timestamp() if before_text else None
        if jti:
            keyring.revoke(settings.key_files, jti=jti)
            print(f"revoked token {jti}")
        elif member:
            subject = f"member:{uuid.UUID(member)}"
            keyring.revoke(settings.key_files, subject=subject, before=before)
            print(f"revoked every token of {subject} issued before {before_text or 'now'}")
        else:
            name = parse_operator_name(operator_name or "")
            subject = f"operator:{name}"
            keyring.revoke(settings.key_files, subject=subject, before=before)
            print(f"revoked every token of {subject} issued before {before_text or 'now'}")
    except ValueError as error:
        print(f"copnet revoke: {error}", file=sys.stderr)
        return 2
    return 0


def add_commands(
    commands: Any,
    node_options: Callable[[argparse.ArgumentParser], None],
    run_keys: Callable[[argparse.Namespace], int],
    run_revoke: Callable[[argparse.Namespace], int],
) -> None:
    """`copnet keys` and `copnet revoke` on the command's subparsers."""
    keys_parser = commands.add_parser(
        "keys", help="token signing keys and unsubscribe-link secrets (rotate with an overlap)"
    )
    node_options(keys_parser)
    keys_parser.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=["list", "rotate", "remove", "rotate-links"],
        help="list (default); rotate: a new signing key, the old one still verifies; remove "
        "KID: stop accepting tokens a key signed; rotate-links: a new unsubscribe-link "
        "secret, the previous one still verifies",
    )
    keys_parser.add_argument("kid", nargs="?", help="with remove: the key's id (see `copnet keys`)")
    keys_parser.set_defaults(run=run_keys)

    revoke_parser = commands.add_parser("revoke", help="revoke tokens: refused within a second")
    node_options(revoke_parser)
    whose = revoke_parser.add_mutually_exclusive_group(required=True)
    whose.add_argument("--jti", help="one token, by its id (its `jti` claim)")
    whose.add_argument("--member", metavar="MEMBER_ID", help="every token of this member")
    whose.add_argument("--operator-name", metavar="NAME", help="every token of this operator")
    revoke_parser.add_argument(
        "--before", help="with --member/--operator-name: tokens issued before this ISO time (now)"
    )
    revoke_parser.set_defaults(run=run_revoke)
