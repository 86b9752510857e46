"""The compose files (deploy/compose/): the node's stack, the overlay that joins it
to the region's hub, and the hub itself, read and checked against the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from services.cli import build_parser
from services.common.leaftls import hub_hosts
from services.common.settings import NodeSettings, parse_token_name
from services.hub import HubSettings
from tests.support.deploy import (
    DEPLOY,
    ROOT,
    compose,
    compose_env,
    documents,
    env_file,
    known_variables,
    load_nats_config,
    render_module,
    roles_of,
)


def test_compose_settings_are_valid_and_point_at_the_stack() -> None:
    stack = compose()
    services = stack["services"]
    env = compose_env("registry")
    assert set(k for k in env if k.startswith("COPNET_")) <= known_variables()
    settings = NodeSettings.from_env(env)
    assert settings.postgres_dsn.startswith("postgresql://")
    assert "@postgres:" in settings.postgres_dsn and "postgres" in services
    assert settings.nats_url == "nats://nats:4222" and "nats" in services
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    assert "otel-collector" in services and "jaeger" in services

    registry = services["registry"]
    module, role = registry["command"]
    assert module == "services.registry" and role in roles_of(module)
    port = settings.address("registry").rsplit(":", 1)[1]
    assert settings.address("registry") == f"0.0.0.0:{port}"
    assert f"127.0.0.1:{port}:{port}" in registry["ports"]
    key_dir = str(settings.signing_key_file.parent)
    assert any(v.split(":")[1] == key_dir for v in registry["volumes"]), "the key on a volume"
    for dependency in ("postgres", "nats"):
        assert registry["depends_on"][dependency]["condition"] == "service_healthy"
        assert "healthcheck" in services[dependency]

    nats = services["nats"]
    conf_source = next(v.split(":")[0] for v in nats["volumes"] if v.endswith(".conf:ro"))
    assert (DEPLOY / "compose" / conf_source).resolve() == DEPLOY / "nats/node.conf"
    jetstream = load_nats_config((DEPLOY / "nats/node.conf").read_text())["jetstream"]
    assert jetstream["domain"] == settings.node_id
    data_mount = next(v.split(":")[1] for v in nats["volumes"] if v.startswith("nats-data:"))
    assert jetstream["store_dir"].startswith(data_mount + "/"), "JetStream's store on the volume"

    otel = documents(DEPLOY / "compose/otel-collector.yaml")[0]
    assert otel["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    assert otel["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"


def test_hub_compose_runs_copnet_hub_as_the_cli_defines_it() -> None:
    (stack,) = documents(DEPLOY / "compose/hub.yaml")
    hub = stack["services"]["hub"]
    assert hub["entrypoint"] == ["copnet"]
    public = re.compile(r"\$\{HUB_PUBLIC_HOST(:\?[^}]*)?\}")
    assert sum(bool(public.search(arg)) for arg in hub["command"]) == 1
    command = [public.sub("hub.example.org", arg) for arg in hub["command"]]
    options = build_parser().parse_args(command)  # the real `copnet` command line
    assert options.command == "hub"
    assert options.listen_host == "0.0.0.0"
    assert options.public_host == "hub.example.org"
    assert options.tls is True, "leaf links over TLS"
    assert not (options.tls_cert or options.tls_key or options.tls_ca), "the hub's own CA"
    parse_token_name(options.region, "region")
    node_ids = [node_id for node_id, _name in options.node]
    assert render_module().EXAMPLE_NODE_ID in node_ids
    for node_id in node_ids:
        NodeSettings(node_id=node_id, region=options.region)  # valid, and not reserved
    volume = next(v for v in hub["volumes"] if v.split(":")[1] == str(options.data_dir))
    assert volume.split(":")[0] in stack["volumes"], "the region's manifest on a volume"
    settings = HubSettings(
        options.data_dir,
        options.region,
        listen_host=options.listen_host,
        leaf_port=options.leaf_port,
        public_host=options.public_host,
        tls=options.tls,
    )
    # The region CA and the nodes' credentials are kept on the volume, not in the container.
    for kept in (settings.data_dir / "pki", settings.credentials_file(node_ids[0])):
        assert kept.is_relative_to(options.data_dir), kept
    # The nodes are handed tls://<public host>:<leaf port>, a name the certificate carries.
    assert settings.leaf_url == f"tls://{options.public_host}:{options.leaf_port}"
    assert options.public_host in hub_hosts(options.listen_host, options.public_host)
    assert f"{options.leaf_port}:{options.leaf_port}" in hub["ports"]
    assert f"127.0.0.1:{options.port}:{options.port}" in hub["ports"]


def hub_leaf() -> dict[str, Any]:
    (doc,) = documents(DEPLOY / "compose/hub-leaf.yaml")
    return doc


def bind_mounts(definition: dict[str, Any]) -> dict[str, tuple[Path, str]]:
    """A service's bind mounts: target -> (source, options)."""
    mounts = {}
    for volume in definition.get("volumes", []):
        source, target, *options = volume.split(":")
        if source.startswith("."):
            mounts[target] = ((DEPLOY / "compose" / source).resolve(), ",".join(options))
    return mounts


def copnet_services() -> list[str]:
    """The stack's copnet services: those that run `python -m services.<name>`."""
    services = compose()["services"]
    found = [
        n for n, d in services.items() if str(d.get("command", [""])[0]).startswith("services.")
    ]
    assert found, "no copnet service in docker-compose.yaml"
    return found


def test_hub_leaf_gives_the_nats_server_its_leaf_config_seed_and_tls_files() -> None:
    render = render_module()
    nats = hub_leaf()["services"]["nats"]
    assert nats["command"][0] == "-c"
    mounts = bind_mounts(nats)
    config, options = mounts[nats["command"][1]]
    assert config == DEPLOY / "nats/node-leaf.conf" and options == "ro"
    (remote,) = load_nats_config(config.read_text())["leafnodes"]["remotes"]
    secrets = DEPLOY / "compose/hub-leaf"
    for key in ("ca_file", "cert_file", "key_file"):
        source, options = mounts[remote["tls"][key]]
        assert options == "ro" and source == secrets / Path(remote["tls"][key]).name, key
    # HUB_LEAF_URL and HUB_LEAF_SEED from the file `render.py leaf-env` writes.
    (env_name,) = nats["env_file"]
    assert (DEPLOY / "compose" / env_name).resolve().parent == secrets
    assert set(compose_env("nats")) & {render.LEAF_URL_VARIABLE, render.LEAF_SEED_VARIABLE} == set()
    # The node's private keys stay out of git (and out of the image's build context).
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert f"{secrets.relative_to(ROOT).as_posix()}/" in ignored


def test_hub_leaf_gives_every_copnet_service_the_credentials_file() -> None:
    render = render_module()
    joined = hub_leaf()["services"]
    for service in copnet_services():
        assert service in joined, f"hub-leaf.yaml leaves {service} out of the region"
        env = {**compose_env(service), **joined[service]["environment"]}
        assert set(k for k in env if k.startswith("COPNET_")) <= known_variables()
        settings = NodeSettings.from_env(env)
        assert settings.joins_hub and settings.hub_credentials is not None
        assert str(settings.hub_credentials) == render.HUB_CREDENTIALS_FILE
        source, options = bind_mounts(joined[service])[str(settings.hub_credentials)]
        assert options == "ro", f"{service}: the credentials file is mounted read-only"
        assert source == DEPLOY / "compose/hub-leaf/credentials.json"
    env = env_file(DEPLOY / "compose/node.env")
    assert "COPNET_HUB_CREDENTIALS" not in env, "the stack alone does not join a hub"
