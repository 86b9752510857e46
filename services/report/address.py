"""Where a node's report page listens (kept apart so supervisors import no chart code)."""

from __future__ import annotations

import os

from services.common.settings import SERVICES, WEB_SERVICES, NodeSettings, client_address

# The services the report reads; a node runs the report when it runs all of them.
REPORT_READS = ("registry", "events", "learning")
# The report's port: past the services' gRPC ports and their web pages (notify's +4, the
# events service's +5).
PORT_OFFSET = len(SERVICES) + len(WEB_SERVICES)


def report_address(settings: NodeSettings) -> str:
    """COPNET_REPORT_ADDRESS, else the node's host and the gRPC base port + 6."""
    return os.environ.get("COPNET_REPORT_ADDRESS") or (
        f"{settings.listen_host}:{settings.grpc_port_base + PORT_OFFSET}"
    )


def report_url(settings: NodeSettings) -> str:
    scheme = "https" if settings.tls else "http"
    return f"{scheme}://{client_address(report_address(settings))}/"
