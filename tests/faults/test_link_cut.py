"""A node's leaf link to the hub cut for 30 seconds (a TCP proxy between them), in both
directions of traffic: the node publishes during the cut and receives what others published;
after the link heals, the first items arrive within 5 seconds, and everything exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.proxy import Proxy
from tests.support.region import Region
from tests.support.waiting import eventually

pytestmark = pytest.mark.faults

CUT = 30.0


@pytest.fixture
def cut_region(tmp_path: Path):
    proxies: dict[str, Proxy] = {}
    region = None
    try:
        # The proxy needs the hub's leaf port before the region starts: chosen here.
        leaf_port = free_port()
        proxies["kings"] = Proxy(leaf_port).start()
        region = Region(
            tmp_path,
            ["guys", "kings"],
            leaf_ports={"kings": proxies["kings"].port},
            hub_leaf_port=leaf_port,
        )
        yield region, proxies["kings"]
    finally:
        if region is not None:
            region.close()
        for proxy in proxies.values():
            proxy.close()


def test_a_cut_leaf_link_heals_and_everything_arrives_once(cut_region):
    region, link = cut_region
    guys = region.community("guys", "dip-cop")
    kings = region.community("kings", "maternity-cop")
    region.subscribe("kings", "guys")
    region.subscribe("guys", "kings")
    region.publish(guys, "From guys before")
    region.publish(kings, "From kings before")
    eventually(lambda: region.titles("kings") >= {"From guys before"})
    eventually(lambda: region.titles("guys") >= {"From kings before"})

    link.cut()
    cut_at = time.monotonic()
    from_guys = [region.publish(guys, f"From guys during {i}").title for i in range(3)]
    from_kings = [region.publish(kings, f"From kings during {i}").title for i in range(3)]
    time.sleep(max(0.0, CUT - (time.monotonic() - cut_at)))
    assert not region.titles("kings") & set(from_guys), "nothing crossed the cut link"
    assert not region.titles("guys") & set(from_kings)

    link.heal()
    healed = time.monotonic()
    first: dict[str, float] = {}
    while len(first) < 2 and time.monotonic() - healed < 60:
        if "kings" not in first and region.titles("kings") & set(from_guys):
            first["kings"] = time.monotonic() - healed
        if "guys" not in first and region.titles("guys") & set(from_kings):
            first["guys"] = time.monotonic() - healed
        time.sleep(0.1)
    eventually(lambda: region.titles("kings") >= {"From guys before", *from_guys}, 60)
    eventually(lambda: region.titles("guys") >= {"From kings before", *from_kings}, 60)
    for receiver in ("kings", "guys"):
        counts = region.received(receiver)
        assert len(counts) == 4 and set(counts.values()) == {1}, (receiver, counts)
    print(f"first item after the link healed: {first}")
    assert set(first) == {"kings", "guys"}, first
    # Within 5 s as a rule (a few seconds measured); up to 8 s on a loaded machine.
    assert all(seconds < 8.0 for seconds in first.values()), first
