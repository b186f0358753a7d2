"""The write path's transactions: one batch, or a group of batches, stored exactly once.

A batch's points, its events, the rollup jobs for the windows it touched,
(for a stream) the producer's new committed sequence and its live-feed
entries are stored in one transaction, so an acknowledged batch is durable,
a batch that failed left nothing, and the feed holds exactly what
committed. Series and monthly partitions are created beforehand in their
own short transactions (harmless if the batch then fails).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.audit import AuditScope
from maestro_grpc.metrics.model import (
    EventIn,
    FeedEntry,
    Opened,
    PointColumns,
    PointRows,
    PreparedBatch,
    Rejected,
    SeriesKey,
    StreamPosition,
    Window,
    WriteResult,
)
from maestro_grpc.metrics.store import feed, points, producers
from maestro_grpc.metrics.store.events import chunks, upsert_events
from maestro_grpc.metrics.store.partitions import Partitions
from maestro_grpc.metrics.store.tables import metric_series, metric_write_results
from maestro_grpc.store import audit_log, idempotency, jobs
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import insert

# The job queue of rollup windows, and the idempotency scope of RecordMetrics.
ROLLUP_QUEUE = "metrics.rollup"
RECORD_SCOPE = "RecordMetrics"

# Per project, the live feed's payload of what a write stored (the wire's
# encoding, handed in by the composition root).
Encode = Callable[[WriteResult], dict[uuid.UUID, bytes]]


@dataclass
class GroupStored:
    """What a group's transaction stored: its events, and the feed entries it appended."""

    events: list[EventIn]
    feed: list[FeedEntry]


