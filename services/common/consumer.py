"""An inbox's durable JetStream consumer: defined, bound, kept as defined.

An inbox takes up to `batch` messages at a time (`max_ack_pending` = `batch`)
and applies them strictly in stream order, because tracking is a high-water
mark per origin: a message applied after a later one of its origin would be
taken for a duplicate. JetStream keeps that order within what one inbox
fetches, but not across a consumer's death: messages it fetched and never
acknowledged are redelivered only after the ack wait, and meanwhile newer
messages may be delivered to its successor. So a consumer found with
unacknowledged messages when an inbox binds is started again just after its
ack floor (everything before it is acknowledged, so applied): the successor
receives the unacknowledged messages first and in order, and tracking drops
the ones that had been applied. One inbox per consumer at a time (one process
per service on a node: the data-directory lock, the deployments' `Recreate`).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from typing import Any

import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from nats.js.client import JetStreamContext

log = logging.getLogger(__name__)

# The settings an inbox owns; anything else changed by someone is left as it is.
CHECKED = ("filter_subjects", "ack_policy", "max_ack_pending", "max_deliver")


def consumer_config(name: str, subjects: list[str], ack_wait: float, batch: int) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=name,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        filter_subjects=subjects,
        max_ack_pending=batch,
        ack_wait=ack_wait,
        max_deliver=-1,
    )


def _keeping_start(wanted: ConsumerConfig, info: ConsumerInfo) -> ConsumerConfig:
    """`wanted`, starting where the existing consumer starts (not updatable in place)."""
    config = info.config
    return replace(wanted, deliver_policy=config.deliver_policy, opt_start_seq=config.opt_start_seq)


async def _info(js: JetStreamContext, stream: str, name: str) -> ConsumerInfo | None:
    try:
        return await js.consumer_info(stream, name)
    except nats.js.errors.NotFoundError:
        return None


async def restart_after_ack_floor(
    js: JetStreamContext, stream: str, wanted: ConsumerConfig, info: ConsumerInfo
) -> ConsumerInfo:
    """Deletes the consumer and makes it again from just after its ack floor."""
    floor = info.ack_floor.stream_seq if info.ack_floor and info.ack_floor.stream_seq else 0
    name = wanted.durable_name or ""
    log.info(
        "consumer %s on %s had %s unacknowledged messages: starting it again after %d",
        name,
        stream,
        info.num_ack_pending,
        floor,
    )
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await js.delete_consumer(stream, name)
    start: dict[str, Any] = (
        {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": floor + 1}
        if floor
        else {}
    )
    return await js.add_consumer(stream, replace(wanted, **start))


async def ensure(
    js: JetStreamContext, stream: str, wanted: ConsumerConfig, from_start: bool
) -> tuple[ConsumerInfo, bool]:
    """Creates the consumer, or brings it up to date. Returns its info, and whether it
    was started again after its ack floor. `from_start`: nothing is applied yet (a new
    or rebuilt view), so any old consumer goes and the new one starts at the start."""
    name = wanted.durable_name or ""
    info = None if from_start else await _info(js, stream, name)
    if from_start:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_consumer(stream, name)
    if info is not None and info.num_ack_pending:
        return await restart_after_ack_floor(js, stream, wanted, info), True
    config = wanted if info is None else _keeping_start(wanted, info)
    try:
        return await js.add_consumer(stream, config), False
    except nats.js.errors.BadRequestError:
        if info is None:
            raise
        # An older definition that cannot be updated in place: made again after its ack
        # floor, so nothing already applied comes again.
        return await restart_after_ack_floor(js, stream, wanted, info), True


async def repair(js: JetStreamContext, stream: str, wanted: ConsumerConfig) -> list[str]:
    """Puts the consumer back as defined if someone changed or paused it; returns what
    was repaired (NotFound from here makes the inbox bind again, which recreates it)."""
    name = wanted.durable_name or ""
    info = await js.consumer_info(stream, name)
    config = info.config
    changed = [n for n in CHECKED if getattr(config, n) != getattr(wanted, n)]
    if config.ack_wait is not None and abs(config.ack_wait - (wanted.ack_wait or 0)) > 0.001:
        changed.append("ack_wait")
    repaired = []
    if changed:
        log.warning("consumer %s was changed (%s); restoring it", name, ", ".join(changed))
        repaired.append("changed")
        try:
            await js.add_consumer(stream, _keeping_start(wanted, info))
        except nats.js.errors.BadRequestError:
            await restart_after_ack_floor(js, stream, wanted, info)
    if info.paused:
        log.warning("consumer %s was paused (%s left); resuming it", name, info.pause_remaining)
        repaired.append("paused")
        await js.resume_consumer(stream, name)
    return repaired
