"""`copnet demo`: a region in one command, with the seed communities loaded.

copnet demo                  start a hub and the scenario's nodes, load, report, keep running
copnet demo --no-load        start them without loading (load later with --load-only)
copnet demo --load-only      load into nodes that are already running, report, exit
"""

from __future__ import annotations

import logging
import signal
from datetime import date
from pathlib import Path
from typing import Any

from services.demo.client import DemoCallFailed, NodeAccess, NodeClient
from services.demo.erasure import erase_one, render_erasure
from services.demo.loader import Loader
from services.demo.region import DemoRegion
from services.demo.region_file import RegionFile
from services.demo.report import DemoReport, gather, render
from services.demo.scenario import REGION, SCENARIO

log = logging.getLogger("copnet.demo")


class DemoStopped(Exception):
    pass


def say(text: str) -> None:
    print(text, flush=True)


def load_and_report(region_file: Path, today: date | None = None) -> DemoReport:
    """Loads the scenario into the file's nodes (through their APIs) and reads the report back.

    The first load dates the file; later loads place convenings to come as the first did.
    """
    described = RegionFile.load(region_file).dated(today or date.today())
    described.save(region_file)
    assert described.demo_date is not None
    nodes = list(described.nodes)
    clients = {n.node_id: NodeClient(n) for n in nodes}
    missing = [spec.node_id for spec in SCENARIO.nodes if spec.node_id not in clients]
    try:
        if missing:
            raise DemoCallFailed(f"the demo needs these nodes, which are not given: {missing}")
        say("Loading the seed communities through the nodes' gRPC APIs...")
        loaded = Loader(SCENARIO, clients, described.demo_date, say).load()
        report = gather(SCENARIO, clients, loaded, described.region)
        say("Exporting, then erasing, one generated member (docs/data-protection.md)...")
        erasure = erase_one(
            SCENARIO,
            clients,
            loaded,
            report,
            lambda: gather(SCENARIO, clients, loaded, described.region),
        )
        report.erasure = render_erasure(erasure)
        report.token_help = _token_help(nodes)
        return report
    finally:
        for client in clients.values():
            client.close()


def _token_help(nodes: list[NodeAccess]) -> list[str]:
    first = nodes[0]
    ca = first.security.ca_file
    transport = f"-cacert {ca}" if first.security.tls and ca else "-plaintext"
    return [
        "A bearer token for a node (its operator; 12 hours):",
        f"  TOKEN=$(copnet token --operator --data-dir {first.data_dir})",
        "then, for example (the gRPC APIs are served over TLS; trust the demo's CA):",
        f'  grpcurl {transport} -H "authorization: Bearer $TOKEN" {first.addresses["registry"]} '
        "copnet.registry.v1.RegistryService/ListCommunities",
    ]


def report_pages(demo: DemoRegion, data_dir: Path) -> str:
    lines = [
        "The report pages (charts; sign in with a node's operator token, over HTTPS "
        f"with the demo's CA, {data_dir / 'grpc-tls' / 'ca.crt'}):"
    ]
    for name, url in demo.report_urls():
        lines.append(f"  {name}: {url}")
    first = demo.nodes[0].settings
    lines.append(
        f"  a token: copnet token --operator --data-dir {first.data_dir} "
        "(the region's page takes any node's operator token)"
    )
    return "\n".join(lines)


def run_demo(
    data_dir: Path,
    base_port: int,
    load_only: bool = False,
    no_load: bool = False,
    region_file: Path | None = None,
) -> int:
    if load_only:
        path = region_file or data_dir / "region-nodes.json"
        if not path.exists():
            say(f"{path} does not exist: start the region with `copnet demo --no-load` first")
            return 2
        try:
            say(render(load_and_report(path)))
        except DemoCallFailed as error:
            log.error("loading failed: %s", error)
            return 1
        return 0

    demo = DemoRegion(data_dir, REGION, SCENARIO.nodes, base_port)

    def on_signal(signum: int, _frame: Any) -> None:
        demo.request_stop()
        raise DemoStopped(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        say(f"Starting a hub and {len(SCENARIO.nodes)} organisations' nodes under {data_dir}...")
        demo.start()
        say(f"Region {REGION} is up; the nodes are listed in {demo.region_file}")
        if not no_load:
            say(render(load_and_report(demo.region_file)))
        say(report_pages(demo, data_dir))
        say("The region keeps running. Ctrl-C stops every process the demo started.")
        demo.supervise()
    except DemoStopped as stopped:
        say(f"{stopped}: stopping the region...")
    except (DemoCallFailed, RuntimeError, OSError, TimeoutError) as error:
        log.error("the demo failed: %s (the logs are under %s)", error, data_dir)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        demo.stop()
        say("Stopped.")
    return 0
