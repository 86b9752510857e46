"""The deployment files in deploy/ stay in step with the code.

Docker and Kubernetes do not run here, so these tests read the files and ask
the code what they must say:
- every YAML file parses, and every COPNET_* variable named anywhere in
  deploy/ is one the code reads;
- the settings given to the services (compose, Kubernetes) are valid for
  NodeSettings and point at the NATS server and ports the files define;
- the Kubernetes services are probed over gRPC on their gRPC port, and run
  with the hardened security context;
- the image holds what pyproject.toml installs and runs as the pods' user;
  the hub's compose command parses with the real `copnet` CLI;
- the NATS configs fsync every write (`sync_interval: always`), use the node
  id as JetStream domain, carry exactly NodeIdentity's leaf deny lists, and
  are what deploy/nats/render.py renders; the real nats-server accepts them,
  and the leaf config joins a real `copnet hub` with the credentials it wrote.

PyYAML is not a dependency of the project, so the YAML files are read by the
small loader below, which knows the block-style subset the files use and
refuses anything else.
"""

from __future__ import annotations

import configparser
import functools
import json
import os
import re
import runpy
import shlex
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from services.cli import build_parser
from services.common.messaging import NodeIdentity
from services.common.natsserver import nats_server_binary
from services.common.settings import (
    SERVICES,
    NodeSettings,
    available_services,
    parse_token_name,
)
from services.hub import Hub, HubSettings
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# A stand-in for the secret HUB_LEAF_URL that a leaf config reads from the environment.
LEAF_URL_ENV = {"HUB_LEAF_URL": "nats-leaf://guys:secret@hub.south-east-london.example.org:7422"}


# --- a loader for the YAML the deploy files use ---------------------------------


class UnsupportedYaml(ValueError):
    pass


_PLAIN_REFUSED = {"yes", "no", "on", "off", "y", "n"}  # booleans in YAML 1.1 only: quote them


def _strip_comment(text: str) -> str:
    quote = ""
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'" and (i == 0 or text[i - 1] in " [{,:-"):
            quote = char
        elif char == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


def _split_flow(body: str) -> list[str]:
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(body):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return [p for p in parts if p]


def _key_split(text: str) -> tuple[str, str] | None:
    """`key: value` -> (key, value); None when the text is not a mapping entry."""
    if text[:1] in "\"'":
        end = text.index(text[0], 1)
        rest = text[end + 1 :]
        if rest.startswith(":") and (len(rest) == 1 or rest[1] == " "):
            return _scalar(text[: end + 1]), rest[1:].strip()
        return None
    match = re.match(r"^([^\s\[\]{},#][^:#]*?):(?:\s+(.*))?$", text)
    if not match:
        return None
    return match.group(1), (match.group(2) or "").strip()


