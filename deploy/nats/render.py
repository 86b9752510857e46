#!/usr/bin/env python3
"""Renders the nats-server config of a copnet node run in a container.

`copnet up` writes its node's config itself; in a container deployment
(deploy/compose, deploy/k8s) the node's nats-server runs on its own and reads
a config file instead. This script renders that file from the project's own
code: the JetStream domain, and the leaf remote that `copnet up` builds
(`LeafRemote`, services/common/natsserver.py) with its deny lists and the
stream names in them (`NodeIdentity` in services/common/messaging.py). Only
the listen addresses, the store path, the monitoring port and where the leaf
link's TLS files are mounted are the container's; the hub's URL and the node's
nkey seed are read from the environment, so the file holds no secret.

Run it with the project installed (e.g. `.venv/bin/python`), from anywhere:

    # a node on its own (deploy/nats/node.conf is this for node "guys")
    python deploy/nats/render.py node --node-id kings --region south-east-london

    # a node joined to its region's hub as a leaf (deploy/nats/node-leaf.conf), over
    # TLS with the client certificate the hub's region CA issued; --hub-tls ca for a
    # hub with the operator's own certificate, --hub-tls none for `copnet hub --no-tls`
    python deploy/nats/render.py node --node-id kings --region south-east-london --leaf

    # from the credentials file `copnet hub` wrote for the node (a secret), what
    # the leaf config reads at run time: HUB_LEAF_URL and HUB_LEAF_SEED lines (an
    # env file), the TLS files (hub-ca.crt, client.crt, client.key), or all of
    # these and the credentials file in one directory (a Kubernetes Secret)
    python deploy/nats/render.py leaf-env kings.json > hub-leaf.env
    python deploy/nats/render.py leaf-tls kings.json hub-tls/
    python deploy/nats/render.py leaf-secret kings.json hub-leaf/

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
from collections.abc import Sequence
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(DEPLOY.parent))  # a clone that is not installed still works

from services.common.messaging import NodeIdentity  # noqa: E402
from services.common.natsserver import LeafRemote, TlsConfig  # noqa: E402
from services.common.nodeauth import (  # noqa: E402
    OPERATOR,
    federation_partners,
    nkey_variable,
    permissions,
)
from services.common.region import HubCredentials, write_private  # noqa: E402
from services.common.settings import NodeSettings  # noqa: E402
from services.node import service_grants  # noqa: E402

# The examples kept in deploy/ are rendered for this node and region.
EXAMPLE_NODE_ID = "guys"
EXAMPLE_REGION = "south-east-london"
# The other node of the example region (deploy/compose/hub.yaml's nodes).
EXAMPLE_PARTNERS = ("kings",)

# Where the server listens and stores inside its container (compose and Kubernetes alike).
CLIENT_LISTEN = "0.0.0.0:4222"
MONITOR_LISTEN = "127.0.0.1:8222"
# Where the container finds the client port's certificate and key (a Secret's files).
NATS_TLS_DIR = "/etc/nats/tls"
TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE = "tls.crt", "tls.key", "ca.crt"
STORE_DIR = "/data/jetstream"
# The environment variables that hold the hub's leaf URL (tls://<hub>:7422) and the
# node's nkey seed (its secret: the hub knows the public key only).
LEAF_URL_VARIABLE = "HUB_LEAF_URL"
LEAF_SEED_VARIABLE = "HUB_LEAF_SEED"
# Where the container finds the TLS files of the leaf link (`leaf-tls` writes them).
HUB_TLS_DIR = "/etc/copnet/hub-tls"
CA_FILE, CERT_FILE, KEY_FILE = "hub-ca.crt", "client.crt", "client.key"
# Where each copnet service container finds the node's credentials file
# (COPNET_HUB_CREDENTIALS): its relay signs what leaves the node with the node's
# signing key, and the learning service checks the region directory with the hub's key.
HUB_CREDENTIALS_FILE = "/etc/copnet/hub/credentials.json"
# The files of `leaf-secret` (the keys of the Kubernetes Secret copnet-hub-leaf).
SECRET_URL, SECRET_SEED, SECRET_CREDENTIALS = "url", "seed", "credentials.json"
# How the hub serves its leaf port: with its own region CA, which issues each node a
# client certificate (`copnet hub`'s default); with the operator's certificate and CA
# (no client certificate); or in plain TCP (`copnet hub --no-tls`).
HUB_TLS_MODES = ("client", "ca", "none")


def _q(value: str) -> str:
    # Always quoted: an unquoted `$JS...` would be read as a variable reference.
    return json.dumps(value)


def _list(name: str, values: list[str], indent: str) -> list[str]:
    return [f"{indent}{name}: [", *(f"{indent}  {_q(v)}" for v in values), f"{indent}]"]


def render_node(
    node_id: str,
    region: str,
    leaf: bool = False,
    hub_tls: str = "client",
    tls: bool = True,
    partners: Sequence[str] = (),
) -> str:
    """A node's server: what services/node.py's node_nats_server() configures, with the
    users' public keys read from the environment (`copnet up` writes them in)."""
    NodeSettings(node_id=node_id, region=region)  # the code's own validation of both
    identity = NodeIdentity(node_id, region)
    partners = federation_partners(identity, partners)
    command = f"python deploy/nats/render.py node --node-id {node_id} --region {region}"
    command += "".join(f" --partner {p}" for p in partners)
    if leaf:
        command += " --leaf" + (f" --hub-tls {hub_tls}" if hub_tls != "client" else "")
    if not tls:
        command += " --no-tls"
    lines = [
        f"# nats-server of copnet node {_q(node_id)} (region {region})"
        + (", a leaf of the region's hub." if leaf else ", on its own."),
        "# Generated from the project's code; do not edit by hand. Regenerate with:",
        f"#   {command}",
        f"# {_q(node_id)} must be the node's COPNET_NODE_ID: it is the JetStream domain, and",
        f"# the node's streams ({identity.stream_name}...) are named after it.",
        "",
        f"server_name: {_q(f'copnet-{node_id}')}",
        "# All interfaces of the container: the services reach NATS over the node's",
        "# private network. Never publish this port beyond the node.",
        f"listen: {_q(CLIENT_LISTEN)}",
        "# Monitoring (/healthz for the probes, which run inside the container): it has no",
        "# authentication, so it listens on the container's loopback only.",
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
        "",
        *_authorization_lines(identity, partners),
    ]
    if tls:
        lines += ["", *_client_tls_lines()]
    if leaf:
        lines += ["", *_leaf_lines(identity, hub_tls)]
    return "\n".join(lines) + "\n"


