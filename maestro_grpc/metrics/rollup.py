"""Hourly and daily rollups of metric points, the jobs that keep them, and raw-point retention.

A rollup job names a project's aligned window (an hour, or a day, month or
year for writes spread wide). Processing it recomputes, from raw points,
the hourly rollups of every hour in the window, then the daily rollups of
the days it touches by merging their hours (moments merge exactly, sketches
by adding buckets). Late points re-roll only their own window. Jobs are
leased from the shared queue (FOR UPDATE SKIP LOCKED on PostgreSQL), so any
number of workers can run; a job re-enqueued while it ran (new points) stays
queued for another pass.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import Clock, from_micros, to_micros, utcnow
from maestro_grpc.metrics.domain.sketch import Sketch
from maestro_grpc.metrics.domain.stats import Moments
from maestro_grpc.metrics.domain.windows import DAY_US, HOUR_US
from maestro_grpc.metrics.store import partitions, points
from maestro_grpc.metrics.store.ingest import ROLLUP_QUEUE
from maestro_grpc.metrics.store.tables import (
    metric_points,
    metric_rollups,
    metric_series,
    metric_write_results,
)
from maestro_grpc.store import jobs
from maestro_grpc.store.db import Database
from maestro_grpc.store.schema import idempotency_keys

log = logging.getLogger("maestro.metrics.rollup")

HOUR = "hour"
DAY = "day"
# How long a RecordMetrics request_id is remembered.
REQUEST_ID_DAYS = 7


@dataclass
class Rollup:
    """One series' aggregate over one bucket."""

    series_id: int
    granularity: str
    bucket_start: datetime
    moments: Moments
    sketch: Sketch

    def row(self, now: datetime) -> dict[str, Any]:
        m = self.moments
        return {
            "series_id": self.series_id,
            "granularity": self.granularity,
            "bucket_start": self.bucket_start,
            "count": m.count,
            "sum": m.sum,
            "m2": m.m2,
            "min": m.min,
            "max": m.max,
            "first_time": m.first_time,
            "last_time": m.last_time,
            "last_value": m.last_value,
            "sketch": self.sketch.to_bytes(),
            "update_time": now,
        }

    @classmethod
    def from_row(cls, row: Any) -> Rollup:
        count = int(row.count)
        return cls(
            series_id=int(row.series_id),
            granularity=row.granularity,
            bucket_start=row.bucket_start,
            moments=Moments(
                count=count,
                mean=float(row.sum) / count,
                m2=float(row.m2),
                min=float(row.min),
                max=float(row.max),
                first_time=row.first_time,
                last_time=row.last_time,
                last_value=float(row.last_value),
            ),
            sketch=Sketch.from_bytes(bytes(row.sketch)),
        )


def hourly(
    series_ids: npt.NDArray[np.int64],
    times_us: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    bucket_us: int = HOUR_US,
    granularity: str = HOUR,
) -> list[Rollup]:
    """Aggregates per (series, bucket) of points sorted by series and time."""
    n = series_ids.shape[0]
    if n == 0:
        return []
    buckets = times_us - times_us % bucket_us
    change = np.ones(n, dtype=bool)
    change[1:] = (series_ids[1:] != series_ids[:-1]) | (buckets[1:] != buckets[:-1])
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], n)
    counts = ends - starts
    sums = np.add.reduceat(values, starts)
    means = sums / counts
    deviations = values - np.repeat(means, counts)
    m2 = np.add.reduceat(deviations * deviations, starts)
    mins = np.minimum.reduceat(values, starts)
    maxs = np.maximum.reduceat(values, starts)
    out = []
    for g, (a, b) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        # Several points may share the last time (different label sets are
        # different series, so not here); the last in order is the latest.
        out.append(
            Rollup(
                series_id=int(series_ids[a]),
                granularity=granularity,
                bucket_start=from_micros(int(buckets[a])),
                moments=Moments(
                    count=int(counts[g]),
                    mean=float(means[g]),
                    m2=float(m2[g]),
                    min=float(mins[g]),
                    max=float(maxs[g]),
                    first_time=from_micros(int(times_us[a])),
                    last_time=from_micros(int(times_us[b - 1])),
                    last_value=float(values[b - 1]),
                ),
                sketch=Sketch.of(values[a:b]),
            )
        )
    return out


def merge_rollups(parts: list[Rollup], granularity: str, bucket_start: datetime) -> Rollup:
    moments = parts[0].moments
    sketch = Sketch()
    sketch.merge(parts[0].sketch)
    for part in parts[1:]:
        moments = moments.merged(part.moments)
        sketch.merge(part.sketch)
    return Rollup(parts[0].series_id, granularity, bucket_start, moments, sketch)


async def _series_of(conn: AsyncConnection, project_id: uuid.UUID) -> list[int]:
    rows = await conn.execute(
        select(metric_series.c.id).where(metric_series.c.project_id == project_id)
    )
    return [int(r.id) for r in rows]


async def roll_window(
    db: Database, project_id: uuid.UUID, start_us: int, end_us: int, now: datetime
) -> int:
    """Recompute the hourly rollups of [start, end) and the daily ones of its days."""
    written = 0
    day = start_us - start_us % DAY_US
    while day < end_us:
        lo, hi = max(day, start_us), min(day + DAY_US, end_us)
        async with db.read() as conn:
            series = await _series_of(conn, project_id)
            ids, times, values = await points.fetch_points(conn, project_id, lo, hi)
        # The numpy work runs off the event loop.
        hours = await asyncio.to_thread(hourly, ids, times, values)
        async with db.write() as conn:
            if db.is_postgres:
                # Workers rolling windows of the same project-day take turns:
                # both would rewrite that day's rows.
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:a, :b)"),
                    {"a": (project_id.int & 0x7FFFFFFF), "b": day // DAY_US},
                )
            if series:
                await conn.execute(
                    delete(metric_rollups).where(
                        metric_rollups.c.series_id.in_(series),
                        metric_rollups.c.granularity == HOUR,
                        metric_rollups.c.bucket_start >= from_micros(lo),
                        metric_rollups.c.bucket_start < from_micros(hi),
                    )
                )
            if hours:
                await conn.execute(metric_rollups.insert(), [h.row(now) for h in hours])
            written += len(hours)
            written += await _roll_day(conn, series, from_micros(day), now)
        day += DAY_US
    return written


