"""The learning federation benchmark, end to end in a tiny mode, so that it cannot rot.

Only what the run did is checked (every item and message arrived, once), never
how fast: figures come from `python -m bench.learning_federation_bench`.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.learning_federation_bench import RECEIVERS, Options, render, run


def test_the_bench_measures_propagation_raw_jetstream_and_catch_up(tmp_path: Path):
    options = Options(
        levels=((20.0, 4),), catch_up_items=3, postgres_dsn="", idle_seconds=0, work_dir=tmp_path
    )
    results = run(options, "smoke test")

    [level] = results["latency"]
    assert level["copnet"]["errors"] == {} and level["raw"]["errors"] == {}
    for node in RECEIVERS:
        copnet = level["copnet"]["nodes"][node]
        assert copnet["missing"] == 0 and copnet["latency"]["count"] == 4
        assert copnet["stages"]["items"] == 4
        raw = level["raw"]["nodes"][node]
        assert raw["missing"] == 0 and raw["latency"]["count"] == 4
        assert results["catch_up"]["nodes"][node]["missing"] == 0
        assert results["catch_up"]["nodes"][node]["arrived_during_outage"] == 0
        assert results["exactly_once"][node]["ok"], results["exactly_once"][node]
    assert "target:" in render(results)
    json.dumps(results)  # what main() writes to bench/results/