def _authorization_lines(identity: NodeIdentity, partners: Sequence[str]) -> list[str]:
    """The users `copnet up` gives its server (services/common/nodeauth.py): the operator,
    and one per service with exactly its allow-list; nobody else may connect."""
    lines = [
        "# Who may connect: one nkey user per service, each with the allow-list `copnet up`",
        "# gives it (services/common/nodeauth.py), and the operator. No anonymous user: a",
        "# client without one of these keys is refused. The public keys come from the",
        "# environment (`deploy/node_secrets.py` writes them, and each service's seed, which",
        "# only that service's container gets); this file holds no secret.",
        "authorization {",
        "  users: [",
        f"    {{ nkey: ${nkey_variable(OPERATOR)} }}",
    ]
    for grants in service_grants(identity):
        rules = permissions(identity, grants, partners)
        lines += [
            "    {",
            f"      # {grants.service}",
            f"      nkey: ${nkey_variable(grants.service)}",
        ]
        lines.append("      permissions {")
        for direction, rule in rules.items():
            assert isinstance(rule, dict) and set(rule) == {"allow"}, rule
            lines += [f"        {direction} {{", *_list("allow", rule["allow"], "          ")]
            lines.append("        }")
        lines += ["      }", "    }"]
    return [*lines, "  ]", "}"]


def _client_tls_lines() -> list[str]:
    block = TlsConfig(
        cert_file=Path(NATS_TLS_DIR) / TLS_CERT_FILE, key_file=Path(NATS_TLS_DIR) / TLS_KEY_FILE
    ).render()
    return [
        "# The client port speaks TLS only (as under `copnet up` with a certificate): the",
        "# services trust the node's CA (COPNET_TLS_CA). The certificate names `nats`.",
        "tls {",
        *(f"  {key}: {_value(value)}" for key, value in block.items()),
        "}",
    ]