async def _roll_day(conn: AsyncConnection, series: list[int], day: datetime, now: datetime) -> int:
    """The daily rollups of `day`, merged from its hourly ones."""
    if not series:
        return 0
    rows = await conn.execute(
        select(metric_rollups).where(
            metric_rollups.c.series_id.in_(series),
            metric_rollups.c.granularity == HOUR,
            metric_rollups.c.bucket_start >= day,
            metric_rollups.c.bucket_start < day + timedelta(days=1),
        )
    )
    by_series: dict[int, list[Rollup]] = {}
    for row in rows:
        by_series.setdefault(int(row.series_id), []).append(Rollup.from_row(row))
    await conn.execute(
        delete(metric_rollups).where(
            metric_rollups.c.series_id.in_(series),
            metric_rollups.c.granularity == DAY,
            metric_rollups.c.bucket_start == day,
        )
    )
    days = [merge_rollups(parts, DAY, day) for parts in by_series.values()]
    if days:
        await conn.execute(metric_rollups.insert(), [d.row(now) for d in days])
    return len(days)


class RollupWorker:
    """Leases rollup jobs and processes them; applies raw-point retention; tidies partitions."""

    def __init__(
        self,
        db: Database,
        *,
        owner: str,
        clock: Clock = utcnow,
        retention_days: float = 0.0,
        batch: int = 20,
    ) -> None:
        self.db = db
        self.owner = owner
        self.clock = clock
        self.retention_days = retention_days
        self.batch = batch

    async def run_once(self) -> int:
        """Process every due job (in leases of `batch`); returns how many were processed."""
        done = 0
        while True:
            leased = await jobs.lease(
                self.db, ROLLUP_QUEUE, self.owner, now=self.clock(), limit=self.batch
            )
            if not leased:
                break
            for job in leased:
                try:
                    payload = job.payload
                    await roll_window(
                        self.db,
                        uuid.UUID(str(payload["project_id"])),
                        int(payload["start_us"]),
                        int(payload["end_us"]),
                        self.clock(),
                    )
                except Exception as error:
                    log.exception("rollup job %s failed", job.key)
                    await jobs.fail(
                        self.db,
                        job,
                        self.owner,
                        repr(error),
                        now=self.clock(),
                        retry_in=timedelta(seconds=min(300, 5 * 2**job.attempts)),
                    )
                    continue
                await jobs.complete(self.db, job, self.owner)
                done += 1
        await self.apply_retention()
        await self.tidy_partitions()
        await self.forget_old_requests()
        return done

    async def forget_old_requests(self) -> int:
        """RecordMetrics request ids are remembered for REQUEST_ID_DAYS, then forgotten."""
        cutoff = self.clock() - timedelta(days=REQUEST_ID_DAYS)
        async with self.db.write() as conn:
            await conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.scope == "RecordMetrics",
                    idempotency_keys.c.create_time < cutoff,
                )
            )
            result = await conn.execute(
                delete(metric_write_results).where(metric_write_results.c.create_time < cutoff)
            )
        return int(result.rowcount or 0)

    async def apply_retention(self) -> int:
        """Delete raw points older than the retention, once their rollups are done."""
        if self.retention_days <= 0:
            return 0
        horizon = self.clock() - timedelta(days=self.retention_days)
        async with self.db.read() as conn:
            rows = await conn.execute(
                text("SELECT payload FROM worker_jobs WHERE queue = :q"), {"q": ROLLUP_QUEUE}
            )
            pending = [r.payload for r in rows]
        horizon_us = to_micros(horizon)
        for payload in pending:
            # Points still waiting for their rollup are kept until it is done.
            horizon_us = min(horizon_us, int(payload["start_us"]))
        horizon = from_micros(horizon_us)
        if self.db.is_postgres:
            await self._drop_old_partitions(horizon)
        deleted = 0
        async with self.db.write() as conn:
            result = await conn.execute(delete(metric_points).where(metric_points.c.time < horizon))
            deleted += int(result.rowcount or 0)
        if deleted:
            log.info("retention deleted raw points before %s", horizon.isoformat())
        return deleted

    async def _drop_old_partitions(self, horizon: datetime) -> int:
        """Whole monthly partitions older than the horizon go at once (no row by row delete)."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'metric_points'::regclass AND c.relname LIKE :p"
                ),
                {"p": "metric_points_p%"},
            )
            names = sorted(r.relname for r in rows)
        dropped = 0
        for name in names:
            year, month = int(name[-7:-3]), int(name[-2:])
            end = (
                datetime(year + 1, 1, 1, tzinfo=horizon.tzinfo)
                if month == 12
                else datetime(year, month + 1, 1, tzinfo=horizon.tzinfo)
            )
            if end <= horizon:
                async with self.db.write() as conn:
                    await conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
                dropped += 1
        return dropped

    async def tidy_partitions(self) -> None:
        """Give months that landed in the DEFAULT partition their own partition."""
        await partitions.move_out_of_default(self.db)
