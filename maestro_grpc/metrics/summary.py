"""GetMetricSummary's domain: exact summaries from raw points, or merged from rollups.

Raw (exact) on both stores: PostgreSQL with percentile_cont and
stddev_samp; SQLite with window functions that pick the two ranks around
each percentile and interpolate them the same way. Windows longer than
MAESTRO_METRICS_SUMMARY_RAW_MAX_DAYS, or reaching back past the raw-point
retention, merge daily and hourly rollups instead, reading raw points only
for the partial hours at the edges and for hours whose rollup is not done
yet; their percentiles come from the merged sketch (1% relative error).
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import from_micros, to_micros
from maestro_grpc.metrics.domain.sketch import Sketch
from maestro_grpc.metrics.domain.stats import Moments
from maestro_grpc.metrics.domain.windows import DAY_US, HOUR_US
from maestro_grpc.metrics.model import PERCENTILES
from maestro_grpc.metrics.rollup import DAY, HOUR, Rollup, hourly
from maestro_grpc.metrics.store import points
from maestro_grpc.metrics.store.ingest import ROLLUP_QUEUE
from maestro_grpc.metrics.store.tables import metric_rollups, metric_series
from maestro_grpc.store.db import Database
from maestro_grpc.store.schema import worker_jobs
from maestro_grpc.store.types import UTCDateTime

MAX_RAW_RANGES = 200


@dataclass(frozen=True)
class SummaryQuery:
    project_id: uuid.UUID
    names: tuple[str, ...]
    name_prefix: str
    start: datetime | None
    end: datetime
    group_by_label: str


@dataclass
class Summary:
    name: str
    group_value: str
    moments: Moments
    percentiles: tuple[float, float, float, float]
    from_rollups: bool


def _label_path(label: str) -> str:
    # Label keys are [a-z0-9_.-] (validated), safe inside a JSON path.
    return f'$."{label}"'


def _filters(query: SummaryQuery, dialect: str) -> tuple[str, dict[str, Any]]:
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
    return " AND ".join(clauses), params


def _group_expression(query: SummaryQuery, dialect: str) -> str:
    if not query.group_by_label:
        return "''"
    if dialect == "postgresql":
        return "COALESCE(CAST(s.labels AS jsonb) ->> :label, '')"
    return "COALESCE(json_extract(s.labels, :label_path), '')"


def _sql(statement: str, params: dict[str, Any]) -> Any:
    """A text() statement whose time parameters are bound as UTCDateTime (both stores)."""
    clause = text(statement)
    typed = [bindparam(k, type_=UTCDateTime()) for k in ("start", "end") if k in params]
    return clause.bindparams(*typed) if typed else clause


async def raw_summaries(conn: AsyncConnection, query: SummaryQuery) -> list[Summary]:
    """Exact summaries from raw points, grouped by name (and the label's value)."""
    dialect = conn.dialect.name
    where, params = _filters(query, dialect)
    group = _group_expression(query, dialect)
    if query.group_by_label:
        params["label"] = query.group_by_label
        params["label_path"] = _label_path(query.group_by_label)
    base = (
        f"SELECT s.name AS name, {group} AS g, p.value AS value, p.time AS time "
        f"FROM metric_points p JOIN metric_series s ON s.id = p.series_id WHERE {where}"
    )
    if dialect == "postgresql":
        params.pop("label_path", None)
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
            Summary(
                name=r.name,
                group_value=r.g,
                moments=Moments(
                    count=int(r.n),
                    mean=float(r.mean),
                    m2=float(r.m2),
                    min=float(r.lo),
                    max=float(r.hi),
                    first_time=r.first_time,
                    last_time=latest[(r.name, r.g)][0],
                    last_value=latest[(r.name, r.g)][1],
                ),
                percentiles=(
                    float(r.ps[0]),
                    float(r.ps[1]),
                    float(r.ps[2]),
                    float(r.ps[3]),
                ),
                from_rollups=False,
            )
            for r in rows
        ]
    params.pop("label", None)
    picks = []
    for k, q in enumerate(PERCENTILES):
        picks.append(
            f"max(CASE WHEN rn = CAST({q} * (n - 1) AS INTEGER) THEN value END) AS p{k}_lo, "
            f"max(CASE WHEN rn = CAST({q} * (n - 1) AS INTEGER) + 1 THEN value END) AS p{k}_hi"
        )
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
    out = []
    for r in rows:
        n = int(r.n)
        values = []
        for k, q in enumerate(PERCENTILES):
            position = q * (n - 1)
            fraction = position - math.floor(position)
            low = float(getattr(r, f"p{k}_lo"))
            high = getattr(r, f"p{k}_hi")
            values.append(low + fraction * (float(high) - low) if fraction > 0 else low)
        out.append(
            Summary(
                name=r.name,
                group_value=r.g,
                moments=Moments(
                    count=n,
                    mean=float(r.mean),
                    m2=float(r.m2),
                    min=float(r.lo),
                    max=float(r.hi),
                    first_time=_sqlite_time(r.first_time),
                    last_time=_sqlite_time(r.last_time),
                    last_value=float(r.last_value),
                ),
                percentiles=(values[0], values[1], values[2], values[3]),
                from_rollups=False,
            )
        )
    return out


def _sqlite_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=from_micros(0).tzinfo)
    micros = int(np.array([value], dtype="datetime64[us]").astype(np.int64)[0])
    return from_micros(micros)


# ---- from rollups ------------------------------------------------------------------


@dataclass(frozen=True)
class _Series:
    name: str
    labels: dict[str, str]


async def _series(conn: AsyncConnection, query: SummaryQuery) -> dict[int, _Series]:
    import json

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
    return {int(r.id): _Series(r.name, json.loads(r.labels)) for r in rows}