def container_tls(hub_tls: str = "client") -> TlsConfig | None:
    """The leaf remote's `tls` block, with the files where the container mounts them."""
    if hub_tls not in HUB_TLS_MODES:
        raise ValueError(f"--hub-tls must be one of {', '.join(HUB_TLS_MODES)}: {hub_tls!r}")
    directory = Path(HUB_TLS_DIR)
    if hub_tls == "none":
        return None
    if hub_tls == "ca":
        return TlsConfig(ca_file=directory / CA_FILE)
    return TlsConfig(
        ca_file=directory / CA_FILE, cert_file=directory / CERT_FILE, key_file=directory / KEY_FILE
    )


def _leaf_lines(identity: NodeIdentity, hub_tls: str) -> list[str]:
    """The `leafnodes` block: the remote that services/node.py's node_nats_server() builds
    (LeafRemote), with the URL and the seed read from the environment."""
    remote = LeafRemote(
        url=f"${LEAF_URL_VARIABLE}",
        seed=f"${LEAF_SEED_VARIABLE}",
        deny_exports=tuple(identity.leaf_deny_exports()),
        deny_imports=tuple(identity.leaf_deny_imports()),
        tls=container_tls(hub_tls),
    ).render()
    comments = {
        "url": [
            "# From the environment: the hub's leaf URL, e.g. tls://<hub>:7422.",
        ],
        "nkey": [
            "# From the environment: this node's nkey seed (SU...), which signs the hub's",
            "# challenge when the link logs in to the node's own account on the hub. A",
            "# secret: both come from `python deploy/nats/render.py leaf-env <the node's",
            "# credentials file>`.",
        ],
        "deny_exports": ["# Never sent to the hub."],
        "deny_imports": [
            "# Never let in: node-local subjects, JetStream API requests that name the",
            "# node's private streams, and any request that changes what this server",
            "# stores.",
        ],
        "tls": [
            "# TLS to the hub: trust only the CA the hub's credentials name (never the",
            *(
                [
                    "# public roots), and present the client certificate that the region's",
                    "# CA issued this node.",
                ]
                if hub_tls == "client"
                else ["# public roots); the hub asks for no client certificate."]
            ),
            "# The files are mounted here from the credentials file (render.py leaf-tls).",
        ],
    }
    body: list[str] = []
    indent = "      "
    for key, value in remote.items():
        body += [indent + line for line in comments.get(key, [])]
        if key in ("url", "nkey"):
            body.append(f"{indent}{key}: {value}")  # bare: a variable reference
        elif isinstance(value, list):
            body += _list(key, value, indent)
        elif isinstance(value, dict):
            body += [f"{indent}{key} {{"]
            body += [f"{indent}  {k}: {_value(v)}" for k, v in value.items()]
            body += [f"{indent}}}"]
        else:
            raise AssertionError(f"LeafRemote renders {key} = {value!r}: teach render.py")
    return [
        "# The link to the region's hub. Members' personal data must never cross it:",
        "# the deny lists below are NodeIdentity.leaf_deny_exports() and",
        "# leaf_deny_imports() for this node (services/common/messaging.py); the hub",
        "# adds its own permissions for the node's account (services/common/region.py).",
        "leafnodes {",
        "  remotes: [",
        "    {",
        *body,
        "    }",
        "  ]",
        f"  reconnect: {_q('1s')}",
        "}",
    ]


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return _q(str(value))


def leaf_env(credentials_file: Path) -> str:
    """HUB_LEAF_URL and HUB_LEAF_SEED, as lines of an env file (compose's env_file)."""
    credentials = HubCredentials.load(credentials_file)
    return (
        f"{LEAF_URL_VARIABLE}={credentials.hub_url}\n{LEAF_SEED_VARIABLE}={credentials.leaf_seed}\n"
    )


def leaf_tls(credentials_file: Path, directory: Path) -> TlsConfig:
    """Writes the credentials' TLS files under `directory` (the key 0600), as
    `copnet up` writes them for its own nats-server (LeafTls.write)."""
    tls = HubCredentials.load(credentials_file).tls
    if tls is None:
        raise ValueError(
            f"{credentials_file} has no TLS section: the hub runs without TLS "
            "(render the node's config with --hub-tls none)"
        )
    written = tls.write(directory)
    expected = container_tls("client" if tls.cert_pem else "ca")
    assert expected is not None
    names = [p.name if p else None for p in (written.ca_file, written.cert_file, written.key_file)]
    wanted = [
        p.name if p else None for p in (expected.ca_file, expected.cert_file, expected.key_file)
    ]
    assert names == wanted, f"LeafTls.write wrote {names}, the leaf config reads {wanted}"
    return written


