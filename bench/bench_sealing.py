"""What sealing personal fields costs the registry: commands per second and member loads
per second, with the registry's `personal_data` (sealed) and without (plain), in the
same run, alternating rounds on fresh SQLite stores (and PostgreSQL with --postgres-dsn).

    .venv/bin/python bench/bench_sealing.py [--members 1500] [--rounds 3] [--postgres-dsn DSN]

Each round registers `--members` members (RegisterMember: name and address sealed),
renames each once (UpdateMember: the name sealed again), then loads each member from
the store (two events opened). The ratio sealed/plain is the figure to read; absolute
rates hold only for the machine they were measured on.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from services.common.idempotency import Command
from services.common.identity import Caller
from services.common.stores import StoreSettings
from services.registry.application import Registry
from services.registry.domain import Member, OrganisationKind, Profession

OPERATOR = Caller.operator()


class PlainRegistry(Registry):
    """The registry with nothing sealed (the baseline)."""

    personal_data: Any = {}


def command(name: str) -> Command:
    return Command(name=name, request_id=str(uuid.uuid4()), caller=OPERATOR, fingerprint=name)


def one_round(app_class: type[Registry], env: dict[str, str], members: int) -> dict[str, float]:
    app = app_class(env)
    try:
        organisation = app.create_organisation(
            command("org"), "Bench Trust", OrganisationKind.NHS_TRUST, "london", None
        ).entity_id
        started = time.perf_counter()
        ids = [
            app.register_member(
                command("register"),
                f"Member {i}",
                Profession.NURSE,
                organisation,
                f"member.{i}.{uuid.uuid4().hex[:6]}@example.nhs.uk",
            ).entity_id
            for i in range(members)
        ]
        registered = time.perf_counter() - started
        started = time.perf_counter()
        for i, member_id in enumerate(ids):
            app.update_member(command("update"), member_id, 0, display_name=f"Renamed {i}")
        updated = time.perf_counter() - started
        started = time.perf_counter()
        for member_id in ids:
            app.repository.get(member_id)
        loaded = time.perf_counter() - started
        assert isinstance(app.repository.get(ids[0]), Member)
    finally:
        app.close()
    return {
        "register/s": members / registered,
        "update/s": members / updated,
        "load/s": members / loaded,
    }


def mapper_costs(count: int = 20000) -> dict[str, float]:
    """Microseconds to store and to read one `Member.Registered` (key cached), sealed and
    plain: the CPU cost alone, with no store in the way."""
    costs: dict[str, float] = {}
    for label, app_class in (("sealed", Registry), ("plain", PlainRegistry)):
        app = app_class({})  # in memory (keys in a dictionary)
        member = Member(
            display_name="Member 1",
            profession="nurse",
            home_organisation_id=uuid.uuid4(),
            email="member.1@example.nhs.uk",
        )
        [event] = member.collect_events()
        stored = app.mapper.to_stored_event(event)
        started = time.perf_counter()
        for _ in range(count):
            app.mapper.to_stored_event(event)
        costs[f"{label} store"] = (time.perf_counter() - started) / count * 1e6
        started = time.perf_counter()
        for _ in range(count):
            app.mapper.to_domain_event(stored)
        costs[f"{label} read"] = (time.perf_counter() - started) / count * 1e6
        app.close()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-dsn", default="")
    options = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"sealed": [], "plain": []}
    with tempfile.TemporaryDirectory() as root:
        for round_number in range(options.rounds):
            for label, app_class in (("sealed", Registry), ("plain", PlainRegistry)):
                directory = Path(root) / f"{label}-{round_number}"
                stores = StoreSettings(
                    data_dir=directory,
                    postgres_dsn=options.postgres_dsn,
                    schema_prefix=f"bench{uuid.uuid4().hex[:8]}_",
                )
                stores.prepare("registry")
                env = stores.application_env("registry")
                results[label].append(one_round(app_class, env, options.members))
    costs = mapper_costs()
    print("Mapper, one Member.Registered (microseconds, key cached):")
    for action in ("store", "read"):
        sealed, plain = costs[f"sealed {action}"], costs[f"plain {action}"]
        print(f"  {action:<6} sealed {sealed:6.1f}  plain {plain:6.1f}  ratio {sealed / plain:.2f}")
    store = "PostgreSQL" if options.postgres_dsn else "SQLite"
    print(f"{store}, {options.members} members x {options.rounds} rounds (median of rounds)")
    for metric in ("register/s", "update/s", "load/s"):
        sealed = statistics.median(r[metric] for r in results["sealed"])
        plain = statistics.median(r[metric] for r in results["plain"])
        print(
            f"  {metric:<11} sealed {sealed:8.0f}  plain {plain:8.0f}  ratio {sealed / plain:.2f}"
        )


if __name__ == "__main__":
    main()
