"""The Kubernetes manifests (deploy/k8s/): the base's settings, probes and
hardening, and the components an overlay adds, read and checked against the code;
and, where kubectl is installed, the overlays as `kubectl kustomize` builds them."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from services.common.settings import NodeSettings
from services.hub import Hub, HubSettings
from tests.support.deploy import (
    DEPLOY,
    deployments,
    documents,
    k8s_env,
    k8s_object,
    kubectl,
    kustomize,
    load_nats_config,
    render_module,
    service_of,
)
from tests.support.ports import free_port

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
    leaf_conf = (DEPLOY / "k8s/overlays/example/nats-node.conf").read_text()
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


@pytest.mark.skipif(kubectl() is None, reason="kubectl is not installed")
@pytest.mark.parametrize("overlay", ["base", "overlays/example"])
def test_kustomize_builds_each_kustomization(overlay: str) -> None:
    objects = kustomize(DEPLOY / "k8s" / overlay)
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert {("StatefulSet", "nats"), ("Deployment", "registry")} <= names
    assert ("ConfigMap", "copnet-node") in names
    if overlay == "base":
        for o in objects:
            assert HUB_LEAF_SECRET not in json.dumps(o), "the base stands alone"
        return
    check_joined(objects)
    namespace = {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"}
    assert namespace == {"copnet-guys"}
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in {e["name"] for e in container["env"]}
