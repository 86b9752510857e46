"""The compose files (deploy/compose/): a whole node (nats-server with the node's users
and TLS, the four services over TLS, each with only its own secrets), the overlay that
joins it to the region's hub, and the hub, for both nodes of the example region, read
as Compose reads them (variables interpolated, files merged) and checked against the
code, and against the Compose Specification's schema. Docker does not run here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from services.cli import build_parser
from services.common.leaftls import hub_hosts
from services.common.nodeauth import OPERATOR, NodeUsers, nkey_variable
from services.common.settings import SERVICES, NodeSettings, parse_token_name
from services.hub import HubSettings
from tests.support.deploy import (
    COMPOSE_NODES,
    DEPLOY,
    ROOT,
    compose,
    compose_env,
    compose_variables,
    documents,
    known_variables,
    load_nats_config,
    make_node_secrets,
    render_module,
    roles_of,
)

COMPOSE = DEPLOY / "compose"


def secret_files(stack: dict[str, Any], service: str) -> dict[str, Path]:
    """A service's secrets: where the container finds each -> the file on the host."""
    declared = stack["secrets"]
    found = {}
    for entry in stack["services"][service].get("secrets", []):
        assert entry["source"] in declared, f"{service}: secret {entry['source']} not declared"
        found[entry["target"]] = (COMPOSE / declared[entry["source"]]["file"]).resolve()
    return found


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[Path]]:
    """What deploy/node_secrets.py writes for each node, as paths below its directory."""
    found = {}
    for node in COMPOSE_NODES:
        directory = tmp_path_factory.mktemp(node)
        assert compose_variables(node)["COPNET_REGION"] == "south-east-london"
        make_node_secrets(directory, node, f"copnet-{node}")
        found[node] = {p.relative_to(directory) for p in directory.rglob("*") if p.is_file()}
    return found


@pytest.mark.parametrize("node", COMPOSE_NODES)
def test_every_service_runs_over_tls_with_only_its_own_secrets(
    node: str, made: dict[str, set[Path]]
) -> None:
    stack = compose(node)
    services = stack["services"]
    secrets_dir = (COMPOSE / "secrets" / node).resolve()
    assert set(SERVICES) <= set(services), "the whole node: every service"
    for service in SERVICES:
        env = compose_env(service, node)
        known = known_variables()
        assert set(k for k in env if k.startswith("COPNET_")) <= known
        assert "COPNET_INSECURE" not in env, f"{service}: gRPC over TLS, never plain"
        settings = NodeSettings.from_env(env)
        assert (settings.node_id, settings.region) == (node, "south-east-london")
        assert settings.tls and settings.tls_ca and not settings.insecure
        assert settings.nats_url == "tls://nats:4222" and "nats" in services
        assert "@postgres:" in settings.postgres_dsn and "postgres" in services
        definition = services[service]
        module, role = definition["command"]
        assert module == f"services.{service}" and role in roles_of(module)
        port = settings.address(service).rsplit(":", 1)[1]
        assert settings.address(service) == f"0.0.0.0:{port}"
        assert any(
            p.endswith(f":{port}") and p.startswith("127.0.0.1:") for p in definition["ports"]
        )

        files = secret_files(stack, service)
        wanted = {
            str(settings.tls_cert): secrets_dir / "pki" / f"{service}.crt",
            str(settings.tls_key): secrets_dir / "pki" / f"{service}.key",
            str(settings.tls_ca): secrets_dir / "pki" / "ca.crt",
            str(settings.signing_key_file): secrets_dir / "secrets/token-signing-key.pem",
            env["COPNET_NATS_SEED_FILE"]: secrets_dir / "secrets/nats" / f"{service}.nk",
        }
        assert files == wanted, f"{service}: exactly its own secrets"
        assert NodeUsers(secrets_dir).seed_file(service) == wanted[env["COPNET_NATS_SEED_FILE"]]
        assert {p.relative_to(secrets_dir) for p in files.values()} <= made[node]

        check = definition["healthcheck"]["test"]
        assert check[:2] == ["CMD", "copnet"], check
        options = build_parser().parse_args(check[2:])
        assert (options.command, options.service, options.ready) == ("health", service, True)
        for dependency in ("postgres", "nats"):
            assert definition["depends_on"][dependency]["condition"] == "service_healthy"
            assert "healthcheck" in services[dependency]


@pytest.mark.parametrize("node", COMPOSE_NODES)
def test_the_nats_server_admits_the_nodes_users_over_tls(
    node: str, made: dict[str, set[Path]]
) -> None:
    stack = compose(node)
    nats = stack["services"]["nats"]
    assert nats["command"][0] == "-c"
    source = next(v.split(":")[0] for v in nats["volumes"] if v.endswith(":ro"))
    assert (COMPOSE / source).resolve() == COMPOSE / "nodes" / f"{node}.conf"
    config = load_nats_config((COMPOSE / source).read_text())
    assert config["jetstream"]["domain"] == node
    assert config["http"].startswith("127.0.0.1:"), "monitoring inside the container only"
    data = next(v.split(":")[1] for v in nats["volumes"] if v.startswith("nats-data:"))
    assert config["jetstream"]["store_dir"].startswith(data + "/")
    # The users' public keys from the file node_secrets.py writes, one per user.
    (users_env,) = nats["env_file"]
    assert (COMPOSE / users_env).resolve() == (COMPOSE / "secrets" / node / "nats-users.env")
    assert Path("nats-users.env") in made[node]
    keys = [user["nkey"] for user in config["authorization"]["users"]]
    assert keys == [f"${nkey_variable(u)}" for u in (OPERATOR, *SERVICES)]
    # TLS on the client port, with the nats certificate node_secrets.py issued.
    files = secret_files(stack, "nats")
    tls = config["tls"]
    assert files == {
        tls["cert_file"]: (COMPOSE / "secrets" / node / "pki/nats.crt").resolve(),
        tls["key_file"]: (COMPOSE / "secrets" / node / "pki/nats.key").resolve(),
    }
    assert nats["healthcheck"]["test"] == ["CMD", "copnet", "health", "--nats", config["http"]]
    assert all(p.startswith("127.0.0.1:") for p in nats["ports"])


