"""A region: its hub, its member nodes, their keys and exactly what each may reach.

The hub's manifest (`region.json` in the hub's data directory) lists the
region's nodes with their public keys only. From it come:
- the hub's `accounts` (`hub_accounts`): the hub's own account (its JetStream,
  the region directory, the hub's admin) and **one account per node**. A node's
  leaf link logs into its account with an nkey (no password), and only as a
  leaf connection. Accounts share nothing unless exported: node A's account
  exports to every node the creation of source consumers on `COPNET_A_PUBLIC`,
  to node B alone the same on `COPNET_A_FOR_B`, the flow-control replies of
  those consumers, and the deliveries to B under `copnet-deliver.b.a.>`; each
  node imports exactly that, and a read of the region directory from the hub.
  Nothing else of another node's JetStream API, and none of the hub's, is
  reachable from a node's account (an allow-list, not deny patterns);
- each node's credentials, written once by the hub for the node's operator: the
  node's leaf seed, its message-signing seed, the hub's public key, the hub URL;
- the region directory: one document listing the nodes, their names and their
  message-signing public keys, signed by the hub and kept in the hub's stream
  `COPNET_REGION`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.common import messaging, signing
from services.common.leaftls import LeafTls
from services.common.messaging import NodeIdentity, stream_token
from services.common.pki import write_file
from services.common.settings import parse_token_name

HUB_DOMAIN = "hub"
HUB_ACCOUNT = "HUB"
DIRECTORY_STREAM = "COPNET_REGION"
# Where the hub keeps the directory (in its own account) and where nodes ask for it.
DIRECTORY_SUBJECT = "copnet-region.directory"
DIRECTORY_VERSION = 1
# What a node's account on the hub may use: a leaf link or two (a reconnect may
# briefly overlap the old one), and no message larger than this.
NODE_ACCOUNT_LIMITS = {"max_leafnodes": 2, "max_payload": 1024 * 1024}


def node_account(node_id: str) -> str:
    return "NODE_" + stream_token(node_id)


@dataclass
class RegionNode:
    node_id: str
    name: str
    # The public nkey its leaf link logs in with.
    leaf_key: str
    # Public keys its messages may be signed with: the current one first, then the
    # previous one (messages already signed with it are still being delivered).
    signing_keys: list[str]


@dataclass
class NodeSeeds:
    """A node's private keys, as the hub hands them to the node's operator once."""

    leaf_seed: str
    signing_seed: str

    @classmethod
    def new(cls) -> NodeSeeds:
        return cls(signing.new_seed(), signing.new_seed())


@dataclass
class HubSecrets:
    """The hub's own private keys (`<data-dir>/secrets/hub.json`, 0600)."""

    admin_seed: str
    signing_seed: str

    @classmethod
    def load_or_create(cls, path: Path) -> HubSecrets:
        if path.exists():
            return cls(**json.loads(path.read_text()))
        secrets = cls(signing.new_seed(), signing.new_seed())
        write_private(path, json.dumps(vars(secrets), indent=2) + "\n")
        return secrets


