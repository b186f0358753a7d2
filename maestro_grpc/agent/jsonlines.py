"""`maestro agent stream`: points and events as JSON lines on stdin.

SCHEMA (one JSON object per line; blank lines and lines starting with `#` are
ignored):

  A metric point, short form:
    {"name": "train.loss", "value": 0.25, "time": "2025-01-31T12:00:00Z",
     "labels": {"model": "resnet"}, "source": "MANUAL"}
    - name: required, 1-200 characters of [a-z0-9_.:-]
    - value: required, a finite number
    - time: optional, RFC 3339 (a time without zone is UTC) or Unix seconds;
      now when absent
    - labels: optional, string to string
    - source: optional, GIT, CI, MLFLOW, AGENT or MANUAL; AGENT when absent
    - project_id: optional, --project when absent

  A metric point, full form: {"point": <maestro.metrics.v1.MetricPoint>}
  An event: {"event": <maestro.metrics.v1.ProcessEvent>}
    Both in protobuf's JSON mapping: the proto field names (snake_case or
    lowerCamelCase), RFC 3339 timestamps, durations as "1.5s", enum values by
    name. project_id defaults to --project; a point's time to now. Example:
    {"event": {"deployment": {"deployment_id": "d-42", "environment":
     "production", "status": "DEPLOYMENT_STATUS_SUCCEEDED",
     "deploy_time": "2025-01-31T12:00:00Z",
     "commit_shas": ["1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"]}}}

Short-form points are sent as columns (no message per point), full-form
points as messages: within one batch the two forms of one identity are not
ordered against each other, so send one form per series.

A line that does not parse is reported (line number and reason) on stderr
and skipped; the valid lines are still sent, and the command exits 1. What
the server refuses (a NaN, an unknown project) comes back per row in the
summary.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from google.protobuf import json_format, timestamp_pb2

from maestro.metrics.v1 import metric_pb2, process_event_pb2
from maestro_grpc.agent.ci import CiError, parse_time, timestamp

SOURCES = {
    name.removeprefix("METRIC_SOURCE_"): value
    for name, value in metric_pb2.MetricSource.items()
    if value != metric_pb2.METRIC_SOURCE_UNSPECIFIED
}


class LineError(ValueError):
    """A line that is not a point or an event."""


@dataclass
class StreamInput:
    """What stdin held (the `--json` summary's `collected`)."""

    lines: int = 0
    points: int = 0
    events: int = 0
    invalid: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "points": self.points,
            "events": self.events,
            "invalid_lines": len(self.invalid),
            "invalid": self.invalid[:100],
        }


