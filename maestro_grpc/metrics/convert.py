"""MetricBatch (proto) -> Batch (domain): validation with partial success, and back for the feed.

Columnar points are validated and mapped with numpy (no per-point Python
object); MetricPoint rows and events are checked one by one. A refused row
comes back as a Rejected with the path of its field, relative to the
MetricBatch ("points[3].value", "columns[0].values[17]",
"events[2].commit.sha"); a batch with more rows than allowed is refused
whole (INVALID_ARGUMENT).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from maestro.metrics.v1 import metric_pb2, process_event_pb2
from maestro_grpc.clock import to_micros
from maestro_grpc.errors import FieldViolation, InvalidArgument
from maestro_grpc.metrics.eventconv import event_from_proto
from maestro_grpc.metrics.model import (
    SOURCE_MANUAL,
    Batch,
    PointColumns,
    Rejected,
    SeriesKey,
)
from maestro_grpc.metrics.validation import canonical_labels, labels_problem, name_problem

# Points may be at most this far in the future (clock skew of agents).
FUTURE_SLACK = timedelta(hours=1)
VALID_SOURCES = frozenset(range(0, 6))


def row_count(batch: metric_pb2.MetricBatch) -> int:
    return len(batch.points) + sum(len(c.values) for c in batch.columns) + len(batch.events)


class _Series:
    """Interns SeriesKeys into indexes of one batch's series table."""

    def __init__(self) -> None:
        self.keys: list[SeriesKey] = []
        self.index: dict[SeriesKey, int] = {}

    def get(self, key: SeriesKey) -> int:
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.keys)
            self.keys.append(key)
        return found


