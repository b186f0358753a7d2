"""MetricBatch (proto) -> Batch (record): validation with partial success.

Columnar points are validated and mapped with numpy (`columns.py`: no
per-point Python object); MetricPoint rows and events are checked one by
one. A refused row comes back as a Rejected with the path of its field,
relative to the MetricBatch ("points[3].value", "columns[0].values[17]",
"events[2].commit.sha"); a batch with more rows than allowed is refused
whole (INVALID_ARGUMENT).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from maestro.metrics.v1 import metric_pb2, process_event_pb2
from maestro_grpc.clock import to_micros
from maestro_grpc.errors import FieldViolation, InvalidArgument
from maestro_grpc.metrics.model import SOURCE_MANUAL, Batch, PointColumns, Rejected, SeriesKey
from maestro_grpc.metrics.wire.columns import VALID_SOURCES, BlockDecoder, Decoded, SeriesTable
from maestro_grpc.metrics.wire.eventconv import event_from_proto
from maestro_grpc.metrics.wire.validation import canonical_labels, labels_problem, name_problem

# Points may be at most this far in the future (clock skew of agents).
FUTURE_SLACK = timedelta(hours=1)


def row_count(batch: metric_pb2.MetricBatch) -> int:
    return len(batch.points) + sum(len(c.values) for c in batch.columns) + len(batch.events)


class BatchDecoder:
    """Turns one MetricBatch into a Batch, collecting refused rows."""

    def __init__(
        self,
        *,
        now: datetime,
        max_rows: int,
        scope: uuid.UUID | None = None,
        allowed: frozenset[uuid.UUID] | None = None,
        field: str = "batch",
    ) -> None:
        self.now = now
        self.max_rows = max_rows
        # The stream's own project (its StreamOpen), and the caller's
        # token's projects: rows of others are refused one by one.
        self.scope = scope
        self.allowed = allowed
        self.field = field
        self.max_time_us = to_micros(now + FUTURE_SLACK)
        self._name_ok: dict[str, str | None] = {}
        self._blocks = BlockDecoder(self.max_time_us, self._name, self._project)

    def decode(self, message: metric_pb2.MetricBatch) -> Batch:
        rows = row_count(message)
        if rows > self.max_rows:
            why = f"holds {rows} rows (points plus events); at most {self.max_rows}: split it"
            raise InvalidArgument(
                f"{self.field}: {why}",
                reason="BATCH_TOO_LARGE",
                violations=(FieldViolation(self.field, why),),
            )
        batch = Batch(row_count=rows)
        series = SeriesTable()
        parts: list[Decoded] = []
        if message.points:
            parts.append(self._points(message.points, series, batch))
        for i, block in enumerate(message.columns):
            decoded = self._blocks.decode(i, block, series, batch)
            if decoded is not None:
                parts.append(decoded)
        if parts:
            batch.points = PointColumns(
                series=series.keys,
                series_index=np.concatenate([p[0] for p in parts]),
                times=np.concatenate([p[1] for p in parts]),
                values=np.concatenate([p[2] for p in parts]),
                sources=np.concatenate([p[3] for p in parts]),
            )
        for i, event in enumerate(message.events):
            self._event(i, event, batch)
        return batch

    # ---- helpers ---------------------------------------------------------------------

    def _project(self, value: str, field: str, batch: Batch) -> uuid.UUID | None:
        if not value:
            batch.rejected.append(Rejected(field, "is required"))
            return None
        try:
            project = uuid.UUID(value)
        except ValueError:
            batch.rejected.append(Rejected(field, f"{value[:64]!r} is not a UUID"))
            return None
        if self.scope is not None and project != self.scope:
            batch.rejected.append(
                Rejected(field, f"is outside this stream's project scope ({self.scope})")
            )
            return None
        if self.allowed is not None and project not in self.allowed:
            batch.rejected.append(
                Rejected(
                    field,
                    f"this token may not write project {project}",
                    reason="PERMISSION_DENIED",
                )
            )
            return None
        batch.project_fields.setdefault(project, []).append(field)
        return project

    def _name(self, name: str) -> str | None:
        if name not in self._name_ok:
            self._name_ok[name] = name_problem(name)
        return self._name_ok[name]

    def _points(
        self, points: Iterable[metric_pb2.MetricPoint], series: SeriesTable, batch: Batch
    ) -> Decoded:
        idx: list[int] = []
        times: list[int] = []
        values: list[float] = []
        srcs: list[int] = []
        for i, point in enumerate(points):
            at = f"points[{i}]"
            problems, time_us, labels = self._point_problems(at, point)
            if problems:
                batch.rejected.extend(problems)
                continue
            project = self._project(point.project_id, f"{at}.project_id", batch)
            if project is None:
                continue
            idx.append(series.get(SeriesKey(project, point.name, canonical_labels(labels))))
            times.append(time_us)
            values.append(point.value)
            srcs.append(point.source or SOURCE_MANUAL)
        return (
            np.array(idx, dtype=np.int64),
            np.array(times, dtype=np.int64),
            np.array(values, dtype=np.float64),
            np.array(srcs, dtype=np.int16),
        )

    def _point_problems(
        self, at: str, point: metric_pb2.MetricPoint
    ) -> tuple[list[Rejected], int, dict[str, str]]:
        """What is wrong with one point (all of it), its time (us) and labels."""
        problems: list[Rejected] = []
        problem = self._name(point.name)
        if problem:
            problems.append(Rejected(f"{at}.name", problem))
        if not np.isfinite(point.value):
            problems.append(Rejected(f"{at}.value", "must be a finite number"))
        time_us = 0
        if not point.HasField("time"):
            problems.append(Rejected(f"{at}.time", "is required"))
        elif not 0 <= point.time.nanos < 1_000_000_000:
            problems.append(Rejected(f"{at}.time", "nanos must be in [0, 1e9)"))
        else:
            time_us = point.time.seconds * 1_000_000 + point.time.nanos // 1000
            why = self._time_problem(time_us)
            if why:
                problems.append(Rejected(f"{at}.time", why))
        labels = dict(point.labels)
        bad = labels_problem(labels)
        if bad:
            key, why = bad
            problems.append(Rejected(f"{at}.labels" + (f"[{key[:64]}]" if key else ""), why))
        if point.source not in VALID_SOURCES:
            problems.append(Rejected(f"{at}.source", f"{point.source} is not a known value"))
        return problems, time_us, labels

    def _time_problem(self, time_us: int) -> str | None:
        if time_us <= 0:
            return "is required (a time after 1970-01-01T00:00:00Z)"
        if time_us > self.max_time_us:
            return "is more than 1 hour in the future"
        return None

    def _event(self, i: int, event: process_event_pb2.ProcessEvent, batch: Batch) -> None:
        at = f"events[{i}]"
        converted = event_from_proto(event, at, self.now + FUTURE_SLACK)
        if isinstance(converted, Rejected):
            batch.rejected.append(converted)
            return
        project = self._project(event.project_id, f"{at}.project_id", batch)
        if project is None:
            return
        batch.events.append(replace(converted, project_id=project, index=i))
