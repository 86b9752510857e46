"""The node's nats-server configs (deploy/nats/, and their copies for kustomize):
they fsync every write, use the node id as JetStream domain, carry exactly
NodeIdentity's leaf deny lists and the leaf remote node_nats_server() builds, and
are what deploy/nats/render.py renders; the real nats-server accepts each, and
the leaf config joins a real `copnet hub` (TLS, the node's nkey seed) with what
render.py makes of the credentials file the hub wrote."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest

from services.common.messaging import NodeIdentity, ensure_node_streams
from services.common.natsserver import LeafRemote, TlsConfig, nats_server_binary
from services.common.nodeauth import OPERATOR, NodeUsers, inbox_prefix, nkey_variable
from services.common.region import DIRECTORY_SUBJECT, HubCredentials
from services.common.settings import NodeSettings
from services.common.signing import new_seed, public_key
from services.hub import Hub, HubSettings
from services.node import node_nats_server
from tests.support.deploy import (
    DEPLOY,
    LEAF_ENV,
    NATS_CONFIGS,
    env_file,
    k8s_objects,
    load_nats_config,
    make_node_secrets,
    render_module,
)
from tests.support.ports import free_port


def test_nats_configs_fsync_every_write() -> None:
    assert len(NATS_CONFIGS) >= 4, NATS_CONFIGS
    for path in NATS_CONFIGS:
        jetstream = load_nats_config(path.read_text())["jetstream"]
        assert jetstream["sync_interval"] == "always", path
        assert jetstream["store_dir"], path


def node_of(path: Path) -> str:
    """The node a config is for: compose/nodes/<node>[-leaf].conf, else the example node."""
    if path.parent == DEPLOY / "compose/nodes":
        return path.stem.removesuffix("-leaf")
    return render_module().EXAMPLE_NODE_ID


def test_node_configs_use_the_node_id_as_domain() -> None:
    example = env_file(DEPLOY / "compose/nodes/guys.env")["COPNET_NODE_ID"]
    # The base's ConfigMap and every overlay's patch of it.
    for settings in k8s_objects("k8s", "**/*.yaml"):
        if (settings["kind"], settings["metadata"]["name"]) == ("ConfigMap", "copnet-node"):
            assert settings["data"]["COPNET_NODE_ID"] == example
    for path in NATS_CONFIGS:
        node_id = node_of(path)
        assert node_id == env_file(DEPLOY / f"compose/nodes/{node_id}.env")["COPNET_NODE_ID"]
        config = load_nats_config(path.read_text())
        assert config["jetstream"]["domain"] == node_id, path
        assert config["server_name"] == f"copnet-{node_id}", path  # as services/node.py names it


def test_leaf_configs_carry_the_codes_remote_with_no_secret() -> None:
    render = render_module()
    leaves = [p for p in NATS_CONFIGS if "leafnodes" in load_nats_config(p.read_text())]
    assert {p.relative_to(DEPLOY).as_posix() for p in leaves} == {
        "nats/node-leaf.conf",
        "k8s/overlays/example/node/nats-node.conf",
        "compose/nodes/guys-leaf.conf",
        "compose/nodes/kings-leaf.conf",
    }
    for path in leaves:
        identity = NodeIdentity(node_of(path), render.EXAMPLE_REGION)
        # What `copnet up` gives its own nats-server for a node with TLS credentials.
        ups_remote = LeafRemote(
            "tls://hub:7422",
            seed="SU...",
            deny_exports=tuple(identity.leaf_deny_exports()),
            deny_imports=tuple(identity.leaf_deny_imports()),
            tls=TlsConfig(Path("ca"), Path("cert"), Path("key")),
        ).render()
        (remote,) = load_nats_config(path.read_text())["leafnodes"]["remotes"]
        assert list(remote) == list(ups_remote), path
        assert remote["deny_exports"] == identity.leaf_deny_exports(), path
        assert remote["deny_imports"] == identity.leaf_deny_imports(), path
        # The secrets stay out of the file: the environment holds them (render.py leaf-env).
        assert remote["url"] == f"${render.LEAF_URL_VARIABLE}"
        assert remote["nkey"] == f"${render.LEAF_SEED_VARIABLE}"
        assert set(LEAF_ENV) == {render.LEAF_URL_VARIABLE, render.LEAF_SEED_VARIABLE}
        files = {remote["tls"][k] for k in ("ca_file", "cert_file", "key_file")}
        assert {str(Path(f).parent) for f in files} == {render.HUB_TLS_DIR}, path
        assert "verify" not in remote["tls"], "the hub's listener verifies, the node presents"
    for path in set(NATS_CONFIGS) - set(leaves):
        assert "leafnodes" not in load_nats_config(path.read_text()), f"{path} stands alone"


def test_nats_configs_are_what_render_py_renders() -> None:
    stale = render_module().stale_examples()
    assert not stale, f"{stale} out of step: run python deploy/nats/render.py write"


def run_render(*args: str) -> str:
    """deploy/nats/render.py's own command line, as an operator runs it."""
    result = subprocess.run(
        [sys.executable, str(DEPLOY / "nats/render.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def hub_for_guys(base: Path) -> Hub:
    """A real hub (TLS with its own region CA, as `copnet hub` runs by default) that has
    written the credentials file of the example node."""
    render = render_module()
    hub = Hub(
        HubSettings(
            base / "hub", render.EXAMPLE_REGION, port=free_port(), leaf_port=free_port(), tls=True
        )
    )
    hub.add_nodes([(render.EXAMPLE_NODE_ID, "Guy's and St Thomas'")])
    return hub


def in_place(
    conf: Path, store: Path, tls_dir: Path, secrets: Path | None = None
) -> tuple[str, int, int]:
    """The config, with loopback ports, a temporary store, the TLS files where leaf-tls
    wrote them and the client port's where node_secrets.py wrote the nats certificate;
    and its client and monitoring ports."""
    render = render_module()
    text = conf.read_text()
    parsed = load_nats_config(text)
    client, http = free_port(), free_port()
    replacements = {
        json.dumps(parsed["listen"]): f'"127.0.0.1:{client}"',
        json.dumps(parsed["http"]): f'"127.0.0.1:{http}"',
        json.dumps(parsed["jetstream"]["store_dir"]): json.dumps(str(store)),
    }
    for remote in parsed.get("leafnodes", {}).get("remotes", []):
        for key in ("ca_file", "cert_file", "key_file"):
            if key not in remote.get("tls", {}):
                continue
            mounted = Path(remote["tls"][key])
            assert str(mounted.parent) == render.HUB_TLS_DIR
            replacements[json.dumps(str(mounted))] = json.dumps(str(tls_dir / mounted.name))
    if "tls" in parsed:
        assert secrets is not None, f"{conf} serves TLS: give node_secrets.py's files"
        for key, name in (("cert_file", "nats.crt"), ("key_file", "nats.key")):
            assert str(Path(parsed["tls"][key]).parent) == render.NATS_TLS_DIR
            replacements[json.dumps(parsed["tls"][key])] = json.dumps(str(secrets / "pki" / name))
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{old!r} not found exactly once in {conf}"
        text = text.replace(old, new)
    return text, client, http


@pytest.mark.parametrize("path", NATS_CONFIGS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_nats_server_accepts_the_config(path: Path, tmp_path: Path) -> None:
    # The leaf link's TLS files, as an operator makes them from a real hub's credentials.
    credentials = hub_for_guys(tmp_path).settings.credentials_file("guys")
    run_render("leaf-tls", str(credentials), str(tmp_path / "tls"))
    users = make_node_secrets(tmp_path / "secrets", node_of(path))
    text, _client, _http = in_place(path, tmp_path / "js", tmp_path / "tls", tmp_path / "secrets")
    (tmp_path / "node.conf").write_text(text)
    # -t parses and checks the configuration (and loads the TLS files) without starting.
    result = subprocess.run(
        [nats_server_binary(), "-c", str(tmp_path / "node.conf"), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **LEAF_ENV, **users},
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("hub_tls", ["client", "ca", "none"])
def test_every_kind_of_hub_gets_a_leaf_config_nats_server_accepts(
    hub_tls: str, tmp_path: Path
) -> None:
    """--hub-tls: the hub's own CA (client certificates), the operator's CA only, or
    a hub run with --no-tls."""
    render = render_module()
    credentials = hub_for_guys(tmp_path).settings.credentials_file("guys")
    run_render("leaf-tls", str(credentials), str(tmp_path / "tls"))
    conf = tmp_path / "rendered.conf"
    conf.write_text(
        run_render(
            "node",
            "--node-id",
            "guys",
            "--region",
            render.EXAMPLE_REGION,
            "--leaf",
            "--hub-tls",
            hub_tls,
        )
    )
    (remote,) = load_nats_config(conf.read_text())["leafnodes"]["remotes"]
    expected = {"client": {"ca_file", "cert_file", "key_file"}, "ca": {"ca_file"}, "none": set()}
    assert set(remote.get("tls", {})) - {"timeout"} == expected[hub_tls]
    users = make_node_secrets(tmp_path / "secrets")
    text, _client, _http = in_place(conf, tmp_path / "js", tmp_path / "tls", tmp_path / "secrets")
    (tmp_path / "node.conf").write_text(text)
    result = subprocess.run(
        [nats_server_binary(), "-c", str(tmp_path / "node.conf"), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **LEAF_ENV, **users},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_render_py_turns_the_credentials_into_the_containers_files(tmp_path: Path) -> None:
    render = render_module()
    credentials_file = hub_for_guys(tmp_path).settings.credentials_file("guys")
    credentials = HubCredentials.load(credentials_file)
    assert credentials.tls is not None

    env = dict(line.split("=", 1) for line in run_render("leaf-env", str(credentials_file)).split())
    assert env == {
        render.LEAF_URL_VARIABLE: credentials.hub_url,
        render.LEAF_SEED_VARIABLE: credentials.leaf_seed,
    }
    assert credentials.hub_url.startswith("tls://") and credentials.leaf_seed.startswith("SU")

    run_render("leaf-tls", str(credentials_file), str(tmp_path / "tls"))
    tls = render.container_tls()
    for mounted, pem in (
        (tls.ca_file, credentials.tls.ca_pem),
        (tls.cert_file, credentials.tls.cert_pem),
        (tls.key_file, credentials.tls.key_pem),
    ):
        assert (tmp_path / "tls" / mounted.name).read_text() == pem
    assert mode(tmp_path / "tls" / tls.key_file.name) == 0o600

    run_render("leaf-secret", str(credentials_file), str(tmp_path / "secret"))
    secret = {p.name: p for p in (tmp_path / "secret").iterdir()}
    assert set(secret) == {
        render.SECRET_URL,
        render.SECRET_SEED,
        render.SECRET_CREDENTIALS,
        tls.ca_file.name,
        tls.cert_file.name,
        tls.key_file.name,
    }
    assert secret[render.SECRET_URL].read_text() == credentials.hub_url
    assert secret[render.SECRET_SEED].read_text() == credentials.leaf_seed
    assert HubCredentials.load(secret[render.SECRET_CREDENTIALS]) == credentials
    for private in (render.SECRET_SEED, render.SECRET_CREDENTIALS, tls.key_file.name):
        assert mode(secret[private]) == 0o600, private

    # A hub without TLS hands out no TLS section: leaf-tls says so.
    plain = tmp_path / "plain.json"
    dataclasses.replace(credentials, tls=None).save(plain)
    result = subprocess.run(
        [sys.executable, str(DEPLOY / "nats/render.py"), "leaf-tls", str(plain), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "--hub-tls none" in result.stderr


def operator(secrets: Path) -> dict[str, Any]:
    """How the node's operator connects: TLS trusting the node's CA, the operator's key."""
    return {
        "tls": ssl.create_default_context(cafile=str(secrets / "pki/ca.crt")),
        "nkeys_seed_str": NodeUsers(secrets).seed(OPERATOR),
    }


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _get_json(url: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


async def _reads_the_directory(url: str, within: float, secrets: Path) -> bool:
    """Whether a client of the node (its operator: TLS, the operator's key) reads the region
    directory through the leaf link within `within` seconds: the one thing the hub grants
    every node's account, so a link that is not up (or was refused) reads nothing."""
    client = await nats.connect(url, **operator(secrets))
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                reply = await client.request(DIRECTORY_SUBJECT, b"", timeout=0.5)
            except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
                await asyncio.sleep(0.2)
                continue
            if not (reply.headers or {}).get("Status"):
                return True
            await asyncio.sleep(0.2)
        return False
    finally:
        await client.close()


def test_a_node_joins_copnet_hub_with_the_leaf_config(tmp_path: Path) -> None:
    """node-leaf.conf, moved to loopback ports and a temporary store, joins a real
    `copnet hub` over TLS with what render.py makes of the credentials file the hub
    wrote (leaf-env, leaf-tls); the same config with another seed is refused."""
    render = render_module()
    node_id, region = render.EXAMPLE_NODE_ID, render.EXAMPLE_REGION
    hub = hub_for_guys(tmp_path)
    credentials = hub.settings.credentials_file(node_id)
    env_text = run_render("leaf-env", str(credentials))
    (tmp_path / "leaf.env").write_text(env_text)
    leaf_env = env_file(tmp_path / "leaf.env")  # as compose's env_file reads it
    assert leaf_env[render.LEAF_URL_VARIABLE].startswith("tls://")
    run_render("leaf-tls", str(credentials), str(tmp_path / "tls"))

    secrets = tmp_path / "secrets"
    users = make_node_secrets(secrets)
    text, client_port, http_port = in_place(
        DEPLOY / "nats/node-leaf.conf", tmp_path / "js", tmp_path / "tls", secrets
    )
    (tmp_path / "node.conf").write_text(text)
    node: subprocess.Popen[bytes] | None = None

    def start_node(env: dict[str, str], log_name: str) -> subprocess.Popen[bytes]:
        with (tmp_path / log_name).open("wb") as log:
            return subprocess.Popen(
                [nats_server_binary(), "-c", str(tmp_path / "node.conf")],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **users, **env},
            )

    try:
        hub.start()
        node = start_node(leaf_env, "node.log")
        monitor = f"http://127.0.0.1:{http_port}"
        assert _get_json(f"{monitor}/healthz?js-enabled-only=true")["status"] == "ok"
        jetstream = _get_json(f"{monitor}/varz")["jetstream"]["config"]
        assert jetstream["sync_always"] is True
        assert jetstream["domain"] == node_id

        url = f"tls://127.0.0.1:{client_port}"
        assert asyncio.run(_reads_the_directory(url, within=20, secrets=secrets)), (
            tmp_path / "node.log"
        ).read_text()
        leafs = _get_json(f"{monitor}/leafz")["leafs"]
        assert [leaf["name"] for leaf in leafs] == [f"copnet-hub-{region}"]
        node.kill()
        node.wait(10)

        # Another seed: the hub knows no such key, and the link never comes up.
        wrong_seed = new_seed()
        wrong = {**leaf_env, render.LEAF_SEED_VARIABLE: wrong_seed}
        node = start_node(wrong, "wrong-seed.log")
        assert _get_json(f"{monitor}/healthz")["status"] == "ok"
        assert not asyncio.run(_reads_the_directory(url, within=4, secrets=secrets))
        assert not _get_json(f"{monitor}/leafz").get("leafs")
        assert hub.server is not None
        hub_log = hub.server.log_file.read_text(errors="replace")
        refused = f'authentication error - Nkey "{public_key(wrong_seed)}"'
        assert refused in hub_log, hub_log[-2000:]
    finally:
        if node is not None:
            node.kill()
            node.wait(10)
        hub.stop()
        if hub.server is not None:
            hub.server.kill()


def test_the_containers_users_are_the_ones_copnet_up_gives_its_server(tmp_path: Path) -> None:
    """Each service's allow-list in the rendered configs is exactly what `copnet up`
    configures (node_nats_server), for the same node and partners; no anonymous user."""
    render = render_module()
    for path in NATS_CONFIGS:
        node_id = node_of(path)
        config = load_nats_config(path.read_text())
        leaf = "leafnodes" in config
        region = (render.EXAMPLE_NODE_ID, *render.EXAMPLE_PARTNERS)
        partners = [n for n in region if n != node_id] if leaf else []
        settings = NodeSettings(node_id=node_id, region=render.EXAMPLE_REGION, data_dir=tmp_path)
        ups = node_nats_server(settings, partners).config.authorization
        assert ups is not None and "no_auth_user" not in config
        rendered = config["authorization"]["users"]
        assert len(rendered) == len(ups["users"]), path  # type: ignore[arg-type]
        for mine, theirs in zip(rendered, ups["users"], strict=True):  # type: ignore[arg-type]
            assert mine.get("permissions") == theirs.get("permissions"), (path, mine["nkey"])
        learning = next(u for u in rendered if u["nkey"] == f"${nkey_variable('learning')}")
        creates = [s for s in learning["permissions"]["publish"]["allow"] if ".STREAM.CREATE." in s]
        assert all("*" not in s and ">" not in s for s in creates), creates


def test_a_service_logs_in_to_the_containers_server_with_its_own_seed(tmp_path: Path) -> None:
    """nats/node.conf run for real, with node_secrets.py's files: TLS only, a service
    publishes its own events and nothing else, a stranger and a clear connection are
    refused."""
    secrets = tmp_path / "secrets"
    users = make_node_secrets(secrets)
    text, port, _http = in_place(DEPLOY / "nats/node.conf", tmp_path / "js", tmp_path, secrets)
    (tmp_path / "node.conf").write_text(text)
    identity = NodeIdentity("guys", "south-east-london")
    with (tmp_path / "nats.log").open("wb") as log:
        server = subprocess.Popen(
            [nats_server_binary(), "-c", str(tmp_path / "node.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **users},
        )
    errors: list[Exception] = []

    async def on_error(error: Exception) -> None:
        errors.append(error)

    async def scenario() -> int:
        url = f"tls://127.0.0.1:{port}"
        tls = operator(secrets)["tls"]
        deadline = time.monotonic() + 15
        while True:
            try:
                admin = await nats.connect(url, **operator(secrets), allow_reconnect=False)
                break
            except (OSError, nats.errors.Error):
                assert time.monotonic() < deadline, (tmp_path / "nats.log").read_text()
                await asyncio.sleep(0.1)
        await ensure_node_streams(admin.jetstream(), identity)
        for refused in ({"tls": tls}, {"tls": tls, "nkeys_seed_str": new_seed()}, {}):
            with pytest.raises((nats.errors.Error, OSError)):
                plain = url.replace("tls://", "nats://") if "tls" not in refused else url
                await nats.connect(plain, allow_reconnect=False, connect_timeout=2, **refused)
        seed = (secrets / "secrets/nats/events.nk").read_text().strip()
        events = await nats.connect(
            url,
            tls=tls,
            nkeys_seed_str=seed,
            inbox_prefix=inbox_prefix("events"),
            error_cb=on_error,
            allow_reconnect=False,
        )
        js = events.jetstream(timeout=2)
        await js.publish(identity.local_subject("events", "convening_scheduled"), b"ok")
        with pytest.raises(nats.errors.TimeoutError):
            await js.publish(identity.local_subject("registry", "member_registered"), b"no")
        await events.close()
        stored = (await admin.jetstream().stream_info(identity.stream_name)).state.messages
        await admin.close()
        return stored

    try:
        assert asyncio.run(scenario()) == 1
    finally:
        server.kill()
        server.wait(10)
    refused = " ".join(str(e) for e in errors).lower()
    assert 'permissions violation for publish to "copnet-local.guys.registry' in refused
