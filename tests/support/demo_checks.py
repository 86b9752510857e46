"""Checks of a running `copnet demo`: the text report against the seeds, the mail it
sent, its processes, TLS on every API."""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import grpc
import httpx
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.channels import ChannelSecurity, open_channel
from services.demo.region_file import RegionFile
from services.demo.scenario import SCENARIO
from tests.support.waiting import eventually

COPNET = [sys.executable, "-m", "services.cli"]
READY = "The region keeps running"


def copnet(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPNET_")}
    with log.open("ab") as out:
        return subprocess.Popen([*COPNET, *args], stdout=out, stderr=subprocess.STDOUT, env=env)


def wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> str:
    def printed() -> str:
        output = log.read_text() if log.exists() else ""
        if text in output:
            return output
        if process.poll() is not None:
            raise AssertionError(f"copnet demo exited with {process.returncode}:\n{output}")
        return ""

    return eventually(
        printed, timeout, interval=0.5, message=lambda: f"{text!r} not printed:\n{log.read_text()}"
    )


def figure(report: str, pattern: str) -> tuple[int, ...]:
    match = re.search(pattern, report)
    assert match, f"{pattern!r} not in the report:\n{report}"
    return tuple(int(group) for group in match.groups())


def check_against_the_seeds(report: str) -> None:
    # Seed 003: the London cancer CoP's seven 2023 events; the seed prints "360 +" for the
    # first six rows' attendance, all seven make 392.
    assert figure(report, r"all, 2023 +(\d+) events, (\d+) signed up, (\d+) attended") == (
        7,
        647,
        392,
    )
    assert figure(report, r"face-to-face +(\d+) events, (\d+) signed up, (\d+) attended") == (
        3,
        145,
        88,
    )
    assert figure(report, r"webinar +(\d+) events, (\d+) signed up, (\d+) attended") == (
        4,
        502,
        304,
    )
    # Seed 001: four of seven trusts adopted GDm-Health, three in progress; on three nodes.
    assert figure(
        report, r"GDm-Health.*?(\d+) organisations adopted it, (\d+) in progress \(on (\d+) nodes"
    ) == (4, 3, 3)
    # Seed 000: the Portadown plan's twelve meetings, June 2018 to September 2020; "met 6
    # times 2018/2019".
    assert figure(
        report,
        r"Portadown, 2018-06-18 to 2020-09-29: (\d+) planned, (\d+) held, (\d+) cancelled, "
        r"(\d+) to come, (\d+) without a record",
    ) == (12, 6, 0, 0, 6)
    nodes = len(SCENARIO.nodes)
    assert figure(report, r"GDm-Health.*?received by (\d+) nodes") == (nodes - 1,)
    assert re.search(r"Steering group working notes \[resource, node, .*\]: stays home", report)
    assert (
        figure(report, r"Cancer Community of Practice \(node southbank-gps\): (\d+) members")[0]
        > 150
    ), "the seed's mailing list has over 150 members"


def check_the_erasure(report: str) -> None:
    """The demo exported one generated member (every service's part), erased them, and
    the report's figures did not move."""
    match = re.search(r"Exported member ([0-9a-f-]{36}) on (\S+): (.*)$", report, re.M)
    assert match, report
    parts = dict(part.rsplit(" ", 2)[:2] for part in match.group(3).split(", "))
    assert set(parts) == {"registry", "events", "learning", "notify"}, match.group(3)
    assert "the report's figures are unchanged" in report, report


# The demo erases one generated member of the cancer community after loading.
ERASED = 1


def check_the_mail(report: str, data_dir: Path) -> None:
    """The cancer CoP's newsletter went to every member, and the upcoming webinar's
    invitations (with calendar files) went out, as files in the node's outbox; except
    to the member the demo erased (still counted as a member), whose files are gone."""
    cancer_node = SCENARIO.community(SCENARIO.cancer_community).node_id
    (members,) = figure(
        report, rf"Cancer Community of Practice \(node {cancer_node}\): (\d+) members"
    )
    line = re.search(
        rf"^  {cancer_node}: \d+ sent \((.*)\), \d+ waiting; as files in (.*)$", report, re.M
    )
    assert line, report
    sent = dict(
        (kind, int(count)) for kind, count in re.findall(r"([a-z ]+?) (\d+)(?:, |$)", line[1])
    )
    # The report is a snapshot: the dispatcher may still be writing the last invitations and
    # newsletters. It never counts more than there are; the outbox then gets every one.
    assert 0 < sent.get("newsletter", 0) <= members, line[0]
    assert sent.get("invitation", 0) > 0, line[0]
    outbox = Path(line[2])
    assert outbox == data_dir / cancer_node / "notify" / "outbox"
    newsletter = SCENARIO.newsletter["subject"]

    def subjects() -> list[str]:
        return [
            str(message_from_bytes(path.read_bytes(), policy=policy.default)["Subject"])
            for path in outbox.glob("**/*.eml")
        ]

    def all_written() -> list[str]:
        found = subjects()
        invitations = sum(subject.startswith("Invitation:") for subject in found)
        letters = sum(newsletter in subject for subject in found)
        reached = members - ERASED
        return found if letters == reached and invitations >= reached else []

    written = eventually(all_written, 120, interval=0.5, message="every newsletter and invitation")
    assert sum(newsletter in s for s in written) == members - ERASED, "once to each"
    # The report counts what was sent; the erased member's files (one of each kind) are gone.
    # The erased member's files are gone: one of each kind, and as many invitations as any
    # other member got (the demo invites to more than one convening).
    invitations = sum(s.startswith("Invitation:") for s in written)
    per_member = -(-invitations // (members - ERASED))
    assert len(written) >= sum(sent.values()) - ERASED * (len(sent) - 1 + per_member)
    calendars = [
        part.get_payload(decode=True)
        for path in outbox.glob("**/*.eml")
        for part in message_from_bytes(path.read_bytes(), policy=policy.default).walk()
        if part.get_content_type() == "text/calendar"
    ]
    assert any(b"\r\nMETHOD:REQUEST\r\n" in calendar for calendar in calendars)


def check_what_a_member_keeps(report: str, data_dir: Path) -> None:
    """One member of the cancer CoP attended the journal club held while loading: their
    record lists it, their certificate is a PDF that verifies over HTTPS (the demo's CA),
    and their calendar feed is a calendar."""
    (activities,) = figure(report, r"CPD record: (\d+) activit(?:y|ies)")
    assert activities == 1 and "Cancer CoP journal club" in report
    certificate = Path(re.search(r"^  certificate: (.*)$", report, re.M)[1])  # type: ignore[index]
    assert certificate.parent == data_dir / "cpd" and certificate.read_bytes()[:4] == b"%PDF"
    ca = ssl.create_default_context(cafile=data_dir / "grpc-tls" / "ca.crt")
    verify = re.search(r"verify it at (https://\S+)", report)[1]  # type: ignore[index]
    page = httpx.get(verify, verify=ca, timeout=10)
    assert page.status_code == 200 and "Certificate genuine" in page.text
    feed = re.search(r"calendar feed .*: (https://\S+\.ics)", report)[1]  # type: ignore[index]
    answer = httpx.get(feed, verify=ca, timeout=10)
    assert answer.status_code == 200 and b"BEGIN:VCALENDAR" in answer.content
    assert b"Cancer CoP journal club" in answer.content


def demo_processes(data_dir: Path) -> list[psutil.Process]:
    """Processes whose command line or working files are under the demo's data directory."""
    found = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
            environ = process.info["environ"] or {}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if str(data_dir) in cmdline or str(data_dir) in environ.get("COPNET_DATA_DIR", ""):
            found.append(process)
    return found


def check_every_api_is_tls(data_dir: Path) -> None:
    """The loader and the report above went over TLS: a plain client is refused, a client
    trusting the demo's CA gets through (`grpcurl -cacert` as the report says)."""
    region = RegionFile.load(data_dir / "region-nodes.json")
    for node in region.nodes:
        assert node.security.tls and node.security.ca_file == data_dir / "grpc-tls" / "ca.crt"
        for address in node.addresses.values():
            with open_channel(address, node.security) as channel:
                grpc.channel_ready_future(channel).result(10)
            with open_channel(address, ChannelSecurity.plain()) as channel:
                health = health_pb2_grpc.HealthStub(channel)
                with pytest.raises(grpc.RpcError) as refused:
                    health.Check(health_pb2.HealthCheckRequest(), timeout=5)  # type: ignore[attr-defined]
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
