"""Waiting for a node's services to report SERVING, in a short-lived process of its own.

`copnet up` runs it (`wait_all_serving`) once its services are started, so that the
supervisor, which runs for as long as the node, never loads a gRPC client (about 25 MB
it would hold for good):

    python -m services.common.readiness '{"timeout": 30, "security": {...},
                                          "targets": [["127.0.0.1:50051", "copnet..."]]}'

It checks each target in turn, each within `timeout` seconds, and exits 0 when all
answered SERVING, else 1 after printing the address of the first that did not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from services.common.supervision import spawn

if TYPE_CHECKING:
    from services.common.channels import ChannelSecurity


def wait_serving(
    address: str, timeout: float, service: str = "", security: ChannelSecurity | None = None
) -> bool:
    """`channels.wait_serving` in this process, gRPC imported when first used."""
    from services.common import channels

    return channels.wait_serving(address, timeout, service, security)


def wait_all_serving(
    targets: Sequence[tuple[str, str]], timeout: float, security: dict[str, Any]
) -> str | None:
    """Waits (in a child process) until every (address, gRPC service) reports SERVING, each
    within `timeout`; the address of the first that did not, or None when all did."""
    request = {"timeout": timeout, "security": security, "targets": [list(t) for t in targets]}
    child = spawn(
        [sys.executable, "-m", "services.common.readiness", json.dumps(request)],
        stdout=subprocess.PIPE,
    )
    output, _ = child.communicate()
    if child.returncode == 0:
        return None
    return output.decode(errors="replace").strip() or targets[0][0]


def main(argv: Sequence[str]) -> int:
    from services.common.channels import ChannelSecurity, wait_serving

    request = json.loads(argv[0])
    security = ChannelSecurity.from_json(request["security"])
    for address, service in request["targets"]:
        if not wait_serving(address, float(request["timeout"]), service, security):
            print(address, flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