# A short-form point, ready for a columnar block:
# (project_id, source, name, value, time in Unix microseconds, labels or None).
ShortPoint = tuple[str, int, str, float, int, dict[str, str] | None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Unix seconds of years 1 and 9999 (what a Timestamp can hold).
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799
_SHORT_FIELDS = frozenset({"name", "value", "time", "labels", "source", "project_id"})


def _micros(raw: object) -> int:
    """A short form's `time` in Unix microseconds."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise LineError("'time' must be an RFC 3339 string or Unix seconds")
    if not isinstance(raw, str):
        if not math.isfinite(raw) or not _MIN_SECONDS <= raw <= _MAX_SECONDS:
            raise LineError(f"'time' {raw!r} is out of range")
        return round(raw * 1_000_000)
    try:
        if raw[4:5] == "-":  # RFC 3339, the common case, directly
            try:
                when = datetime.fromisoformat(raw)
            except ValueError:
                when = parse_time(raw, "'time'")
        else:
            when = parse_time(raw, "'time'")
    except CiError as error:
        raise LineError(str(error)) from None
    except (OverflowError, OSError, ValueError):
        raise LineError(f"'time' {raw!r} is out of range") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // _MICROSECOND


def _short_fields(obj: dict[str, Any], project_id: str, now_us: int) -> ShortPoint:
    """Checks a short-form point; its fields. The hot path of `agent stream`:
    no message is built per point (the batch builder keeps columns)."""
    if not _SHORT_FIELDS.issuperset(obj):
        unknown = set(obj) - _SHORT_FIELDS
        raise LineError(f"unknown field(s) {', '.join(sorted(unknown))}")
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        raise LineError("'name' must be a non-empty string")
    value = obj.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LineError("'value' must be a number")
    value = float(value)
    if not math.isfinite(value):
        raise LineError("'value' must be finite")
    raw_time = obj.get("time")
    micros = now_us if raw_time is None else _micros(raw_time)
    labels = obj.get("labels") or None
    if labels is not None and (
        not isinstance(labels, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
    ):
        raise LineError("'labels' must be an object of strings")
    source = obj.get("source")
    if source is None:
        code: int = metric_pb2.METRIC_SOURCE_AGENT
    else:
        source_name = str(source).upper().removeprefix("METRIC_SOURCE_")
        if source_name not in SOURCES:
            raise LineError(f"'source' must be one of {', '.join(SOURCES)}")
        code = SOURCES[source_name]
    project = obj.get("project_id") or project_id
    if not isinstance(project, str) or not project:
        raise LineError("no project: give 'project_id' or --project")
    return project, code, name, value, micros, labels


def _short_point(obj: dict[str, Any], project_id: str, now: datetime) -> metric_pb2.MetricPoint:
    project, source, name, value, micros, labels = _short_fields(
        obj, project_id, (now - _EPOCH) // _MICROSECOND
    )
    seconds, rest = divmod(micros, 1_000_000)
    return metric_pb2.MetricPoint(
        project_id=project,
        name=name,
        value=value,
        time=timestamp_pb2.Timestamp(seconds=seconds, nanos=rest * 1000),
        labels=labels or {},
        source=source,  # type: ignore[arg-type]
    )


def parse_line(
    line: str | bytes, project_id: str, now: datetime
) -> metric_pb2.MetricPoint | process_event_pb2.ProcessEvent | None:
    """A line's point or event; None for a blank line or a comment."""
    parsed = _parse(line, project_id, now)
    if isinstance(parsed, tuple):
        return _short_point(parsed[0], project_id, now)
    return parsed


def _parse(
    line: str | bytes, project_id: str, now: datetime | None
) -> tuple[dict[str, Any]] | metric_pb2.MetricPoint | process_event_pb2.ProcessEvent | None:
    """A line's event or full-form point; a short-form point's object, in a 1-tuple,
    still to check; None for a blank line or a comment."""
    text = line.strip()
    if not text or text[:1] in ("#", b"#"):
        return None
    try:
        obj = orjson.loads(text)
    except ValueError as error:
        raise LineError(f"not JSON: {error}") from None
    if not isinstance(obj, dict):
        raise LineError("a line must be a JSON object")
    if "point" in obj or "event" in obj:
        if len(obj) != 1:
            raise LineError("'point' or 'event' must be the line's only field")
        kind, body = next(iter(obj.items()))
        return _message(kind, body, project_id, now or datetime.now(UTC))
    return (obj,)


def _message(
    kind: str, body: object, project_id: str, now: datetime
) -> metric_pb2.MetricPoint | process_event_pb2.ProcessEvent:
    """`{"point": {...}}` or `{"event": {...}}`: the message in its proto JSON form."""
    if not isinstance(body, dict):
        raise LineError(f"'{kind}' must be an object")
    message: metric_pb2.MetricPoint | process_event_pb2.ProcessEvent
    message = metric_pb2.MetricPoint() if kind == "point" else process_event_pb2.ProcessEvent()
    try:
        json_format.ParseDict(body, message)
    except json_format.ParseError as error:
        raise LineError(f"bad {kind}: {error}") from None
    if not message.project_id:
        if not project_id:
            raise LineError("no project: give 'project_id' or --project")
        message.project_id = project_id
    if isinstance(message, metric_pb2.MetricPoint):
        if not message.HasField("time"):
            message.time.CopyFrom(timestamp(now))
        if not message.source:
            message.source = metric_pb2.METRIC_SOURCE_AGENT
    elif message.WhichOneof("kind") is None:
        raise LineError("an event needs one kind (commit, deployment, incident, ...)")
    return message


def read_lines(
    lines: Iterable[str | bytes],
    project_id: str,
    *,
    emit_point: Callable[[metric_pb2.MetricPoint], None],
    emit_event: Callable[[process_event_pb2.ProcessEvent], None],
    on_invalid: Callable[[int, str], None],
    emit_short: Callable[[ShortPoint], None] | None = None,
) -> StreamInput:
    """Parse lines (any iterable of str or bytes) and emit what they hold.

    With `emit_short`, short-form points are handed over as plain fields (the
    batch builder keeps them as columns); without it, as MetricPoints.
    """
    summary = StreamInput()
    points = events = 0
    number = 0
    for number, line in enumerate(lines, start=1):
        try:
            parsed = _parse(line, project_id, None)
            if isinstance(parsed, tuple):
                if emit_short is not None:
                    emit_short(_short_fields(parsed[0], project_id, time.time_ns() // 1000))
                else:
                    emit_point(_short_point(parsed[0], project_id, datetime.now(UTC)))
                points += 1
            elif isinstance(parsed, metric_pb2.MetricPoint):
                points += 1
                emit_point(parsed)
            elif parsed is not None:
                events += 1
                emit_event(parsed)
        except LineError as error:
            summary.invalid.append({"line": number, "error": str(error)})
            on_invalid(number, str(error))
    summary.lines, summary.points, summary.events = number, points, events
    return summary
