"""The Kubernetes manifests (deploy/k8s/): the base's settings, probes and
hardening, and the components an overlay adds, read and checked against the code;
and, where kubectl is installed, the overlays as `kubectl kustomize` builds them."""

from __future__ import annotations

from services.common.settings import NodeSettings
from tests.support.deploy import (
    DEPLOY,
    deployments,
    documents,
    k8s_env,
    k8s_object,
    load_nats_config,
    service_of,
)


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