def _scalar(text: str) -> Any:
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if text.startswith(("[", "{")):
        if not text.endswith("]" if text[0] == "[" else "}"):
            raise UnsupportedYaml(f"flow collection over several lines: {text!r}")
        items = _split_flow(text[1:-1])
        if text[0] == "[":
            return [_scalar(item) for item in items]
        pairs = [_key_split(item) for item in items]
        if any(pair is None for pair in pairs):
            raise UnsupportedYaml(f"flow mapping: {text!r}")
        return {key: _scalar(value) for key, value in pairs}  # type: ignore[misc]
    if text[:1] in ("&", "*", "!", "|", ">", "%", "@", "`"):
        raise UnsupportedYaml(f"anchor, alias, tag, block scalar or reserved: {text!r}")
    lowered = text.lower()
    if lowered in ("", "~", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in _PLAIN_REFUSED or re.fullmatch(r"\d+(:[0-5]?\d)+|\d{4}-\d\d-\d\d.*", text):
        raise UnsupportedYaml(f"plain scalar that YAML 1.1 reads differently; quote it: {text!r}")
    if re.fullmatch(r"[-+]?(0|[1-9][0-9]*)", text):
        return int(text)
    if re.fullmatch(r"0[0-7]+", text):
        return int(text, 8)  # YAML 1.1 octal, e.g. defaultMode: 0440
    if re.fullmatch(r"[-+]?[0-9]+\.[0-9]*", text):
        return float(text)
    return text


def load_yaml(text: str) -> list[Any]:
    """The documents of a YAML stream in block style, with flow collections on one line."""
    documents: list[list[tuple[int, str, int]]] = [[]]
    for number, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise UnsupportedYaml(f"line {number}: tab indentation")
        line = _strip_comment(raw)
        if line.strip() == "---":
            documents.append([])
        elif line.strip():
            documents[-1].append((len(line) - len(line.lstrip()), line.strip(), number))

    def block(lines: list[tuple[int, str, int]], i: int) -> tuple[Any, int]:
        indent = lines[i][0]
        if lines[i][1] == "-" or lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1][:2] in ("-", "- "):
                rest = lines[i][1][1:].lstrip()
                if not rest:
                    if i + 1 < len(lines) and lines[i + 1][0] > indent:
                        value, i = block(lines, i + 1)
                    else:
                        value, i = None, i + 1
                elif _key_split(rest) is not None:
                    # A mapping that starts on the dash's line: its keys line up with `rest`.
                    lines[i] = (indent + len(lines[i][1]) - len(rest), rest, lines[i][2])
                    value, i = block(lines, i)
                else:
                    value, i = _scalar(rest), i + 1
                items.append(value)
            return items, i
        mapping: dict[Any, Any] = {}
        while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
            pair = _key_split(lines[i][1])
            if pair is None:
                raise UnsupportedYaml(f"line {lines[i][2]}: not `key: value`: {lines[i][1]!r}")
            key, rest = pair
            if key in mapping:
                raise UnsupportedYaml(f"line {lines[i][2]}: duplicate key {key!r}")
            nested = i + 1 < len(lines) and (
                lines[i + 1][0] > indent
                or (lines[i + 1][0] == indent and lines[i + 1][1][:2] in ("-", "- "))
            )
            if rest:
                mapping[key], i = _scalar(rest), i + 1
            elif nested:
                mapping[key], i = block(lines, i + 1)
            else:
                mapping[key], i = None, i + 1
        if i < len(lines) and lines[i][0] > indent:
            raise UnsupportedYaml(f"line {lines[i][2]}: unexpected indentation")
        return mapping, i

    loaded = []
    for lines in documents:
        if lines:
            value, end = block(lines, 0)
            if end != len(lines):
                raise UnsupportedYaml(f"line {lines[end][2]}: unexpected dedent")
            loaded.append(value)
    return loaded


# --- a reader for nats-server's config format ---------------------------------------

_NATS_WORD = re.compile(r"[^\s,;}\]#]+")
_NATS_KEY = re.compile(r'"[^"]*"|[^\s:={]+')


def load_nats_config(text: str) -> dict[str, Any]:
    """nats-server's format: `key: value`, `key { ... }`, `[ ... ]`, # and // comments."""
    position = 0

    def skip() -> None:
        nonlocal position
        while position < len(text):
            if text[position] in " \t\r\n,;":
                position += 1
            elif text[position] == "#" or text.startswith("//", position):
                end = text.find("\n", position)
                position = len(text) if end < 0 else end
            else:
                return

    def value() -> Any:
        nonlocal position
        skip()
        char = text[position]
        if char == "{":
            position += 1
            return mapping("}")
        if char == "[":
            position += 1
            items = []
            while True:
                skip()
                if text[position] == "]":
                    position += 1
                    return items
                items.append(value())
        if char == '"':
            decoded, position = json.JSONDecoder().raw_decode(text, position)
            return decoded
        word = _NATS_WORD.match(text, position)
        assert word, f"no value at {text[position : position + 20]!r}"
        position = word.end()
        bare = word.group()
        return {"true": True, "false": False}.get(bare, int(bare) if bare.isdigit() else bare)

    def mapping(end: str) -> dict[str, Any]:
        nonlocal position
        result: dict[str, Any] = {}
        while True:
            skip()
            if position >= len(text) or text[position] == end:
                assert (position < len(text)) == bool(end), f"unbalanced {end or 'braces'}"
                position += 1
                return result
            key = _NATS_KEY.match(text, position)
            assert key, f"no key at {text[position : position + 20]!r}"
            position = key.end()
            while text[position] in " \t":
                position += 1
            if text[position] in ":=":
                position += 1
            result[key.group().strip('"')] = value()

    return mapping("")


