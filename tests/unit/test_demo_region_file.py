"""The demo's region file: where the nodes are, and the day the demo was first loaded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from services.demo.client import NodeAccess
from services.demo.region_file import RegionFile


def test_the_first_load_dates_the_file_and_later_loads_keep_that_date(tmp_path: Path):
    node = NodeAccess(
        node_id="riverside",
        name="Riverside University Hospitals NHS Trust",
        addresses={"registry": "127.0.0.1:7611", "events": "127.0.0.1:7612"},
        key_file=tmp_path / "riverside" / "secrets" / "token-signing-key.pem",
        data_dir=tmp_path / "riverside",
    )
    path = tmp_path / "region-nodes.json"
    RegionFile("demo-region", (node,)).save(path)
    started = RegionFile.load(path)
    assert (started.region, started.nodes, started.demo_date) == ("demo-region", (node,), None)

    first = started.dated(date(2026, 11, 23))
    first.save(path)
    later = RegionFile.load(path).dated(date(2027, 1, 5))
    assert later.demo_date == date(2026, 11, 23)
    assert later.nodes == (node,)
