"""The rollup worker's SQL: its jobs, the hourly and daily rollups, raw-point retention.

Rollup jobs live in the shared job queue (`store/jobs.py`, leased FOR
UPDATE SKIP LOCKED on PostgreSQL). A day's rollups are rewritten in one
transaction: its hours from the points, then the day merged from its
hours (the merge is the domain's, handed in).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import from_micros
from maestro_grpc.metrics.model import DAY, HOUR, RollupRow
from maestro_grpc.metrics.store import partitions
from maestro_grpc.metrics.store.ingest import RECORD_SCOPE, ROLLUP_QUEUE
from maestro_grpc.metrics.store.points import Arrays, fetch_points
from maestro_grpc.metrics.store.tables import (
    metric_points,
    metric_rollups,
    metric_series,
    metric_write_results,
)
from maestro_grpc.store import jobs
from maestro_grpc.store.db import Database
from maestro_grpc.store.schema import idempotency_keys

Job = jobs.Job
# Merges one series' hourly rollups of a day into that day's rollup.
MergeDay = Callable[[list[RollupRow], datetime], RollupRow]


def rollup_values(row: RollupRow, now: datetime) -> dict[str, Any]:
    """A rollup as the row metric_rollups stores."""
    return {
        "series_id": row.series_id,
        "granularity": row.granularity,
        "bucket_start": row.bucket_start,
        "count": row.count,
        "sum": row.sum,
        "m2": row.m2,
        "min": row.min,
        "max": row.max,
        "first_time": row.first_time,
        "last_time": row.last_time,
        "last_value": row.last_value,
        "sketch": row.sketch,
        "update_time": now,
    }


def rollup_row(row: Any) -> RollupRow:
    """A stored metric_rollups row as a RollupRow."""
    return RollupRow(
        series_id=int(row.series_id),
        granularity=row.granularity,
        bucket_start=row.bucket_start,
        count=int(row.count),
        sum=float(row.sum),
        m2=float(row.m2),
        min=float(row.min),
        max=float(row.max),
        first_time=row.first_time,
        last_time=row.last_time,
        last_value=float(row.last_value),
        sketch=bytes(row.sketch),
    )


class RollupStore:
    """Jobs, rollups and retention of the metrics rollup worker."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- jobs ------------------------------------------------------------------------

    async def lease(self, owner: str, *, now: datetime, limit: int) -> list[Job]:
        return await jobs.lease(self.db, ROLLUP_QUEUE, owner, now=now, limit=limit)

    async def complete(self, job: Job, owner: str) -> bool:
        return await jobs.complete(self.db, job, owner)

    async def release(self, leased: Sequence[Job], owner: str) -> None:
        """Give back jobs leased but not started, for any worker to take now."""
        await jobs.release(self.db, leased, owner)

    async def fail(
        self, job: Job, owner: str, error: str, *, now: datetime, retry_in: timedelta
    ) -> None:
        await jobs.fail(self.db, job, owner, error, now=now, retry_in=retry_in)

    async def pending_starts(self) -> list[int]:
        """Where each pending rollup job's window starts (us): its points must stay."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                text("SELECT payload FROM worker_jobs WHERE queue = :q"), {"q": ROLLUP_QUEUE}
            )
            return [int(r.payload["start_us"]) for r in rows]

    # ---- rollups ---------------------------------------------------------------------

    async def day_points(
        self, project_id: uuid.UUID, start_us: int, end_us: int
    ) -> tuple[list[int], Arrays]:
        """The project's series ids, and its points in [start, end) by series and time."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(metric_series.c.id).where(metric_series.c.project_id == project_id)
            )
            series = [int(r.id) for r in rows]
            return series, await fetch_points(conn, project_id, start_us, end_us)

    async def rewrite_day(
        self,
        project_id: uuid.UUID,
        series: list[int],
        span: tuple[datetime, datetime],
        hours: list[RollupRow],
        merge: MergeDay,
        now: datetime,
    ) -> int:
        """Replace the hourly rollups in `span` (one day or part of it), then that day's.

        Returns how many rollups were written.
        """
        lo, hi = span
        day = datetime(lo.year, lo.month, lo.day, tzinfo=lo.tzinfo)
        async with self.db.write() as conn:
            if self.db.is_postgres:
                # Workers rolling windows of the same project-day take turns:
                # both would rewrite that day's rows.
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:a, :b)"),
                    {"a": (project_id.int & 0x7FFFFFFF), "b": day.toordinal() - _EPOCH_ORDINAL},
                )
            if series:
                await conn.execute(
                    delete(metric_rollups).where(
                        metric_rollups.c.series_id.in_(series),
                        metric_rollups.c.granularity == HOUR,
                        metric_rollups.c.bucket_start >= lo,
                        metric_rollups.c.bucket_start < hi,
                    )
                )
            if hours:
                await conn.execute(metric_rollups.insert(), [rollup_values(h, now) for h in hours])
            return len(hours) + await _rewrite_days(conn, series, day, merge, now)

    # ---- retention -------------------------------------------------------------------

    async def delete_points_before(self, horizon: datetime) -> int:
        """Drop whole monthly partitions before `horizon`, then delete older points left."""
        await partitions.drop_partitions_before(self.db, horizon)
        async with self.db.write() as conn:
            result = await conn.execute(delete(metric_points).where(metric_points.c.time < horizon))
        return int(result.rowcount or 0)

    async def forget_requests_before(self, cutoff: datetime) -> int:
        """Forget RecordMetrics request ids (and their answers) made before `cutoff`."""
        async with self.db.write() as conn:
            await conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.scope == RECORD_SCOPE,
                    idempotency_keys.c.create_time < cutoff,
                )
            )
            result = await conn.execute(
                delete(metric_write_results).where(metric_write_results.c.create_time < cutoff)
            )
        return int(result.rowcount or 0)

    async def tidy_partitions(self) -> None:
        """Give months that landed in the DEFAULT partition their own partition."""
        await partitions.move_out_of_default(self.db)

    async def backlog(self, now: datetime) -> jobs.Backlog:
        """The rollup queue: jobs in it, due ones, the oldest due one's age."""
        return await jobs.backlog(self.db, ROLLUP_QUEUE, now=now)

    async def default_partition_rows(self) -> int:
        """Points parked in the DEFAULT partition (0 on SQLite, which has none)."""
        return await partitions.default_rows(self.db)


_EPOCH_ORDINAL = from_micros(0).toordinal()


async def _rewrite_days(
    conn: AsyncConnection, series: list[int], day: datetime, merge: MergeDay, now: datetime
) -> int:
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
    by_series: dict[int, list[RollupRow]] = {}
    for row in rows:
        by_series.setdefault(int(row.series_id), []).append(rollup_row(row))
    await conn.execute(
        delete(metric_rollups).where(
            metric_rollups.c.series_id.in_(series),
            metric_rollups.c.granularity == DAY,
            metric_rollups.c.bucket_start == day,
        )
    )
    days = [merge(parts, day) for parts in by_series.values()]
    if days:
        await conn.execute(metric_rollups.insert(), [rollup_values(d, now) for d in days])
    return len(days)
