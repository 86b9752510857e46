"""What the tests of deploy/ (tests/deploy/) read the files with.

Docker and Kubernetes do not run here, so the tests read the files and ask the
code what they must say. PyYAML is not a dependency of the project, so the
YAML files are read by the small loader below, which knows the block-style
subset the files use and refuses anything else; nats-server's config format by
the reader after it. Where kubectl is installed, `kustomize()` renders an
overlay with it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from services.common.settings import SERVICES, NodeSettings, available_services
from services.common.signing import new_seed

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Stand-ins for the secrets a leaf config reads from the environment (render.py leaf-env).
LEAF_ENV = {
    "HUB_LEAF_URL": "tls://hub.south-east-london.example.org:7422",
    "HUB_LEAF_SEED": new_seed(),
}

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


# The nodes of the compose region (deploy/compose/nodes/<node>.env), guys the default.
COMPOSE_NODES = ("guys", "kings")
_VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}")


def interpolate(value: Any, variables: dict[str, str]) -> Any:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` in every string."""
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if variables.get(name):
            return variables[name]
        assert kind != ":?", f"{name} must be set: {rest}"
        assert kind == ":-", f"${{{name}}} has no default"
        return rest

    return _VARIABLE.sub(substitute, value)


def compose_variables(node: str = "guys") -> dict[str, str]:
    """What `docker compose --env-file deploy/compose/nodes/<node>.env` interpolates with."""
    return env_file(DEPLOY / "compose" / "nodes" / f"{node}.env")


def compose(node: str = "guys", overlay: str = "") -> dict[str, Any]:
    """docker-compose.yaml for a node as Compose reads it (variables interpolated), with
    another file (e.g. hub-leaf.yaml) merged over it: lists appended, mappings merged."""
    variables = compose_variables(node)
    (doc,) = documents(DEPLOY / "compose/docker-compose.yaml")
    doc = interpolate(doc, variables)
    if overlay:
        (extra,) = documents(DEPLOY / "compose" / overlay)
        doc = _merge(doc, interpolate(extra, variables))
    return doc


def _merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            if key in ("command", "entrypoint") or key not in merged:
                merged[key] = value
            else:
                merged[key] = _merge(merged[key], value)
        return merged
    if isinstance(base, list) and isinstance(extra, list):
        return base + [item for item in extra if item not in base]
    return extra


def env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def compose_env(service: str, node: str = "guys", overlay: str = "") -> dict[str, str]:
    definition = compose(node, overlay)["services"][service]
    env: dict[str, str] = {}
    for name in definition.get("env_file", []):
        path = (DEPLOY / "compose" / name).resolve()
        if path.parent.parent.name in ("secrets", "hub-leaf"):
            continue  # a node's private files, written at deploy time (not in git)
        env.update(env_file(path))
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
    """COPNET_* variables the code reads: the settings, and every name the services'
    source spells out (e.g. notify's COPNET_SMTP_HOST, COPNET_NATS_SEED_FILE)."""
    spelled = set()
    for path in (ROOT / "services").rglob("*.py"):
        text = path.read_text()
        spelled |= set(re.findall(r"\bCOPNET_[A-Z0-9_]*[A-Z0-9]\b", text))
        if path.name == "settings.py":  # get("SMTP_HOST", ...) reads COPNET_SMTP_HOST
            spelled |= {f"COPNET_{n}" for n in re.findall(r'\bget\("([A-Z][A-Z0-9_]*)"', text)}
    settings = set(NodeSettings().to_env()) | {f"COPNET_{s.upper()}_ADDRESS" for s in SERVICES}
    return settings | spelled


def make_node_secrets(
    directory: Path, node_id: str = "guys", namespace: str = "copnet-guys"
) -> dict[str, str]:
    """deploy/node_secrets.py's files for a node of the example region, as an operator
    makes them; returns the users' public keys (nats-users.env, nats-server's env)."""
    command = [sys.executable, str(DEPLOY / "node_secrets.py"), "--node-id", node_id]
    options = ["--region", "south-east-london", "--namespace", namespace, str(directory)]
    subprocess.run([*command, *options], check=True, capture_output=True, timeout=60)
    return env_file(directory / "nats-users.env")


def render_module() -> Any:
    """deploy/nats/render.py (run from source: no byte-code is left in deploy/)."""
    return SimpleNamespace(**runpy.run_path(str(DEPLOY / "nats/render.py")))


def kubectl() -> str | None:
    return os.environ.get("COPNET_KUBECTL") or shutil.which("kubectl")


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize` builds from a kustomization (PyYAML reads its
    output, which has block scalars the loader above refuses)."""
    import yaml

    binary = kubectl()
    assert binary, "kubectl not found"
    result = subprocess.run(
        [binary, "kustomize", str(directory)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]
