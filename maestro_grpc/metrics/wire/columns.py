"""One MetricColumns block -> columns of a Batch, validated with numpy (no per-point object).

A refused row comes back as a Rejected naming its field relative to the
MetricBatch ("columns[0].values[17]"); a name or label set that is bad
refuses the points that use it, once; a block whose shape is wrong, whose
source is unknown or whose project id is malformed is refused whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from maestro.metrics.v1 import metric_pb2
from maestro_grpc.metrics.model import SOURCE_MANUAL, Batch, Rejected, SeriesKey
from maestro_grpc.metrics.wire.validation import canonical_labels, labels_problem

VALID_SOURCES = frozenset(range(0, 6))
# Per point: its series (an index into the batch's series table), time, value, source.
Decoded = tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int16],
]
Bools = npt.NDArray[np.bool_]


class SeriesTable:
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


@dataclass
class _Rows:
    """A block's per-point arrays (label set -1: none)."""

    values: npt.NDArray[np.float64]
    times: npt.NDArray[np.int64]
    names: npt.NDArray[np.int64]
    sets: npt.NDArray[np.int64]

    def subset(self, keep: Bools) -> _Rows:
        return _Rows(self.values[keep], self.times[keep], self.names[keep], self.sets[keep])


@dataclass
class BlockDecoder:
    """Decodes the blocks of one batch (the checks that need the decoder's state are given)."""

    max_time_us: int
    name_problem: Callable[[str], str | None]
    project: Callable[[str, str, Batch], uuid.UUID | None]

    def decode(
        self, i: int, block: metric_pb2.MetricColumns, series: SeriesTable, batch: Batch
    ) -> Decoded | None:
        """The block's kept points, or None when none is kept (its refusals in `batch`)."""
        at = f"columns[{i}]"
        if _refused_whole(at, block, batch):
            return None
        n = len(block.values)
        rows = _Rows(
            np.array(block.values, dtype=np.float64),
            np.array(block.times_unix_micros, dtype=np.int64),
            np.array(block.name_indexes, dtype=np.int64),
            np.array(block.label_set_indexes, dtype=np.int64)
            if block.label_set_indexes
            else np.full(n, -1, dtype=np.int64),
        )
        ok = self._rows_ok(at, block, rows, batch)
        ok = self._names_ok(at, block, rows, ok, batch)
        set_texts, ok = _label_sets_ok(at, block, rows, ok, batch)
        if not ok.any():
            return None
        project = self.project(block.project_id, f"{at}.project_id", batch)
        if project is None:
            return None
        if not ok.all():
            rows = rows.subset(ok)
        source = block.source or SOURCE_MANUAL
        return (
            _series_indexes(block, project, rows, set_texts, series),
            rows.times,
            rows.values,
            np.full(rows.values.shape[0], source, dtype=np.int16),
        )

    def _rows_ok(
        self, at: str, block: metric_pb2.MetricColumns, rows: _Rows, batch: Batch
    ) -> Bools:
        """Per-row problems, vectorised; reported in row order, each row once."""
        n_names, n_sets = len(block.names), len(block.label_sets)
        ok = np.ones(rows.values.shape[0], dtype=bool)
        for mask, field, why in (
            (
                rows.names >= n_names,
                "name_indexes",
                f"is not an index into names ({n_names} names)",
            ),
            (
                rows.sets >= n_sets,
                "label_set_indexes",
                f"is not an index into label_sets ({n_sets})",
            ),
            (~np.isfinite(rows.values), "values", "must be a finite number"),
            (rows.times <= 0, "times_unix_micros", "is required (a time after 1970-01-01)"),
            (
                rows.times > self.max_time_us,
                "times_unix_micros",
                "is more than 1 hour in the future",
            ),
        ):
            if mask.any():
                for k in np.flatnonzero(mask & ok).tolist():
                    batch.rejected.append(Rejected(f"{at}.{field}[{k}]", why))
                ok &= ~mask
        return ok

    def _names_ok(
        self, at: str, block: metric_pb2.MetricColumns, rows: _Rows, ok: Bools, batch: Batch
    ) -> Bools:
        """Bad names refuse the points that use them, once each."""
        for j, name in enumerate(block.names):
            problem = self.name_problem(name)
            if problem:
                uses = ok & (rows.names == j)
                count = int(uses.sum())
                batch.rejected.append(
                    Rejected(f"{at}.names[{j}]", f"{problem}; its {count} points are refused")
                )
                ok &= ~uses
        return ok


def _refused_whole(at: str, block: metric_pb2.MetricColumns, batch: Batch) -> bool:
    """Whether the block is refused (or empty) before any of its rows is looked at."""
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
        why = f"values has {n} entries but {', '.join(mismatch)}: every point of the block"
        batch.rejected.append(Rejected(at, f"{why} is refused"))
        return True
    if block.source not in VALID_SOURCES:
        batch.rejected.append(
            Rejected(f"{at}.source", f"{block.source} is not a known value; block refused")
        )
        return True
    if n == 0:
        return True
    if not block.project_id or not _is_uuid(block.project_id):
        why = "is required" if not block.project_id else f"{block.project_id[:64]!r} is not a UUID"
        batch.rejected.append(Rejected(f"{at}.project_id", f"{why}; block refused"))
        return True
    return False


def _label_sets_ok(
    at: str, block: metric_pb2.MetricColumns, rows: _Rows, ok: Bools, batch: Batch
) -> tuple[list[str], Bools]:
    """The label sets' stored texts; bad sets refuse the points that use them, once each."""
    set_texts: list[str] = []
    for j, label_set in enumerate(block.label_sets):
        labels = dict(label_set.labels)
        bad = labels_problem(labels)
        set_texts.append(canonical_labels(labels))
        if bad:
            key, why = bad
            uses = ok & (rows.sets == j)
            batch.rejected.append(
                Rejected(
                    f"{at}.label_sets[{j}]" + (f".labels[{key[:64]}]" if key else ""),
                    f"{why}; its {int(uses.sum())} points are refused",
                )
            )
            ok &= ~uses
    return set_texts, ok


def _series_indexes(
    block: metric_pb2.MetricColumns,
    project: uuid.UUID,
    rows: _Rows,
    set_texts: list[str],
    series: SeriesTable,
) -> npt.NDArray[np.int64]:
    """Each point's index into the batch's series table, by its (name, label set) pair."""
    n_sets = len(block.label_sets)
    pair = rows.names * (n_sets + 1) + (rows.sets + 1)
    unique_pairs, inverse = np.unique(pair, return_inverse=True)
    mapping = np.empty(unique_pairs.shape[0], dtype=np.int64)
    for u, code in enumerate(unique_pairs.tolist()):
        name = block.names[code // (n_sets + 1)]
        s = code % (n_sets + 1) - 1
        labels_text = set_texts[s] if s >= 0 else "{}"
        mapping[u] = series.get(SeriesKey(project, name, labels_text))
    indexes: npt.NDArray[np.int64] = mapping[inverse.reshape(-1)]
    return indexes


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
