"""`copnet status` and `copnet hub status`: what a node (or a hub) is doing, from its
services' `/metrics` endpoints and its nats-server's monitoring endpoint.

A node: each service up (its metrics answer) and SERVING (its gRPC health, as the
`copnet_service_serving` gauge reports it), each relay's backlog and lag, each inbox's
pending, redelivered and parked messages, each read model's backlog, the streams' sizes,
the federation sources, the e-mail queue and outcomes, and the hub link (`/leafz`).
A hub: the region's nodes, which are linked now, and since when each sent nothing.
Exit status 0 when all is well, 1 when something needs a look, 2 when nothing answers.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from services.common.natsserver import monitor_url
from services.common.pki import write_file
from services.common.region import node_account
from services.common.settings import SERVICES

TIMEOUT = 3.0
# A federation source or a hub link silent for longer than this needs a look.
QUIET_AFTER = 60.0


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return str(response.read().decode())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def samples(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, dict(sample.labels), float(sample.value)


@dataclass(frozen=True)
class NodeEndpoints:
    """Where a node's figures are: each service's /metrics, and nats-server's monitoring."""

    metrics: dict[str, str]
    nats_monitor: str = ""
    joins_hub: bool = True

    @classmethod
    def of_data_dir(cls, data_dir: Path) -> NodeEndpoints:
        """What `copnet up` wrote into the data directory (`endpoints.json`)."""
        written = json.loads((data_dir / "endpoints.json").read_text())
        joins = bool(written.get("joins_hub", True))
        return cls(dict(written["metrics"]), monitor_url(data_dir / "nats"), joins)

    @classmethod
    def of_url(cls, url: str, nats_monitor: str = "") -> NodeEndpoints:
        """`http://HOST:PORT`: the registry's metrics port; the other services follow it."""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host, port = parts.hostname or "127.0.0.1", parts.port or 9464
        return cls(
            {name: f"http://{host}:{port + i}/metrics" for i, name in enumerate(SERVICES)},
            nats_monitor,
        )


def service_status(url: str) -> dict[str, Any]:
    text = fetch(url)
    if text is None:
        return {"up": False, "metrics": url}
    found: dict[str, Any] = {"up": True, "metrics": url, "serving": False}
    relay: dict[str, Any] = {}
    inboxes: dict[str, dict[str, Any]] = {}
    views: dict[str, dict[str, Any]] = {}
    streams: dict[str, dict[str, Any]] = {}
    links: dict[str, dict[str, Any]] = {}
    emails: dict[str, Any] = {}
    for name, labels, value in samples(text):
        short = name.removeprefix("copnet_")
        if short.endswith("_created"):
            continue
        if short == "service_serving":
            found["serving"] = value == 1
        elif short.startswith("relay_"):
            relay[short.removeprefix("relay_").removesuffix("_total")] = _number(value)
        elif short.startswith("inbox_") and "inbox" in labels:
            what = short.removeprefix("inbox_").removesuffix("_total")
            inboxes.setdefault(labels["inbox"], {})[what] = _number(value)
        elif short.startswith("read_model_") and "view" in labels:
            views.setdefault(labels["view"], {})[short.removeprefix("read_model_")] = int(value)
        elif short.startswith("stream_") and "stream" in labels:
            streams.setdefault(labels["stream"], {})[short.removeprefix("stream_")] = int(value)
        elif short.startswith("federation_link_") and "source" in labels:
            what = short.removeprefix("federation_link_")
            links.setdefault(labels["source"], {})[what] = _number(value)
        elif short == "notify_emails_total":
            emails[labels.get("outcome", "")] = int(value)
        elif short == "notify_queue":
            emails[labels.get("status", "")] = int(value)
    for part, values in (
        ("relay", relay),
        ("inboxes", inboxes),
        ("read_models", views),
        ("streams", streams),
        ("federation", links),
        ("email", emails),
    ):
        if values:
            found[part] = values
    return found


def _number(value: float) -> int | float:
    return int(value) if value == int(value) else round(value, 3)


