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

import numpy as np
import numpy.typing as npt

from maestro_grpc.clock import Clock, from_micros, to_micros, utcnow
from maestro_grpc.metrics.domain.sketch import Sketch
from maestro_grpc.metrics.domain.stats import Moments
from maestro_grpc.metrics.domain.windows import DAY_US, HOUR_US
from maestro_grpc.metrics.model import DAY, HOUR, RollupRow
from maestro_grpc.metrics.store.rollups import Job, RollupStore

log = logging.getLogger("maestro.metrics.rollup")

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

    def row(self) -> RollupRow:
        """As the store keeps it (the sketch serialized)."""
        m = self.moments
        return RollupRow(
            series_id=self.series_id,
            granularity=self.granularity,
            bucket_start=self.bucket_start,
            count=m.count,
            sum=m.sum,
            m2=m.m2,
            min=m.min,
            max=m.max,
            first_time=m.first_time,
            last_time=m.last_time,
            last_value=m.last_value,
            sketch=self.sketch.to_bytes(),
        )

    @classmethod
    def from_row(cls, row: RollupRow) -> Rollup:
        return cls(
            series_id=row.series_id,
            granularity=row.granularity,
            bucket_start=row.bucket_start,
            moments=row_moments(row),
            sketch=Sketch.from_bytes(row.sketch),
        )


def row_moments(row: RollupRow) -> Moments:
    """A stored rollup's moments (its sketch left serialized)."""
    return Moments(
        count=row.count,
        mean=row.sum / row.count,
        m2=row.m2,
        min=row.min,
        max=row.max,
        first_time=row.first_time,
        last_time=row.last_time,
        last_value=row.last_value,
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
    for part in parts[1:]:
        moments = moments.merged(part.moments)
    sketch = Sketch.merged([p.sketch for p in parts])
    return Rollup(parts[0].series_id, granularity, bucket_start, moments, sketch)


def merge_day(hours: list[RollupRow], day: datetime) -> RollupRow:
    """One series' daily rollup, merged from its hourly ones."""
    return merge_rollups([Rollup.from_row(h) for h in hours], DAY, day).row()


def _hour_rows(
    series_ids: npt.NDArray[np.int64],
    times_us: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
) -> list[RollupRow]:
    return [h.row() for h in hourly(series_ids, times_us, values)]


async def roll_window(
    store: RollupStore, project_id: uuid.UUID, start_us: int, end_us: int, now: datetime
) -> int:
    """Recompute the hourly rollups of [start, end) and the daily ones of its days."""
    written = 0
    day = start_us - start_us % DAY_US
    while day < end_us:
        lo, hi = max(day, start_us), min(day + DAY_US, end_us)
        series, (ids, times, values) = await store.day_points(project_id, lo, hi)
        # The numpy work runs off the event loop.
        hours = await asyncio.to_thread(_hour_rows, ids, times, values)
        span = (from_micros(lo), from_micros(hi))
        written += await store.rewrite_day(project_id, series, span, hours, merge_day, now)
        day += DAY_US
    return written


@dataclass
class RollupFigures:
    """How the rollups keep up, for Prometheus: the queue, and points left in DEFAULT."""

    queued: int = 0
    due: int = 0
    oldest_due_seconds: float = 0.0
    default_partition_rows: int = 0


class RollupWorker:
    """Leases rollup jobs and processes them; applies raw-point retention; tidies partitions.

    It counts the windows it rolled up (`rolled`) and those that failed
    (`failed`); `look()` refreshes `figures`, the queue it works through.
    """

    def __init__(
        self,
        store: RollupStore,
        *,
        owner: str,
        clock: Clock = utcnow,
        retention_days: float = 0.0,
        batch: int = 20,
    ) -> None:
        self.store = store
        self.owner = owner
        self.clock = clock
        self.retention_days = retention_days
        self.batch = batch
        self.rolled = 0
        self.failed = 0
        self.figures = RollupFigures()

    async def look(self, stop: asyncio.Event | None = None) -> int:
        """Refresh `figures` from the store (a `run_every` pass: it returns 0)."""
        backlog = await self.store.backlog(self.clock())
        parked = await self.store.default_partition_rows()
        self.figures = RollupFigures(
            backlog.queued, backlog.due, backlog.oldest_due_seconds, parked
        )
        return 0

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """Process every due job (in leases of `batch`); returns how many were processed.

        When `stop` is set it returns after the job in hand, releasing the
        others it leased for the next worker.
        """
        done = 0
        while leased := await self.store.lease(self.owner, now=self.clock(), limit=self.batch):
            for position, job in enumerate(leased):
                if stop is not None and stop.is_set():
                    await self.store.release(leased[position:], self.owner)
                    return done
                done += await self._process(job)
        await self.apply_retention()
        await self.store.tidy_partitions()
        await self.forget_old_requests()
        return done

    async def _process(self, job: Job) -> int:
        """Roll one job's window; 1 when done, 0 when it failed (and waits for a retry)."""
        try:
            payload = job.payload
            await roll_window(
                self.store,
                uuid.UUID(str(payload["project_id"])),
                int(payload["start_us"]),
                int(payload["end_us"]),
                self.clock(),
            )
        except Exception as error:
            log.exception("rollup job %s failed", job.key)
            await self.store.fail(
                job,
                self.owner,
                repr(error),
                now=self.clock(),
                retry_in=timedelta(seconds=min(300, 5 * 2**job.attempts)),
            )
            self.failed += 1
            return 0
        await self.store.complete(job, self.owner)
        self.rolled += 1
        return 1

    async def forget_old_requests(self) -> int:
        """RecordMetrics request ids are remembered for REQUEST_ID_DAYS, then forgotten."""
        return await self.store.forget_requests_before(
            self.clock() - timedelta(days=REQUEST_ID_DAYS)
        )

    async def apply_retention(self) -> int:
        """Delete raw points older than the retention, once their rollups are done."""
        if self.retention_days <= 0:
            return 0
        horizon_us = to_micros(self.clock() - timedelta(days=self.retention_days))
        for start_us in await self.store.pending_starts():
            # Points still waiting for their rollup are kept until it is done.
            horizon_us = min(horizon_us, start_us)
        horizon = from_micros(horizon_us)
        deleted = await self.store.delete_points_before(horizon)
        if deleted:
            log.info("retention deleted raw points before %s", horizon.isoformat())
        return deleted

    async def tidy_partitions(self) -> None:
        """Give months that landed in the DEFAULT partition their own partition."""
        await self.store.tidy_partitions()