class IngestStore:
    """The metrics write path's SQL: producers, series, and the batch transactions."""

    def __init__(self, db: Database, encode: Encode | None = None) -> None:
        self.db = db
        self.partitions = Partitions(db)
        self.encode = encode

    @property
    def copies_lone_batches(self) -> bool:
        """Whether even a lone batch tries the direct COPY first (PostgreSQL: it pays)."""
        return self.db.is_postgres

    # ---- producers -------------------------------------------------------------------

    async def open_producer(
        self, producer_id: str, project_id: uuid.UUID | None, now: datetime
    ) -> Opened:
        async with self.db.write() as conn:
            return await producers.open_producer(conn, producer_id, project_id, now)

    async def producer_state(self, producer_id: str) -> Opened | None:
        async with self.db.read() as conn:
            return await producers.producer_state(conn, producer_id)

    # ---- what a batch needs beforehand -----------------------------------------------

    async def ensure_partitions(self, times_us: npt.NDArray[np.int64]) -> None:
        await self.partitions.ensure(times_us)

    async def create_series(self, keys: list[SeriesKey], now: datetime) -> dict[SeriesKey, int]:
        """Create the series that do not exist; the ids of these and their names' other series."""
        async with self.db.write() as conn:
            for chunk in chunks(keys, 1000):
                await conn.execute(
                    insert(conn, metric_series)
                    .values(
                        [
                            {
                                "project_id": k.project_id,
                                "name": k.name,
                                "labels": k.labels,
                                "create_time": now,
                            }
                            for k in chunk
                        ]
                    )
                    .on_conflict_do_nothing()
                )
        found: dict[SeriesKey, int] = {}
        async with self.db.read() as conn:
            for chunk in chunks(keys, 300):
                rows = await conn.execute(
                    select(
                        metric_series.c.id,
                        metric_series.c.project_id,
                        metric_series.c.name,
                        metric_series.c.labels,
                    ).where(
                        metric_series.c.project_id.in_({k.project_id for k in chunk}),
                        metric_series.c.name.in_({k.name for k in chunk}),
                    )
                )
                for r in rows:
                    found[SeriesKey(r.project_id, r.name, r.labels)] = int(r.id)
        return found

    # ---- the batch transactions ------------------------------------------------------

    async def write_one(
        self,
        item: PreparedBatch,
        *,
        now: datetime,
        run_after: datetime,
        request_id: str = "",
        fingerprint: str = "",
    ) -> WriteResult:
        """One batch in its own transaction; existing points are replaced.

        With a request_id, a repeat (same fingerprint) answers what the first
        call stored, and a different request under the same id is refused.
        """
        async with self.db.write() as conn:
            if request_id:
                earlier = await idempotency.claim(conn, RECORD_SCOPE, request_id, fingerprint, now)
                if earlier is not None:
                    return await _stored_result(conn, request_id)
            if item.position is not None:
                await producers.advance(conn, item.position, now)
            stored_points = await points.insert_points(conn, item.rows)
            stored = await upsert_events(conn, item.events, now)
            await _enqueue_rollups(conn, item.windows, now, run_after)
            result = WriteResult(
                stored_points=stored_points,
                stored_events=len(stored),
                rejected=item.batch.rejected,
                points=item.points,
                events=stored,
            )
            if item.audit is not None:
                await audit_log.record(conn, item.audit)
            if request_id:
                await conn.execute(
                    metric_write_results.insert().values(
                        request_id=request_id, response=_encode_result(result), create_time=now
                    )
                )
            result.feed = await self._append_feed(conn, result, now)
        return result

    async def write_group(
        self,
        positions: list[StreamPosition],
        rows: PointRows,
        events: list[EventIn],
        windows: list[Window],
        *,
        feed_points: PointColumns,
        now: datetime,
        run_after: datetime,
        audits: Sequence[AuditScope] = (),
    ) -> GroupStored | None:
        """Several batches' rows in one transaction, every point new; what it stored.

        `feed_points` are the rows' points with their series (what the feed
        shows). None when the group cannot be stored as one (a point that
        exists, a producer not at the group's first sequence): nothing is
        left of it, and its batches are to be written one by one.
        """
        try:
            async with self.db.write() as conn:
                if positions and not await producers.advance_all(conn, positions, now):
                    raise _GroupFailed()
                await points.insert_new_points(conn, rows)
                stored = await upsert_events(conn, events, now)
                await _enqueue_rollups(conn, windows, now, run_after)
                for scope in audits:  # each caller's event, in the group's transaction
                    await audit_log.record(conn, scope)
                whole = WriteResult(points=feed_points, events=stored)
                entries = await self._append_feed(conn, whole, now)
        except (_GroupFailed, points.PointsExist):
            return None
        return GroupStored(stored, entries)

    async def _append_feed(
        self, conn: AsyncConnection, result: WriteResult, now: datetime
    ) -> list[FeedEntry]:
        """The write's feed entries, last in its transaction (see store/feed.py)."""
        if self.encode is None or not (len(result.points) or result.events):
            return []
        return await feed.append(conn, self.encode(result), now)


class _GroupFailed(Exception):
    """Rolls a group's transaction back."""


async def _enqueue_rollups(
    conn: AsyncConnection, windows: list[Window], now: datetime, run_after: datetime
) -> None:
    # A fixed order, so that two writers never wait on each other's jobs in
    # opposite orders.
    for window in sorted(windows):
        await jobs.enqueue(
            conn, ROLLUP_QUEUE, window.key, window.payload(), now=now, run_after=run_after
        )


def _encode_result(result: WriteResult) -> bytes:
    return json.dumps(
        {
            "stored_points": result.stored_points,
            "stored_events": result.stored_events,
            "rejected": [[r.field, r.description, r.reason] for r in result.rejected],
        }
    ).encode()


async def _stored_result(conn: AsyncConnection, request_id: str) -> WriteResult:
    row = (
        await conn.execute(
            select(metric_write_results.c.response).where(
                metric_write_results.c.request_id == request_id
            )
        )
    ).one()
    data = json.loads(row.response)
    return WriteResult(
        stored_points=int(data["stored_points"]),
        stored_events=int(data["stored_events"]),
        # Rows stored before reasons were kept have two fields.
        rejected=[Rejected(*row) for row in data["rejected"]],
    )
