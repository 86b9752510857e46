"""The gRPC TLS benchmark, end to end in a tiny mode, so that it cannot rot.

Only that every transport was measured without errors is checked, never how fast:
figures come from `python -m bench.grpc_tls_bench`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.grpc_tls_bench import TRANSPORTS, Options, render, run


@pytest.mark.parametrize("call", ["get", "health"])
def test_the_bench_measures_plain_tls_and_mutual_tls(tmp_path: Path, call: str):
    options = Options(
        seconds=1.5, warmup=0.3, clients=1, concurrency=2, rounds=1, call=call, work_dir=tmp_path
    )
    results = run(options, "smoke test")

    assert results["errors"] == 0
    for transport in TRANSPORTS:
        assert results["calls_per_s"][transport] > 0
    assert results["ratio_tls_to_plain"] > 0
    assert len(results["machine"]["load_before"]) == 3
    assert "TLS / plain:" in render(results)
    json.dumps(results)  # what main() writes to bench/results/
