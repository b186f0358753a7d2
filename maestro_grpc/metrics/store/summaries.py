"""GetMetricSummary's SQL: exact statistics of raw points, and what a merge of rollups needs.

Raw (exact) on both stores: PostgreSQL with percentile_cont and
stddev_samp; SQLite with window functions that pick the two ranks around
each percentile, interpolated here the same way. For a merge of rollups:
the series, the pending rollup windows (their hours are read raw), the
clean daily and hourly rollups, the raw points of the rest, all from one
read.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import from_micros
from maestro_grpc.metrics.model import (
    DAY,
    HOUR,
    PERCENTILES,
    Arrays,
    RawSummary,
    SeriesLabels,
    SummaryQuery,
)
from maestro_grpc.metrics.store.ingest import ROLLUP_QUEUE
from maestro_grpc.metrics.store.points import fetch_points
from maestro_grpc.metrics.store.tables import metric_rollups, metric_series
from maestro_grpc.store.db import Database
from maestro_grpc.store.schema import worker_jobs
from maestro_grpc.store.types import UTCDateTime

Ranges = list[tuple[int, int]]
# Whole days, whole hours (their starts, us) and raw ranges of a window.
Plan = tuple[list[int], list[int], Ranges]


@dataclass(frozen=True)
class RollupColumns:
    """Stored rollups as columns, one entry per rollup, sketches still serialized.

    A year's summary merges 365 daily rollups: as columns their moments
    merge in a few vector operations, where a record and a pairwise merge
    per rollup cost more than reading them.
    """

    series_ids: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]
    sums: npt.NDArray[np.float64]
    m2s: npt.NDArray[np.float64]
    mins: npt.NDArray[np.float64]
    maxs: npt.NDArray[np.float64]
    first_times: list[datetime]
    last_times: list[datetime]
    last_values: list[float]
    sketches: list[bytes]

    @classmethod
    def of(cls, rows: list[tuple[Any, ...]]) -> RollupColumns:
        """From (series id, count, sum, m2, min, max, first time, last time, last value,
        sketch) tuples."""
        columns = list(zip(*rows, strict=True)) if rows else [()] * 10
        return cls(
            series_ids=np.array(columns[0], dtype=np.int64),
            counts=np.array(columns[1], dtype=np.int64),
            sums=np.array(columns[2], dtype=np.float64),
            m2s=np.array(columns[3], dtype=np.float64),
            mins=np.array(columns[4], dtype=np.float64),
            maxs=np.array(columns[5], dtype=np.float64),
            first_times=list(columns[6]),
            last_times=list(columns[7]),
            last_values=[float(v) for v in columns[8]],
            sketches=[bytes(b) for b in columns[9]],
        )

    def __len__(self) -> int:
        return int(self.series_ids.shape[0])


@dataclass
class RollupInputs:
    """What a summary from rollups merges: the series, their rollups, raw points between.

    `raw_points` are (series id, time us, value) arrays of the ranges no
    clean rollup covers, by series and time.
    """

    series: dict[int, SeriesLabels]
    rollups: RollupColumns
    raw_points: list[Arrays]


class SummaryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def first_bucket(self, project_id: uuid.UUID) -> datetime | None:
        """Where the project's oldest rollup starts (None: it has none)."""
        async with self.db.read() as conn:
            first: datetime | None = await conn.scalar(
                select(func.min(metric_rollups.c.bucket_start)).where(
                    metric_rollups.c.series_id.in_(
                        select(metric_series.c.id).where(metric_series.c.project_id == project_id)
                    )
                )
            )
            return first

    async def raw(self, query: SummaryQuery) -> list[RawSummary]:
        """Exact statistics from raw points, grouped by name (and the label's value)."""
        async with self.db.read() as conn:
            if conn.dialect.name == "postgresql":
                return await _raw_pg(conn, query)
            return await _raw_sqlite(conn, query)

    async def rollup_inputs(
        self, query: SummaryQuery, start_us: int, end_us: int, plan: Callable[[Ranges], Plan]
    ) -> RollupInputs | None:
        """What merging rollups over [start, end) needs (None: no series match).

        `plan` splits the window, given the ranges that wait for their
        rollup, into clean days, clean hours and raw ranges.
        """
        async with self.db.read() as conn:
            series = await _series(conn, query)
            if not series:
                return None
            days, hours, raw = plan(await _dirty_ranges(conn, query.project_id))
            ids = list(series)
            rollups: list[tuple[Any, ...]] = []
            for granularity, starts in ((DAY, days), (HOUR, hours)):
                rollups.extend(await _rollups(conn, ids, granularity, starts))
            raw_points: list[Arrays] = []
            for lo, hi in raw:
                sids, times, values = await fetch_points(conn, query.project_id, lo, hi)
                keep = np.isin(sids, np.array(ids, dtype=np.int64))
                raw_points.append((sids[keep], times[keep], values[keep]))
        return RollupInputs(series, RollupColumns.of(rollups), raw_points)


