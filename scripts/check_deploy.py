"""Checks deploy/ the way an operator would use it, without Docker or a cluster (CI).

    .venv/bin/python scripts/check_deploy.py

- the NATS configs kept in deploy/ are what deploy/nats/render.py renders;
- every kustomization (the node's base, the hub, the example region) builds with
  `kubectl kustomize` and its objects meet the Kubernetes API's schemas
  (kubernetes-validate, strict; the ServiceMonitor is a CRD and is left out);
- every NATS config in deploy/ passes `nats-server -t` with the files and variables
  the containers get (node_secrets.py's certificates and public keys, a hub's leaf
  TLS files and variables);
- the compose files meet the Compose Specification (check-jsonschema's copy).

Exit status 1 and what failed, or 0. Without kubectl the kustomizations are skipped
(and said so).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
sys.path.insert(0, str(ROOT))

from services.common.natsserver import nats_server_binary  # noqa: E402
from services.common.signing import new_seed  # noqa: E402
from services.hub import Hub, HubSettings  # noqa: E402

KUSTOMIZATIONS = ("k8s/base", "k8s/hub", "k8s/overlays/example")
KUBERNETES_VERSION = "1.32.0"
VALIDATE = (sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet")
RENDER = (sys.executable, str(DEPLOY / "nats/render.py"))


def run(command: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=300, **options)  # type: ignore[call-overload,no-any-return]


def check_kustomizations(work: Path, failures: list[str]) -> None:
    kubectl = os.environ.get("COPNET_KUBECTL") or shutil.which("kubectl")
    if kubectl is None:
        print("kubectl not found: the kustomizations are not built", file=sys.stderr)
        return
    import yaml

    for name in KUSTOMIZATIONS:
        built = run([kubectl, "kustomize", str(DEPLOY / name)])
        if built.returncode != 0:
            failures.append(f"kubectl kustomize {name}: {built.stderr}")
            continue
        objects = [o for o in yaml.safe_load_all(built.stdout) if o]
        core = [o for o in objects if o["kind"] != "ServiceMonitor"]
        path = work / (name.replace("/", "-") + ".yaml")
        path.write_text(yaml.safe_dump_all(core))
        validated = run(
            [
                sys.executable,
                "-m",
                "kubernetes_validate",
                "--strict",
                "--quiet",
                "--kubernetes-version",
                KUBERNETES_VERSION,
                str(path),
            ]
        )
        if validated.returncode != 0:
            failures.append(f"kubernetes-validate {name}: {validated.stdout}{validated.stderr}")
        print(f"{name}: {len(objects)} objects built and validated")


def container_files(work: Path) -> tuple[dict[str, str], dict[str, Path]]:
    """What the containers get: the environment (users' public keys, the leaf URL and
    seed) and where each mounted directory's files really are."""
    env: dict[str, str] = {
        "HUB_LEAF_URL": "tls://hub.example.org:7422",
        "HUB_LEAF_SEED": new_seed(),
    }
    subprocess.run(
        [
            sys.executable,
            str(DEPLOY / "node_secrets.py"),
            "--node-id",
            "guys",
            "--region",
            "south-east-london",
            str(work / "secrets"),
        ],
        check=True,
        capture_output=True,
    )
    for line in (work / "secrets/nats-users.env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    hub = Hub(HubSettings(work / "hub", "south-east-london", tls=True))
    hub.add_nodes([("guys", "Guy's"), ("kings", "King's")])
    subprocess.run(
        [
            sys.executable,
            str(DEPLOY / "nats/render.py"),
            "leaf-tls",
            str(hub.settings.credentials_file("guys")),
            str(work / "hub-tls"),
        ],
        check=True,
        capture_output=True,
    )
    tls = work / "nats-tls"
    tls.mkdir()
    shutil.copy(work / "secrets/pki/nats.crt", tls / "tls.crt")
    shutil.copy(work / "secrets/pki/nats.key", tls / "tls.key")
    return env, {"/etc/nats/tls": tls, "/etc/copnet/hub-tls": work / "hub-tls"}


def check_nats_configs(work: Path, failures: list[str]) -> None:
    env, mounts = container_files(work)
    configs = sorted(p for p in DEPLOY.rglob("*.conf"))
    for path in configs:
        text = path.read_text()
        for mounted, real in mounts.items():
            text = text.replace(f'"{mounted}/', f'"{real}/')
        text = re.sub(r'store_dir: "[^"]*"', f'store_dir: "{work / "js"}"', text)
        tested = work / "tested.conf"
        tested.write_text(text)
        result = run([nats_server_binary(), "-t", "-c", str(tested)], env={**os.environ, **env})
        if result.returncode != 0:
            failures.append(f"nats-server -t {path.relative_to(ROOT)}: {result.stderr}")
    print(f"nats-server -t: {len(configs)} configs")


def check_compose(failures: list[str]) -> None:
    files = sorted((DEPLOY / "compose").glob("*.yaml"))
    compose = [f for f in files if f.name != "otel-collector.yaml"]
    result = run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
        + [str(f) for f in compose]
    )
    if result.returncode != 0:
        failures.append(f"compose-spec: {result.stdout}{result.stderr}")
    print(f"compose-spec: {len(compose)} files")


def main() -> int:
    failures: list[str] = []
    stale = run([sys.executable, str(DEPLOY / "nats/render.py"), "check"])
    if stale.returncode != 0:
        failures.append(stale.stderr)
    with tempfile.TemporaryDirectory(prefix="copnet-deploy-") as temporary:
        work = Path(temporary)
        check_kustomizations(work, failures)
        check_nats_configs(work, failures)
    check_compose(failures)
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