class BatchDecoder:
    """Turns one MetricBatch into a Batch, collecting refused rows."""

    def __init__(
        self,
        *,
        now: datetime,
        max_rows: int,
        scope: uuid.UUID | None = None,
        field: str = "batch",
    ) -> None:
        self.now = now
        self.max_rows = max_rows
        self.scope = scope
        self.field = field
        self.max_time_us = to_micros(now + FUTURE_SLACK)
        self._name_ok: dict[str, str | None] = {}

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
        series = _Series()
        parts: list[tuple[npt.NDArray[np.int64], ...]] = []
        sources: list[npt.NDArray[np.int16]] = []
        if message.points:
            s, t, v, src = self._points(message.points, series, batch)
            parts.append((s, t))
            sources.append(src)
            values = [v]
        else:
            values = []
        for i, block in enumerate(message.columns):
            decoded = self._columns(i, block, series, batch)
            if decoded is not None:
                s, t, v, src = decoded
                parts.append((s, t))
                values.append(v)
                sources.append(src)
        if parts:
            batch.points = PointColumns(
                series=series.keys,
                series_index=np.concatenate([p[0] for p in parts]),
                times=np.concatenate([p[1] for p in parts]),
                values=np.concatenate(values),
                sources=np.concatenate(sources),
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
        batch.project_fields.setdefault(project, []).append(field)
        return project

    def _name(self, name: str) -> str | None:
        if name not in self._name_ok:
            self._name_ok[name] = name_problem(name)
        return self._name_ok[name]

    def _points(
        self,
        points: Iterable[metric_pb2.MetricPoint],
        series: _Series,
        batch: Batch,
    ) -> tuple[
        npt.NDArray[np.int64],
        npt.NDArray[np.int64],
        npt.NDArray[np.float64],
        npt.NDArray[np.int16],
    ]:
        idx: list[int] = []
        times: list[int] = []
        values: list[float] = []
        srcs: list[int] = []
        for i, point in enumerate(points):
            at = f"points[{i}]"
            problems: list[Rejected] = []
            problem = self._name(point.name)
            if problem:
                problems.append(Rejected(f"{at}.name", problem))
            if not np.isfinite(point.value):
                problems.append(Rejected(f"{at}.value", "must be a finite number"))
            time_us = 0
            if not point.HasField("time"):
                problems.append(Rejected(f"{at}.time", "is required"))
            else:
                ts = point.time
                if not 0 <= ts.nanos < 1_000_000_000:
                    problems.append(Rejected(f"{at}.time", "nanos must be in [0, 1e9)"))
                else:
                    time_us = ts.seconds * 1_000_000 + ts.nanos // 1000
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

    def _time_problem(self, time_us: int) -> str | None:
        if time_us <= 0:
            return "is required (a time after 1970-01-01T00:00:00Z)"
        if time_us > self.max_time_us:
            return "is more than 1 hour in the future"
        return None

    def _columns(
        self,
        i: int,
        block: metric_pb2.MetricColumns,
        series: _Series,
        batch: Batch,
    ) -> (
        tuple[
            npt.NDArray[np.int64],
            npt.NDArray[np.int64],
            npt.NDArray[np.float64],
            npt.NDArray[np.int16],
        ]
        | None
    ):
        at = f"columns[{i}]"
        n = len(block.values)
        mismatch = [
            f"{name} has {length}"
            for name, length in (
                ("times_unix_micros", len(block.times_unix_micros)),
                ("name_indexes", len(block.name_indexes)),
            )
            if length != n
        ]
        if block.label_set_indexes and len(block.label_set_indexes) != n:
            mismatch.append(f"label_set_indexes has {len(block.label_set_indexes)}")
        if mismatch:
            batch.rejected.append(
                Rejected(
                    at,
                    f"values has {n} entries but {', '.join(mismatch)}: every point of the "
                    "block is refused",
                )
            )
            return None
        if block.source not in VALID_SOURCES:
            batch.rejected.append(
                Rejected(f"{at}.source", f"{block.source} is not a known value; block refused")
            )
            return None
        if n == 0:
            return None
        if not block.project_id or not _is_uuid(block.project_id):
            why = (
                "is required"
                if not block.project_id
                else f"{block.project_id[:64]!r} is not a UUID"
            )
            batch.rejected.append(Rejected(f"{at}.project_id", f"{why}; block refused"))
            return None
        values = np.array(block.values, dtype=np.float64)
        times = np.array(block.times_unix_micros, dtype=np.int64)
        name_idx = np.array(block.name_indexes, dtype=np.int64)
        n_names = len(block.names)
        n_sets = len(block.label_sets)
        if block.label_set_indexes:
            set_idx = np.array(block.label_set_indexes, dtype=np.int64)
        else:
            set_idx = np.full(n, -1, dtype=np.int64)

        ok = np.ones(n, dtype=bool)
        # Per-row problems, vectorised; reported in row order below.
        bad_name_index = name_idx >= n_names
        bad_set_index = set_idx >= n_sets
        bad_value = ~np.isfinite(values)
        bad_time_missing = times <= 0
        bad_time_future = times > self.max_time_us
        for mask, field, why in (
            (bad_name_index, "name_indexes", f"is not an index into names ({n_names} names)"),
            (bad_set_index, "label_set_indexes", f"is not an index into label_sets ({n_sets})"),
            (bad_value, "values", "must be a finite number"),
            (bad_time_missing, "times_unix_micros", "is required (a time after 1970-01-01)"),
            (bad_time_future, "times_unix_micros", "is more than 1 hour in the future"),
        ):
            if mask.any():
                for k in np.flatnonzero(mask & ok).tolist():
                    batch.rejected.append(Rejected(f"{at}.{field}[{k}]", why))
                ok &= ~mask
        # Bad names and label sets refuse the points that use them, once each.
        for j, name in enumerate(block.names):
            problem = self._name(name)
            if problem:
                uses = ok & (name_idx == j)
                count = int(uses.sum())
                batch.rejected.append(
                    Rejected(f"{at}.names[{j}]", f"{problem}; its {count} points are refused")
                )
                ok &= ~uses
        set_texts: list[str] = []
        for j, label_set in enumerate(block.label_sets):
            labels = dict(label_set.labels)
            bad = labels_problem(labels)
            set_texts.append(canonical_labels(labels))
            if bad:
                key, why = bad
                uses = ok & (set_idx == j)
                batch.rejected.append(
                    Rejected(
                        f"{at}.label_sets[{j}]" + (f".labels[{key[:64]}]" if key else ""),
                        f"{why}; its {int(uses.sum())} points are refused",
                    )
                )
                ok &= ~uses
        if not ok.any():
            return None
        project = self._project(block.project_id, f"{at}.project_id", batch)
        if project is None:
            return None
        if not ok.all():
            values, times, name_idx, set_idx = values[ok], times[ok], name_idx[ok], set_idx[ok]
        # Map each (name, label set) pair to the batch's series table.
        pair = name_idx * (n_sets + 1) + (set_idx + 1)
        unique_pairs, inverse = np.unique(pair, return_inverse=True)
        mapping = np.empty(unique_pairs.shape[0], dtype=np.int64)
        for u, code in enumerate(unique_pairs.tolist()):
            name = block.names[code // (n_sets + 1)]
            s = code % (n_sets + 1) - 1
            labels_text = set_texts[s] if s >= 0 else "{}"
            mapping[u] = series.get(SeriesKey(project, name, labels_text))
        source = block.source or SOURCE_MANUAL
        return (
            mapping[inverse.reshape(-1)],
            times,
            values,
            np.full(values.shape[0], source, dtype=np.int16),
        )

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


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