# ---- raw -----------------------------------------------------------------------------


def _base(query: SummaryQuery, dialect: str) -> tuple[str, dict[str, Any]]:
    """The points of the query as (name, g, value, time), and its parameters."""
    clauses = ["s.project_id = :project", "p.time < :end"]
    params: dict[str, Any] = {
        "project": query.project_id if dialect == "postgresql" else query.project_id.hex,
        "end": query.end,
    }
    if query.start is not None:
        clauses.append("p.time >= :start")
        params["start"] = query.start
    if query.names:
        keys = []
        for i, name in enumerate(query.names):
            params[f"name{i}"] = name
            keys.append(f":name{i}")
        clauses.append(f"s.name IN ({', '.join(keys)})")
    if query.name_prefix:
        clauses.append("substr(s.name, 1, :prefix_len) = :prefix")
        params.update(prefix=query.name_prefix, prefix_len=len(query.name_prefix))
    group = "''"
    if query.group_by_label and dialect == "postgresql":
        group = "COALESCE(CAST(s.labels AS jsonb) ->> :label, '')"
        params["label"] = query.group_by_label
    elif query.group_by_label:
        # Label keys are [a-z0-9_.-] (validated), safe inside a JSON path.
        group = "COALESCE(json_extract(s.labels, :label_path), '')"
        params["label_path"] = f'$."{query.group_by_label}"'
    base = (
        f"SELECT s.name AS name, {group} AS g, p.value AS value, p.time AS time "
        f"FROM metric_points p JOIN metric_series s ON s.id = p.series_id "
        f"WHERE {' AND '.join(clauses)}"
    )
    return base, params


def _sql(statement: str, params: dict[str, Any]) -> Any:
    """A text() statement whose time parameters are bound as UTCDateTime (both stores)."""
    clause = text(statement)
    typed = [bindparam(k, type_=UTCDateTime()) for k in ("start", "end") if k in params]
    return clause.bindparams(*typed) if typed else clause


async def _raw_pg(conn: AsyncConnection, query: SummaryQuery) -> list[RawSummary]:
    base, params = _base(query, "postgresql")
    rows = (
        await conn.execute(
            _sql(
                f"WITH b AS ({base}) SELECT name, g, count(*) AS n, min(value) AS lo, "
                "max(value) AS hi, avg(value) AS mean, "
                "coalesce(var_samp(value) * (count(*) - 1), 0) AS m2, "
                "percentile_cont(ARRAY[0.5, 0.9, 0.95, 0.99]) WITHIN GROUP "
                "(ORDER BY value) AS ps, min(time) AS first_time "
                "FROM b GROUP BY name, g ORDER BY name, g",
                params,
            ),
            params,
        )
    ).all()
    last = (
        await conn.execute(
            _sql(
                f"WITH b AS ({base}) SELECT DISTINCT ON (name, g) name, g, value, time "
                "FROM b ORDER BY name, g, time DESC, value DESC",
                params,
            ),
            params,
        )
    ).all()
    latest = {(r.name, r.g): (r.time, float(r.value)) for r in last}
    return [
        RawSummary(
            name=r.name,
            group_value=r.g,
            count=int(r.n),
            mean=float(r.mean),
            m2=float(r.m2),
            min=float(r.lo),
            max=float(r.hi),
            first_time=r.first_time,
            last_time=latest[(r.name, r.g)][0],
            last_value=latest[(r.name, r.g)][1],
            percentiles=(float(r.ps[0]), float(r.ps[1]), float(r.ps[2]), float(r.ps[3])),
        )
        for r in rows
    ]


async def _raw_sqlite(conn: AsyncConnection, query: SummaryQuery) -> list[RawSummary]:
    base, params = _base(query, "sqlite")
    picks = [
        f"max(CASE WHEN rn = CAST({q} * (n - 1) AS INTEGER) THEN value END) AS p{k}_lo, "
        f"max(CASE WHEN rn = CAST({q} * (n - 1) AS INTEGER) + 1 THEN value END) AS p{k}_hi"
        for k, q in enumerate(PERCENTILES)
    ]
    rows = (
        await conn.execute(
            _sql(
                f"WITH b AS ({base}), r AS (SELECT name, g, value, time, "
                "row_number() OVER (PARTITION BY name, g ORDER BY value) - 1 AS rn, "
                "count(*) OVER (PARTITION BY name, g) AS n, "
                "avg(value) OVER (PARTITION BY name, g) AS mean, "
                "row_number() OVER (PARTITION BY name, g ORDER BY time DESC, value DESC) "
                "AS recency FROM b) "
                "SELECT name, g, max(n) AS n, min(value) AS lo, max(value) AS hi, "
                "max(mean) AS mean, sum((value - mean) * (value - mean)) AS m2, "
                "min(time) AS first_time, "
                "max(CASE WHEN recency = 1 THEN value END) AS last_value, "
                "max(CASE WHEN recency = 1 THEN time END) AS last_time, "
                f"{', '.join(picks)} FROM r GROUP BY name, g ORDER BY name, g",
                params,
            ),
            params,
        )
    ).all()
    return [
        RawSummary(
            name=r.name,
            group_value=r.g,
            count=int(r.n),
            mean=float(r.mean),
            m2=float(r.m2),
            min=float(r.lo),
            max=float(r.hi),
            first_time=_sqlite_time(r.first_time),
            last_time=_sqlite_time(r.last_time),
            last_value=float(r.last_value),
            percentiles=_interpolated(r),
        )
        for r in rows
    ]