def leaf_secret(credentials_file: Path, directory: Path) -> list[Path]:
    """Everything a node's containers need to join the hub, one file each (the keys of the
    Kubernetes Secret copnet-hub-leaf): url, seed, the TLS files and the credentials file."""
    credentials = HubCredentials.load(credentials_file)
    files = [directory / SECRET_URL, directory / SECRET_SEED, directory / SECRET_CREDENTIALS]
    write_private(files[0], credentials.hub_url)
    write_private(files[1], credentials.leaf_seed)
    write_private(files[2], credentials_file.read_text())
    if credentials.tls is not None:
        tls = leaf_tls(credentials_file, directory)
        files += [p for p in (tls.ca_file, tls.cert_file, tls.key_file) if p is not None]
    return files


def examples() -> dict[Path, str]:
    """The files kept in deploy/, each as this script renders it: node "guys" on its own
    and joined to the hub (its partner "kings"), and both nodes of the compose region."""
    node = render_node(EXAMPLE_NODE_ID, EXAMPLE_REGION)
    leaf = render_node(EXAMPLE_NODE_ID, EXAMPLE_REGION, leaf=True, partners=EXAMPLE_PARTNERS)
    nodes = DEPLOY / "compose" / "nodes"
    region = [EXAMPLE_NODE_ID, *EXAMPLE_PARTNERS]
    # Kustomize reads files only below a kustomization's own directory, hence the copies.
    found = {
        DEPLOY / "nats" / "node.conf": node,
        DEPLOY / "nats" / "node-leaf.conf": leaf,
        DEPLOY / "k8s" / "base" / "nats-node.conf": node,
        DEPLOY / "k8s" / "overlays" / "example" / "node" / "nats-node.conf": leaf,
    }
    for node_id in region:
        others = [n for n in region if n != node_id]
        found[nodes / f"{node_id}.conf"] = render_node(node_id, EXAMPLE_REGION)
        found[nodes / f"{node_id}-leaf.conf"] = render_node(
            node_id, EXAMPLE_REGION, leaf=True, partners=others
        )
    return found


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
    node.add_argument(
        "--partner",
        action="append",
        default=[],
        metavar="NODE",
        help="another node of the region (repeat for each): the learning service may keep "
        "a stream for it (the region directory's nodes)",
    )
    node.add_argument(
        "--tls",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"TLS on the client port, with the certificate in {NATS_TLS_DIR} (on)",
    )
    node.add_argument(
        "--hub-tls",
        choices=HUB_TLS_MODES,
        default="client",
        help="client: the hub's region CA and a client certificate (copnet hub's default); "
        "ca: the operator's CA only; none: a hub run with --no-tls",
    )
    credentials_help = "the file `copnet hub` wrote for the node"
    env = commands.add_parser("leaf-env", help="HUB_LEAF_URL and HUB_LEAF_SEED lines, to stdout")
    env.add_argument("credentials", type=Path, help=credentials_help)
    tls = commands.add_parser("leaf-tls", help="the leaf link's TLS files, into a directory")
    tls.add_argument("credentials", type=Path, help=credentials_help)
    tls.add_argument("directory", type=Path)
    secret = commands.add_parser(
        "leaf-secret", help="url, seed, TLS files and credentials file, into a directory"
    )
    secret.add_argument("credentials", type=Path, help=credentials_help)
    secret.add_argument("directory", type=Path)
    commands.add_parser("write", help="regenerate the example configs in deploy/")
    commands.add_parser("check", help="exit 1 if an example config is out of step")
    options = parser.parse_args(argv)

    if options.command == "node":
        sys.stdout.write(
            render_node(
                options.node_id,
                options.region,
                options.leaf,
                options.hub_tls,
                options.tls,
                options.partner,
            )
        )
    elif options.command == "leaf-env":
        sys.stdout.write(leaf_env(options.credentials))
    elif options.command == "leaf-tls":
        tls = leaf_tls(options.credentials, options.directory)
        for path in (tls.ca_file, tls.cert_file, tls.key_file):
            if path is not None:
                print(f"wrote {path}")
    elif options.command == "leaf-secret":
        for path in leaf_secret(options.credentials, options.directory):
            print(f"wrote {path}")
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
