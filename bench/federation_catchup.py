"""Federation benchmark on whole nodes: catch-up after a hub outage, and propagation.

    .venv/bin/python -m bench.federation_catchup [--items 10000] [--rate 100]
        [--propagation-items 1000] [--in-flight 16] [--raw-batch 256] [--profile]
        [--work-dir DIR] [--output FILE]

A region as operators run it: `copnet hub` and two nodes, node-a and node-b,
each `copnet up --hub-credentials` (its own processes, SQLite, TLS on gRPC and
on the leaf links), started by bench/node_harness.py. node-b subscribes to
node-a's learning. Items are created and published on node-a through its public
gRPC API with the token of a community's lead; "applied" on node-b is the
`item_arrived` message node-b's learning relay publishes once it has recorded
the item (a core NATS subscription on node-b's server, as its operator), and
"searchable" is node-b's GetItem answering for it.

1. Propagation: `--propagation-items` drafts created first (not timed), then
   PublishItem open-loop at `--rate` items/s. Latency per item: from its
   PublishItem answer on node-a to its arrival applied on node-b; p50/p99/max.
2. Catch-up: `--items` drafts created on node-a (`--in-flight` calls at once:
   the quickest honest way to queue them through the public API), then the
   hub is stopped (SIGTERM), the items are published (`--in-flight` at once)
   and node-a's relay has put them all on its stream (a core subscription on
   node-a's server sees each `item_published`); then the hub starts again.
   Reported: items/s from the hub's restart until the last item is applied on
   node-b, and over first-to-last arrival; seconds until the last is
   searchable; node-b's CPU per item (psutil, per process). With `--profile`,
   py-spy records node-b's Python processes (GIL holders) from the restart until
   the last item is applied (collapsed stacks in bench/results/).
3. Baseline, raw JetStream, in the same run over the same hops: a stream on
   node-b sourcing the same `item_published` messages from node-a's public
   stream through the hub (as node-b's federation stream does), and a pull
   consumer on it (fetch `--raw-batch`, one ack per batch with AckAll, no work
   per message). Items/s from the stream's creation and first-to-last. The
   ratio copnet/raw is over first-to-last.

At the end, node-b's SearchCatalogue lists every item once. The machine's load
is recorded around each phase. Results: bench/results/federation-<ts>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import node_harness as harness
from bench.learning_client import (
    Clients,
    Seen,
    create_drafts,
    in_flight,
    ms_summary,
    publish,
    rate_between,
    set_up,
)
from bench.registry_bench import busy_before_run, machine_facts

REGION = "bench-region"
ORIGIN, RECEIVER = "node-a", "node-b"
TARGET_CATCH_UP = 1000.0
TARGET_P99_MS = 100.0
RAW_STREAM, RAW_DURABLE = "BENCH_RAW_CATCHUP", "bench-raw"

log = logging.getLogger("federation_catchup")


@dataclass(frozen=True)
class Options:
    items: int
    rate: float
    propagation_items: int
    in_flight: int
    raw_batch: int
    profile: bool
    work_dir: Path | None
    output: Path | None


async def propagation(
    a: Clients, community: str, auth: Any, options: Options, arrived: Seen
) -> dict[str, Any]:
    ids, _ = await create_drafts(a, community, auth, options.propagation_items, 16, "paced")
    answered: dict[str, float] = {}
    load_before = harness.load()
    tasks = []
    start = time.monotonic() + 0.05
    for n, item_id in enumerate(ids):
        await asyncio.sleep(max(0.0, start + n / options.rate - time.monotonic()))
        tasks.append(asyncio.create_task(publish(a, auth, item_id, answered)))
    await asyncio.gather(*tasks)
    sent_for = time.monotonic() - start
    complete = await arrived.wait(ids, 120)
    lags = [arrived.at[i] - answered[i] for i in ids if i in arrived.at]
    return {
        "rate": options.rate,
        "items": len(ids),
        "achieved_rate": round(len(ids) / sent_for, 1),
        "all_arrived": complete,
        "latency": ms_summary(lags),
        "load_before": load_before,
        "load_after": harness.load(),
    }


async def catch_up(
    a: Clients,
    b: Clients,
    community: str,
    auth: Any,
    options: Options,
    seen: tuple[Seen, Seen],
    hub: harness.HubProcess,
) -> dict[str, Any]:
    from copnet.learning.v1 import learning_pb2 as lpb

    relayed, arrived = seen
    ids, draft_rate = await create_drafts(a, community, auth, options.items, options.in_flight, "q")
    await asyncio.to_thread(hub.stop)
    answered: dict[str, float] = {}
    began = time.monotonic()
    calls = [publish(a, auth, i, answered) for i in ids]
    positions = dict(zip(ids, await in_flight(calls, options.in_flight), strict=True))
    publish_rate = len(ids) / (time.monotonic() - began)
    if not await relayed.wait(ids, 300):
        raise RuntimeError("node-a's relay did not put every item on its stream")
    early = sum(1 for i in ids if i in arrived.at)  # should be 0: the hub is down
    tree = harness.node_processes(b.node)
    cpu_before = harness.cpu_seconds(tree)
    load_before = harness.load()
    profiles = None
    if options.profile:  # py-spy on node-b's processes until every item is applied
        out = harness.RESULTS_DIR / f"federation-profiles-{uuid.uuid4().hex[:6]}"
        profiles = harness.Profiles(out, tree, 3600)
    restarted = time.time()
    await asyncio.to_thread(hub.start)
    complete = await arrived.wait(ids, max(120.0, options.items / 20))
    if profiles is not None:
        profiles.interrupt()
    last = max(ids, key=lambda i: positions[i])
    searchable = None
    deadline = time.monotonic() + 60
    while searchable is None and time.monotonic() < deadline:
        try:
            await b.learning.GetItem(
                lpb.GetItemRequest(item_id=last), metadata=b.operator, timeout=10
            )
            searchable = time.time()
        except Exception:
            await asyncio.sleep(0.02)
    cpu = harness.cpu_per_command(cpu_before, harness.cpu_seconds(tree), len(ids))
    times = sorted(arrived.at[i] for i in ids if i in arrived.at)
    if profiles is not None:
        profiled = await asyncio.to_thread(profiles.summaries)
    return {
        **({"receiver_profiles": profiled} if profiles is not None else {}),
        "items": len(ids),
        "drafts_per_s": draft_rate,
        "published_during_outage_per_s": round(publish_rate, 1),
        "arrived_during_outage": early,
        "all_arrived": complete,
        "applied_s_after_restart": round(times[-1] - restarted, 2) if times else None,
        "items_per_s_from_restart": round(len(times) / (times[-1] - restarted), 1)
        if times
        else None,
        "first_arrival_s_after_restart": round(times[0] - restarted, 2) if times else None,
        "items_per_s_first_to_last": rate_between(len(times), times[0], times[-1])
        if times
        else None,
        "last_searchable_s_after_restart": round(searchable - restarted, 2) if searchable else None,
        "receiver_cpu_ms_per_item": cpu,
        "load_before": load_before,
        "load_after": harness.load(),
    }


async def raw_catch_up(b: Any, expected: int, batch: int) -> dict[str, Any]:
    """A stream on node-b sourcing node-a's item_published messages through the hub, and a
    pull consumer reading them in batches, one AckAll per batch."""
    import nats.errors
    from nats.js.api import AckPolicy, ConsumerConfig, ExternalStream, StreamConfig, StreamSource

    from services.common.messaging import NodeIdentity
    from tests.support import natsauth

    origin = NodeIdentity(ORIGIN, REGION)
    client = await natsauth.connect(b.nats_url, connect_timeout=10)
    js = client.jetstream(timeout=30)
    load_before = harness.load()
    try:
        source = StreamSource(
            name=origin.public_stream_name,
            filter_subject=origin.federated_subject("learning", "item_published"),
            external=ExternalStream(
                api=f"$JS.{ORIGIN}.API",
                deliver=NodeIdentity(RECEIVER, REGION).deliver_prefix(ORIGIN),
            ),
        )
        created = time.time()
        await js.add_stream(StreamConfig(name=RAW_STREAM, sources=[source]))
        await js.add_consumer(
            RAW_STREAM,
            ConsumerConfig(
                durable_name=RAW_DURABLE, ack_policy=AckPolicy.ALL, max_ack_pending=batch * 4
            ),
        )
        pull = await js.pull_subscribe_bind(durable=RAW_DURABLE, stream=RAW_STREAM)
        times: list[float] = []
        deadline = time.monotonic() + max(120.0, expected / 20)
        while len(times) < expected and time.monotonic() < deadline:
            try:
                messages = await pull.fetch(batch, timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            now = time.time()
            times += [now] * len(messages)
            await messages[-1].ack()
        with contextlib.suppress(Exception):
            await js.delete_stream(RAW_STREAM)
    finally:
        await client.close()
    return {
        "messages": len(times),
        "expected": expected,
        "batch": batch,
        "items_per_s_from_creation": round(len(times) / (times[-1] - created), 1)
        if times
        else None,
        "items_per_s_first_to_last": rate_between(len(times), times[0], times[-1])
        if times
        else None,
        "load_before": load_before,
        "load_after": harness.load(),
    }


async def catalogue(b: Clients) -> dict[str, Any]:
    """node-b's catalogue of node-a's items, every page: how many, and any listed twice."""
    from copnet.learning.v1 import learning_pb2 as lpb

    listed: list[str] = []
    token = ""
    while True:
        page = await b.learning.SearchCatalogue(
            lpb.SearchCatalogueRequest(origin_node=ORIGIN, page_size=500, page_token=token),
            metadata=b.operator,
            timeout=60,
        )
        listed += [i.item_id for i in page.items]
        token = page.next_page_token
        if not token:
            return {"listed": len(listed), "distinct": len(set(listed))}


async def run(options: Options, work_dir: Path) -> dict[str, Any]:
    from services.common.messaging import NodeIdentity
    from tests.support import natsauth

    hub = harness.HubProcess(work_dir, REGION, [ORIGIN, RECEIVER])
    nodes: dict[str, Any] = {}
    results: dict[str, Any] = {"startup_s": {}}
    clients: list[Clients] = []
    seen: list[Seen] = []
    try:
        await asyncio.to_thread(hub.start)
        for node_id in (ORIGIN, RECEIVER):
            node, startup = await asyncio.to_thread(
                harness.start_node,
                work_dir,
                node_id,
                REGION,
                hub_credentials=hub.credentials(node_id),
            )
            nodes[node_id] = node
            results["startup_s"][node_id] = startup
            natsauth.remember(node.nats_url, node.data_dir, node.data_dir / "grpc-tls" / "ca.crt")
        a, b = Clients(nodes[ORIGIN]), Clients(nodes[RECEIVER])
        clients += [a, b]
        relayed, arrived = Seen(), Seen()
        seen += [relayed, arrived]
        await relayed.start(
            nodes[ORIGIN],
            NodeIdentity(ORIGIN, REGION).federated_subject("learning", "item_published"),
        )
        await arrived.start(
            nodes[RECEIVER],
            NodeIdentity(RECEIVER, REGION).local_subject("learning", "item_arrived"),
        )
        community, auth = await set_up(a, b, ORIGIN, REGION)
        warm, _ = await create_drafts(a, community, auth, 5, 5, "warm")
        await in_flight([publish(a, auth, i, {}) for i in warm], 1)
        if not await arrived.wait(warm, 120):
            raise RuntimeError("node-b did not receive the warm-up items")
        results["propagation"] = await propagation(a, community, auth, options, arrived)
        results["catch_up"] = await catch_up(
            a, b, community, auth, options, (relayed, arrived), hub
        )
        expected = len(warm) + options.propagation_items + options.items
        results["raw"] = await raw_catch_up(nodes[RECEIVER], expected, options.raw_batch)
        copnet_rate = results["catch_up"]["items_per_s_first_to_last"]
        raw_rate = results["raw"]["items_per_s_first_to_last"]
        results["ratio_first_to_last"] = (
            round(copnet_rate / raw_rate, 3) if copnet_rate and raw_rate else None
        )
        results["catalogue"] = {**await catalogue(b), "expected": expected}
        return results
    finally:
        for watcher in seen:
            with contextlib.suppress(Exception):
                await watcher.client.close()
        for client in clients:
            await client.close()
        for node in nodes.values():
            await asyncio.to_thread(harness.stop_node, node)
        await asyncio.to_thread(hub.stop)
        hub.kill()


def render(results: dict[str, Any]) -> str:
    paced, caught, raw = results["propagation"], results["catch_up"], results["raw"]
    return "\n".join(
        [
            f"$ {results['command']}",
            f"machine before: {results['before_run']}; start-up s: {results['startup_s']}",
            f"propagation at {paced['rate']}/s (achieved {paced['achieved_rate']}/s),"
            f" {paced['items']} items: p50 {paced['latency']['p50_ms']} ms, p99"
            f" {paced['latency']['p99_ms']} ms, max {paced['latency']['max_ms']} ms"
            f" (target p99 <= {TARGET_P99_MS} ms); all arrived: {paced['all_arrived']};"
            f" load {paced['load_before']} -> {paced['load_after']}",
            f"catch-up of {caught['items']} items (drafts {caught['drafts_per_s']}/s, published"
            f" during the outage {caught['published_during_outage_per_s']}/s):"
            f" {caught['items_per_s_from_restart']}/s from the hub's restart,"
            f" {caught['items_per_s_first_to_last']}/s first to last"
            f" (target >= {TARGET_CATCH_UP}/s); first applied"
            f" {caught['first_arrival_s_after_restart']} s after the restart, all"
            f" {caught['applied_s_after_restart']} s, last searchable"
            f" {caught['last_searchable_s_after_restart']} s; load {caught['load_before']} ->"
            f" {caught['load_after']}",
            "  node-b CPU ms per item: "
            + ", ".join(f"{n} {v}" for n, v in caught["receiver_cpu_ms_per_item"].items()),
            f"raw JetStream (batch {raw['batch']}, AckAll), {raw['messages']} messages:"
            f" {raw['items_per_s_from_creation']}/s from the stream's creation,"
            f" {raw['items_per_s_first_to_last']}/s first to last; load {raw['load_before']}"
            f" -> {raw['load_after']}",
            f"ratio copnet/raw (first to last): {results['ratio_first_to_last']}",
            *[
                f"  profile node-b {name}: "
                + ", ".join(f"{a} {round(v * 100)}%" for a, v in found["activities"][:7])
                for name, found in caught.get("receiver_profiles", {}).items()
                if found["samples"]
            ],
            f"node-b's catalogue of node-a: {results['catalogue']}",
        ]
    )


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="queued in the outage")
    parser.add_argument("--rate", type=float, default=100.0, help="propagation items/s (100)")
    parser.add_argument("--propagation-items", type=int, help="(10 s at --rate, <= --items)")
    parser.add_argument("--in-flight", type=int, default=16, help="calls at once (16)")
    parser.add_argument("--raw-batch", type=int, default=256, help="raw consumer's fetch (256)")
    parser.add_argument("--profile", action="store_true", help="py-spy on node-b in catch-up")
    parser.add_argument("--work-dir", type=Path)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    paced = args.propagation_items or min(args.items, round(args.rate * 10))
    return Options(
        args.items,
        args.rate,
        paced,
        args.in_flight,
        args.raw_batch,
        args.profile,
        args.work_dir,
        args.output,
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    # nats-py over TLS: "returning true from eof_received() has no effect when using ssl"
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    options = parse_options(argv)
    command = " ".join(
        ["python -m bench.federation_catchup", *(sys.argv[1:] if argv is None else argv)]
    )
    work_dir = options.work_dir or Path(tempfile.mkdtemp(prefix="copnet-federation-bench-"))
    results: dict[str, Any] = {"command": command, "before_run": busy_before_run()}
    results["machine"] = machine_facts(None)
    try:
        results.update(asyncio.run(run(options, work_dir)))
    finally:
        if options.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)
    path = harness.write_results("federation", results, options.output)
    print(render(results))
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
