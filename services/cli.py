"""The `copnet` command.

    copnet up       run a whole node (NATS + services) in the foreground
    copnet hub      run a region's hub (NATS leaf-node hub + region directory)
    copnet token    issue a bearer token for calling this node's APIs
    copnet keys     rotate, list or remove token signing keys; rotate unsubscribe-link secrets
    copnet revoke   revoke a token (by jti) or every token of a member or operator
    copnet certs    development certificates for serving the gRPC APIs over (mutual) TLS
    copnet demo     a hub and several organisations' nodes with the seed communities loaded
    copnet serve    run one service process (what `copnet up` starts for each)
    copnet health   whether a service (or the node's nats-server) answers: a probe
    copnet republish  publish a node's whole log again (after its NATS stream was lost)
    copnet export-member  everything the node holds about a member, as one JSON file
    copnet erase-member   erase a member (crypto-shredding; docs/data-protection.md)
    copnet report   the report page (charts of communities, convenings, learning): to a file
                    (--html FILE) or served (--serve); a node's, or a region's (--region-file)

Every flag has a COPNET_* environment variable; flags win (see README.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

from services.common.logs import configure_logging
from services.common.settings import SERVICES, NodeSettings, available_services, parse_duration
from services.member_commands import add_parsers as add_member_commands
from services.operations import add_monitoring_options
from services.operations import add_parsers as add_operations


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _node_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="where the node keeps its state")
    parser.add_argument("--node-id", help="this node's id (an organisation slug)")
    parser.add_argument("--region", help="the region this node belongs to")


def _settings(options: argparse.Namespace) -> NodeSettings:
    settings = NodeSettings.from_env()
    overrides = {
        "data_dir": getattr(options, "data_dir", None),
        "node_id": getattr(options, "node_id", None),
        "region": getattr(options, "region", None),
        "nats_port": getattr(options, "nats_port", None),
        "listen_host": getattr(options, "listen_host", None),
        "grpc_port_base": getattr(options, "grpc_port_base", None),
        "metrics_port_base": getattr(options, "metrics_port_base", None),
        "nats_monitor_port": getattr(options, "nats_monitor_port", None),
        "postgres_dsn": getattr(options, "postgres_dsn", None),
        "hub_url": getattr(options, "hub", None),
        "hub_credentials": getattr(options, "hub_credentials", None),
        "log_level": getattr(options, "log_level", None),
        "tls_cert": getattr(options, "tls_cert", None),
        "tls_key": getattr(options, "tls_key", None),
        "client_ca": getattr(options, "client_ca", None),
        "tls_ca": getattr(options, "tls_ca", None),
        "tls_client_cert": getattr(options, "tls_client_cert", None),
        "tls_client_key": getattr(options, "tls_client_key", None),
        "insecure": getattr(options, "insecure", None) or None,
    }
    settings = settings.with_overrides(**overrides)
    if options.node_id is None and options.region is None:
        # Reuse the identity the data directory was created with.
        identity_file = settings.data_dir / "node.json"
        if identity_file.exists():
            recorded = json.loads(identity_file.read_text())
            settings = settings.with_overrides(
                node_id=recorded["node_id"], region=recorded["region"]
            )
    return settings.with_overrides(nats_url=f"nats://{settings.listen_host}:{settings.nats_port}")


def _up(options: argparse.Namespace) -> int:
    from services.node import run_node

    try:
        settings = _settings(options)
    except ValueError as error:
        print(f"copnet up: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, "node", settings.node_id)
    return run_node(settings)


def _node_spec(text: str) -> tuple[str, str]:
    node_id, _, name = text.partition("=")
    return node_id.strip(), name.strip()


def _hub(options: argparse.Namespace) -> int:
    from services.hub import HubSettings, run_hub

    if options.action == "status":
        from services.status import run_hub_status

        return run_hub_status(options.data_dir, options.json)
    if not options.region:
        raise SystemExit("copnet hub: --region is required")
    configure_logging(options.log_level or "INFO", "hub")
    own = (options.tls_cert, options.tls_key, options.tls_ca)
    if any(own) and not all(own):
        raise SystemExit("copnet hub: give --tls-cert, --tls-key and --tls-ca together")
    if any(own) and not options.tls:
        raise SystemExit("copnet hub: --no-tls with --tls-cert/--tls-key/--tls-ca")
    if not options.tls:
        logging.getLogger("copnet.hub").warning(
            "LEAF TLS IS OFF (--no-tls): nodes' leaf credentials and every federated message "
            "cross the network in clear, and nodes cannot tell this hub from an impostor"
        )
    settings = HubSettings(
        data_dir=options.data_dir,
        region=options.region,
        listen_host=options.listen_host,
        port=options.port,
        leaf_port=options.leaf_port,
        public_host=options.public_host or "",
        tls=options.tls,
        tls_cert=options.tls_cert,
        tls_key=options.tls_key,
        tls_ca=options.tls_ca,
    )
    return run_hub(settings, options.node or [], options.rotate_keys or [])


def _demo(options: argparse.Namespace) -> int:
    from services.demo.main import run_demo

    configure_logging(options.log_level or "WARNING", "demo", json_lines=False)
    return run_demo(
        options.data_dir,
        options.base_port,
        load_only=options.load_only,
        no_load=options.no_load,
        region_file=options.region_file,
    )


def _token(options: argparse.Namespace) -> int:
    from services.keys_cli import token

    return token(_settings(options), options)


def _keys(options: argparse.Namespace) -> int:
    from services.keys_cli import keys

    return keys(_settings(options), options.action, options.kid)


def _revoke(options: argparse.Namespace) -> int:
    from services.keys_cli import revoke

    return revoke(
        _settings(options), options.jti, options.member, options.operator_name, options.before
    )


def _certs(options: argparse.Namespace) -> int:
    from services.common.grpccerts import issue_node_certs

    try:
        settings = _settings(options)
        certs = issue_node_certs(settings, options.host or [], options.client or [])
    except ValueError as error:
        print(f"copnet certs: {error}", file=sys.stderr)
        return 2
    data_dir = f"--data-dir {settings.data_dir}"
    tls = (
        f"--tls-cert {certs.server.cert_file} --tls-key {certs.server.key_file} "
        f"--tls-ca {certs.ca_file}"
    )
    operator = certs.operator
    mutual = (
        f"--client-ca {certs.ca_file} --tls-client-cert {operator.cert_file} "
        f"--tls-client-key {operator.key_file}"
    )
    lines = [
        f"gRPC certificates of node {settings.node_id} in {certs.directory}",
        f"  CA (development; clients trust it):  {certs.ca_file}",
        f"  server ({', '.join(certs.server_names)}):  {certs.server.cert_file}, "
        f"{certs.server.key_file}",
    ]
    for name, issued in certs.clients.items():
        lines.append(f"  client {name}:  {issued.cert_file}, {issued.key_file}")
    lines += [
        "Serve the gRPC APIs over TLS:",
        f"  copnet up {data_dir} {tls}",
        "or over mutual TLS (every client shows a certificate from this CA; the node's own "
        "checks show the operator's):",
        f"  copnet up {data_dir} {tls} {mutual}",
        "Clients: trust the CA (e.g. grpcurl -cacert CA, grpc.ssl_channel_credentials(CA)); "
        "under mutual TLS also present a client certificate and key (grpcurl -cert -key).",
    ]
    print("\n".join(lines))
    return 0


def _tls_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tls-cert", type=Path, help="serve gRPC over TLS with this certificate (PEM chain)"
    )
    parser.add_argument("--tls-key", type=Path, help="the certificate's private key (PEM)")
    parser.add_argument(
        "--client-ca",
        type=Path,
        help="mutual TLS: clients must show a certificate this CA signed",
    )
    parser.add_argument(
        "--tls-ca",
        type=Path,
        help="the CA the node's own clients verify its certificate with (system roots)",
    )
    parser.add_argument(
        "--tls-client-cert", type=Path, help="with --client-ca: the node's own clients' certificate"
    )
    parser.add_argument("--tls-client-key", type=Path, help="its private key")
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="allow plain gRPC on a non-loopback --listen-host (refused otherwise)",
    )


def _republish(options: argparse.Namespace) -> int:
    from services.common.messaging import NodeIdentity
    from services.common.sqlstore import SqlStore
    from services.common.streamguard import StreamGuard

    settings = _settings(options)
    configure_logging("WARNING", "cli", json_lines=False)
    if not (settings.data_dir / "node.json").exists() and not settings.postgres_dsn:
        print(f"{settings.data_dir} is not a node's data directory", file=sys.stderr)
        return 2
    identity = NodeIdentity(settings.node_id, settings.region)
    services = options.service or list(available_services())
    for service in services:
        settings.stores.prepare(service)
        store = SqlStore(f"{service}_relay", settings.stores.tracking_env(service, "relay"))
        try:
            StreamGuard(store, identity.stream_name).request_republish()
        finally:
            store.close()
    print(
        f"asked the relays of {', '.join(services)} (node {settings.node_id}) to publish their "
        f"whole log again into {identity.stream_name}; running relays start within seconds, "
        "stopped ones at their next start. Consumers drop what they already applied."
    )
    return 0


def _serve(options: argparse.Namespace) -> int:
    import importlib

    service = importlib.import_module(f"services.{options.service}.service")
    from services.common.process import main

    main(service.DEFINITION, [options.role])
    return 0


def _health(options: argparse.Namespace) -> int:
    """A probe for containers (Kubernetes' own gRPC probe speaks no TLS): one health check of
    a service of this node, the way the node serves it (TLS, mutual TLS), from COPNET_*."""
    if options.nats:
        import urllib.error
        import urllib.request

        url = f"http://{options.nats}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(url, timeout=options.timeout) as answer:
                print(f"nats-server at {options.nats}: {answer.status}")
                return 0
        except (OSError, urllib.error.URLError) as error:
            print(f"nats-server at {options.nats}: {error}", file=sys.stderr)
            return 1
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from services.common.channels import ChannelSecurity, open_channel

    try:
        settings = NodeSettings.from_env()
    except ValueError as error:
        print(f"copnet health: {error}", file=sys.stderr)
        return 2
    service = options.service
    name = f"copnet.{service}.v1.{service.capitalize()}Service" if options.ready else ""
    address = settings.address(service)
    with open_channel(address, ChannelSecurity.of(settings)) as channel:
        request = health_pb2.HealthCheckRequest(service=name)
        try:
            # types-grpcio-health-checking declares HealthStub without its methods.
            check = health_pb2_grpc.HealthStub(channel).Check  # type: ignore[attr-defined]
            status = check(request, timeout=options.timeout).status
        except grpc.RpcError as error:
            print(f"{service} at {address}: {error.code().name}", file=sys.stderr)
            return 1
    text = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
    print(f"{service}{' (ready)' if options.ready else ''} at {address}: {text}")
    return 0 if status == health_pb2.HealthCheckResponse.SERVING else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="copnet", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run a node in the foreground")
    _node_options(up)
    up.add_argument("--nats-port", type=int, help="NATS client port (4222)")
    up.add_argument("--listen-host", help="address to listen on (127.0.0.1)")
    up.add_argument("--grpc-port-base", type=int, help="registry's port; others follow (50051)")
    add_monitoring_options(up)
    up.add_argument("--postgres-dsn", help="store in PostgreSQL instead of SQLite")
    up.add_argument("--hub", help="the regional hub's leaf-node URL, e.g. nats-leaf://hub:7422")
    up.add_argument(
        "--hub-credentials", type=Path, help="the credentials file `copnet hub` wrote for this node"
    )
    up.add_argument("--log-level", help="DEBUG, INFO, WARNING (INFO)")
    _tls_options(up)
    up.set_defaults(run=_up)

    hub = commands.add_parser(
        "hub", help="run a region's hub in the foreground (`copnet hub status`: its links)"
    )
    hub.add_argument("action", nargs="?", default="run", choices=["run", "status"], help="(run)")
    hub.add_argument("--data-dir", type=Path, default=Path("copnet-hub"), help="(copnet-hub)")
    hub.add_argument("--region", help="the region's id (a lower-case slug; required to run)")
    hub.add_argument("--json", action="store_true", help="status: as JSON, for scripts")
    hub.add_argument(
        "--node",
        action="append",
        type=_node_spec,
        metavar="ID[=NAME]",
        help="a member node, e.g. --node guys=\"Guy's and St Thomas'\" (repeat; remembered)",
    )
    hub.add_argument(
        "--rotate-keys",
        action="append",
        metavar="NODE",
        help="new keys (a new credentials file) for a node, e.g. after its were exposed",
    )
    hub.add_argument("--listen-host", default="127.0.0.1", help="(127.0.0.1)")
    hub.add_argument("--port", type=int, default=4222, help="client port (4222)")
    hub.add_argument("--leaf-port", type=int, default=7422, help="leaf-node port (7422)")
    hub.add_argument("--public-host", help="how nodes reach this hub (the listen host)")
    hub.add_argument(
        "--tls",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="leaf links over TLS, with the hub's region CA in <data-dir>/pki unless "
        "--tls-cert is given (on; --no-tls: plain TCP)",
    )
    hub.add_argument("--tls-cert", type=Path, help="the hub's own leaf certificate (PEM)")
    hub.add_argument("--tls-key", type=Path, help="its private key (PEM)")
    hub.add_argument("--tls-ca", type=Path, help="the CA that signed it, handed to the nodes")
    hub.add_argument("--log-level", help="DEBUG, INFO, WARNING (INFO)")
    hub.set_defaults(run=_hub)

    demo = commands.add_parser(
        "demo", help="a region on this machine with the seed communities loaded"
    )
    demo.add_argument("--data-dir", type=Path, default=Path("copnet-demo"), help="(copnet-demo)")
    demo.add_argument(
        "--base-port",
        type=int,
        default=7600,
        help="first of the ports it uses: 10 per node, then 4 per node for /metrics (7600)",
    )
    mode = demo.add_mutually_exclusive_group()
    mode.add_argument(
        "--load-only", action="store_true", help="load into the running demo nodes, report, exit"
    )
    mode.add_argument("--no-load", action="store_true", help="start the nodes without loading")
    demo.add_argument(
        "--region-file",
        type=Path,
        help="with --load-only: the nodes to load into (<data-dir>/region-nodes.json)",
    )
    demo.add_argument("--log-level", help="the demo's own messages (WARNING)")
    demo.set_defaults(run=_demo)

    token = commands.add_parser("token", help="issue a bearer token for this node's APIs")
    _node_options(token)
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--operator", action="store_true", help="a node-operator token")
    who.add_argument("--member", metavar="MEMBER_ID", help="a token for this member")
    token.add_argument(
        "--name", help="with --operator: who the token is for (in every audit record), e.g. alice"
    )
    token.add_argument(
        "--ttl",
        type=_duration,
        help="e.g. 12h (12h; at most COPNET_TOKEN_MAX_TTL for members, 12h, and "
        "COPNET_OPERATOR_TOKEN_MAX_TTL for operators, 30d)",
    )
    token.set_defaults(run=_token)

    from services.keys_cli import add_commands

    add_commands(commands, _node_options, run_keys=_keys, run_revoke=_revoke)

    certs = commands.add_parser(
        "certs", help="development certificates for the gRPC APIs over TLS (idempotent)"
    )
    _node_options(certs)
    certs.add_argument("--listen-host", help="the host the node listens on (127.0.0.1)")
    certs.add_argument(
        "--host", action="append", metavar="NAME", help="another name or IP for the server"
    )
    certs.add_argument(
        "--client",
        action="append",
        metavar="NAME",
        help="a client certificate for mutual TLS (repeat; `operator` is always made)",
    )
    certs.set_defaults(run=_certs)

    republish = commands.add_parser(
        "republish",
        help="publish the whole log again (a node stream that was lost, recreated or reset)",
    )
    _node_options(republish)
    republish.add_argument("--postgres-dsn", help="the node's PostgreSQL (as for `copnet up`)")
    republish.add_argument(
        "--service",
        action="append",
        choices=available_services(),
        help="only this service's log (repeat; all by default)",
    )
    republish.set_defaults(run=_republish)

    add_member_commands(commands, _node_options, _settings)

    from services.report.cli import add_parser as add_report

    add_report(commands, _node_options, _tls_options, _settings)

    add_operations(commands, _node_options, _settings)

    serve = commands.add_parser("serve", help="run one service process")
    serve.add_argument("service", choices=available_services())
    serve.add_argument("role", nargs="?", default="all", choices=["all", "api", "worker"])
    serve.set_defaults(run=_serve)

    health = commands.add_parser(
        "health",
        help="whether a service of this node answers SERVING (over TLS when the node serves "
        "it), or its nats-server is healthy: exit 0 if so (a container probe)",
    )
    what = health.add_mutually_exclusive_group(required=True)
    what.add_argument("--service", choices=SERVICES, help="a service, at COPNET_<SERVICE>_ADDRESS")
    what.add_argument(
        "--nats", metavar="HOST:PORT", help="nats-server's monitoring address, e.g. 127.0.0.1:8222"
    )
    health.add_argument(
        "--ready",
        action="store_true",
        help="the service's readiness (its store answers, its work progresses), not only the "
        "process's",
    )
    health.add_argument("--timeout", type=float, default=2.0, help="seconds (2)")
    health.set_defaults(run=_health)
    return parser


def main(argv: list[str] | None = None) -> None:
    # Supervisors fork children while gRPC threads may run; gRPC's own fork handlers then
    # break its pollers ("epoll_wait error: Bad file descriptor"). No copnet process needs
    # gRPC in a forked child, so they are off (before anything imports grpc).
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
    options = build_parser().parse_args(argv)
    logging.captureWarnings(True)
    sys.exit(options.run(options))


if __name__ == "__main__":
    main()