def _interpolated(row: Any) -> tuple[float, float, float, float]:
    """The percentiles of a SQLite row, from the values at the ranks around each."""
    n = int(row.n)
    values = []
    for k, q in enumerate(PERCENTILES):
        position = q * (n - 1)
        fraction = position - math.floor(position)
        low = float(getattr(row, f"p{k}_lo"))
        high = getattr(row, f"p{k}_hi")
        values.append(low + fraction * (float(high) - low) if fraction > 0 else low)
    return values[0], values[1], values[2], values[3]


def _sqlite_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=from_micros(0).tzinfo)
    micros = int(np.array([value], dtype="datetime64[us]").astype(np.int64)[0])
    return from_micros(micros)


# ---- what a merge of rollups reads ---------------------------------------------------


async def _series(conn: AsyncConnection, query: SummaryQuery) -> dict[int, SeriesLabels]:
    statement = select(metric_series.c.id, metric_series.c.name, metric_series.c.labels).where(
        metric_series.c.project_id == query.project_id
    )
    if query.names:
        statement = statement.where(metric_series.c.name.in_(query.names))
    if query.name_prefix:
        statement = statement.where(
            func.substr(metric_series.c.name, 1, len(query.name_prefix)) == query.name_prefix
        )
    rows = await conn.execute(statement)
    return {int(r.id): SeriesLabels(r.name, json.loads(r.labels)) for r in rows}


async def _dirty_ranges(conn: AsyncConnection, project_id: uuid.UUID) -> Ranges:
    """Windows of the project whose rollups wait for a job (their raw points are newer)."""
    rows = await conn.execute(
        select(worker_jobs.c.payload).where(
            worker_jobs.c.queue == ROLLUP_QUEUE,
            func.substr(worker_jobs.c.key, 1, 37) == f"{project_id}:",
        )
    )
    return sorted((int(r.payload["start_us"]), int(r.payload["end_us"])) for r in rows)


# More separate runs of buckets than this are read by list instead of by range.
MAX_RUNS = 16
# A bucket's width in microseconds, by granularity.
STEP_US = {HOUR: 3_600_000_000, DAY: 86_400_000_000}


def _runs(starts: Sequence[int], step: int) -> list[tuple[int, int]]:
    """Consecutive bucket starts (`step` apart) as [first, last] runs."""
    runs: list[tuple[int, int]] = []
    for t in sorted(starts):
        if runs and t - runs[-1][1] == step:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    return runs


# What a merge reads of a rollup, in RollupColumns.of's order.
_MERGED = (
    metric_rollups.c.series_id,
    metric_rollups.c.count,
    metric_rollups.c.sum,
    metric_rollups.c.m2,
    metric_rollups.c.min,
    metric_rollups.c.max,
    metric_rollups.c.first_time,
    metric_rollups.c.last_time,
    metric_rollups.c.last_value,
    metric_rollups.c.sketch,
)


async def _rollups(
    conn: AsyncConnection, series_ids: list[int], granularity: str, starts: Sequence[int]
) -> list[tuple[Any, ...]]:
    """The rollups of the buckets that start at `starts`, as tuples of `_MERGED`.

    A window's clean days are mostly one run (a year: 365 days with a
    dirty one or two between): a range of the primary key per run is one
    index scan, where a list of 365 bound times costs more to send and
    plan than the rows do to read.
    """
    if not starts:
        return []
    runs = _runs(starts, STEP_US[granularity])
    key = metric_rollups.c
    out: list[tuple[Any, ...]] = []
    if len(runs) <= MAX_RUNS:
        for first, last in runs:
            rows = await conn.execute(
                select(*_MERGED).where(
                    key.series_id.in_(series_ids),
                    key.granularity == granularity,
                    key.bucket_start >= from_micros(first),
                    key.bucket_start <= from_micros(last),
                )
            )
            out.extend(rows)
        return out
    for chunk in range(0, len(starts), 500):
        wanted = [from_micros(t) for t in starts[chunk : chunk + 500]]
        rows = await conn.execute(
            select(*_MERGED).where(
                key.series_id.in_(series_ids),
                key.granularity == granularity,
                key.bucket_start.in_(wanted),
            )
        )
        out.extend(rows)
    return out
