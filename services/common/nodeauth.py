"""Who may use a node's own nats-server, and for what: one nkey user per service.

`copnet up` generates each service's nkey seed once (`<data-dir>/secrets/nats/
<service>.nk`, 0600) and an `operator` seed for the node's operator and tools;
the server's config holds the public keys only, with an allow-list each:
- a service publishes only its own events (`copnet.<region>.<node>.<service>.>`,
  `copnet-partners.<node>.*.<service>.>`, `copnet-local.<node>.<service>.>`);
- it uses JetStream only for what its relay and inboxes do: the node's streams'
  info and configuration, and its own durable consumers (create, read, ack,
  resume); the learning service also keeps the federation streams: its own, and one
  per partner node named in the region directory (`partners`; NATS permissions match
  whole tokens only, and a stream's name is one token, so each name is listed);
- it receives only replies to its own requests (its own inbox prefix, `_INBOX_<service>`).
There is no anonymous user: a connection without a known key is refused.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.common import messaging, signing
from services.common.messaging import NodeIdentity
from services.common.region import write_private
from services.common.settings import parse_token_name

OPERATOR = "operator"


def inbox_prefix(user: str) -> str:
    return f"_INBOX_{user.replace('-', '_')}"


@dataclass(frozen=True)
class ServiceGrants:
    """What one service does on its node's NATS (from its definition)."""

    service: str
    # (stream, durable consumer) of each inbox.
    consumers: tuple[tuple[str, str], ...] = ()
    # Keeps the federation streams (the learning service's FederationLinks).
    federation: bool = False
    # Other subjects it may request (e.g. the region directory).
    requests: tuple[str, ...] = field(default_factory=tuple)
    # Deletes members' personal messages from the node stream (the registry, on erasure).
    erases: bool = False


def permissions(
    identity: NodeIdentity, grants: ServiceGrants, partners: Collection[str] = ()
) -> dict[str, object]:
    """The server's allow-list for one service's user. `partners`: the other nodes of the
    region (the directory's), whose partner streams a federation service keeps."""
    s, node, api = grants.service, identity.node_id, "$JS.API"
    node_streams = [identity.stream_name, identity.public_stream_name]
    publish = [
        f"{messaging.FEDERATED_ROOT}.{identity.region}.{node}.{s}.>",
        f"{messaging.PARTNERS_ROOT}.{node}.*.{s}.>",
        f"{messaging.LOCAL_ROOT}.{node}.{s}.>",
        f"{api}.INFO",
        *(
            f"{api}.STREAM.{verb}.{name}"
            for name in node_streams
            for verb in ("INFO", "CREATE", "UPDATE")
        ),
    ]
    for stream, durable in grants.consumers:
        publish += [f"{api}.STREAM.INFO.{stream}"]
        for verb in ("CREATE", "DURABLE.CREATE", "INFO", "DELETE", "MSG.NEXT", "PAUSE"):
            publish.append(f"{api}.CONSUMER.{verb}.{stream}.{durable}")
        publish += [
            f"{api}.CONSUMER.CREATE.{stream}.{durable}.>",
            f"$JS.ACK.{stream}.{durable}.>",
        ]
    if grants.federation:
        # The federation stream and one stream per partner, each by its full name: a
        # wildcard matches whole tokens only, and a stream name is one token, so a
        # prefix such as COPNET_<NODE>_FOR_* cannot be granted (it would be a literal).
        streams = [identity.federation_stream_name]
        streams += [
            identity.partner_stream_name(p) for p in federation_partners(identity, partners)
        ]
        publish += [
            f"{api}.STREAM.{verb}.{name}"
            for name in streams
            for verb in ("CREATE", "UPDATE", "INFO")
        ]
        publish.append("$JS.*.API.STREAM.INFO.*")  # whether another node's stream answers
    if grants.erases:
        publish += [
            f"{api}.STREAM.MSG.GET.{identity.stream_name}",
            f"{api}.STREAM.MSG.DELETE.{identity.stream_name}",
        ]
    publish += list(grants.requests)
    return {
        "publish": {"allow": sorted(set(publish))},
        "subscribe": {"allow": [f"{inbox_prefix(s)}.>"]},
    }


def federation_partners(identity: NodeIdentity, partners: Iterable[str]) -> list[str]:
    """The partner nodes a node keeps streams for: the others, each a valid node id."""
    return sorted({parse_token_name(p, "partner node id") for p in partners} - {identity.node_id})


def nkey_variable(user: str) -> str:
    """The environment variable a container's nats-server config reads a user's public key
    from (deploy/: NATS_NKEY_REGISTRY...)."""
    return f"NATS_NKEY_{user.upper().replace('-', '_')}"


class NodeUsers:
    """The node's NATS users: their seeds under `<data-dir>/secrets/nats/`."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / "secrets" / "nats"

    def seed_file(self, user: str) -> Path:
        return self.directory / f"{user}.nk"

    def seed(self, user: str) -> str:
        """The user's seed, created (0600) the first time."""
        path = self.seed_file(user)
        if path.exists():
            return path.read_text().strip()
        seed = signing.new_seed()
        write_private(path, seed + "\n")
        return seed

    def authorization(
        self,
        identity: NodeIdentity,
        services: Iterable[ServiceGrants],
        partners: Collection[str] = (),
    ) -> dict[str, object]:
        """The server's `authorization` block: the operator (everything) and each service."""
        users: list[dict[str, object]] = [{"nkey": signing.public_key(self.seed(OPERATOR))}]
        for grants in services:
            users.append(
                {
                    "nkey": signing.public_key(self.seed(grants.service)),
                    "permissions": permissions(identity, grants, partners),
                }
            )
        return {"users": users}


def seed_for(env: Mapping[str, str], data_dir: Path, user: str) -> str | None:
    """The seed a process connects with: `COPNET_NATS_SEED_FILE`, else the user's file in
    the data directory (None: connect without credentials, to a server that has none)."""
    override = env.get("COPNET_NATS_SEED_FILE", "")
    path = Path(override) if override else NodeUsers(data_dir).seed_file(user)
    return path.read_text().strip() if path.exists() else None