def test_the_node_secrets_stay_out_of_git_and_the_image() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    for private in ("secrets", "hub-leaf"):
        assert f"deploy/compose/{private}/" in ignored
    context = (DEPLOY / "docker/Dockerfile.dockerignore").read_text().splitlines()
    allowed = [line for line in context if line.startswith("!")]
    assert "*" in context and allowed and not any("deploy" in line for line in allowed)


def test_hub_compose_runs_copnet_hub_as_the_cli_defines_it() -> None:
    (stack,) = documents(COMPOSE / "hub.yaml")
    hub = stack["services"]["hub"]
    assert hub["entrypoint"] == ["copnet"]
    public = re.compile(r"\$\{HUB_PUBLIC_HOST(:\?[^}]*)?\}")
    assert sum(bool(public.search(arg)) for arg in hub["command"]) == 1
    command = [public.sub("hub.example.org", arg) for arg in hub["command"]]
    options = build_parser().parse_args(command)  # the real `copnet` command line
    assert options.command == "hub"
    assert options.listen_host == "0.0.0.0"
    assert options.tls is True, "leaf links over TLS"
    assert not (options.tls_cert or options.tls_key or options.tls_ca), "the hub's own CA"
    parse_token_name(options.region, "region")
    node_ids = [node_id for node_id, _name in options.node]
    assert node_ids == list(COMPOSE_NODES), "the compose region's nodes"
    for node_id in node_ids:
        NodeSettings(node_id=node_id, region=options.region)  # valid, and not reserved
    volume = next(v for v in hub["volumes"] if v.split(":")[1] == str(options.data_dir))
    assert volume.split(":")[0] in stack["volumes"], "the region's manifest on a volume"
    settings = HubSettings(
        options.data_dir,
        options.region,
        listen_host=options.listen_host,
        leaf_port=options.leaf_port,
        public_host="hub",  # the region on one Docker host: the hub's alias
        tls=options.tls,
    )
    for kept in (settings.data_dir / "pki", settings.credentials_file(node_ids[0])):
        assert kept.is_relative_to(options.data_dir), kept
    assert settings.leaf_url == f"tls://hub:{options.leaf_port}"
    assert "hub" in hub_hosts(options.listen_host, "hub"), "the certificate names the alias"
    assert "hub" in hub["networks"]["region"]["aliases"]
    (leaf,) = documents(COMPOSE / "hub-leaf.yaml")
    assert stack["networks"]["region"]["name"] == leaf["networks"]["region"]["name"]
    assert leaf["networks"]["region"]["external"] is True
    assert f"{options.leaf_port}:{options.leaf_port}" in hub["ports"]
    assert f"127.0.0.1:{options.port}:{options.port}" in hub["ports"]


def bind_mounts(definition: dict[str, Any]) -> dict[str, tuple[Path, str]]:
    """A service's bind mounts: target -> (source, options)."""
    mounts = {}
    for volume in definition.get("volumes", []):
        source, target, *options = volume.split(":")
        if source.startswith("."):
            mounts[target] = ((COMPOSE / source).resolve(), ",".join(options))
    return mounts


@pytest.mark.parametrize("node", COMPOSE_NODES)
def test_hub_leaf_joins_each_node_with_its_own_files(node: str) -> None:
    render = render_module()
    joined = compose(node, "hub-leaf.yaml")
    nats = joined["services"]["nats"]
    config, options = bind_mounts(nats)[nats["command"][1]]
    assert config == COMPOSE / "nodes" / f"{node}-leaf.conf" and options == "ro"
    loaded = load_nats_config(config.read_text())
    assert loaded["jetstream"]["domain"] == node
    (remote,) = loaded["leafnodes"]["remotes"]
    secrets = COMPOSE / "hub-leaf" / node
    for key in ("ca_file", "cert_file", "key_file"):
        source, options = bind_mounts(nats)[remote["tls"][key]]
        assert options == "ro" and source == secrets / Path(remote["tls"][key]).name, key
    env_files = [(COMPOSE / name).resolve() for name in nats["env_file"]]
    assert secrets / "leaf.env" in env_files  # HUB_LEAF_URL and HUB_LEAF_SEED
    assert COMPOSE / "secrets" / node / "nats-users.env" in env_files
    assert (
        set(compose_env("nats", node)) & {render.LEAF_URL_VARIABLE, render.LEAF_SEED_VARIABLE}
        == set()
    )
    assert "region" in nats["networks"]
    for service in SERVICES:
        env = compose_env(service, node, "hub-leaf.yaml")
        settings = NodeSettings.from_env(env)
        assert str(settings.hub_credentials) == render.HUB_CREDENTIALS_FILE
        source, options = bind_mounts(joined["services"][service])[str(settings.hub_credentials)]
        assert options == "ro" and source == secrets / "credentials.json", service
    assert "COPNET_HUB_CREDENTIALS" not in compose_env("registry", node), "alone: no hub"


def test_compose_files_meet_the_compose_specification() -> None:
    """The Compose Specification's JSON schema (vendored by check-jsonschema: offline)."""
    files = [COMPOSE / name for name in ("docker-compose.yaml", "hub-leaf.yaml", "hub.yaml")]
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
        + [str(f) for f in files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