def hub_link(nats_monitor: str) -> dict[str, Any]:
    """The node's leaf link to its hub, from nats-server's `/leafz`."""
    if not nats_monitor:
        return {"known": False, "up": None, "why": "no monitoring endpoint of nats-server"}
    text = fetch(f"{nats_monitor.rstrip('/')}/leafz")
    if text is None:
        return {"known": False, "up": None, "why": f"{nats_monitor} does not answer"}
    leafs = json.loads(text).get("leafs") or []
    return {
        "known": True,
        "up": bool(leafs),
        "links": [
            {k: leaf.get(k) for k in ("name", "ip", "port", "rtt", "in_msgs", "out_msgs")}
            for leaf in leafs
        ],
    }


def node_status(endpoints: NodeEndpoints) -> dict[str, Any]:
    services = {name: service_status(url) for name, url in endpoints.metrics.items()}
    streams: dict[str, Any] = {}
    federation: dict[str, Any] = {}
    for service in services.values():
        streams.update(service.pop("streams", {}))
        federation.update(service.pop("federation", {}))
    status = {
        "services": services,
        "streams": streams,
        "federation": federation,
        "hub": hub_link(endpoints.nats_monitor)
        if endpoints.joins_hub
        else {"known": True, "up": None, "why": "this node joins no hub"},
        "email": services.get("notify", {}).pop("email", {}),
    }
    status["problems"] = node_problems(status)
    return status


def node_problems(status: dict[str, Any]) -> list[str]:
    problems = []
    for name, service in status["services"].items():
        if not service["up"]:
            problems.append(f"{name} is not running (no answer from {service['metrics']})")
            continue
        if not service.get("serving"):
            problems.append(f"{name} is NOT_SERVING (see its log)")
        if service.get("relay", {}).get("alarmed"):
            problems.append(f"the relay of {name} is stopped: see `copnet republish`")
        for inbox, figures in service.get("inboxes", {}).items():
            if figures.get("parked"):
                problems.append(f"inbox {inbox} is parked on a message it cannot apply")
    if status["hub"].get("up") is False:
        problems.append("the link to the hub is down")
    for source, link in status["federation"].items():
        if not link.get("up"):
            problems.append(f"federation source {source} is not heard from")
    return problems


def print_node(status: dict[str, Any]) -> None:
    for name, service in status["services"].items():
        if not service["up"]:
            print(f"{name:<9} DOWN     (no metrics at {service['metrics']})")
            continue
        state = "SERVING " if service.get("serving") else "NOT_SERVING"
        relay = service.get("relay", {})
        parts = [f"relay backlog {relay.get('backlog', 0)} ({relay.get('lag_seconds', 0)}s)"]
        for inbox, figures in service.get("inboxes", {}).items():
            parked = ", PARKED" if figures.get("parked") else ""
            parts.append(
                f"{inbox}: pending {figures.get('pending', '?')}, "
                f"redelivered {figures.get('redelivered', '?')}{parked}"
            )
        behind = {
            v: f["backlog"] for v, f in service.get("read_models", {}).items() if f["backlog"]
        }
        if behind:
            parts.append(f"read models behind: {behind}")
        print(f"{name:<9} {state} " + "; ".join(parts))
    for stream, figures in sorted(status["streams"].items()):
        print(f"stream {stream}: {figures.get('messages')} messages, {figures.get('bytes')} bytes")
    hub = status["hub"]
    if hub.get("known") and hub["up"] is not None:
        print(f"hub link: {'up' if hub['up'] else 'DOWN'}")
    else:
        print(f"hub link: unknown ({hub.get('why')})")
    for source, link in sorted(status["federation"].items()):
        print(f"from {source}: {'up' if link.get('up') else 'QUIET'}, heard {link.get('age')}s ago")
    if status["email"]:
        print("e-mail: " + ", ".join(f"{k} {v}" for k, v in sorted(status["email"].items())))
    for problem in status["problems"]:
        print(f"PROBLEM: {problem}")


# The hub


