"""The file that says where a demo region's nodes are, for `copnet demo --load-only`.

    {"region": "demo-region",
     "demo_date": "2026-11-23",
     "nodes": [{"node_id": "riverside", "name": "...", "addresses": {"registry": "..."},
                "key_file": ".../token-signing-key.pem", "data_dir": "..."}]}

`demo_date` is the day the scenario was first loaded: convenings to come are placed
relative to it, so loading again on a later day asks for the same things again.
A region started by hand (`copnet hub`, `copnet up`) can be described the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from services.demo.client import NodeAccess


@dataclass(frozen=True)
class RegionFile:
    region: str
    nodes: tuple[NodeAccess, ...]
    demo_date: date | None = None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "region": self.region,
            "demo_date": self.demo_date.isoformat() if self.demo_date else None,
            "nodes": [node.as_json() for node in self.nodes],
        }
        path.write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> RegionFile:
        data = json.loads(path.read_text())
        day = data.get("demo_date")
        return cls(
            region=data["region"],
            nodes=tuple(NodeAccess.from_json(n) for n in data["nodes"]),
            demo_date=date.fromisoformat(day) if day else None,
        )

    @classmethod
    def load_if_present(cls, path: Path) -> RegionFile | None:
        return cls.load(path) if path.exists() else None

    def dated(self, today: date) -> RegionFile:
        """This file with its demo date set (kept when it has one)."""
        return self if self.demo_date else replace(self, demo_date=today)
