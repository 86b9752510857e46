"""A region: its hub, its member nodes, their credentials and what each may do.

The hub's manifest (`region.json` in the hub's data directory) lists the
region's nodes. From it come:
- each node's leaf-node credentials (a file the hub writes for the node's operator),
- the hub's permissions for each node's leaf connection: a node may publish
  only its own region subjects, may not touch streams addressed to other
  partners or any node's private stream, may not manage streams across the
  hub, and receives deliveries only under its own deliver prefix,
- the region directory: a KV bucket on the hub that nodes read and watch.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from services.common import messaging
from services.common.leaftls import LeafTls
from services.common.messaging import NodeIdentity
from services.common.settings import parse_token_name

HUB_DOMAIN = "hub"
HUB_ACCOUNT = "COPNET"
ADMIN_USER = "copnet-hub-admin"
DIRECTORY_BUCKET = "COPNET_REGION"


@dataclass
class RegionNode:
    node_id: str
    name: str
    password: str


@dataclass
class RegionManifest:
    region: str
    admin_password: str
    nodes: dict[str, RegionNode] = field(default_factory=dict)

    @classmethod
    def load_or_create(cls, path: Path, region: str) -> RegionManifest:
        if path.exists():
            data = json.loads(path.read_text())
            if data["region"] != region:
                raise ValueError(f"{path} is the hub of region {data['region']!r}, not {region!r}")
            nodes = {n["node_id"]: RegionNode(**n) for n in data["nodes"]}
            return cls(data["region"], data["admin_password"], nodes)
        return cls(parse_token_name(region, "region"), secrets.token_urlsafe(24))

    def add_node(self, node_id: str, name: str) -> RegionNode:
        parse_token_name(node_id, "node id")
        if node_id == HUB_DOMAIN:
            raise ValueError("node id 'hub' is the hub's own JetStream domain")
        node = self.nodes.get(node_id)
        if node is None:
            node = RegionNode(node_id, name or node_id, secrets.token_urlsafe(24))
            self.nodes[node_id] = node
        elif name:
            node.name = name
        return node

    def save(self, path: Path) -> None:
        data = {
            "region": self.region,
            "admin_password": self.admin_password,
            "nodes": [vars(n) for n in sorted(self.nodes.values(), key=lambda n: n.node_id)],
        }
        _write_private(path, json.dumps(data, indent=2) + "\n")

    def accounts(self) -> dict[str, object]:
        """The hub's `accounts` block: one account, a user per node, and the admin."""
        users: list[dict[str, object]] = [
            {"user": node.node_id, "password": node.password, "permissions": self.permissions(node)}
            for node in self.nodes.values()
        ]
        users.append({"user": ADMIN_USER, "password": self.admin_password})
        return {HUB_ACCOUNT: {"jetstream": "enabled", "users": users}}

    def permissions(self, node: RegionNode) -> dict[str, object]:
        """What one node's leaf connection may send into the hub and receive from it."""
        others = [n for n in self.nodes if n != node.node_id]
        denied_streams = [NodeIdentity(n, self.region).stream_name for n in self.nodes]
        for origin in self.nodes:
            identity = NodeIdentity(origin, self.region)
            denied_streams += [identity.partner_stream_name(o) for o in others if o != origin]
        deny = [f"$JS.*.API.{p}" for p in messaging.MUTATING_API]
        for stream in denied_streams:
            deny += [
                f"$JS.*.API.*.{stream}",
                f"$JS.*.API.*.{stream}.>",
                f"$JS.*.API.*.*.{stream}",
                f"$JS.*.API.*.*.{stream}.>",
            ]
        own = NodeIdentity(node.node_id, self.region)
        return {
            "publish": {
                "allow": [
                    own.federated_subjects,
                    "$JS.>",
                    "$JSC.>",
                    "_INBOX.>",
                    f"{messaging.DELIVER_ROOT}.>",
                ],
                "deny": deny,
            },
            "subscribe": {
                "allow": [
                    f"{messaging.FEDERATED_ROOT}.{self.region}.>",
                    "$JS.>",
                    "$JSC.>",
                    "_INBOX.>",
                    f"{own.deliver_prefix}.>",
                ]
            },
        }


@dataclass(frozen=True)
class HubCredentials:
    """What a node's operator needs to join the hub: written by the hub, read by `copnet up`."""

    region: str
    node_id: str
    hub_url: str
    user: str
    password: str
    # Leaf TLS: the CA to trust the hub by, and this node's client certificate (PEM).
    tls: LeafTls | None = None

    def leaf_url(self) -> str:
        parts = urlsplit(self.hub_url)
        netloc = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def save(self, path: Path) -> None:
        data: dict[str, object] = dict(vars(self))
        if self.tls is None:
            del data["tls"]  # a plain-TCP hub writes the file as before
        else:
            data["tls"] = self.tls.to_json()
        _write_private(path, json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> HubCredentials:
        data = json.loads(path.read_text())
        tls = data.pop("tls", None)
        return cls(**data, tls=LeafTls.from_json(tls) if tls else None)


def directory_key(node_id: str) -> str:
    return f"nodes.{node_id}"


def directory_entry(node: RegionNode, region: str) -> bytes:
    return json.dumps({"node_id": node.node_id, "name": node.name, "region": region}).encode()


def parse_directory(entries: Mapping[str, bytes | None]) -> dict[str, dict[str, str]]:
    nodes = {}
    for key, value in entries.items():
        if key.startswith("nodes.") and value is not None:
            entry = json.loads(value)
            nodes[entry["node_id"]] = entry
    return nodes


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
