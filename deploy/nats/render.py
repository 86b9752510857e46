#!/usr/bin/env python3
"""Renders the nats-server config of a copnet node run in a container.

`copnet up` writes its node's config itself; in a container deployment
(deploy/compose, deploy/k8s) the node's nats-server runs on its own and reads
a config file instead. This script renders that file from the project's own
code: the JetStream domain, and the leaf link's deny lists and the stream
names in them (`NodeIdentity` in services/common/messaging.py, the calls
`copnet up` makes). Only the listen addresses, the store path and the
monitoring port are the container's.

Run it with the project installed (e.g. `.venv/bin/python`), from anywhere:

    # a node on its own (deploy/nats/node.conf is this for node "guys")
    python deploy/nats/render.py node --node-id kings --region south-east-london

    # a node joined to its region's hub as a leaf (deploy/nats/node-leaf.conf)
    python deploy/nats/render.py node --node-id kings --region south-east-london --leaf

    # the hub URL with the node's user and password, for the HUB_LEAF_URL
    # variable of a leaf config, from the credentials file `copnet hub` wrote
    python deploy/nats/render.py leaf-url kings.json

    # regenerate the example configs kept in deploy/, or check they are current
    python deploy/nats/render.py write
    python deploy/nats/render.py check

The node id must be the node's COPNET_NODE_ID: it is the JetStream domain and
it names the streams that the deny lists protect. The hub itself is run by
`copnet hub`, which writes its own config (README.md beside deploy/).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(DEPLOY.parent))  # a clone that is not installed still works

from services.common.messaging import NodeIdentity  # noqa: E402
from services.common.region import HubCredentials  # noqa: E402
from services.common.settings import NodeSettings  # noqa: E402

# The examples kept in deploy/ are rendered for this node and region.
EXAMPLE_NODE_ID = "guys"
EXAMPLE_REGION = "south-east-london"

# Where the server listens and stores inside its container (compose and Kubernetes alike).
CLIENT_LISTEN = "0.0.0.0:4222"
MONITOR_LISTEN = "0.0.0.0:8222"
STORE_DIR = "/data/jetstream"
# The environment variable that holds the hub's leaf URL, credentials included.
LEAF_URL_VARIABLE = "HUB_LEAF_URL"


def _q(value: str) -> str:
    # Always quoted: an unquoted `$JS...` would be read as a variable reference.
    return json.dumps(value)


def _list(name: str, values: list[str], indent: str) -> list[str]:
    return [f"{indent}{name}: [", *(f"{indent}  {_q(v)}" for v in values), f"{indent}]"]


def render_node(node_id: str, region: str, leaf: bool = False) -> str:
    """A node's server: what services/node.py's node_nats_server() configures."""
    NodeSettings(node_id=node_id, region=region)  # the code's own validation of both
    identity = NodeIdentity(node_id, region)
    command = f"python deploy/nats/render.py node --node-id {node_id} --region {region}"
    lines = [
        f"# nats-server of copnet node {_q(node_id)} (region {region})"
        + (", a leaf of the region's hub." if leaf else ", on its own."),
        "# Generated from the project's code; do not edit by hand. Regenerate with:",
        f"#   {command}{' --leaf' if leaf else ''}",
        f"# {_q(node_id)} must be the node's COPNET_NODE_ID: it is the JetStream domain, and",
        f"# the node's streams ({identity.stream_name}...) are named after it.",
        "",
        f"server_name: {_q(f'copnet-{node_id}')}",
        "# All interfaces of the container: the services reach NATS over the node's",
        "# private network. Never publish this port beyond the node.",
        f"listen: {_q(CLIENT_LISTEN)}",
        "# Monitoring (/healthz for health checks). It has no authentication: keep it",
        "# inside the node too.",
        f"http: {_q(MONITOR_LISTEN)}",
        "",
        "jetstream {",
        "  # The node's streams, on a persistent volume mounted at /data.",
        f"  store_dir: {_q(STORE_DIR)}",
        "  # The JetStream domain: other servers reach this one's API as $JS.<domain>.API.",
        f"  domain: {_q(node_id)}",
        "  # fsync every write before its PubAck, so an acknowledged event is on disk",
        "  # (the default interval lost acknowledged writes in Jepsen's 2025 tests).",
        f"  sync_interval: {_q('always')}",
        "}",
    ]
    if leaf:
        lines += [
            "",
            "# The link to the region's hub. Members' personal data must never cross it:",
            "# the deny lists below are NodeIdentity.leaf_deny_exports() and",
            "# leaf_deny_imports() for this node (services/common/messaging.py); the hub",
            "# adds its own permissions for the node's user (services/common/region.py).",
            "leafnodes {",
            "  remotes: [",
            "    {",
            "      # From the environment: the hub's leaf URL with this node's user and",
            f"      # password, e.g. nats-leaf://{node_id}:<password>@<hub>:7422. It is a",
            "      # secret: python deploy/nats/render.py leaf-url <the node's credentials file>.",
            f"      url: ${LEAF_URL_VARIABLE}",
            "      # Never sent to the hub.",
            *_list("deny_exports", identity.leaf_deny_exports(), "      "),
            "      # Never let in: node-local subjects, JetStream API requests that name the",
            "      # node's private streams, and any request that changes what this server",
            "      # stores.",
            *_list("deny_imports", identity.leaf_deny_imports(), "      "),
            "    }",
            "  ]",
            f"  reconnect: {_q('1s')}",
            "}",
        ]
    return "\n".join(lines) + "\n"


def leaf_url(credentials_file: Path) -> str:
    """The hub URL with credentials, as `copnet up --hub-credentials` uses it."""
    return HubCredentials.load(credentials_file).leaf_url()


def examples() -> dict[Path, str]:
    """The files kept in deploy/, each as this script renders it."""
    node = render_node(EXAMPLE_NODE_ID, EXAMPLE_REGION)
    leaf = render_node(EXAMPLE_NODE_ID, EXAMPLE_REGION, leaf=True)
    # Kustomize reads files only below a kustomization's own directory, hence the copies.
    return {
        DEPLOY / "nats" / "node.conf": node,
        DEPLOY / "nats" / "node-leaf.conf": leaf,
        DEPLOY / "k8s" / "base" / "nats-node.conf": node,
        DEPLOY / "k8s" / "overlays" / "example" / "nats-node.conf": leaf,
    }


def stale_examples() -> list[Path]:
    return [
        path for path, text in examples().items() if not path.exists() or path.read_text() != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    node = commands.add_parser("node", help="a node's server config, to stdout")
    node.add_argument("--node-id", required=True, help="the node's COPNET_NODE_ID")
    node.add_argument("--region", required=True, help="the node's COPNET_REGION")
    node.add_argument("--leaf", action="store_true", help="joined to the region's hub")
    url = commands.add_parser("leaf-url", help="HUB_LEAF_URL from a node's credentials file")
    url.add_argument("credentials", type=Path, help="the file `copnet hub` wrote for the node")
    commands.add_parser("write", help="regenerate the example configs in deploy/")
    commands.add_parser("check", help="exit 1 if an example config is out of step")
    options = parser.parse_args(argv)

    if options.command == "node":
        sys.stdout.write(render_node(options.node_id, options.region, options.leaf))
    elif options.command == "leaf-url":
        print(leaf_url(options.credentials))
    elif options.command == "write":
        for path, text in examples().items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(DEPLOY.parent)}")
    else:
        stale = stale_examples()
        for path in stale:
            print(f"out of step: {path.relative_to(DEPLOY.parent)}", file=sys.stderr)
        if stale:
            print("regenerate with: python deploy/nats/render.py write", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
