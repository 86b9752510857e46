"""Issue 13: a member who may not plan cannot make the events service expand a rule, and
a rule that never matches costs bounded work off the event loop: health keeps answering."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from copnet.events.v1 import events_pb2 as pb
from services.common.grpc_server import start_server
from services.common.settings import NodeSettings
from services.common.tokens import TokenAuthority
from tests.support.events_node import Api, Cop, rid
from tests.support.waiting import eventually

# Never matches: dateutil would look for 30 February until year 9999.
ATTACK = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=5"
HEALTH_BUDGET = 0.100


def _plan(cop: Cop, rule: str) -> pb.CreateMeetingPlanRequest:
    return pb.CreateMeetingPlanRequest(
        request_id=rid(),
        community_id=cop.community_id,
        title="Never",
        format=pb.CONVENING_FORMAT_FACE_TO_FACE,
        venue="Portadown",
        recurrence=pb.Recurrence(rule=rule, first_start="2026-01-06T19:00"),
    )


def _health_while(api: Api, attacks: list[grpc.Future]) -> list[float]:
    """How long each health check took while the attacks were in flight."""
    health = health_pb2_grpc.HealthStub(api.events_channel)
    timings: list[float] = []
    while not all(f.done() for f in attacks) or len(timings) < 20:
        started = time.perf_counter()
        answer = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        timings.append(time.perf_counter() - started)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        time.sleep(0.01)
    return timings


def test_a_non_organiser_gets_permission_denied_at_once_and_health_answers(api: Api):
    cop = Cop(api)
    api.events(
        "GetCommunityCalendar", pb.GetCommunityCalendarRequest(community_id=cop.community_id)
    )
    started = time.perf_counter()
    attacks = [
        api.events_future("CreateMeetingPlan", _plan(cop, ATTACK), cop.member) for _ in range(4)
    ]
    timings = _health_while(api, attacks)
    for attack in attacks:
        assert attack.exception() is not None
        assert attack.exception().code() == grpc.StatusCode.PERMISSION_DENIED
    assert time.perf_counter() - started < 5
    assert max(timings) < HEALTH_BUDGET, f"health checks took up to {max(timings) * 1000:.0f} ms"


def test_an_organisers_rule_that_never_matches_is_refused_after_bounded_work(api: Api):
    cop = Cop(api)
    started = time.perf_counter()
    attacks = [
        api.events_future("CreateMeetingPlan", _plan(cop, ATTACK), cop.facilitator)
        for _ in range(2)
    ]
    timings = _health_while(api, attacks)
    for attack in attacks:
        error = attack.exception()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "within 10 years" in error.details()
    assert time.perf_counter() - started < 10
    # The expansion is bounded CPU work on the API's threads (about 0.15 s a request),
    # sharing the GIL with the event loop: health waits for its turns, never for the work.
    assert statistics.median(timings) < HEALTH_BUDGET / 2
    assert max(timings) < 5 * HEALTH_BUDGET, f"health took up to {max(timings) * 1000:.0f} ms"


def test_a_server_handles_at_most_max_concurrent_rpcs_at_once(tmp_path):
    """Beyond COPNET_MAX_CONCURRENT_RPCS calls in flight, a call gets RESOURCE_EXHAUSTED."""
    assert NodeSettings.from_env({"COPNET_MAX_CONCURRENT_RPCS": "8"}).max_concurrent_rpcs == 8
    authority = TokenAuthority.for_node("testnode", tmp_path / "key.pem")
    loop = asyncio.new_event_loop()
    handle = loop.run_until_complete(
        start_server("127.0.0.1:0", authority, lambda server: None, [], maximum_concurrent_rpcs=1)
    )
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{handle.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
            assert next(watch).status == health_pb2.HealthCheckResponse.SERVING  # in flight
            with pytest.raises(grpc.RpcError) as refused:
                health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            watch.cancel()
            answer = eventually(lambda: _check(health), timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        asyncio.run_coroutine_threadsafe(handle.stop(0), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _check(health: health_pb2_grpc.HealthStub) -> health_pb2.HealthCheckResponse | None:
    try:
        return health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    except grpc.RpcError:
        return None


def test_a_token_for_a_member_never_registered_reads_nothing(api: Api):
    """Issue 14: the events service knows members from its registry mirror."""
    import uuid

    cop = Cop(api)
    request = pb.GetCommunityCalendarRequest(community_id=cop.community_id)
    stranger = str(uuid.uuid4())
    started = time.perf_counter()
    refused = api.fails("GetCommunityCalendar", request, stranger)
    # From the registry's copy, as a role granted a moment ago would be: PERMISSION_DENIED.
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED, refused
    assert "min_registry_position" in refused.message
    assert time.perf_counter() - started < 5  # after the mirror's grace, not forever
    assert api.events("GetCommunityCalendar", request, cop.member).ics
