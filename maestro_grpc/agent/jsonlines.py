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

A line that does not parse is reported (line number and reason) on stderr
and skipped; the valid lines are still sent, and the command exits 1. What
the server refuses (a NaN, an unknown project) comes back per row in the
summary.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format

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


def _short_point(obj: dict[str, Any], project_id: str, now: datetime) -> metric_pb2.MetricPoint:
    unknown = set(obj) - {"name", "value", "time", "labels", "source", "project_id"}
    if unknown:
        raise LineError(f"unknown field(s) {', '.join(sorted(unknown))}")
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        raise LineError("'name' must be a non-empty string")
    value = obj.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LineError("'value' must be a number")
    if not math.isfinite(float(value)):
        raise LineError("'value' must be finite")
    when = now
    raw_time = obj.get("time")
    if raw_time is not None:
        if isinstance(raw_time, bool) or not isinstance(raw_time, str | int | float):
            raise LineError("'time' must be an RFC 3339 string or Unix seconds")
        try:
            when = parse_time(str(raw_time), "'time'")
        except CiError as error:
            raise LineError(str(error)) from None
    labels = obj.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise LineError("'labels' must be an object of strings")
    source_name = str(obj.get("source") or "AGENT").upper().removeprefix("METRIC_SOURCE_")
    if source_name not in SOURCES:
        raise LineError(f"'source' must be one of {', '.join(SOURCES)}")
    project = obj.get("project_id") or project_id
    if not isinstance(project, str) or not project:
        raise LineError("no project: give 'project_id' or --project")
    return metric_pb2.MetricPoint(
        project_id=project,
        name=name,
        value=float(value),
        time=timestamp(when),
        labels=labels,
        source=SOURCES[source_name],  # type: ignore[arg-type]
    )


def parse_line(
    line: str, project_id: str, now: datetime
) -> metric_pb2.MetricPoint | process_event_pb2.ProcessEvent | None:
    """A line's point or event; None for a blank line or a comment."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    try:
        obj = json.loads(text)
    except ValueError as error:
        raise LineError(f"not JSON: {error}") from None
    if not isinstance(obj, dict):
        raise LineError("a line must be a JSON object")
    if "point" in obj or "event" in obj:
        if len(obj) != 1:
            raise LineError("'point' or 'event' must be the line's only field")
        kind, body = next(iter(obj.items()))
        return _message(kind, body, project_id, now)
    return _short_point(obj, project_id, now)


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
    lines: Any,
    project_id: str,
    *,
    emit_point: Callable[[metric_pb2.MetricPoint], None],
    emit_event: Callable[[process_event_pb2.ProcessEvent], None],
    on_invalid: Callable[[int, str], None],
    after_line: Callable[[], None] | None = None,
) -> StreamInput:
    """Parse lines (any iterable of str) and emit what they hold."""
    summary = StreamInput()
    for number, line in enumerate(lines, start=1):
        summary.lines += 1
        try:
            parsed = parse_line(line, project_id, datetime.now(UTC))
        except LineError as error:
            summary.invalid.append({"line": number, "error": str(error)})
            on_invalid(number, str(error))
            continue
        if isinstance(parsed, metric_pb2.MetricPoint):
            summary.points += 1
            emit_point(parsed)
        elif parsed is not None:
            summary.events += 1
            emit_event(parsed)
        if after_line is not None:
            after_line()
    return summary
