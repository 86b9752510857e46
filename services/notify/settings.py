"""The notify service's settings, from COPNET_* environment variables (see README.md).

`copnet up` passes its environment on to the services it starts, so these work
there as they do for `python -m services.notify`. With no SMTP host, mail is
written as .eml files under `<data-dir>/notify/outbox/`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from services.common.settings import NodeSettings
from services.common.webserver import TlsFiles, WebLimits

SMTP_SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class NotifySettings:
    # SMTP: no host means "write .eml files to outbox_dir".
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_timeout: float = 30.0
    # An SMTP connection unused for this long is closed (seconds).
    smtp_idle: float = 30.0
    mail_from: str = ""
    # Where the unsubscribe pages are served, and how e-mails link to them.
    http_address: str = "127.0.0.1:50055"
    public_url: str = ""
    # With both, the pages are served over HTTPS only (and links say https://).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    web_limits: WebLimits = field(default_factory=WebLimits)
    outbox_dir: Path = Path("copnet-data/notify/outbox")
    # Schedules.
    reminder_hours_before: int = 24
    digest_hour: int = 7
    # Integration events older than this when notify first sees them update its state
    # but send nothing (a new notify catching up on a node's history sends no stale mail).
    max_trigger_age: timedelta = timedelta(days=7)
    # Delivery.
    concurrency: int = 4
    max_attempts: int = 8
    retry_base: timedelta = timedelta(minutes=1)
    retry_cap: timedelta = timedelta(hours=1)
    poll_interval: float = 1.0

    def __post_init__(self) -> None:
        if self.smtp_security not in SMTP_SECURITY:
            raise ValueError(f"COPNET_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}")
        if not 0 < self.reminder_hours_before <= 24 * 14:
            raise ValueError("COPNET_NOTIFY_REMINDER_HOURS must be between 1 and 336")
        if not 0 <= self.digest_hour <= 23:
            raise ValueError("COPNET_NOTIFY_DIGEST_HOUR must be between 0 and 23")
        if self.smtp_idle <= 0:
            raise ValueError("COPNET_SMTP_IDLE_SECONDS must be more than 0")
        if self.concurrency < 1 or self.max_attempts < 1:
            raise ValueError("concurrency and attempts must be at least 1")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(
                "COPNET_NOTIFY_TLS_CERT and _KEY (or COPNET_TLS_CERT and _KEY) go together"
            )

    @property
    def tls(self) -> TlsFiles | None:
        """The certificate the unsubscribe pages are served with, if any."""
        if self.tls_cert is None or self.tls_key is None:
            return None
        return TlsFiles(self.tls_cert, self.tls_key)

    @property
    def uses_smtp(self) -> bool:
        return bool(self.smtp_host)

    def sender(self, node_id: str) -> str:
        return self.mail_from or f"copnet {node_id} <notify@{node_id}.copnet.invalid>"

    def with_overrides(self, **overrides: Any) -> NotifySettings:
        return replace(self, **overrides)

    @classmethod
    def from_env(cls, node: NodeSettings, env: Mapping[str, str] | None = None) -> NotifySettings:
        env = os.environ if env is None else env

        def get(name: str, default: Any) -> Any:
            value = env.get(f"COPNET_{name}", "")
            return value if value != "" else default

        password = get("SMTP_PASSWORD", "")
        password_file = get("SMTP_PASSWORD_FILE", "")
        if password_file:
            password = Path(password_file).read_text().strip()
        security = get("SMTP_SECURITY", "starttls")
        default_port = {"starttls": 587, "tls": 465, "none": 25}.get(security, 587)
        # The pages' own certificate, else the node's (the one its gRPC APIs use).
        tls_prefix = "NOTIFY_TLS" if get("NOTIFY_TLS_CERT", "") else "TLS"
        tls_cert, tls_key = get(f"{tls_prefix}_CERT", ""), get(f"{tls_prefix}_KEY", "")
        max_connections = int(get("NOTIFY_HTTP_MAX_CONNECTIONS", WebLimits.max_connections))
        return cls(
            smtp_host=get("SMTP_HOST", ""),
            smtp_port=int(get("SMTP_PORT", default_port)),
            smtp_security=security,
            smtp_user=get("SMTP_USER", ""),
            smtp_password=password,
            smtp_idle=float(get("SMTP_IDLE_SECONDS", 30.0)),
            mail_from=get("MAIL_FROM", ""),
            # The port after the services' gRPC ports: 50055 when the registry has 50051.
            http_address=get("NOTIFY_HTTP_ADDRESS", node.default_web_address("notify")),
            public_url=get("NOTIFY_PUBLIC_URL", "").rstrip("/"),
            tls_cert=Path(tls_cert) if tls_cert else None,
            tls_key=Path(tls_key) if tls_key else None,
            web_limits=WebLimits(max_connections=max_connections),
            outbox_dir=Path(get("NOTIFY_OUTBOX_DIR", node.data_dir / "notify" / "outbox")),
            reminder_hours_before=int(get("NOTIFY_REMINDER_HOURS", 24)),
            digest_hour=int(get("NOTIFY_DIGEST_HOUR", 7)),
            max_trigger_age=timedelta(days=float(get("NOTIFY_MAX_TRIGGER_AGE_DAYS", 7))),
            concurrency=int(get("NOTIFY_CONCURRENCY", 4)),
            max_attempts=int(get("NOTIFY_MAX_ATTEMPTS", 8)),
        )