@dataclass
class RegionManifest:
    region: str
    nodes: dict[str, RegionNode] = field(default_factory=dict)

    @classmethod
    def load_or_create(cls, path: Path, region: str) -> RegionManifest:
        if not path.exists():
            return cls(parse_token_name(region, "region"))
        data = json.loads(path.read_text())
        if data["region"] != region:
            raise ValueError(f"{path} is the hub of region {data['region']!r}, not {region!r}")
        nodes = {}
        for entry in data["nodes"]:
            if "leaf_key" not in entry:
                # A manifest from before per-node keys (passwords): the node gets keys
                # (and new credentials) when it is added again.
                continue
            nodes[entry["node_id"]] = RegionNode(**entry)
        return cls(data["region"], nodes)

    def add_node(self, node_id: str, name: str) -> NodeSeeds | None:
        """Adds a node; returns its new private keys, or None when it already had keys."""
        parse_token_name(node_id, "node id")
        if node_id == HUB_DOMAIN:
            raise ValueError("node id 'hub' is the hub's own JetStream domain")
        node = self.nodes.get(node_id)
        if node is not None:
            node.name = name or node.name
            return None
        seeds = NodeSeeds.new()
        self.nodes[node_id] = RegionNode(
            node_id,
            name or node_id,
            signing.public_key(seeds.leaf_seed),
            [signing.public_key(seeds.signing_seed)],
        )
        return seeds

    def rotate_keys(self, node_id: str) -> NodeSeeds:
        """New keys for a node: its old leaf key stops working at once; messages signed
        with its previous signing key are still accepted (until the next rotation)."""
        node = self.nodes[node_id]
        seeds = NodeSeeds.new()
        node.leaf_key = signing.public_key(seeds.leaf_seed)
        node.signing_keys = [signing.public_key(seeds.signing_seed), node.signing_keys[0]]
        return seeds

    def save(self, path: Path) -> None:
        data = {
            "region": self.region,
            "nodes": [vars(n) for n in sorted(self.nodes.values(), key=lambda n: n.node_id)],
        }
        write_private(path, json.dumps(data, indent=2) + "\n")

    def directory_document(self) -> bytes:
        """What the hub publishes as the region directory (signed separately)."""
        nodes = {
            node.node_id: {"name": node.name, "signing_keys": node.signing_keys}
            for node in self.nodes.values()
        }
        document = {
            "version": DIRECTORY_VERSION,
            "region": self.region,
            "issued_at_ns": time.time_ns(),
            "nodes": nodes,
        }
        return json.dumps(document, sort_keys=True).encode()


def hub_accounts(manifest: RegionManifest, admin_key: str) -> dict[str, object]:
    """The hub's `accounts` block: the hub's own account and one per node."""
    accounts: dict[str, object] = {
        HUB_ACCOUNT: {
            "jetstream": "enabled",
            "users": [{"nkey": admin_key, "allowed_connection_types": ["STANDARD"]}],
            "exports": [{"service": _directory_get()}],
        }
    }
    for node in manifest.nodes.values():
        accounts[node_account(node.node_id)] = _node_account(manifest, node)
    return accounts


def _directory_get() -> str:
    return f"$JS.API.DIRECT.GET.{DIRECTORY_STREAM}.{DIRECTORY_SUBJECT}"


def _shared(origin: str, region: str, reader: str | None) -> list[tuple[str, str]]:
    """What node `reader` may use of `origin`'s streams (None: every node), as
    (kind, subject) pairs: source-consumer creation (one filter, or none), stream
    info (to see that the other end answers), and flow-control replies."""
    identity = NodeIdentity(origin, region)
    stream = identity.public_stream_name if reader is None else identity.partner_stream_name(reader)
    api = f"$JS.{origin}.API"
    return [
        ("create", f"{api}.CONSUMER.CREATE.{stream}"),
        ("create", f"{api}.CONSUMER.CREATE.{stream}.>"),
        ("service", f"{api}.STREAM.INFO.{stream}"),
        ("service", f"$JS.FC.{stream}.>"),
    ]


