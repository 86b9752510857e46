"""Spans that could never be recorded, and the work they would cost.

With copnet's sampler (`telemetry`: `ParentBased`, new traces rate-limited) a span
whose parent was not sampled is not sampled either: the SDK makes a non-recording
span that only carries the trace on. On a busy node most traces are not sampled
(beyond `COPNET_TRACES_PER_SECOND`), and making those spans one message at a time
(the relay's PRODUCER span, an inbox's CONSUMER span) was a tenth of a receiving
node's CPU in a federation catch-up. `unsampled(carrier)` says when a propagated
context (a message's headers, an event's stored context) is such a parent under
such a sampler, so the caller can skip the span and pass the context on as it is:
the trace continues (same trace id, still not sampled) exactly as the SDK would
have continued it, and a sampled trace is traced as before.

Under any other sampler (`OTEL_TRACES_SAMPLER=always_on`, say, which samples
regardless of the parent) nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import TraceFlags

TRACEPARENT = "traceparent"


def drops_unsampled_children(provider: Any = None) -> bool:
    """Whether the process's (or this) tracer provider samples nothing below an unsampled
    parent, local or remote."""
    provider = trace.get_tracer_provider() if provider is None else provider
    sampler = getattr(provider, "sampler", None)
    return (
        isinstance(sampler, ParentBased)
        and getattr(sampler, "_remote_parent_not_sampled", None) is ALWAYS_OFF
        and getattr(sampler, "_local_parent_not_sampled", None) is ALWAYS_OFF
    )


def _is_hex(text: str, length: int) -> bool:
    if len(text) != length or text.strip("0") == "":
        return False
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


def unsampled(carrier: Mapping[str, Any] | None) -> bool:
    """Whether `carrier` holds a valid W3C trace context that is not sampled, under a
    sampler that samples nothing below an unsampled parent."""
    if not carrier:
        return False
    value = carrier.get(TRACEPARENT)
    if not isinstance(value, str):
        return False
    parts = value.split("-")
    if len(parts) != 4 or parts[0] != "00" or len(parts[3]) != 2:
        return False
    if not (_is_hex(parts[1], 32) and _is_hex(parts[2], 16)):
        return False
    try:
        flags = int(parts[3], 16)
    except ValueError:
        return False
    return not flags & 1 and drops_unsampled_children()


def current_unsampled() -> bool:
    """Whether the current span is a valid, unsampled one, under such a sampler (a child
    span would record nothing)."""
    context = trace.get_current_span().get_span_context()
    sampled = int(context.trace_flags) & TraceFlags.SAMPLED
    return context.is_valid and not sampled and drops_unsampled_children()


def carried(carrier: Mapping[str, Any]) -> dict[str, str]:
    """The propagation fields of a carrier (to pass an unsampled context on as it is)."""
    return {
        key: str(carrier[key]) for key in propagate.get_global_textmap().fields if key in carrier
    }
