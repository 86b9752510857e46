"""`copnet demo` end to end: a hub and six organisations' nodes as processes, the seeds loaded
through the public APIs, the report checked against the seeds, a second load that adds
nothing, the report pages (HTTP, a real browser, `copnet report --html`), and Ctrl-C
stopping every process the demo started. One demo serves every test of this file (they
run in order, on one worker: `--dist loadfile`)."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from copnet.events.v1 import events_pb2 as epb
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.registry.v1 import registry_pb2 as rpb
from services.common.tokens import TokenAuthority
from services.demo.client import NodeClient
from services.demo.region import ports_used
from services.demo.region_file import RegionFile
from services.demo.scenario import SCENARIO
from tests.support.browser import chromium, console_errors, save_screenshot
from tests.support.demo_checks import (
    READY,
    check_against_the_seeds,
    check_every_api_is_tls,
    check_the_erasure,
    check_the_mail,
    check_what_a_member_keeps,
    copnet,
    demo_processes,
    figure,
    wait_for_line,
)
from tests.support.ports import free_port_block
from tests.support.report_page import Answer, fetch, post_form, report_urls, row, table
from tests.support.waiting import eventually


@dataclass
class RunningDemo:
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]
    report: str
    tmp: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    tmp = tmp_path_factory.mktemp("demo")
    data_dir = tmp / "demo"
    base_port = free_port_block(ports_used(len(SCENARIO.nodes)))
    log = tmp / "demo.log"
    process = copnet(["demo", "--data-dir", str(data_dir), "--base-port", str(base_port)], log)
    try:
        report = wait_for_line(log, READY, process, timeout=420)
        yield RunningDemo(data_dir, log, process, report, tmp)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(90)


def test_the_demo_region_loads_the_seeds_and_reports_them(demo: RunningDemo):
    check_against_the_seeds(demo.report)
    check_the_mail(demo.report, demo.data_dir)
    check_what_a_member_keeps(demo.report, demo.data_dir)
    check_the_erasure(demo.report)
    assert len(demo_processes(demo.data_dir)) > len(SCENARIO.nodes) * 4
    check_every_api_is_tls(demo.data_dir)

    again_log = demo.tmp / "again.log"
    again = copnet(["demo", "--data-dir", str(demo.data_dir), "--load-only"], again_log)
    assert again.wait(300) == 0, again_log.read_text()
    second = again_log.read_text()
    check_against_the_seeds(second)
    check_the_mail(second, demo.data_dir)
    check_what_a_member_keeps(second, demo.data_dir)
    members = r"Members \((\d+)\)"
    assert figure(second, members) == figure(demo.report, members), "a second load adds nobody"


# The report pages (services/report): served by every node and, for the region, by the demo.


def _client(demo: RunningDemo, node_id: str) -> NodeClient:
    region = RegionFile.load(demo.data_dir / "region-nodes.json")
    return NodeClient(next(n for n in region.nodes if n.node_id == node_id))


def _token(demo: RunningDemo, node_id: str, subject: str = "operator") -> str:
    key = demo.data_dir / node_id / "secrets" / "token-signing-key.pem"
    return TokenAuthority.for_node(node_id, key).issue(subject)


def _community_id(client: NodeClient, name: str) -> str:
    reply = client.call("registry", "ListCommunities", rpb.ListCommunitiesRequest(page_size=100))
    return next(c.community_id for c in reply.communities if c.name == name)


def _page(demo: RunningDemo, where: str, query: str = "", token: str = "") -> Answer:
    url = report_urls(demo.report)[where] + (f"?{query}" if query else "")
    ca = demo.data_dir / "grpc-tls" / "ca.crt"

    def served() -> Answer | None:
        try:
            return fetch(url, ca, token)
        except OSError:  # the report process may still be starting
            return None

    answer = eventually(served, 60, interval=0.5, message=f"{url} did not answer")
    return answer


CANCER = SCENARIO.community(SCENARIO.cancer_community)
YEAR_2023 = "from=2023-01-01&before=2024-01-01"


def test_the_report_pages_show_what_the_apis_say(demo: RunningDemo):
    urls = report_urls(demo.report)
    assert set(urls) == {*(n.node_id for n in SCENARIO.nodes), "region"}, demo.report
    cancer = _client(demo, CANCER.node_id)
    try:
        cancer_id = _community_id(cancer, CANCER.name)
        api = cancer.call(
            "events",
            "GetAnalytics",
            epb.GetAnalyticsRequest(
                group_by=epb.ANALYTICS_GROUPING_FORMAT,
                community_id=cancer_id,
                from_date="2023-01-01",
                before_date="2024-01-01",
            ),
        )
    finally:
        cancer.close()
    operator = _token(demo, "riverside")
    for where in ("region", CANCER.node_id):
        token = operator if where == "region" else _token(demo, where)
        answer = _page(demo, where, f"community={cancer_id}&{YEAR_2023}", token)
        assert answer.status == 200, answer.body[:500]
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        rows = table(answer.body, f"attendance-{cancer_id}")
        for group in api.groups:
            shown = row(rows, group.label.replace("_", "-"))
            assert (shown["held"], shown["signed up"], shown["attended"]) == (
                str(group.convenings_held),
                str(group.signed_up),
                str(group.attended),
            )
        # Seed 003: the cancer CoP's 2023 events.
        assert row(rows, "face-to-face")["signed up"] == "145"
        assert row(rows, "face-to-face")["attended"] == "88"
        assert row(rows, "webinar")["signed up"] == "502"
        assert row(rows, "webinar")["attended"] == "304"
        assert (row(rows, "all")["signed up"], row(rows, "all")["attended"]) == ("647", "392")
        assert (api.totals.signed_up, api.totals.attended) == (647, 392)

    region = _page(demo, "region", token=operator).body
    adoption = row(table(region, "adoption"), "GDm-Health")
    gdm = next(i for i in SCENARIO.items if i.title.startswith("GDm-Health"))
    origin = _client(demo, gdm.node_id)
    try:
        items = origin.call(
            "learning", "SearchCatalogue", lpb.SearchCatalogueRequest(origin_node=gdm.node_id)
        ).items
        item = next(i for i in items if i.title == gdm.title)
    finally:
        origin.close()
    statuses = [a.status for a in item.adoptions]
    in_progress = statuses.count(lpb.ADOPTION_STATUS_EXPLORING) + statuses.count(
        lpb.ADOPTION_STATUS_PILOTING
    )
    assert int(adoption["adopted"]) == statuses.count(lpb.ADOPTION_STATUS_ADOPTED) == 4
    assert int(adoption["exploring"]) + int(adoption["piloting"]) == in_progress == 3
    assert f"4 of 7 organisations adopted {gdm.title}, 3 in progress" in region
    assert len(adoption["received by"].split(", ")) == len(SCENARIO.nodes) - 1
    # Seed 000: the Portadown plan, 12 planned, 6 held, 6 without a record.
    portadown = row(table(region, "plans-"), "CoP Portadown meeting")
    assert portadown["first"] == "2018-06-18"
    assert (portadown["planned"], portadown["held"], portadown["without a record"]) == (
        "12",
        "6",
        "6",
    )


def test_an_item_kept_home_shows_only_on_its_own_node(demo: RunningDemo):
    home = next(i for i in SCENARIO.items if i.visibility == lpb.VISIBILITY_NODE)
    own = _page(demo, home.node_id, token=_token(demo, home.node_id)).body
    assert home.title in own
    for node in SCENARIO.nodes:
        if node.node_id != home.node_id:
            page = _page(demo, node.node_id, token=_token(demo, node.node_id))
            assert page.status == 200 and home.title not in page.body, node.node_id
    region = _page(demo, "region", token=_token(demo, home.node_id))
    assert region.status == 200 and home.title not in region.body


def test_the_page_lets_in_operators_and_co_leads_only(demo: RunningDemo):
    node = CANCER.node_id
    client = _client(demo, node)
    try:
        cancer_id = _community_id(client, CANCER.name)
        leads = client.call(
            "registry",
            "ListMemberships",
            rpb.ListMembershipsRequest(
                community_id=cancer_id, role=rpb.ROLE_CO_LEAD, page_size=100
            ),
        ).memberships
        led = {m.member_id for m in leads}
        members = client.call(
            "registry", "ListMembers", rpb.ListMembersRequest(page_size=500)
        ).members
    finally:
        client.close()
    assert led, "the cancer CoP has co-leads"
    plain = next(m.member_id for m in members if m.member_id not in led)

    refused = _page(demo, node, token=_token(demo, node, plain))
    assert refused.status == 403
    assert "647" not in refused.body and CANCER.name not in refused.body
    lead = _page(demo, node, token=_token(demo, node, sorted(led)[0]))
    assert lead.status == 200 and CANCER.name in lead.body
    signed_out = _page(demo, node)
    assert signed_out.status == 401 and 'name="token"' in signed_out.body
    other_node = next(n.node_id for n in SCENARIO.nodes if n.node_id != node)
    assert _page(demo, node, token=_token(demo, other_node)).status == 401
    assert _page(demo, "region", token=_token(demo, node, plain)).status == 403
    assert _page(demo, node, "from=yesterday", _token(demo, node)).status == 400
    # The sign-in form: the token kept in an HttpOnly, SameSite=Strict, Secure cookie.
    url, ca = report_urls(demo.report)[node] + "sign-in", demo.data_dir / "grpc-tls" / "ca.crt"
    signed_in = post_form(url, ca, f"token={_token(demo, node)}".encode())
    assert signed_in.status == 303, signed_in.body
    cookie = signed_in.headers["set-cookie"].lower()
    assert all(flag in cookie for flag in ("httponly", "samesite=strict", "secure")), cookie
    assert post_form(url, ca, f"token={_token(demo, node, plain)}".encode()).status == 403
    assert post_form(url, ca, b"token=" + b"x" * 5000).status == 413


def test_the_region_page_in_a_browser(demo: RunningDemo):
    url = report_urls(demo.report)["region"]
    _page(demo, "region")  # up
    with chromium() as browser:
        browser.get(url)
        assert browser.find_element(By.NAME, "token")
        console_errors(browser)  # the sign-in page came with a 401: not a fault
        browser.find_element(By.NAME, "token").send_keys(_token(demo, "riverside"))
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

        def drawn() -> int:
            sizes = browser.execute_script(
                "return [...document.querySelectorAll('figure.chart svg')]"
                ".map(s => s.getBoundingClientRect().width * s.getBoundingClientRect().height)"
            )
            return len(sizes) if sizes and all(size > 1000 for size in sizes) else 0

        charts = eventually(drawn, 60, interval=0.5, message="the charts did not render")
        assert charts >= 6
        assert browser.title == "Communities of practice in region demo-region"
        assert "4 of 7 organisations adopted GDm-Health" in browser.page_source
        assert console_errors(browser) == []
        # Printed: no form, no button, and every chart still there.
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        hidden = browser.execute_script(
            "return getComputedStyle(document.querySelector('form.filters')).display"
        )
        assert hidden == "none"
        assert drawn() == charts
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        screenshot = save_screenshot(browser, "report-region")
        full = save_screenshot(browser, "report-region-full", full_page=True)
    assert screenshot.stat().st_size > 20_000 and full.stat().st_size > screenshot.stat().st_size


def test_copnet_report_writes_the_same_report_to_a_file(demo: RunningDemo):
    out = demo.tmp / "region-report.html"
    log = demo.tmp / "report-html.log"
    process = copnet(
        ["report", "--html", str(out), "--region-file", str(demo.data_dir / "region-nodes.json")],
        log,
    )
    assert process.wait(180) == 0, log.read_text()
    page = out.read_text()
    assert "<script" not in page and "src=" not in page, "self-contained, nothing fetched"
    served = _page(demo, "region", token=_token(demo, "riverside")).body
    for key in ("adoption", "plans-", "community-table"):
        assert table(page, key) == table(served, key)


def test_ctrl_c_stops_every_process_the_demo_started(demo: RunningDemo):
    demo.process.send_signal(signal.SIGINT)
    returncode = demo.process.wait(90)
    assert returncode == 0, demo.log.read_text()
    assert "Stopped." in demo.log.read_text()
    assert demo_processes(demo.data_dir) == []
