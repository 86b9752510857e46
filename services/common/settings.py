"""Node settings, from flags and COPNET_* environment variables (flags win).

Every setting is documented in README.md; keep the two in step.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.common.keyring import KeyFiles

if TYPE_CHECKING:  # imported when used: a supervisor reads settings without the stores' drivers
    from services.common.stores import StoreSettings

SERVICES = ("registry", "events", "learning", "notify")
# Services with web pages: their HTTP ports follow the gRPC ports, in this order (notify's
# unsubscribe pages on 50055, the events service's feeds and certificates on 50056).
WEB_SERVICES = ("notify", "events")


def available_services() -> tuple[str, ...]:
    """The services this installation has (each a package with a `service.py`), in order."""
    import importlib.util

    def present(service: str) -> bool:
        return importlib.util.find_spec(f"services.{service}") is not None and (
            importlib.util.find_spec(f"services.{service}.service") is not None
        )

    return tuple(service for service in SERVICES if present(service))


_TOKEN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_NODE_IDS = {"hub", "local"}
# Hosts a server binds to that a client cannot connect to by name: use loopback instead.
_WILDCARDS = {"", "0.0.0.0", "::", "[::]"}
# gRPC calls a service handles at once; beyond them a call gets RESOURCE_EXHAUSTED.
DEFAULT_MAX_CONCURRENT_RPCS = 256


def parse_duration(text: str) -> timedelta:
    """A span such as 90s, 30m, 12h or 7d."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise ValueError(f"use a number and a unit: 90s, 30m, 12h, 7d (not {text!r})")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})


def format_duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_token_name(value: str, what: str) -> str:
    """Node ids and regions become NATS subject tokens and JetStream domains."""
    if not _TOKEN.match(value) or len(value) > 40:
        raise ValueError(
            f"{what} must be lower-case letters and digits joined by hyphens, "
            f"at most 40 characters: {value!r}"
        )
    return value


def client_address(address: str) -> str:
    """Where a client on this machine reaches a server bound to `address` (a wildcard host
    becomes 127.0.0.1, which the node's certificate names)."""
    host, _, port = address.rpartition(":")
    return f"127.0.0.1:{port}" if host in _WILDCARDS else address


@dataclass(frozen=True)
class TokenLimits:
    """The longest a token may live, per role (settable: COPNET_TOKEN_MAX_TTL,
    COPNET_OPERATOR_TOKEN_MAX_TTL)."""

    member_max_ttl: timedelta = timedelta(hours=12)
    operator_max_ttl: timedelta = timedelta(days=30)

    def max_ttl(self, operator: bool) -> timedelta:
        return self.operator_max_ttl if operator else self.member_max_ttl


