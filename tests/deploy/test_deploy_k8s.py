"""The Kubernetes manifests (deploy/k8s/): the base's settings, probes and
hardening, and the components an overlay adds, read and checked against the code;
and, where kubectl is installed, the overlays as `kubectl kustomize` builds them."""

from __future__ import annotations

import copy
import json
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from services.cli import build_parser
from services.common.settings import NodeSettings
from services.hub import Hub, HubSettings
from tests.support.deploy import (
    DEPLOY,
    deployments,
    documents,
    env_file,
    k8s_env,
    k8s_object,
    k8s_objects,
    kubectl,
    kustomize,
    load_nats_config,
    make_node_secrets,
    render_module,
    service_of,
)
from tests.support.ports import free_port

# The Kubernetes version the manifests are checked against (kubernetes-validate's schemas).
KUBERNETES_VERSION = "1.32.0"
# The Secret components/hub-leaf reads (render.py leaf-secret writes its files).
HUB_LEAF_SECRET = "copnet-hub-leaf"


def test_k8s_settings_are_valid_and_point_at_the_node() -> None:
    nats_service = k8s_object("Service", "nats")
    nats_ports = {p["port"] for p in nats_service["spec"]["ports"]}
    node_conf = load_nats_config((DEPLOY / "k8s/base/nats-node.conf").read_text())
    for deployment in deployments():
        service = service_of(deployment)
        env = k8s_env(deployment)
        settings = NodeSettings.from_env(env)
        assert settings.nats_url == f"tls://nats:{settings.nats_url.rsplit(':', 1)[1]}"
        assert settings.tls and settings.tls_ca and not settings.insecure, "TLS everywhere"
        assert "COPNET_INSECURE" not in env
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
    assert container["args"] == ["-c", "/etc/nats/config/node.conf"]
    data = next(m for m in container["volumeMounts"] if m["name"] == "data")
    assert node_conf["jetstream"]["store_dir"].startswith(data["mountPath"] + "/")
    claims = [c["metadata"]["name"] for c in nats["spec"]["volumeClaimTemplates"]]
    assert claims == ["data"], "JetStream's store on a PersistentVolumeClaim"
    assert nats_service["spec"]["clusterIP"] == "None"