def record_hub_links(data_dir: Path, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """One look at the hub's leaf links (`/leafz`): per node account, messages received and
    when that number last grew. The hub keeps it in `<data-dir>/links.json`."""
    links = dict(previous or {})
    url = monitor_url(data_dir / "nats")
    text = fetch(f"{url}/leafz") if url else None
    if text is None:
        return links
    now = time.time()
    connected = set()
    for leaf in json.loads(text).get("leafs") or []:
        account = str(leaf.get("account", ""))
        connected.add(account)
        seen = links.get(account, {})
        received = int(leaf.get("in_msgs") or 0)
        changed = received != seen.get("in_msgs")
        last = now if changed and received else seen.get("last_message_at")
        links[account] = {"in_msgs": received, "last_message_at": last}
    for account in set(links) - connected:
        links[account] = {**links[account], "in_msgs": None}
    write_file(data_dir / "links.json", json.dumps(links).encode(), 0o644)
    return links


def hub_status(data_dir: Path) -> dict[str, Any]:
    manifest = json.loads((data_dir / "region.json").read_text())
    url = monitor_url(data_dir / "nats")
    leafz = fetch(f"{url}/leafz") if url else None
    recorded_file = data_dir / "links.json"
    recorded = json.loads(recorded_file.read_text()) if recorded_file.exists() else {}
    connected: dict[str, dict[str, Any]] = {}
    for leaf in json.loads(leafz).get("leafs") or [] if leafz else []:
        connected.setdefault(str(leaf.get("account")), leaf)
    nodes = {}
    for entry in manifest["nodes"]:
        account = node_account(entry["node_id"])
        seen = recorded.get(account, {})
        last = seen.get("last_message_at")
        nodes[entry["node_id"]] = {
            "connected": account in connected if leafz else None,
            "last_message_age": round(time.time() - last, 1) if last else None,
        }
    problems = []
    if leafz is None:
        problems.append("the hub's nats-server does not answer (is `copnet hub` running?)")
    problems += [f"node {n} is not linked" for n, v in nodes.items() if v["connected"] is False]
    return {
        "region": manifest["region"],
        "running": leafz is not None,
        "nodes": nodes,
        "problems": problems,
    }


def print_hub(status: dict[str, Any]) -> None:
    print(f"hub of region {status['region']}: {'running' if status['running'] else 'DOWN'}")
    for node, figures in sorted(status["nodes"].items()):
        linked = {True: "linked", False: "NOT LINKED", None: "unknown"}[figures["connected"]]
        age = figures["last_message_age"]
        print(f"  {node:<20} {linked:<10} last message {'never' if age is None else f'{age}s ago'}")
    for problem in status["problems"]:
        print(f"PROBLEM: {problem}")


# The commands


def run_node_status(data_dir: Path | None, node_url: str, nats_monitor: str, as_json: bool) -> int:
    if data_dir is not None:
        if not (data_dir / "endpoints.json").exists():
            print(f"{data_dir}: no running node's endpoints (start it with `copnet up`)")
            return 2
        endpoints = NodeEndpoints.of_data_dir(data_dir)
        identity = json.loads((data_dir / "node.json").read_text())
    else:
        endpoints = NodeEndpoints.of_url(node_url, nats_monitor)
        identity = {}
    status = {**identity, **node_status(endpoints)}
    if as_json:
        print(json.dumps(status, indent=2, sort_keys=True))
    else:
        if identity:
            print(f"node {identity['node_id']} of region {identity['region']}")
        print_node(status)
    if not any(service["up"] for service in status["services"].values()):
        return 2
    return 1 if status["problems"] else 0


def run_hub_status(data_dir: Path, as_json: bool) -> int:
    if not (data_dir / "region.json").exists():
        print(f"{data_dir} is not a hub's data directory")
        return 2
    status = hub_status(data_dir)
    if as_json:
        print(json.dumps(status, indent=2, sort_keys=True))
    else:
        print_hub(status)
    if not status["running"]:
        return 2
    return 1 if status["problems"] else 0