@dataclass(frozen=True)
class NodeSettings:
    node_id: str = "dev"
    region: str = "dev"
    data_dir: Path = Path("copnet-data")
    postgres_dsn: str = ""
    postgres_schema_prefix: str = "copnet_"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_port: int = 4222
    listen_host: str = "127.0.0.1"
    grpc_port_base: int = 50051
    addresses: Mapping[str, str] = field(default_factory=dict)
    token_key_file: Path | None = None
    time_zone: str = "Europe/London"
    hub_url: str = ""
    # The credentials file the hub wrote for this node (it names the hub's URL).
    hub_credentials: Path | None = None
    log_level: str = "INFO"
    # gRPC transport security (README "TLS for the gRPC APIs"): the services' certificate
    # and key; with `client_ca`, mutual TLS (clients must show a certificate it signed).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    # What the node's own clients (readiness check, demo, tools) use: the CA that signed
    # tls_cert (the system roots when unset), and their certificate when mTLS is on.
    tls_ca: Path | None = None
    tls_client_cert: Path | None = None
    tls_client_key: Path | None = None
    # Plain gRPC on a non-loopback address (refused without it; a WARNING at every start).
    insecure: bool = False
    # The longest a bearer token may live (README "Tokens and keys").
    token_limits: TokenLimits = field(default_factory=TokenLimits)
    max_concurrent_rpcs: int = DEFAULT_MAX_CONCURRENT_RPCS
    # This process's Prometheus `/metrics` port on `listen_host` (0: none). `copnet up` gives
    # each service `metrics_port_base` + its index in SERVICES (0 there: no endpoints).
    metrics_port: int = 0
    metrics_port_base: int = 9464
    # The node's nats-server monitoring port (`/varz`, `/leafz`, on loopback): -1 any free
    # port (found by `copnet status` in the server's ports file), 0 none.
    nats_monitor_port: int = -1

    def __post_init__(self) -> None:
        parse_token_name(self.node_id, "node id")
        parse_token_name(self.region, "region")
        if self.node_id in RESERVED_NODE_IDS:
            raise ValueError(f"node id {self.node_id!r} is reserved")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(
                "give the gRPC TLS certificate and its key together (--tls-cert, --tls-key)"
            )
        if self.client_ca is not None and self.tls_cert is None:
            raise ValueError("--client-ca (mutual TLS) needs --tls-cert and --tls-key")
        if (self.tls_client_cert is None) != (self.tls_client_key is None):
            raise ValueError("give the client certificate and its key together")
        if self.max_concurrent_rpcs < 1:
            raise ValueError("COPNET_MAX_CONCURRENT_RPCS must be at least 1")

    @property
    def tls(self) -> bool:
        """Whether the services serve gRPC over TLS."""
        return self.tls_cert is not None

    @property
    def stores(self) -> StoreSettings:
        from services.common.stores import StoreSettings

        return StoreSettings(
            data_dir=self.data_dir,
            postgres_dsn=self.postgres_dsn,
            schema_prefix=self.postgres_schema_prefix,
        )

    @property
    def joins_hub(self) -> bool:
        return bool(self.hub_url or self.hub_credentials)

    @property
    def signing_key_file(self) -> Path:
        return self.token_key_file or self.data_dir / "secrets" / "token-signing-key.pem"

    @property
    def key_files(self) -> KeyFiles:
        """The token keys, revocations and link secrets (beside the signing key)."""
        return KeyFiles.beside(self.signing_key_file)

    def address(self, service: str) -> str:
        """Where a service's gRPC server listens (and where clients on this machine reach it)."""
        if service in self.addresses:
            return self.addresses[service]
        return f"{self.listen_host}:{self.grpc_port_base + SERVICES.index(service)}"

    def metrics_port_of(self, service: str) -> int:
        """The metrics port `copnet up` gives a service (0: none)."""
        if not self.metrics_port_base:
            return 0
        return self.metrics_port_base + SERVICES.index(service)

    def default_web_address(self, service: str) -> str:
        """Where a service's web pages listen unless COPNET_<SERVICE>_HTTP_ADDRESS says."""
        port = self.grpc_port_base + len(SERVICES) + WEB_SERVICES.index(service)
        return f"{self.listen_host}:{port}"

    def with_overrides(self, **overrides: Any) -> NodeSettings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_env(self) -> dict[str, str]:
        """The environment that hands these settings to a child process."""
        env = {
            "COPNET_NODE_ID": self.node_id,
            "COPNET_REGION": self.region,
            "COPNET_DATA_DIR": str(self.data_dir),
            "COPNET_POSTGRES_DSN": self.postgres_dsn,
            "COPNET_POSTGRES_SCHEMA_PREFIX": self.postgres_schema_prefix,
            "COPNET_NATS_URL": self.nats_url,
            "COPNET_NATS_PORT": str(self.nats_port),
            "COPNET_LISTEN_HOST": self.listen_host,
            "COPNET_GRPC_PORT_BASE": str(self.grpc_port_base),
            "COPNET_TOKEN_KEY_FILE": str(self.signing_key_file),
            "COPNET_TIME_ZONE": self.time_zone,
            "COPNET_HUB_URL": self.hub_url,
            "COPNET_HUB_CREDENTIALS": str(self.hub_credentials or ""),
            "COPNET_LOG_LEVEL": self.log_level,
            "COPNET_TLS_CERT": str(self.tls_cert or ""),
            "COPNET_TLS_KEY": str(self.tls_key or ""),
            "COPNET_CLIENT_CA": str(self.client_ca or ""),
            "COPNET_TLS_CA": str(self.tls_ca or ""),
            "COPNET_TLS_CLIENT_CERT": str(self.tls_client_cert or ""),
            "COPNET_TLS_CLIENT_KEY": str(self.tls_client_key or ""),
            "COPNET_INSECURE": "1" if self.insecure else "",
            "COPNET_TOKEN_MAX_TTL": format_duration(self.token_limits.member_max_ttl),
            "COPNET_OPERATOR_TOKEN_MAX_TTL": format_duration(self.token_limits.operator_max_ttl),
            "COPNET_MAX_CONCURRENT_RPCS": str(self.max_concurrent_rpcs),
            "COPNET_METRICS_PORT": str(self.metrics_port or ""),
            "COPNET_METRICS_PORT_BASE": str(self.metrics_port_base),
            "COPNET_NATS_MONITOR_PORT": str(self.nats_monitor_port),
        }
        for service, address in self.addresses.items():
            env[f"COPNET_{service.upper()}_ADDRESS"] = address
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NodeSettings:
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str, default: Any) -> Any:
            value = env.get(f"COPNET_{name}", "")
            return value if value != "" else default

        addresses = {
            service: env[f"COPNET_{service.upper()}_ADDRESS"]
            for service in SERVICES
            if env.get(f"COPNET_{service.upper()}_ADDRESS")
        }
        key_file = get("TOKEN_KEY_FILE", "")
        hub_credentials = get("HUB_CREDENTIALS", "")

        def path(name: str) -> Path | None:
            value = get(name, "")
            return Path(value) if value else None

        return cls(
            node_id=get("NODE_ID", defaults.node_id),
            region=get("REGION", defaults.region),
            data_dir=Path(get("DATA_DIR", defaults.data_dir)),
            postgres_dsn=get("POSTGRES_DSN", ""),
            postgres_schema_prefix=get("POSTGRES_SCHEMA_PREFIX", defaults.postgres_schema_prefix),
            nats_url=get("NATS_URL", defaults.nats_url),
            nats_port=int(get("NATS_PORT", defaults.nats_port)),
            listen_host=get("LISTEN_HOST", defaults.listen_host),
            grpc_port_base=int(get("GRPC_PORT_BASE", defaults.grpc_port_base)),
            addresses=addresses,
            token_key_file=Path(key_file) if key_file else None,
            time_zone=get("TIME_ZONE", defaults.time_zone),
            hub_url=get("HUB_URL", ""),
            hub_credentials=Path(hub_credentials) if hub_credentials else None,
            log_level=get("LOG_LEVEL", defaults.log_level),
            tls_cert=path("TLS_CERT"),
            tls_key=path("TLS_KEY"),
            client_ca=path("CLIENT_CA"),
            tls_ca=path("TLS_CA"),
            tls_client_cert=path("TLS_CLIENT_CERT"),
            tls_client_key=path("TLS_CLIENT_KEY"),
            insecure=str(get("INSECURE", "")).lower() in ("1", "true", "yes", "on"),
            token_limits=TokenLimits(
                member_max_ttl=parse_duration(
                    get("TOKEN_MAX_TTL", format_duration(defaults.token_limits.member_max_ttl))
                ),
                operator_max_ttl=parse_duration(
                    get(
                        "OPERATOR_TOKEN_MAX_TTL",
                        format_duration(defaults.token_limits.operator_max_ttl),
                    )
                ),
            ),
            max_concurrent_rpcs=int(get("MAX_CONCURRENT_RPCS", defaults.max_concurrent_rpcs)),
            metrics_port=int(get("METRICS_PORT", 0)),
            metrics_port_base=int(get("METRICS_PORT_BASE", defaults.metrics_port_base)),
            nats_monitor_port=int(get("NATS_MONITOR_PORT", defaults.nats_monitor_port)),
        )