def test_k8s_services_are_probed_over_tls_on_their_grpc_port() -> None:
    """The kubelet's gRPC probe speaks no TLS: `copnet health` does, from the pod's own
    settings (the real CLI parses each probe's command line)."""
    for deployment in deployments():
        service = service_of(deployment)
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        (grpc_port,) = [p["containerPort"] for p in container["ports"] if p["name"] == "grpc"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert set(container[probe]) & {"grpc", "httpGet", "tcpSocket", "exec"} == {"exec"}
            command = container[probe]["exec"]["command"]
            assert command[0] == "copnet", command
            options = build_parser().parse_args(command[1:])
            assert (options.command, options.service) == ("health", service)
            # Service "" is SERVING while the process is up (liveness); the named
            # service only while its store answers and its work progresses.
            assert options.ready is (probe != "livenessProbe"), (service, probe)
            assert container[probe]["timeoutSeconds"] > options.timeout
        address = k8s_env(deployment)[f"COPNET_{service.upper()}_ADDRESS"]
        assert address == f"0.0.0.0:{grpc_port}"

        k8s_service = k8s_object("Service", deployment["metadata"]["name"])
        ports = {p["name"]: p for p in k8s_service["spec"]["ports"]}
        assert ports["grpc"]["targetPort"] in ("grpc", grpc_port)
        (metrics,) = [p for p in container["ports"] if p["name"] == "metrics"]
        assert metrics["containerPort"] == int(k8s_env(deployment)["COPNET_METRICS_PORT"])
        assert ports["metrics"]["targetPort"] == "metrics"
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


def secret_refs(container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """A container's variables taken from Secrets: name -> (Secret, key)."""
    return {
        e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def mounted_secret_files(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """The files a container gets from the Secret copnet-hub-leaf: path -> key."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    files = {}
    for mount in container.get("volumeMounts", []):
        # (A name with no volume is a StatefulSet's volumeClaimTemplate.)
        secret = volumes.get(mount["name"], {}).get("secret")
        if secret and secret["secretName"] == HUB_LEAF_SECRET:
            assert mount.get("readOnly") is True, mount
            assert secret["defaultMode"] & 0o007 == 0, "not readable by others"
            for item in secret["items"]:
                files[f"{mount['mountPath']}/{item['path']}"] = item["key"]
    return files


def check_joined(objects: list[dict[str, Any]]) -> None:
    """A node's rendered objects join the hub: the nats-server gets the URL, the seed and
    the TLS files its leaf config names; every copnet service the credentials file."""
    render = render_module()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for o in objects:
        by_kind.setdefault(o["kind"], []).append(o)
    (nats,) = [s for s in by_kind["StatefulSet"] if s["metadata"]["name"] == "nats"]
    pod = nats["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert secret_refs(container) == {
        render.LEAF_URL_VARIABLE: (HUB_LEAF_SECRET, render.SECRET_URL),
        render.LEAF_SEED_VARIABLE: (HUB_LEAF_SECRET, render.SECRET_SEED),
    }
    (config_map,) = [
        c for c in by_kind["ConfigMap"] if c["metadata"]["name"].startswith("nats-config")
    ]
    (remote,) = load_nats_config(config_map["data"]["node.conf"])["leafnodes"]["remotes"]
    tls_files = {remote["tls"][k] for k in ("ca_file", "cert_file", "key_file")}
    files = mounted_secret_files(pod, container)
    assert set(files) == tls_files, "the TLS files only: the seed comes as a variable"
    assert {Path(path).name: key for path, key in files.items()} == {
        Path(path).name: Path(path).name for path in tls_files
    }

    (settings_map,) = [c for c in by_kind["ConfigMap"] if c["metadata"]["name"] == "copnet-node"]
    for deployment in by_kind["Deployment"]:
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = dict(settings_map["data"])
        env.update({e["name"]: e["value"] for e in container["env"] if "value" in e})
        settings = NodeSettings.from_env(env)
        name = deployment["metadata"]["name"]
        assert settings.joins_hub and str(settings.hub_credentials) == render.HUB_CREDENTIALS_FILE
        assert mounted_secret_files(pod, container) == {
            render.HUB_CREDENTIALS_FILE: render.SECRET_CREDENTIALS
        }, name


def test_hub_leaf_component_mounts_the_secret_into_nats_and_the_services() -> None:
    """The overlay's objects as kustomize would patch them, read from the component's
    own files (kubectl or not)."""
    component = documents(DEPLOY / "k8s/components/hub-leaf/kustomization.yaml")[0]
    assert component["kind"] == "Component"
    (nats_patch,) = [p for p in component["patches"] if "target" not in p]
    (services_patch,) = [p for p in component["patches"] if "target" in p]
    assert services_patch["target"]["kind"] == "Deployment"
    assert services_patch["target"]["labelSelector"] == "app.kubernetes.io/part-of=copnet"
    (nats_leaf,) = documents(DEPLOY / "k8s/components/hub-leaf" / nats_patch["path"])
    operations = documents(DEPLOY / "k8s/components/hub-leaf" / services_patch["path"])[0]

    nats = copy.deepcopy(k8s_object("StatefulSet", "nats"))
    (patch_container,) = nats_leaf["spec"]["template"]["spec"]["containers"]
    (container,) = nats["spec"]["template"]["spec"]["containers"]
    container.setdefault("env", []).extend(patch_container["env"])
    container["volumeMounts"].extend(patch_container["volumeMounts"])
    nats["spec"]["template"]["spec"]["volumes"].extend(
        nats_leaf["spec"]["template"]["spec"]["volumes"]
    )
    leaf_conf = (DEPLOY / "k8s/overlays/example/node/nats-node.conf").read_text()
    objects = [
        nats,
        {
            "kind": "ConfigMap",
            "metadata": {"name": "nats-config"},
            "data": {"node.conf": leaf_conf},
        },
        k8s_object("ConfigMap", "copnet-node"),
    ]
    for deployment in deployments():
        patched = copy.deepcopy(deployment)
        for op in operations:
            assert op["op"] == "add" and op["path"].endswith("/-"), op
            target: Any = patched
            for step in op["path"].strip("/").split("/")[:-1]:
                target = target[int(step)] if isinstance(target, list) else target[step]
            target.append(op["value"])
        objects.append(patched)
    check_joined(objects)


def test_the_secret_holds_what_the_component_reads(tmp_path: Path) -> None:
    """render.py leaf-secret, from a real hub's credentials file, writes every key the
    component reads (kubectl create secret generic --from-file=<that directory>)."""
    render = render_module()
    hub = Hub(HubSettings(tmp_path / "hub", render.EXAMPLE_REGION, tls=True, port=free_port()))
    hub.add_nodes([(render.EXAMPLE_NODE_ID, "Guy's and St Thomas'")])
    written = render.leaf_secret(hub.settings.credentials_file("guys"), tmp_path / "secret")
    read = set()
    for path in (DEPLOY / "k8s/components/hub-leaf").glob("*.yaml"):
        text = path.read_text()
        read |= set(re.findall(r"key: ([\w.-]+)", text))
    read.discard("kustomize")
    assert read and read <= {p.name for p in written}, read


def secrets_made(tmp_path: Path) -> dict[str, set[str]]:
    """The Secrets and ConfigMaps deploy/node_secrets.py makes: name -> keys."""
    directory = tmp_path / "secrets"
    make_node_secrets(directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.rglob("*"):
        if path.is_file() and path.suffix != ".crt":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    (kustomization,) = documents(directory / "kustomization.yaml")
    made = {}
    for generator in kustomization["secretGenerator"] + kustomization["configMapGenerator"]:
        keys = {f.split("=", 1)[0] for f in generator.get("files", [])}
        for env in generator.get("envs", []):
            keys |= set(env_file(directory / env))
        made[generator["name"]] = keys
    return made


def references(pod: dict[str, Any]) -> dict[str, set[str]]:
    """The Secrets and ConfigMaps a pod reads: name -> the keys it names (or {"*"})."""
    found: dict[str, set[str]] = {}
    for volume in pod.get("volumes", []):
        source = volume.get("secret") or volume.get("configMap")
        if source:
            name = source.get("secretName") or source.get("name")
            found.setdefault(name, set()).update(
                {i["key"] for i in source.get("items", [])} or {"*"}
            )
    for container in pod["containers"]:
        for entry in container.get("envFrom", []):
            ref = entry.get("secretRef") or entry.get("configMapRef")
            found.setdefault(ref["name"], set()).add("*")
        for entry in container.get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                found.setdefault(ref["name"], set()).add(ref["key"])
    return found


# Secrets a node's operator makes by other means (base/postgres.md, components/hub-leaf).
OTHER_SECRETS = {"copnet-postgres", HUB_LEAF_SECRET, "copnet-node", "nats-config"}


def test_each_pod_reads_only_its_own_secrets_which_node_secrets_makes(tmp_path: Path) -> None:
    made = secrets_made(tmp_path)
    nats = k8s_object("StatefulSet", "nats")["spec"]["template"]["spec"]
    assert set(references(nats)) == {"nats-config", "copnet-nats-users", "copnet-tls-nats"}
    for deployment in deployments():
        service = service_of(deployment)
        read = references(deployment["spec"]["template"]["spec"])
        own = {f"copnet-nats-{service}", f"copnet-tls-{service}", "copnet-token-signing-key"}
        if service == "notify":
            own.add("copnet-smtp")
        assert set(read) - OTHER_SECRETS == own, f"{service} reads {sorted(read)}"
        for name, keys in read.items():
            if name not in OTHER_SECRETS:
                assert keys == {"*"} or keys <= made[name], (service, name, keys)
    for name in ("copnet-nats-users", "copnet-tls-nats"):
        assert name in made
    assert made["copnet-tls-nats"] == {"tls.crt", "tls.key", "ca.crt"}


def test_network_policies_close_the_node() -> None:
    policies = {o["metadata"]["name"]: o["spec"] for o in k8s_objects("k8s/base")
                if o["kind"] == "NetworkPolicy"}  # fmt: skip
    deny = policies["default-deny"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    nats = policies["nats"]
    (rule,) = nats["ingress"]
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}, "the node's own pods only: no namespace, no IP block"
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "service"
    assert [p["port"] for p in rule["ports"]] == [4222], "the client port; monitoring stays local"
    config = load_nats_config((DEPLOY / "k8s/base/nats-node.conf").read_text())
    assert config["http"].startswith("127.0.0.1:") and config["listen"].endswith(":4222")
    # Only the four services carry that label.
    labelled = {
        o["metadata"]["name"]
        for o in k8s_objects("k8s/base")
        if o["kind"] in ("Deployment", "StatefulSet")
        and o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")
        == "service"
    }
    assert labelled == {service_of(d) for d in deployments()}
    services = policies["copnet-services"]
    egress_ports = {p["port"] for rule in services["egress"] for p in rule.get("ports", [])}
    assert egress_ports == {4222, 5432, 4317, 53}
    notify = policies["notify"]
    assert [p["port"] for r in notify["ingress"] for p in r["ports"]] == ["https"]


def test_one_disruption_budget_covers_the_node() -> None:
    (budget,) = [o for o in k8s_objects("k8s/base") if o["kind"] == "PodDisruptionBudget"]
    selector = budget["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/part-of": "copnet"}
    assert budget["spec"]["maxUnavailable"] == 1
    kustomization = documents(DEPLOY / "k8s/base/kustomization.yaml")[0]
    (labels,) = kustomization["labels"]
    assert labels["pairs"] == selector and labels["includeTemplates"] is True


def node_and_hub(objects: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Any]]:
    node = [o for o in objects if o["metadata"].get("namespace") == "copnet-guys"]
    hub = [o for o in objects if o["metadata"].get("namespace") == "copnet-hub"]
    namespaces = [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"]
    assert sorted(namespaces) == ["copnet-guys", "copnet-hub"]
    assert len(node) + len(hub) + len(namespaces) == len(objects)
    return node, hub


@pytest.mark.skipif(kubectl() is None, reason="kubectl is not installed")
@pytest.mark.parametrize("overlay", ["base", "hub", "overlays/example"])
def test_kustomize_builds_each_kustomization(overlay: str) -> None:
    objects = kustomize(DEPLOY / "k8s" / overlay)
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    if overlay == "hub":
        assert ("StatefulSet", "hub") in names
        return
    node = {
        ("StatefulSet", "nats"),
        ("ConfigMap", "copnet-node"),
        ("PodDisruptionBudget", "copnet-node"),
    }
    node |= {("Deployment", service) for service in ("registry", "events", "learning", "notify")}
    assert node <= names
    if overlay == "base":
        for o in objects:
            assert HUB_LEAF_SECRET not in json.dumps(o), "the base stands alone"
        return
    node_objects, hub_objects = node_and_hub(objects)
    check_joined(node_objects)
    assert ("StatefulSet", "hub") in {(o["kind"], o["metadata"]["name"]) for o in hub_objects}
    (hub,) = [o for o in hub_objects if o["kind"] == "StatefulSet"]
    (container,) = hub["spec"]["template"]["spec"]["containers"]
    options = build_parser().parse_args(container["args"])
    assert options.command == "hub" and options.tls and options.region == "south-east-london"
    assert [n for n, _ in options.node] == ["guys", "kings"]
    for deployment in (o for o in node_objects if o["kind"] == "Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in {e["name"] for e in container["env"]}
    (monitor,) = [o for o in node_objects if o["kind"] == "ServiceMonitor"]
    selected = [
        o for o in node_objects
        if o["kind"] == "Service"
        and monitor["spec"]["selector"]["matchLabels"].items() <= o["metadata"]["labels"].items()
    ]  # fmt: skip
    assert sorted(o["metadata"]["name"] for o in selected) == [
        "events", "learning", "notify", "registry"
    ]  # fmt: skip
    for service in selected:
        assert "metrics" in {p["name"] for p in service["spec"]["ports"]}
    (ingress,) = [o for o in node_objects if o["kind"] == "Ingress"]
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "notify", "port": {"name": "https"}}


@pytest.mark.skipif(kubectl() is None, reason="kubectl is not installed")
def test_the_example_meets_the_kubernetes_schemas(tmp_path: Path) -> None:
    """kubernetes-validate (the API's own OpenAPI schemas, bundled: offline), strict: no
    unknown field. The ServiceMonitor is a CRD, checked by the test above instead."""
    import yaml

    objects = [
        o for o in kustomize(DEPLOY / "k8s/overlays/example") if o["kind"] != "ServiceMonitor"
    ]
    built = tmp_path / "example.yaml"
    built.write_text(yaml.safe_dump_all(objects))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubernetes_validate",
            "--strict",
            "--quiet",
            "--kubernetes-version",
            KUBERNETES_VERSION,
            str(built),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
