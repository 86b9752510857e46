"""A whole region on this machine: a hub and the scenario's nodes, as `copnet hub` and
`copnet up --hub-credentials` run them, under one data directory.

Ports: the hub takes `base_port` (clients) and `base_port + 1` (leaf nodes);
node i (from 0) takes `base_port + 10 * (i + 1)` for NATS and the next ports for its
services' gRPC servers, notify's pages and its report page; after the nodes' blocks,
4 ports per node for its services' `/metrics` (`demo_ports`); gRPC is over TLS: the demo's own CA
(`<data-dir>/grpc-tls/ca.crt`) signs each node's server certificate.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services.common.channels import ChannelSecurity
from services.common.grpccerts import server_names
from services.common.pki import RegionPki, Usage
from services.common.settings import SERVICES, WEB_SERVICES, NodeSettings, available_services
from services.common.supervision import Keeper
from services.demo.client import NodeAccess
from services.demo.region_file import RegionFile
from services.demo.scenario.model import NodeSpec
from services.hub import Hub, HubSettings
from services.node import Node, ServiceProcess
from services.report.address import report_url

log = logging.getLogger("copnet.demo")
PORTS_PER_NODE = 10


def demo_ports(nodes: int) -> int:
    """How many ports from `base_port` a demo of `nodes` nodes uses (without the metrics)."""
    return PORTS_PER_NODE * (nodes + 1)


def ports_used(nodes: int) -> int:
    """Every port from `base_port` a demo of `nodes` nodes uses, its metrics included."""
    return demo_ports(nodes) + len(SERVICES) * nodes


class DemoRegion:
    def __init__(
        self,
        data_dir: Path,
        region: str,
        nodes: tuple[NodeSpec, ...],
        base_port: int,
        listen_host: str = "127.0.0.1",
    ) -> None:
        if 1 + len(SERVICES) + len(WEB_SERVICES) + 1 > PORTS_PER_NODE:  # NATS ... report
            raise ValueError("more services than the demo's port layout has room for")
        self.data_dir = data_dir
        self.region = region
        self.specs = nodes
        self.base_port = base_port
        self.listen_host = listen_host
        self.hub = Hub(
            HubSettings(
                data_dir=data_dir / "hub",
                region=region,
                listen_host=listen_host,
                port=base_port,
                leaf_port=base_port + 1,
                tls=True,  # leaf links over TLS with the hub's region CA, as `copnet hub` does
            )
        )
        self.nodes: list[Node] = []
        self.region_report: ServiceProcess | None = None
        self.keeper = Keeper("the demo's region report")
        self._stopping = threading.Event()
        # The CA of the demo's gRPC certificates (every node serves its APIs over TLS).
        self.pki = RegionPki(data_dir / "grpc-tls", common_name="copnet demo gRPC CA")

    @property
    def region_file(self) -> Path:
        return self.data_dir / "region-nodes.json"

    def node_settings(self, index: int, spec: NodeSpec) -> NodeSettings:
        port = self.base_port + PORTS_PER_NODE * (index + 1)
        server = self.pki.issue(
            spec.node_id,
            server_names(self.listen_host),
            Usage.SERVER,
            common_name=f"{spec.node_id} services",
        )
        return NodeSettings(
            node_id=spec.node_id,
            region=self.region,
            data_dir=self.data_dir / spec.node_id,
            nats_url=f"nats://{self.listen_host}:{port}",
            nats_port=port,
            listen_host=self.listen_host,
            grpc_port_base=port + 1,
            # Each service's /metrics after the nodes' blocks (nats-server's monitoring: any
            # free port, named in its ports file).
            metrics_port_base=self.base_port + demo_ports(len(self.specs)) + 4 * index,
            hub_credentials=self.hub.settings.credentials_file(spec.node_id),
            log_level="INFO",
            tls_cert=server.cert_file,
            tls_key=server.key_file,
            tls_ca=server.ca_file,
        )

    def start(self) -> list[NodeAccess]:
        """Starts the hub, then each node; returns how to reach them (also written to
        `region_file`, for `copnet demo --load-only`)."""
        self.hub.add_nodes([(spec.node_id, spec.name) for spec in self.specs])
        self.hub.start()
        log.info("hub of %s up on port %d", self.region, self.base_port)
        for index, spec in enumerate(self.specs):
            settings = self.node_settings(index, spec)
            self.nodes.append(Node(settings, log_dir=settings.data_dir / "logs"))
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(self._start_node, self.nodes))
        pairs = zip(self.nodes, self.specs, strict=True)
        access = tuple(self.access(node, spec) for node, spec in pairs)
        earlier = RegionFile.load_if_present(self.region_file)
        demo_date = earlier.demo_date if earlier else None
        RegionFile(self.region, access, demo_date).save(self.region_file)
        self._start_region_report()
        return list(access)

    @property
    def region_report_address(self) -> str:
        return f"{self.listen_host}:{self.base_port + 2}"

    def _start_region_report(self) -> None:
        """The region's report page: a report process reading every node's APIs (with the
        nodes' keys, which the demo holds), over HTTPS with a certificate of the demo's CA."""
        tls = self.pki.issue(
            "region-report", server_names(self.listen_host), Usage.SERVER, common_name="report"
        )
        env = {
            **os.environ,
            "COPNET_REPORT_REGION_FILE": str(self.region_file),
            "COPNET_REPORT_ADDRESS": self.region_report_address,
            "COPNET_TLS_CERT": str(tls.cert_file),
            "COPNET_TLS_KEY": str(tls.key_file),
            "COPNET_DATA_DIR": str(self.data_dir / "hub"),
            "COPNET_LOG_LEVEL": "INFO",
        }
        self.region_report = ServiceProcess("report", env, self.data_dir / "hub" / "report.log")
        self.region_report.start()

    def report_urls(self) -> list[tuple[str, str]]:
        """Each node's report page and the region's."""
        urls = [(node.settings.node_id, report_url(node.settings)) for node in self.nodes]
        return [*urls, ("region", f"https://{self.region_report_address}/")]

    @staticmethod
    def _start_node(node: Node) -> None:
        node.start()
        log.info("node %s up", node.settings.node_id)

    @staticmethod
    def access(node: Node, spec: NodeSpec) -> NodeAccess:
        settings = node.settings
        return NodeAccess(
            node_id=spec.node_id,
            name=spec.name,
            addresses={s: settings.address(s) for s in available_services()},
            key_file=settings.signing_key_file,
            data_dir=settings.data_dir,
            security=ChannelSecurity.of(settings),
        )

    def supervise(self) -> None:
        """Keeps every process running (restarting what exits) until `request_stop`."""
        while not self._stopping.wait(0.2):
            for node in self.nodes:
                node.tend()
            self.hub.tend()
            if self.region_report is not None:
                self.keeper.tend(self.region_report)

    def request_stop(self) -> None:
        self._stopping.set()
        for node in self.nodes:
            node.request_stop()

    def stop(self) -> None:
        """Stops every node at once (each its services, then its nats-server), then the hub."""
        self.request_stop()
        if self.region_report is not None:
            self.region_report.stop()
        with ThreadPoolExecutor(max(len(self.nodes), 1)) as pool:
            list(pool.map(lambda node: node.stop(), self.nodes))
        self.hub.stop()
