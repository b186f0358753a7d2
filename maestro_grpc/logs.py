"""Structured logging: one JSON object per line, with the call's request id (and, when the
call is traced, its trace and span ids)."""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from datetime import UTC, datetime
from typing import Any

from maestro_grpc import tracing
from maestro_grpc.interceptors.request_id import request_id_var

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# json.dumps(..., default=str) builds an encoder on every call: one for every line.
_ENCODER = json.JSONEncoder(default=str)


def timestamp(created: float) -> str:
    """`datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")`, the same to
    the character at a fraction of the cost (the access log stamps every call): the date
    and time of day are kept for the current second; the microseconds are rounded as
    datetime rounds them (half to even, a carry into the next second included)."""
    global _second
    fraction, whole = math.modf(created)
    micros = round(fraction * 1e6)
    if created < 0 or micros >= 1_000_000:
        return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    second = int(whole)
    kept = _second
    if kept[0] != second:
        kept = _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{kept[1]}.{micros // 1000:03d}+00:00"


_second: tuple[int, str] = (-1, "")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid != "-":
            entry["request_id"] = rid
        ids = tracing.current_ids()
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        attributes = vars(record)
        for key in [k for k in attributes if k not in _STANDARD]:
            if not key.startswith("_"):
                entry[key] = attributes[key]
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


def configure(level: str = "INFO") -> None:
    """Send every log record to stderr as JSON lines."""
    # The access log writes a line per call: skip what it never uses (the
    # caller's frame, thread and process names; logging's documented knobs).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter stays at warning unless asked for.
    for noisy in ("alembic", "sqlalchemy", "botocore", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
