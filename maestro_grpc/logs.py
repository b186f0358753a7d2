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


def _entry(created: float, level: str, name: str, message: str) -> dict[str, Any]:
    """A line's first fields, and the ids of the call it is logged in."""
    entry: dict[str, Any] = {
        "ts": timestamp(created),
        "level": level,
        "logger": name,
        "msg": message,
    }
    rid = request_id_var.get()
    if rid != "-":
        entry["request_id"] = rid
    ids = tracing.current_ids()
    if ids is not None:
        entry["trace_id"], entry["span_id"] = ids
    return entry


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = _entry(record.created, record.levelname.lower(), record.name, record.getMessage())
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
    global _configured
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    _configured = handler
    root.setLevel(level)
    # Third-party chatter stays at warning unless asked for.
    for noisy in ("alembic", "sqlalchemy", "botocore", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


# The handler `configure` installed (None until it runs).
_configured: logging.StreamHandler[Any] | None = None


class DirectLog:
    """Info lines of one logger written as `configure`'s handler would write them, without
    a LogRecord, the logger's dispatch or the generic formatter: the access log writes a
    line per call, and through `logging` a line cost GetProject about a tenth of its CPU.

    It writes only while nothing but that handler would see the line: the logger has
    no handlers or filters of its own, propagates to the root, whose only handler is
    that one (unfiltered, still this formatter's), and info is enabled. Otherwise
    (a test's caplog, an operator's own logging setup) `info` returns False and the
    caller logs through `logging` as usual.
    """

    __slots__ = ("_logger", "_root")

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._root = logging.getLogger()

    def info(self, message: str, fields: dict[str, Any]) -> bool:
        """Write `message` with `fields` (the `extra` of a logging call) if this may; say
        whether it did."""
        handler = _configured
        logger = self._logger
        handlers = self._root.handlers
        if (
            handler is None
            or len(handlers) != 1
            or handlers[0] is not handler
            or logger.handlers
            or logger.filters
            or handler.filters
            or not logger.propagate
            or type(handler.formatter) is not JsonFormatter
            or not logger.isEnabledFor(logging.INFO)
        ):
            return False
        entry = _entry(time.time(), "info", logger.name, message)
        entry.update(fields)
        line = _ENCODER.encode(entry) + handler.terminator
        handler.acquire()
        try:
            handler.stream.write(line)
            handler.flush()
        except Exception:
            return False  # logging reports it (StreamHandler.handleError)
        finally:
            handler.release()
        return True
