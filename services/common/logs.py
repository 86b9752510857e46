"""Log lines of a copnet process: JSON lines on stderr (or plain text for the tools),
tagged with the service, the node and the current trace and span ids.

Kept apart from `telemetry` (the OpenTelemetry SDK, gRPC) so that a process that traces
nothing, such as the `copnet up` supervisor, logs without importing them."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

_LOG_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None)))


def _current_span_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids; None without one. A process that never
    imported the OpenTelemetry API has no span, so it is not imported here."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, service, node, logger, message, the current
    trace and span ids, any `extra` fields, and the traceback when there is one."""

    def __init__(self, service: str, node: str = "") -> None:
        super().__init__()
        self.service, self.node = f"copnet-{service}", node

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "node": self.node,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ids = _current_span_ids()
        if ids is not None:
            line["trace_id"], line["span_id"] = ids
        for key, value in vars(record).items():
            if key not in _LOG_RECORD_FIELDS and key not in line and not key.startswith("_"):
                line[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


JsonLines.converter = time.gmtime


def configure_logging(level: str, service: str, node: str = "", json_lines: bool = True) -> None:
    """JSON lines on stderr, or plain text (`json_lines=False`, the command-line tools);
    `COPNET_LOG_FORMAT` (`json` or `text`) decides over both."""
    handler = logging.StreamHandler()
    chosen = os.environ.get("COPNET_LOG_FORMAT", "").lower() or ("json" if json_lines else "text")
    if chosen == "text":
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s %(levelname)s copnet-{service} %(name)s %(message)s")
        )
    else:
        handler.setFormatter(JsonLines(service, node))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("nats").setLevel(logging.WARNING)