# --- the files -------------------------------------------------------------------------


def deploy_files() -> list[Path]:
    """The files of deploy/, without caches (__pycache__, .ruff_cache, ...)."""
    return sorted(
        path
        for path in DEPLOY.rglob("*")
        if path.is_file()
        and not any(p.startswith(".") or p == "__pycache__" for p in path.relative_to(DEPLOY).parts)
    )


# Every node's nats-server config: deploy/nats/ and its copies for kustomize.
NATS_CONFIGS = [p for p in deploy_files() if p.suffix == ".conf"]


def yaml_files() -> list[Path]:
    return [p for p in deploy_files() if p.suffix in (".yaml", ".yml")]


def documents(path: Path) -> list[Any]:
    try:
        return load_yaml(path.read_text())
    except UnsupportedYaml as error:
        raise AssertionError(f"{path.relative_to(ROOT)}: {error}") from None


def k8s_objects(directory: str, pattern: str = "*.yaml") -> Iterator[dict[str, Any]]:
    for path in sorted((DEPLOY / directory).glob(pattern)):
        for doc in documents(path):
            if isinstance(doc, dict) and "kind" in doc and "metadata" in doc:
                yield doc


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    found = [
        o for o in k8s_objects("k8s/base") if o["kind"] == kind and o["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"k8s/base has {len(found)} {kind} {name!r}"
    return found[0]


def compose() -> dict[str, Any]:
    (doc,) = documents(DEPLOY / "compose/docker-compose.yaml")
    return doc


def env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def compose_env(service: str) -> dict[str, str]:
    definition = compose()["services"][service]
    env: dict[str, str] = {}
    for name in definition.get("env_file", []):
        env.update(env_file(DEPLOY / "compose" / name))
    env.update({k: str(v) for k, v in (definition.get("environment") or {}).items()})
    return env


def k8s_env(deployment: dict[str, Any]) -> dict[str, str]:
    """A Deployment's literal settings: its ConfigMaps' data, then its own env values."""
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(k8s_object("ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = str(entry["value"])
    return env


def deployments() -> list[dict[str, Any]]:
    found = [o for o in k8s_objects("k8s/base") if o["kind"] == "Deployment"]
    assert found, "no Deployment in deploy/k8s/base"
    return found


def service_of(deployment: dict[str, Any]) -> str:
    """The copnet service a Deployment runs: its args are `services.<service> <role>`."""
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    module = container["args"][0]
    assert module.startswith("services."), container["args"]
    service = module.removeprefix("services.")
    assert service in available_services(), f"{module} is not an installed service"
    assert set(container["args"][1:]) <= roles_of(module), container["args"]
    return service


@functools.cache
def roles_of(module: str) -> frozenset[str]:
    """The roles `python -m services.<service>` accepts, read from its own --help."""
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"\{([a-z,]+)\}", result.stdout)
    assert match, result.stdout
    return frozenset(match.group(1).split(","))


def known_variables() -> set[str]:
    return set(NodeSettings().to_env()) | {f"COPNET_{s.upper()}_ADDRESS" for s in SERVICES}


def render_module() -> Any:
    """deploy/nats/render.py (run from source: no byte-code is left in deploy/)."""
    return SimpleNamespace(**runpy.run_path(str(DEPLOY / "nats/render.py")))


# --- the tests -------------------------------------------------------------------------


def test_every_yaml_file_parses() -> None:
    files = yaml_files()
    assert {p.relative_to(DEPLOY).as_posix() for p in files} >= {
        "compose/docker-compose.yaml",
        "compose/otel-collector.yaml",
        "compose/hub.yaml",
        "k8s/base/kustomization.yaml",
        "k8s/base/registry.yaml",
        "k8s/base/nats.yaml",
        "k8s/base/configmap.yaml",
        "k8s/components/tracing/kustomization.yaml",
    }
    for path in files:
        docs = documents(path)
        assert docs, f"{path} is empty"
        if "k8s" in path.parts and path.name != "otel-env.yaml":  # that one is a JSON patch
            for doc in docs:
                assert {"apiVersion", "kind"} <= set(doc), f"{path}: {doc}"


def test_the_yaml_loader_agrees_with_pyyaml() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: nothing to compare with")
    for path in yaml_files():
        assert load_yaml(path.read_text()) == list(yaml.safe_load_all(path.read_text())), path


def test_the_yaml_loader_refuses_what_it_does_not_know() -> None:
    for text in ("a: &x 1", "a: *x", "a: |\n  b", "a: [1,\n  2]", "a: on", "a: 1:30", "a: 1\na: 2"):
        with pytest.raises(UnsupportedYaml):
            load_yaml(text)
    assert load_yaml("a:\n- b: 1\n  c: [x, 'y', \"z\"]\n---\nd: 0440\n") == [
        {"a": [{"b": 1, "c": ["x", "y", "z"]}]},
        {"d": 288},
    ]


def test_every_copnet_variable_is_one_the_code_reads() -> None:
    known = known_variables()
    render = render_module()
    # The example node's stream names, COPNET_<NODE>..., appear in its deny lists.
    streams = NodeIdentity(render.EXAMPLE_NODE_ID, render.EXAMPLE_REGION).stream_name
    unknown = []
    for path in deploy_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for name in re.findall(r"\bCOPNET_[A-Z0-9_]+\b", line):
                if name not in known and not name.startswith(streams):
                    unknown.append(f"{path.relative_to(ROOT)}:{number}: {name}")
    assert not unknown, "variables no code reads:\n" + "\n".join(unknown)


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


def test_k8s_settings_are_valid_and_point_at_the_node() -> None:
    nats_service = k8s_object("Service", "nats")
    nats_ports = {p["port"] for p in nats_service["spec"]["ports"]}
    node_conf = load_nats_config((DEPLOY / "k8s/base/nats-node.conf").read_text())
    for deployment in deployments():
        service = service_of(deployment)
        env = k8s_env(deployment)
        settings = NodeSettings.from_env(env)
        assert settings.nats_url == f"nats://nats:{settings.nats_url.rsplit(':', 1)[1]}"
        assert int(settings.nats_url.rsplit(":", 1)[1]) in nats_ports
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        dsn = next(e for e in container["env"] if e["name"] == "COPNET_POSTGRES_DSN")
        assert "secretKeyRef" in dsn["valueFrom"], f"{service}: the DSN comes from a Secret"
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        key_dir = str(settings.signing_key_file.parent)
        assert mounts[key_dir]["readOnly"] is True
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        key_volume = volumes[mounts[key_dir]["name"]]["secret"]
        assert [i["path"] for i in key_volume["items"]] == [settings.signing_key_file.name]
        assert node_conf["jetstream"]["domain"] == settings.node_id

    kustomization = documents(DEPLOY / "k8s/base/kustomization.yaml")[0]
    (generator,) = [g for g in kustomization["configMapGenerator"] if g["name"] == "nats-config"]
    assert generator["files"] == ["node.conf=nats-node.conf"]
    nats = k8s_object("StatefulSet", "nats")
    (container,) = nats["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["-c", "/etc/nats/node.conf"]
    data = next(m for m in container["volumeMounts"] if m["name"] == "data")
    assert node_conf["jetstream"]["store_dir"].startswith(data["mountPath"] + "/")
    claims = [c["metadata"]["name"] for c in nats["spec"]["volumeClaimTemplates"]]
    assert claims == ["data"], "JetStream's store on a PersistentVolumeClaim"
    assert nats_service["spec"]["clusterIP"] == "None"


def test_k8s_services_are_probed_over_grpc_on_their_grpc_port() -> None:
    for deployment in deployments():
        service = service_of(deployment)
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        (grpc_port,) = [p["containerPort"] for p in container["ports"] if p["name"] == "grpc"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe == "startupProbe" and probe not in container:
                continue
            assert set(container[probe]) & {"grpc", "httpGet", "tcpSocket", "exec"} == {"grpc"}
            # Kubernetes' gRPC probes take a port number, not a name.
            assert container[probe]["grpc"]["port"] == grpc_port, (service, probe)
            # Service "" is SERVING while the process is up (liveness); the named
            # service only while its store answers (readiness, start-up).
            expected = (
                ""
                if probe == "livenessProbe"
                else (f"copnet.{service}.v1.{service.capitalize()}Service")
            )
            assert container[probe]["grpc"].get("service", "") == expected, (service, probe)
        address = k8s_env(deployment)[f"COPNET_{service.upper()}_ADDRESS"]
        assert address == f"0.0.0.0:{grpc_port}"

        k8s_service = k8s_object("Service", deployment["metadata"]["name"])
        (port,) = k8s_service["spec"]["ports"]
        assert port["name"] == "grpc" and port["targetPort"] in ("grpc", grpc_port)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert k8s_service["spec"]["selector"].items() <= labels.items()
        account = k8s_object("ServiceAccount", pod["serviceAccountName"])
        assert account["automountServiceAccountToken"] is False

        assert pod["terminationGracePeriodSeconds"] >= 15
        assert pod["securityContext"]["runAsNonRoot"] is True
        hardening = container["securityContext"]
        assert hardening["readOnlyRootFilesystem"] is True
        assert hardening["allowPrivilegeEscalation"] is False
        assert hardening["capabilities"]["drop"] == ["ALL"]
        assert {"requests", "limits"} <= set(container["resources"])
        # `all` runs the relay, which must not run twice at once.
        if container["args"][1:] in ([], ["all"], ["worker"]):
            assert deployment["spec"]["replicas"] == 1
            assert deployment["spec"]["strategy"]["type"] == "Recreate"


def test_tracing_component_sets_the_otel_endpoint() -> None:
    component = documents(DEPLOY / "k8s/components/tracing/kustomization.yaml")[0]
    assert component["kind"] == "Component"
    (patch,) = component["patches"]
    assert patch["target"]["kind"] == "Deployment"
    operations = documents(DEPLOY / "k8s/components/tracing" / patch["path"])[0]
    names = [op["value"]["name"] for op in operations]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in names
    assert all(op["path"] == "/spec/template/spec/containers/0/env/-" for op in operations)


def test_the_image_holds_what_pyproject_installs() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project, find = pyproject["project"], pyproject["tool"]["setuptools"]["packages"]["find"]
    needed = {"pyproject.toml", project["readme"]}
    for where in find["where"]:
        if where != ".":
            needed.add(where)
            continue
        for pattern in find["include"]:  # top-level packages, e.g. services*
            needed |= {p.name for p in ROOT.glob(pattern) if (p / "__init__.py").exists()}
    dockerfile = (DEPLOY / "docker/Dockerfile").read_text()
    copied = set()
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        copied |= set(sources.split())
    assert needed <= copied, f"the Dockerfile does not COPY {needed - copied}"
    allowed = {
        line[1:].rstrip("/")
        for line in (DEPLOY / "docker/Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert needed <= allowed, f"Dockerfile.dockerignore leaves out {needed - allowed}"

    image = re.search(r"^ARG PYTHON_IMAGE=python:(\d+\.\d+)", dockerfile, re.MULTILINE)
    assert image, "the base image is python:<version>..."
    minimum = re.fullmatch(r">=\s*(\d+)\.(\d+)", project["requires-python"].strip())
    assert minimum, project["requires-python"]
    assert tuple(map(int, image.group(1).split("."))) >= tuple(map(int, minimum.groups()))
    assert 'ENTRYPOINT ["python", "-m"]' in dockerfile
    module, role = json.loads(re.search(r"^CMD (.+)$", dockerfile, re.MULTILINE).group(1))
    assert role in roles_of(module)
    assert re.search(r"^USER \$\{APP_UID\}:\$\{APP_UID\}$", dockerfile, re.MULTILINE)
    uid = re.search(r"^ARG APP_UID=(\d+)$", dockerfile, re.MULTILINE).group(1)
    for workload in k8s_objects("k8s/base"):
        if workload["kind"] in ("Deployment", "StatefulSet"):
            pod = workload["spec"]["template"]["spec"]["securityContext"]
            assert pod["runAsUser"] == pod["runAsGroup"] == pod["fsGroup"] == int(uid)


def test_hub_compose_runs_copnet_hub_as_the_cli_defines_it() -> None:
    (stack,) = documents(DEPLOY / "compose/hub.yaml")
    hub = stack["services"]["hub"]
    assert hub["entrypoint"] == ["copnet"]
    command = [arg.replace("${HUB_PUBLIC_HOST", "hub.example.org${") for arg in hub["command"]]
    options = build_parser().parse_args(command)  # the real `copnet` command line
    assert options.command == "hub"
    assert options.listen_host == "0.0.0.0"
    assert options.public_host.startswith("hub.example.org")
    assert options.tls is False  # until deploy/nats's leaf config has a tls block
    parse_token_name(options.region, "region")
    node_ids = [node_id for node_id, _name in options.node]
    assert render_module().EXAMPLE_NODE_ID in node_ids
    for node_id in node_ids:
        NodeSettings(node_id=node_id, region=options.region)  # valid, and not reserved
    volume = next(v for v in hub["volumes"] if v.split(":")[1] == str(options.data_dir))
    assert volume.split(":")[0] in stack["volumes"], "the region's manifest on a volume"
    assert f"{options.leaf_port}:{options.leaf_port}" in hub["ports"]
    assert f"127.0.0.1:{options.port}:{options.port}" in hub["ports"]


def test_nats_configs_fsync_every_write() -> None:
    assert len(NATS_CONFIGS) >= 4, NATS_CONFIGS
    for path in NATS_CONFIGS:
        jetstream = load_nats_config(path.read_text())["jetstream"]
        assert jetstream["sync_interval"] == "always", path
        assert jetstream["store_dir"], path


def test_node_configs_use_the_node_id_as_domain() -> None:
    node_id = env_file(DEPLOY / "compose/node.env")["COPNET_NODE_ID"]
    # The base's ConfigMap and every overlay's patch of it.
    for settings in k8s_objects("k8s", "**/*.yaml"):
        if (settings["kind"], settings["metadata"]["name"]) == ("ConfigMap", "copnet-node"):
            assert settings["data"]["COPNET_NODE_ID"] == node_id
    for path in NATS_CONFIGS:
        config = load_nats_config(path.read_text())
        assert config["jetstream"]["domain"] == node_id, path
        assert config["server_name"] == f"copnet-{node_id}", path  # as services/node.py names it


def test_leaf_deny_lists_are_exactly_the_codes() -> None:
    settings = NodeSettings.from_env(env_file(DEPLOY / "compose/node.env"))
    identity = NodeIdentity(settings.node_id, settings.region)
    leaves = [p for p in NATS_CONFIGS if "leafnodes" in load_nats_config(p.read_text())]
    assert {p.relative_to(DEPLOY).as_posix() for p in leaves} == {
        "nats/node-leaf.conf",
        "k8s/overlays/example/nats-node.conf",
    }
    for path in leaves:
        (remote,) = load_nats_config(path.read_text())["leafnodes"]["remotes"]
        assert remote["deny_exports"] == identity.leaf_deny_exports(), path
        assert remote["deny_imports"] == identity.leaf_deny_imports(), path
        assert remote["url"] == "$HUB_LEAF_URL", "the credentials stay out of the file"
    for path in (DEPLOY / "nats/node.conf", DEPLOY / "k8s/base/nats-node.conf"):
        assert "leafnodes" not in load_nats_config(path.read_text()), f"{path} stands alone"


def test_nats_configs_are_what_render_py_renders() -> None:
    stale = render_module().stale_examples()
    assert not stale, f"{stale} out of step: run python deploy/nats/render.py write"


@pytest.mark.parametrize("path", NATS_CONFIGS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_nats_server_accepts_the_config(path: Path) -> None:
    # -t parses and checks the configuration without starting a server.
    result = subprocess.run(
        [nats_server_binary(), "-c", str(path), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **LEAF_URL_ENV},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _on_loopback(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{old!r} not found exactly once"
        text = text.replace(old, new)
    return text


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


def test_a_node_joins_copnet_hub_with_the_leaf_config(tmp_path: Path) -> None:
    """node-leaf.conf, moved to loopback ports and a temporary store, joins a real
    `copnet hub` with the credentials the hub wrote (through render.py leaf-url)."""
    render = render_module()
    node_id, region = render.EXAMPLE_NODE_ID, render.EXAMPLE_REGION
    hub = Hub(HubSettings(tmp_path / "hub", region, port=free_port(), leaf_port=free_port()))
    hub.add_nodes([(node_id, "Guy's and St Thomas'")])
    leaf_url = render.leaf_url(hub.settings.credentials_file(node_id))
    assert leaf_url.startswith(f"nats-leaf://{node_id}:")

    conf = DEPLOY / "nats/node-leaf.conf"
    parsed = load_nats_config(conf.read_text())
    http_port = free_port()
    (tmp_path / "node.conf").write_text(
        _on_loopback(
            conf.read_text(),
            {
                json.dumps(parsed["listen"]): f'"127.0.0.1:{free_port()}"',
                json.dumps(parsed["http"]): f'"127.0.0.1:{http_port}"',
                json.dumps(parsed["jetstream"]["store_dir"]): json.dumps(str(tmp_path / "js")),
            },
        )
    )
    node: subprocess.Popen[bytes] | None = None
    try:
        hub.start()
        with (tmp_path / "node.log").open("wb") as log:
            node = subprocess.Popen(
                [nats_server_binary(), "-c", str(tmp_path / "node.conf")],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "HUB_LEAF_URL": leaf_url},
            )
        monitor = f"http://127.0.0.1:{http_port}"
        assert _get_json(f"{monitor}/healthz?js-enabled-only=true")["status"] == "ok"
        jetstream = _get_json(f"{monitor}/varz")["jetstream"]["config"]
        assert jetstream["sync_always"] is True
        assert jetstream["domain"] == node_id

        deadline = time.monotonic() + 15
        while not (leafs := _get_json(f"{monitor}/leafz").get("leafs")):
            assert time.monotonic() < deadline, (tmp_path / "node.log").read_text()
            time.sleep(0.1)
        assert [leaf["name"] for leaf in leafs] == [f"copnet-hub-{region}"]
    finally:
        if node is not None:
            node.kill()
            node.wait(10)
        hub.stop()


def systemd_unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    unit.read_string((DEPLOY / "systemd" / name).read_text())
    return unit


@pytest.mark.parametrize(
    "unit_name, command, sample_args",
    [
        ("copnet-node.service", "up", {}),
        ("copnet-hub.service", "hub", {"$HUB_ARGS": "--region sel --node guys --node kings"}),
    ],
)
def test_systemd_units_run_copnet_as_the_cli_defines_it(
    unit_name: str, command: str, sample_args: dict[str, str]
) -> None:
    service = systemd_unit(unit_name)["Service"]
    line = service["ExecStart"]
    for placeholder, value in sample_args.items():
        line = line.replace(placeholder, value)
    binary, *args = shlex.split(line)
    assert Path(binary).name == "copnet"
    options = build_parser().parse_args(args)  # the real `copnet` command line
    assert options.command == command
    assert str(options.data_dir).startswith(service["ReadWritePaths"])
    # copnet stops its children itself (services, then nats-server): SIGTERM to it alone.
    assert service["KillMode"] == "mixed"
    assert service["Restart"] == "on-failure"
    assert service["User"] != "root" and service["UMask"] == "0077"
