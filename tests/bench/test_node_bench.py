"""The whole-node benchmark, end to end in a tiny mode, so that it cannot rot.

Only what the run did is checked (a node started by `copnet up` answered commands
without errors, every mirror applied the last one, each process was measured),
never how fast: figures come from `python -m bench.node_bench`.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.node_bench import MIRRORS, Options, render, run


def test_the_bench_measures_a_node_against_raw_saves(tmp_path: Path):
    options = Options(
        stores=("sqlite",),
        seconds=1.0,
        warmup=0.3,
        concurrency=4,
        idle=0.2,
        profile="",
        wait_quiet=0.0,
        postgres_dsn="",
        work_dir=tmp_path,
        output=None,
    )
    results = run(options, "smoke test")

    figures = results["sqlite"]
    assert figures["startup_s"] > 0
    assert {"supervisor", "nats-server", "registry", "report"} <= set(
        figures["idle"]["per_process"]
    )
    assert figures["raw"]["ops_per_s"] > 0 and figures["raw"]["errors"] == {}
    copnet = figures["copnet"]
    assert copnet["commands"] > 0 and copnet["errors"] == {}
    assert copnet["cpu_ms_per_command"]["registry"] > 0
    mirrors = copnet["mirrors"]["per_service"]
    assert set(mirrors) == set(MIRRORS)
    # Each read waited for its mirror and then answered for an id nobody created.
    assert {m["code"] for m in mirrors.values()} == {"NOT_FOUND"}
    assert len(copnet["load_before"]) == 3
    assert "ratio copnet/raw:" in render(results)
    json.dumps(results)  # what main() writes to bench/results/
