"""`unsampled`: which propagated trace contexts need no span (it would record nothing)."""

from __future__ import annotations

import uuid

from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from services.common.telemetry import _sampler_from
from services.common.unsampled import (
    carried,
    current_unsampled,
    drops_unsampled_children,
    unsampled,
)

TRACE, SPAN = uuid.uuid4().hex, uuid.uuid4().hex[:16]


def test_an_unsampled_context_under_copnets_sampler_needs_no_span() -> None:
    # The tests' process runs copnet's sampler (tests/conftest.py), as every service does.
    assert drops_unsampled_children()
    assert unsampled({"traceparent": f"00-{TRACE}-{SPAN}-00"})
    assert unsampled({"traceparent": f"00-{TRACE}-{SPAN}-02", "tracestate": "a=b"})


def test_sampled_missing_or_malformed_contexts_are_traced_as_before() -> None:
    for carrier in (
        None,
        {},
        {"traceparent": f"00-{TRACE}-{SPAN}-01"},
        {"traceparent": f"00-{TRACE}-{SPAN}-03"},
        {"traceparent": f"00-{'0' * 32}-{SPAN}-00"},
        {"traceparent": f"00-{TRACE}-{'0' * 16}-00"},
        {"traceparent": f"ff-{TRACE}-{SPAN}-00"},
        {"traceparent": f"00-{TRACE[:-1]}x-{SPAN}-00"},
        {"traceparent": f"00-{TRACE}-{SPAN}-zz"},
        {"traceparent": f"00-{TRACE}-{SPAN}"},
        {"traceparent": b"00"},
    ):
        assert not unsampled(carrier), carrier


def test_only_a_sampler_that_follows_its_parents_skips() -> None:
    assert drops_unsampled_children(TracerProvider(sampler=_sampler_from({})))
    assert drops_unsampled_children(TracerProvider(sampler=ParentBased(ALWAYS_ON)))
    assert not drops_unsampled_children(TracerProvider(sampler=ALWAYS_ON))
    assert not drops_unsampled_children(
        TracerProvider(sampler=ParentBased(ALWAYS_ON, remote_parent_not_sampled=ALWAYS_ON))
    )
    assert not drops_unsampled_children(trace.NoOpTracerProvider())


def test_the_current_span_and_what_is_carried_on() -> None:
    assert not current_unsampled()  # no span at all
    for flags, expected in ((TraceFlags.DEFAULT, True), (TraceFlags.SAMPLED, False)):
        span = NonRecordingSpan(SpanContext(int(TRACE, 16), int(SPAN, 16), True, flags))
        token = context.attach(trace.set_span_in_context(span))
        try:
            assert current_unsampled() is expected
        finally:
            context.detach(token)
    carrier = {"traceparent": f"00-{TRACE}-{SPAN}-00", "baggage": "k=v", "copnet-origin": "x"}
    assert carried(carrier) == {"traceparent": carrier["traceparent"], "baggage": "k=v"}
