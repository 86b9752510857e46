"""The deploy/ files as a whole: every YAML file parses (with the loader that the
other deploy tests read them with), every COPNET_* variable named anywhere is one
the code reads, the image holds what pyproject.toml installs and runs as the
pods' user, and the systemd units run `copnet` as the CLI defines it."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from services.cli import build_parser
from services.common.messaging import NodeIdentity
from tests.support.deploy import (
    DEPLOY,
    ROOT,
    UnsupportedYaml,
    deploy_files,
    documents,
    k8s_objects,
    known_variables,
    load_yaml,
    render_module,
    roles_of,
    yaml_files,
)


def test_every_yaml_file_parses() -> None:
    files = yaml_files()
    assert {p.relative_to(DEPLOY).as_posix() for p in files} >= {
        "compose/docker-compose.yaml",
        "compose/otel-collector.yaml",
        "compose/hub.yaml",
        "compose/hub-leaf.yaml",
        "k8s/base/kustomization.yaml",
        "k8s/base/registry.yaml",
        "k8s/base/nats.yaml",
        "k8s/base/configmap.yaml",
        "k8s/components/tracing/kustomization.yaml",
        "k8s/components/hub-leaf/kustomization.yaml",
    }
    for path in files:
        docs = documents(path)
        assert docs, f"{path} is empty"
        if "k8s" in path.parts:
            for doc in docs:
                if isinstance(doc, list):  # a JSON patch (RFC 6902) of a component
                    assert all({"op", "path"} <= set(op) for op in doc), path
                else:
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
    nodes = (render.EXAMPLE_NODE_ID, *render.EXAMPLE_PARTNERS)
    streams = tuple(NodeIdentity(n, render.EXAMPLE_REGION).stream_name for n in nodes)
    unknown = []
    for path in deploy_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for name in re.findall(r"\bCOPNET_[A-Z0-9_]+\b", line):
                if name not in known and not name.startswith(streams):
                    unknown.append(f"{path.relative_to(ROOT)}:{number}: {name}")
    assert not unknown, "variables no code reads:\n" + "\n".join(unknown)


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


def test_no_deployment_turns_tls_off() -> None:
    """TLS on gRPC everywhere: no file of deploy/ sets COPNET_INSECURE (or --insecure)."""
    for path in deploy_files():
        if path.suffix in (".yaml", ".env", ".service", ".conf"):
            text = path.read_text()
            assert not re.search(r"COPNET_INSECURE\s*[:=]|--insecure\b", text), path