def _node_account(manifest: RegionManifest, node: RegionNode) -> dict[str, object]:
    me = node.node_id
    others = sorted(n for n in manifest.nodes if n != me)
    exports: list[dict[str, Any]] = []
    imports: list[dict[str, Any]] = [
        {
            "service": {"account": HUB_ACCOUNT, "subject": _directory_get()},
            "to": DIRECTORY_SUBJECT,
        }
    ]
    for reader in [None, *others]:
        to = [node_account(reader)] if reader is not None else [node_account(o) for o in others]
        if not to:
            continue
        for kind, subject in _shared(me, manifest.region, reader):
            export: dict[str, Any] = {"service": subject, "accounts": to}
            if kind == "create":
                export["response_type"] = "stream"
            exports.append(export)
    for reader in others:
        exports.append(
            {"stream": f"{deliver_prefix(reader, me)}.>", "accounts": [node_account(reader)]}
        )
    for origin in others:
        for reader in (None, me):
            for _kind, subject in _shared(origin, manifest.region, reader):
                imports.append({"service": {"account": node_account(origin), "subject": subject}})
        imports.append(
            {
                "stream": {
                    "account": node_account(origin),
                    "subject": f"{deliver_prefix(me, origin)}.>",
                }
            }
        )
    return {
        "users": [{"nkey": node.leaf_key, "allowed_connection_types": ["LEAFNODE"]}],
        "limits": dict(NODE_ACCOUNT_LIMITS),
        "exports": exports,
        "imports": imports,
    }


def deliver_prefix(reader: str, origin: str) -> str:
    """Where `origin`'s server delivers what `reader` sources from it."""
    return f"{messaging.DELIVER_ROOT}.{reader}.{origin}"


@dataclass(frozen=True)
class HubCredentials:
    """What a node's operator needs to join the hub: written by the hub, read by `copnet up`.

    It holds the node's private keys: keep it 0600 and give it only to that node."""

    region: str
    node_id: str
    hub_url: str
    leaf_seed: str
    signing_seed: str
    # The hub's public key: the region directory must be signed with it.
    hub_key: str
    # Leaf TLS: the CA to trust the hub by, and this node's client certificate (PEM).
    tls: LeafTls | None = None

    def save(self, path: Path) -> None:
        data: dict[str, object] = dict(vars(self))
        if self.tls is None:
            del data["tls"]  # a plain-TCP hub writes no TLS section
        else:
            data["tls"] = self.tls.to_json()
        write_private(path, json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> HubCredentials:
        data = json.loads(path.read_text())
        if "leaf_seed" not in data:
            raise ValueError(
                f"{path} holds a password (from an older hub); ask the hub's operator for new "
                "credentials (copnet hub --rotate-keys <node>)"
            )
        tls = data.pop("tls", None)
        return cls(**data, tls=LeafTls.from_json(tls) if tls else None)


@dataclass(frozen=True)
class RegionDirectory:
    """The region's nodes as the hub signed them."""

    region: str
    issued_at_ns: int
    nodes: dict[str, dict[str, Any]]
    # The document and its signature, as received (kept to re-check a cached copy).
    document: bytes = b""
    signature: str = ""

    def signing_keys(self, node_id: str) -> list[str]:
        entry = self.nodes.get(node_id)
        return list(entry.get("signing_keys", [])) if entry else []

    @classmethod
    def verified(
        cls, document: bytes, signature: str, hub_key: str, region: str
    ) -> RegionDirectory:
        """The directory, once the hub's signature and the region are checked."""
        signing.verify(hub_key, directory_signed_bytes(document), signature)
        data = json.loads(document)
        if data.get("version") != DIRECTORY_VERSION or data.get("region") != region:
            raise signing.BadSignature(f"a directory of region {data.get('region')!r}")
        nodes = {str(k): dict(v) for k, v in (data.get("nodes") or {}).items()}
        return cls(region, int(data["issued_at_ns"]), nodes, document, signature)


def directory_signed_bytes(document: bytes) -> bytes:
    return b"copnet-directory-v1\n" + document


def sign_directory(document: bytes, hub_seed: str) -> dict[str, str]:
    signer = signing.Signer(hub_seed)
    return {
        signing.HEADER_SIGNER: signer.public_key,
        signing.HEADER_SIGNATURE: signer.sign(directory_signed_bytes(document)),
    }


def write_private(path: Path, text: str) -> None:
    """A file only its owner may read, written whole (`pki.write_file`, mode 0600)."""
    write_file(path, text.encode(), 0o600)