async def dirty_ranges(conn: AsyncConnection, project_id: uuid.UUID) -> list[tuple[int, int]]:
    """Windows of the project whose rollups wait for a job (their raw points are newer)."""
    rows = await conn.execute(
        select(worker_jobs.c.payload).where(
            worker_jobs.c.queue == ROLLUP_QUEUE,
            func.substr(worker_jobs.c.key, 1, 37) == f"{project_id}:",
        )
    )
    return sorted((int(r.payload["start_us"]), int(r.payload["end_us"])) for r in rows)


def plan(
    start_us: int, end_us: int, dirty: Sequence[tuple[int, int]]
) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """Split [start, end) into clean whole days, clean whole hours, and raw ranges."""

    def is_dirty(lo: int, hi: int) -> bool:
        return any(a < hi and lo < b for a, b in dirty)

    days: list[int] = []
    hours: list[int] = []
    raw: list[tuple[int, int]] = []

    def add_raw(lo: int, hi: int) -> None:
        if lo >= hi:
            return
        if raw and raw[-1][1] == lo:
            raw[-1] = (raw[-1][0], hi)
        else:
            raw.append((lo, hi))

    first_hour = -(-start_us // HOUR_US) * HOUR_US
    last_hour = end_us - end_us % HOUR_US
    if first_hour >= last_hour:
        add_raw(start_us, end_us)
        return days, hours, raw
    add_raw(start_us, first_hour)
    t = first_hour
    while t < last_hour:
        if t % DAY_US == 0 and t + DAY_US <= last_hour and not is_dirty(t, t + DAY_US):
            days.append(t)
            t += DAY_US
            continue
        if is_dirty(t, t + HOUR_US):
            add_raw(t, t + HOUR_US)
        else:
            hours.append(t)
        t += HOUR_US
    add_raw(last_hour, end_us)
    return days, hours, raw


async def rollup_summaries(db: Database, query: SummaryQuery, start: datetime) -> list[Summary]:
    """Summaries merged from rollups, with raw points for edges and unrolled hours."""
    start_us, end_us = to_micros(start), to_micros(query.end)
    async with db.read() as conn:
        series = await _series(conn, query)
        if not series:
            return []
        dirty = await dirty_ranges(conn, query.project_id)
        days, hours, raw = plan(start_us, end_us, dirty)
        if len(raw) > MAX_RAW_RANGES:
            raw = [(start_us, end_us)]
            days, hours = [], []
        parts: list[Rollup] = []
        ids = list(series)
        for granularity, starts in ((DAY, days), (HOUR, hours)):
            for chunk in range(0, len(starts), 500):
                wanted = [from_micros(t) for t in starts[chunk : chunk + 500]]
                if not wanted:
                    continue
                rows = await conn.execute(
                    select(metric_rollups).where(
                        metric_rollups.c.series_id.in_(ids),
                        metric_rollups.c.granularity == granularity,
                        metric_rollups.c.bucket_start.in_(wanted),
                    )
                )
                parts.extend(Rollup.from_row(r) for r in rows)
        raw_points = []
        for lo, hi in raw:
            sids, times, values = await points.fetch_points(conn, query.project_id, lo, hi)
            keep = np.isin(sids, np.array(ids, dtype=np.int64))
            raw_points.append((sids[keep], times[keep], values[keep]))

    def merge() -> list[Summary]:
        for sids, times, values in raw_points:
            # One "bucket" per series for the whole range: a rollup on the fly.
            parts.extend(hourly(sids, times, values, bucket_us=1 << 62, granularity="raw"))
        return _merge_groups(parts, series, query.group_by_label)

    # Sketching raw points and merging many sketches is CPU work: off the loop.
    return await asyncio.to_thread(merge)


def _merge_groups(
    parts: list[Rollup], series: dict[int, _Series], group_by_label: str
) -> list[Summary]:
    """Per (name, label value): moments and sketches of every part, merged."""
    groups: dict[tuple[str, str], tuple[Moments, Sketch]] = {}
    for part in parts:
        info = series.get(part.series_id)
        if info is None:
            continue
        key = (
            info.name,
            info.labels.get(group_by_label, "") if group_by_label else "",
        )
        held = groups.get(key)
        if held is None:
            sketch = Sketch()
            sketch.merge(part.sketch)
            groups[key] = (part.moments, sketch)
        else:
            held[1].merge(part.sketch)
            groups[key] = (held[0].merged(part.moments), held[1])
    out = []
    for (name, value), (moments, sketch) in sorted(groups.items()):
        qs = sketch.quantiles(list(PERCENTILES), moments.min, moments.max)
        out.append(
            Summary(
                name=name,
                group_value=value,
                moments=moments,
                percentiles=(qs[0], qs[1], qs[2], qs[3]),
                from_rollups=True,
            )
        )
    return out


async def summaries(
    db: Database,
    query: SummaryQuery,
    *,
    now: datetime,
    raw_max: timedelta,
    retention: timedelta | None,
) -> list[Summary]:
    """Exact from raw points when the window allows it, else from rollups."""
    start = query.start
    if start is None:
        async with db.read() as conn:
            first = await conn.scalar(
                select(func.min(metric_rollups.c.bucket_start)).where(
                    metric_rollups.c.series_id.in_(
                        select(metric_series.c.id).where(
                            metric_series.c.project_id == query.project_id
                        )
                    )
                )
            )
        start_known = first
    else:
        start_known = start
    needs_rollups = retention is not None and (start is None or start < now - retention)
    long_window = start_known is not None and query.end - start_known > raw_max
    if (needs_rollups or long_window) and start_known is not None:
        return await rollup_summaries(db, query, start_known)
    async with db.read() as conn:
        return await raw_summaries(conn, query)
