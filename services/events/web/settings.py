"""The events service's web port: where it listens, how its links are written, its limits
and certificate (from COPNET_* variables; see README.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from services.common.settings import NodeSettings
from services.common.webserver import TlsFiles, WebLimits

FEEDS_PATH = "/calendars/feeds"
COMMUNITIES_PATH = "/calendars/communities"
VERIFY_PATH = "/cpd/verify"
CERTIFICATES_PATH = "/cpd/certificates"


@dataclass(frozen=True)
class EventsWebSettings:
    http_address: str = "127.0.0.1:50056"
    # The URL people reach the pages at (behind a proxy), else where they are served.
    public_url: str = ""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    web_limits: WebLimits = field(default_factory=WebLimits)

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(
                "COPNET_EVENTS_TLS_CERT and _KEY (or COPNET_TLS_CERT and _KEY) go together"
            )

    @property
    def tls(self) -> TlsFiles | None:
        if self.tls_cert is None or self.tls_key is None:
            return None
        return TlsFiles(self.tls_cert, self.tls_key)

    @classmethod
    def from_env(
        cls, node: NodeSettings, env: Mapping[str, str] | None = None
    ) -> EventsWebSettings:
        env = os.environ if env is None else env

        def get(name: str, default: Any) -> Any:
            value = env.get(f"COPNET_{name}", "")
            return value if value != "" else default

        # The pages' own certificate, else the node's (the one its gRPC APIs use).
        prefix = "EVENTS_TLS" if get("EVENTS_TLS_CERT", "") else "TLS"
        cert, key = get(f"{prefix}_CERT", ""), get(f"{prefix}_KEY", "")
        max_connections = int(get("EVENTS_HTTP_MAX_CONNECTIONS", WebLimits.max_connections))
        return cls(
            http_address=get("EVENTS_HTTP_ADDRESS", node.default_web_address("events")),
            public_url=get("EVENTS_PUBLIC_URL", "").rstrip("/"),
            tls_cert=Path(cert) if cert else None,
            tls_key=Path(key) if key else None,
            web_limits=WebLimits(max_connections=max_connections),
        )


class EventsLinks:
    """The links the events service hands out: the configured public URL, else where this
    process serves the pages, else the configured address."""

    def __init__(self, settings: EventsWebSettings) -> None:
        self.settings = settings
        self.served_at: str | None = None

    def base(self) -> str:
        if self.settings.public_url:
            return self.settings.public_url
        scheme = "https" if self.settings.tls else "http"
        return f"{scheme}://{self.served_at or self.settings.http_address}"

    def feed(self, feed_id: UUID, secret: str) -> str:
        return f"{self.base()}{FEEDS_PATH}/{feed_id}/{secret}.ics"

    def community_feed(self, community_id: UUID) -> str:
        return f"{self.base()}{COMMUNITIES_PATH}/{community_id}.ics"

    def verification(self, token: str) -> str:
        return f"{self.base()}{VERIFY_PATH}/{token}"

    def certificate(self, token: str) -> str:
        return f"{self.base()}{CERTIFICATES_PATH}/{token}.pdf"
