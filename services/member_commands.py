"""`copnet export-member` and `copnet erase-member`: a data subject's rights, asked of a
running node by its operator (docs/data-protection.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.common.settings import NodeSettings, available_services


def add_parsers(
    commands: Any,
    node_options: Callable[[argparse.ArgumentParser], None],
    settings_of: Callable[[argparse.Namespace], NodeSettings],
) -> None:
    export = commands.add_parser(
        "export-member", help="everything this node holds about a member, as one JSON file"
    )
    node_options(export)
    export.add_argument("member_id", metavar="MEMBER_ID")
    export.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    export.add_argument(
        "--service",
        action="append",
        choices=available_services(),
        help="only this service's part (repeat; all by default)",
    )
    export.set_defaults(run=_export_member)

    erase = commands.add_parser(
        "erase-member", help="erase a member (their data key is destroyed; cannot be undone)"
    )
    node_options(erase)
    erase.add_argument("member_id", metavar="MEMBER_ID")
    erase.set_defaults(run=_erase_member)
    export.set_defaults(settings_of=settings_of)
    erase.set_defaults(settings_of=settings_of)


def _member_tool(
    options: argparse.Namespace, settings_of: Callable[[argparse.Namespace], NodeSettings]
) -> tuple[NodeSettings, str] | None:
    import uuid

    settings = settings_of(options)
    if not settings.signing_key_file.exists():
        print(f"no signing key at {settings.signing_key_file}", file=sys.stderr)
        return None
    try:
        return settings, str(uuid.UUID(options.member_id))
    except ValueError:
        print("MEMBER_ID must be a member id (a UUID)", file=sys.stderr)
        return None


def _export_member(options: argparse.Namespace) -> int:
    import grpc

    from services.personal_data import export_member, write_export

    found = _member_tool(options, options.settings_of)
    if found is None:
        return 2
    settings, member_id = found
    try:
        services = list(options.service or available_services())
        document = export_member(settings, member_id, services)
    except grpc.RpcError as error:
        print(f"export failed: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    write_export(document, options.out)
    print(f"wrote the export of member {member_id} to {options.out} (0600: personal data)")
    return 0


def _erase_member(options: argparse.Namespace) -> int:
    import grpc

    from services.personal_data import erase_member

    found = _member_tool(options, options.settings_of)
    if found is None:
        return 2
    settings, member_id = found
    try:
        position = erase_member(settings, member_id)
    except grpc.RpcError as error:
        print(f"erasure failed: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    print(
        f"member {member_id} erased (registry position {position}); the other services "
        "follow within seconds"
    )
    return 0
