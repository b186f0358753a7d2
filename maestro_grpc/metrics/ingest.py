"""The write path: one batch, one transaction, exactly once per producer sequence.

A batch's points, its events, the rollup jobs for the windows it touched
and (for a stream) the producer's new committed sequence are stored in one
transaction, so an acknowledged batch is durable and a batch that failed
left nothing. Series and monthly partitions are created beforehand in
their own short transactions (harmless if the batch then fails).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import Aborted, FailedPrecondition, NotFound, OutOfRange
from maestro_grpc.metrics import pointstore
from maestro_grpc.metrics.model import (
    Batch,
    EventIn,
    PointColumns,
    Rejected,
    SeriesKey,
    WriteResult,
)
from maestro_grpc.metrics.store.tables import (
    metric_producers,
    metric_series,
    metric_write_results,
    process_events,
)
from maestro_grpc.metrics.domain.windows import Window, windows_of
from maestro_grpc.registry.read import RegistryReader
from maestro_grpc.store import idempotency, jobs
from maestro_grpc.store.db import Database

log = logging.getLogger("maestro.metrics.ingest")

ROLLUP_QUEUE = "metrics.rollup"
MAX_CACHED_SERIES = 200_000
Feed = Callable[[WriteResult], Awaitable[None]]


@dataclass(frozen=True)
class StreamPosition:
    """Who writes a stream batch: the producer, its stream's epoch, the batch's sequence."""

    producer_id: str
    epoch: int
    sequence: int


@dataclass(frozen=True)
class Opened:
    committed_sequence: int
    epoch: int


class Duplicate(Exception):
    """The sequence was already committed: nothing to store, ack it again."""


def _insert_for(conn: AsyncConnection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


class Ingestor:
    """Stores batches (RecordMetrics and StreamMetrics) and opens producers' streams."""

    def __init__(
        self,
        db: Database,
        *,
        registry: RegistryReader,
        clock: Clock = utcnow,
        feed: Feed | None = None,
        rollup_delay: timedelta = timedelta(seconds=5),
        max_concurrent_writes: int = 8,
    ) -> None:
        self.db = db
        self.registry = registry
        self.clock = clock
        self.feed = feed
        self.rollup_delay = rollup_delay
        self.partitions = pointstore.Partitions(db)
        self._known_projects: set[uuid.UUID] = set()
        self._series: dict[SeriesKey, int] = {}
        # At most this many batch transactions at once, so that streams queue
        # here (in order) rather than time out waiting for a pooled connection.
        self._writes = asyncio.Semaphore(max_concurrent_writes)
        # Fewer group writers than write slots, so that batches arriving
        # together wait a moment and share a commit.
        self._group = GroupCommit(
            self._write_group, slots=max(1, max_concurrent_writes // 4), done=self._publish
        )

    # ---- producers -----------------------------------------------------------------

    async def open_producer(self, producer_id: str, project_id: uuid.UUID | None) -> Opened:
        """Register a stream of `producer_id`: a new epoch, and where to resume."""
        now = self.clock()
        if project_id is not None:
            missing = await self._missing_projects({project_id})
            if missing:
                raise NotFound(f"project {project_id} does not exist", reason="PROJECT_NOT_FOUND")
        async with self.db.write() as conn:
            insert = _insert_for(conn)
            statement = insert(metric_producers).values(
                producer_id=producer_id,
                project_id=project_id,
                committed_sequence=0,
                epoch=1,
                create_time=now,
                update_time=now,
            )
            statement = statement.on_conflict_do_update(
                index_elements=[metric_producers.c.producer_id],
                set_={
                    "epoch": metric_producers.c.epoch + 1,
                    "project_id": statement.excluded.project_id,
                    "update_time": statement.excluded.update_time,
                },
            ).returning(metric_producers.c.committed_sequence, metric_producers.c.epoch)
            row = (await conn.execute(statement)).one()
        return Opened(committed_sequence=int(row.committed_sequence), epoch=int(row.epoch))

    async def producer_state(self, producer_id: str) -> Opened | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(metric_producers.c.committed_sequence, metric_producers.c.epoch).where(
                        metric_producers.c.producer_id == producer_id
                    )
                )
            ).first()
        if row is None:
            return None
        return Opened(int(row.committed_sequence), int(row.epoch))

    async def _advance(
        self, conn: AsyncConnection, position: StreamPosition, now: datetime
    ) -> None:
        """Move the producer's committed sequence to this batch's, or say why not."""
        moved = await conn.execute(
            update(metric_producers)
            .where(
                metric_producers.c.producer_id == position.producer_id,
                metric_producers.c.epoch == position.epoch,
                metric_producers.c.committed_sequence == position.sequence - 1,
            )
            .values(committed_sequence=position.sequence, update_time=now)
        )
        if moved.rowcount == 1:
            return
        row = (
            await conn.execute(
                select(metric_producers.c.committed_sequence, metric_producers.c.epoch).where(
                    metric_producers.c.producer_id == position.producer_id
                )
            )
        ).first()
        if row is None:
            raise FailedPrecondition(
                f"producer {position.producer_id!r} is not open", reason="PRODUCER_NOT_OPEN"
            )
        if row.epoch != position.epoch:
            raise superseded(position.producer_id, int(row.epoch))
        if position.sequence <= row.committed_sequence:
            raise Duplicate()
        raise gap(position.sequence, int(row.committed_sequence) + 1)

    # ---- writes --------------------------------------------------------------------

    async def write(
        self,
        batch: Batch,
        *,
        position: StreamPosition | None = None,
        request_id: str = "",
        fingerprint: str = "",
    ) -> WriteResult:
        """Store a validated batch. Raises Duplicate for an already committed sequence.

        Batches of several writers that wait at the same time are committed
        together in one transaction (group commit: one WAL flush for all,
        the points in one COPY straight into metric_points). If anything in
        a group fails (a point that already exists, a stale sequence), the
        group is rolled back and each batch is written on its own, where
        existing points are replaced and each failure is its batch's own.
        """
        item = await self.prepare(batch, position)
        if request_id:
            result = await self._write_one(item, request_id=request_id, fingerprint=fingerprint)
            await self._publish(result)
            return result
        return await self.submit(item)

    def submit(self, item: PreparedBatch) -> asyncio.Future[WriteResult]:
        """Queue a prepared batch for the next group; the future resolves once it is stored.

        A stream submits its batches in sequence order and may have several
        in flight: they commit in that order.
        """
        return self._group.submit(item)

    async def prepare(self, batch: Batch, position: StreamPosition | None = None) -> PreparedBatch:
        """Everything that needs no transaction: projects, series ids, partitions, dedup."""
        missing = await self._missing_projects(batch.project_ids())
        batch.without_projects(missing, "project {project} does not exist")
        points = batch.points
        item = PreparedBatch(batch=batch, position=position, events=_latest_states(batch.events))
        if len(points):
            keep = pointstore.dedup_sorted(points.series_index, points.times)
            used = points.series_index[keep]
            ids = await self._series_ids(points.series, np.unique(used))
            item.series_ids = ids[used]
            item.points = _subset(points, keep)
            # One copy of the kept columns serves the write and the feed.
            item.times = item.points.times
            item.values = item.points.values
            item.sources = item.points.sources
            item.windows = _windows(points)
            await self.partitions.ensure(points.times)
            # The batch's own columns are no longer needed (memory per
            # in-flight batch is what bounds a server with many streams).
            batch.points = PointColumns.empty()
        return item

    async def _publish(self, result: WriteResult) -> None:
        if self.feed is None or not (len(result.points) or result.events):
            return
        try:
            await self.feed(result)
        except Exception as error:
            # The batch is stored; a broken bus only costs watchers this
            # message (the ack must not be lost over it).
            log.warning("could not publish a write to watchers: %s", error)

    async def _write_one(
        self, item: PreparedBatch, *, request_id: str = "", fingerprint: str = ""
    ) -> WriteResult:
        """One batch in its own transaction; existing points are replaced."""
        now = self.clock()
        async with self._writes, self.db.write() as conn:
            if request_id:
                earlier = await idempotency.claim(
                    conn, "RecordMetrics", request_id, fingerprint, now
                )
                if earlier is not None:
                    return await _stored_result(conn, request_id)
            if item.position is not None:
                await self._advance(conn, item.position, now)
            stored_points = await pointstore.insert_points(
                conn, item.series_ids, item.times, item.values, item.sources
            )
            stored = await _upsert_events(conn, item.events, now)
            await self._enqueue_rollups(conn, item.windows, now)
            result = WriteResult(
                stored_points=stored_points,
                stored_events=len(stored),
                rejected=item.batch.rejected,
                points=item.points,
                events=stored,
            )
            if request_id:
                await conn.execute(
                    metric_write_results.insert().values(
                        request_id=request_id, response=_encode_result(result), create_time=now
                    )
                )
        return result

    async def _write_group(self, items: list[PreparedBatch]) -> list[WriteResult | BaseException]:
        """Several batches in one transaction; on any failure, one by one."""
        if len(items) > 1 or self.db.is_postgres:
            # On PostgreSQL even one batch tries the direct COPY first.
            try:
                return list(await self._try_group(items))
            except _GroupFailed:
                pass
        out: list[WriteResult | BaseException] = []
        for item in items:
            try:
                out.append(await self._write_one(item))
            except Exception as error:
                out.append(error)
        return out

    async def _try_group(self, items: list[PreparedBatch]) -> list[WriteResult]:
        now = self.clock()
        series_ids = np.concatenate([i.series_ids for i in items])
        times = np.concatenate([i.times for i in items])
        # Across batches too, the last point of an identity wins; then every
        # remaining row must be new for the direct COPY.
        keep = pointstore.dedup_sorted(series_ids, times)
        owner = np.repeat(np.arange(len(items)), [i.times.shape[0] for i in items])[keep]
        values = np.concatenate([i.values for i in items])[keep]
        sources = np.concatenate([i.sources for i in items])[keep]
        events = _latest_states([e for i in items for e in i.events])
        event_owner = {id(e): n for n, i in enumerate(items) for e in i.events}
        try:
            async with self._writes, self.db.write() as conn:
                positions = [i.position for i in items if i.position is not None]
                if positions and not await _advance_all(conn, positions, now):
                    raise _GroupFailed()
                await pointstore.insert_new_points(
                    conn, series_ids[keep], times[keep], values, sources
                )
                stored = await _upsert_events(conn, events, now)
                windows = sorted({w for i in items for w in i.windows})
                await self._enqueue_rollups(conn, windows, now)
        except pointstore.PointsExist:
            raise _GroupFailed() from None
        stored_by: list[list[EventIn]] = [[] for _ in items]
        for event in stored:
            stored_by[event_owner[id(event)]].append(event)
        counts = np.bincount(owner, minlength=len(items))
        return [
            WriteResult(
                stored_points=int(counts[n]),
                stored_events=len(stored_by[n]),
                rejected=item.batch.rejected,
                points=item.points,
                events=stored_by[n],
            )
            for n, item in enumerate(items)
        ]

    async def _enqueue_rollups(
        self, conn: AsyncConnection, windows: list[Window], now: datetime
    ) -> None:
        # A fixed order, so that two writers never wait on each other's jobs
        # in opposite orders.
        for window in sorted(windows):
            await jobs.enqueue(
                conn,
                ROLLUP_QUEUE,
                window.key,
                window.payload(),
                now=now,
                run_after=now + self.rollup_delay,
            )

    async def _missing_projects(self, wanted: set[uuid.UUID]) -> set[uuid.UUID]:
        unknown = wanted - self._known_projects
        if not unknown:
            return set()
        found = await self.registry.existing_projects(unknown)
        # Projects are never deleted, so a project seen once stays known.
        self._known_projects |= found
        return unknown - found

    async def _series_ids(
        self, keys: Sequence[SeriesKey], used: np.ndarray[Any, np.dtype[np.int64]]
    ) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Ids of the used series (created as needed, in their own transaction); -1 for others."""
        wanted = [keys[i] for i in used.tolist()]
        missing = [k for k in wanted if k not in self._series]
        if missing:
            if len(self._series) + len(missing) > MAX_CACHED_SERIES:
                self._series.clear()
            now = self.clock()
            async with self.db.write() as conn:
                insert = _insert_for(conn)
                # In chunks: a statement may bind at most 32767 parameters.
                for chunk in _chunks(missing, 1000):
                    await conn.execute(
                        insert(metric_series)
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
            async with self.db.read() as conn:
                for chunk in _chunks(missing, 300):
                    projects_in = {k.project_id for k in chunk}
                    names_in = {k.name for k in chunk}
                    rows = await conn.execute(
                        select(
                            metric_series.c.id,
                            metric_series.c.project_id,
                            metric_series.c.name,
                            metric_series.c.labels,
                        ).where(
                            metric_series.c.project_id.in_(projects_in),
                            metric_series.c.name.in_(names_in),
                        )
                    )
                    for r in rows:
                        self._series[SeriesKey(r.project_id, r.name, r.labels)] = int(r.id)
        ids = np.full(len(keys), -1, dtype=np.int64)
        ids[used] = [self._series[k] for k in wanted]
        return ids


class _GroupFailed(Exception):
    """Something in a group failed: write its batches one by one."""


@dataclass
class PreparedBatch:
    """A batch made ready to store (series resolved, points deduplicated and sorted)."""

    batch: Batch
    position: StreamPosition | None
    events: list[EventIn]
    series_ids: np.ndarray[Any, np.dtype[np.int64]] = field(
        default_factory=lambda: np.zeros(0, np.int64)
    )
    times: np.ndarray[Any, np.dtype[np.int64]] = field(
        default_factory=lambda: np.zeros(0, np.int64)
    )
    values: np.ndarray[Any, np.dtype[np.float64]] = field(
        default_factory=lambda: np.zeros(0, np.float64)
    )
    sources: np.ndarray[Any, np.dtype[np.int16]] = field(
        default_factory=lambda: np.zeros(0, np.int16)
    )
    points: PointColumns = field(default_factory=PointColumns.empty)
    windows: list[Window] = field(default_factory=list)


class GroupCommit:
    """Collects batches waiting to be stored and writes them in groups.

    While all write slots are busy, batches pile up; the next free slot
    takes them all (up to max_rows) and writes them as one group, in one
    transaction. Batches of one producer are written in sequence order: a
    producer whose earlier batch is still being written waits for the next
    group. Under no contention a group is one batch.
    """

    def __init__(
        self,
        write: Callable[[list[PreparedBatch]], Awaitable[list[WriteResult | BaseException]]],
        *,
        slots: int,
        max_rows: int = 50_000,
        done: Callable[[WriteResult], Awaitable[None]] | None = None,
    ) -> None:
        self.write = write
        self.slots = slots
        self.max_rows = max_rows
        self.done = done
        self.running = 0
        self.pending: list[tuple[PreparedBatch, asyncio.Future[WriteResult]]] = []
        self.busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, item: PreparedBatch) -> asyncio.Future[WriteResult]:
        """Queue a batch; the future gets its result once committed (or its error)."""
        future: asyncio.Future[WriteResult] = asyncio.get_running_loop().create_future()
        self.pending.append((item, future))
        self._kick()
        return future

    def _kick(self) -> None:
        while self.running < self.slots:
            group = self._take()
            if not group:
                return
            producers = {i.position.producer_id for i, _ in group if i.position is not None}
            self.running += 1
            self.busy |= producers
            task = asyncio.create_task(self._run(group, producers))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take(self) -> list[tuple[PreparedBatch, asyncio.Future[WriteResult]]]:
        taken: list[tuple[PreparedBatch, asyncio.Future[WriteResult]]] = []
        left: list[tuple[PreparedBatch, asyncio.Future[WriteResult]]] = []
        blocked = set(self.busy)
        rows = 0
        for item, future in self.pending:
            if future.cancelled():
                continue
            producer = item.position.producer_id if item.position is not None else None
            size = item.times.shape[0] + len(item.events)
            if (producer is not None and producer in blocked) or (
                taken and rows + size > self.max_rows
            ):
                left.append((item, future))
                if producer is not None:
                    blocked.add(producer)
                continue
            taken.append((item, future))
            rows += size
        self.pending = left
        return taken

    async def _run(
        self, group: list[tuple[PreparedBatch, asyncio.Future[WriteResult]]], producers: set[str]
    ) -> None:
        try:
            results = await self.write([item for item, _ in group])
        except BaseException as error:
            results = [error] * len(group)
        finally:
            self.running -= 1
            self.busy -= producers
        for (_, future), result in zip(group, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._kick()
        if self.done is not None:
            for result in results:
                if isinstance(result, WriteResult):
                    await self.done(result)


def _windows(points: PointColumns) -> list[Window]:
    projects = {points.series[i].project_id for i in np.unique(points.series_index).tolist()}
    if len(projects) == 1:
        return windows_of(next(iter(projects)), points.times)
    codes = np.array([s.project_id.int for s in points.series], dtype=object)[points.series_index]
    out: list[Window] = []
    for project in projects:
        out.extend(windows_of(project, points.times[codes == project.int]))
    return out


async def _advance_all(
    conn: AsyncConnection, positions: list[StreamPosition], now: datetime
) -> bool:
    """Advance every producer of a group; False if any cannot (then the group fails).

    A group holds consecutive batches of each of its producers, so each
    producer moves from its first sequence to its last: on PostgreSQL one
    statement for them all (a round trip per batch was a third of a group's
    time under load).
    """
    ranges: dict[str, tuple[int, int, int]] = {}  # producer: epoch, first, last
    for position in sorted(positions, key=lambda p: (p.producer_id, p.sequence)):
        known = ranges.get(position.producer_id)
        if known is None:
            ranges[position.producer_id] = (position.epoch, position.sequence, position.sequence)
            continue
        epoch, first, last = known
        if position.epoch != epoch or position.sequence != last + 1:
            return False  # not one run of sequences: the one-by-one path decides
        ranges[position.producer_id] = (epoch, first, position.sequence)
    if conn.dialect.name == "postgresql":
        result = await conn.execute(
            _ADVANCE_MANY,
            {
                "ids": list(ranges),
                "epochs": [r[0] for r in ranges.values()],
                "firsts": [r[1] for r in ranges.values()],
                "lasts": [r[2] for r in ranges.values()],
                "now": now,
            },
        )
        return int(result.rowcount) == len(ranges)
    moved = 0
    for producer_id, (epoch, first, last) in ranges.items():
        result = await conn.execute(
            update(metric_producers)
            .where(
                metric_producers.c.producer_id == producer_id,
                metric_producers.c.epoch == epoch,
                metric_producers.c.committed_sequence == first - 1,
            )
            .values(committed_sequence=last, update_time=now)
        )
        moved += result.rowcount
    return moved == len(ranges)


# Like _UPSERT_EVENTS_PG below: one statement of fixed text, rows as arrays.
_ADVANCE_MANY = text(
    "UPDATE metric_producers AS p SET committed_sequence = v.last, update_time = :now "
    "FROM unnest(CAST(:ids AS text[]), CAST(:epochs AS bigint[]), CAST(:firsts AS bigint[]), "
    "CAST(:lasts AS bigint[])) AS v(producer_id, epoch, first, last) "
    "WHERE p.producer_id = v.producer_id AND p.epoch = v.epoch "
    "AND p.committed_sequence = v.first - 1"
)


def superseded(producer_id: str, epoch: int) -> Aborted:
    return Aborted(
        f"a newer stream of producer {producer_id!r} (epoch {epoch}) took over; this one ends",
        reason="PRODUCER_SUPERSEDED",
        metadata={"producer_id": producer_id, "epoch": str(epoch)},
    )


def gap(sequence: int, expected: int) -> OutOfRange:
    return OutOfRange(
        f"sequence {sequence} leaves a gap: the next sequence must be {expected}",
        reason="SEQUENCE_GAP",
        metadata={"expected_sequence": str(expected), "sequence": str(sequence)},
    )


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _subset(points: PointColumns, keep: np.ndarray[Any, Any] | None) -> PointColumns:
    if keep is None:
        return PointColumns.empty()
    return PointColumns(
        points.series,
        points.series_index[keep],
        points.times[keep],
        points.values[keep],
        points.sources[keep],
    )


def _latest_states(events: list[EventIn]) -> list[EventIn]:
    """One event per natural key: the highest state; among equals, the last sent."""
    best: dict[tuple[uuid.UUID, str, str], EventIn] = {}
    for event in events:
        k = (event.project_id, event.type.value, event.natural_key)
        held = best.get(k)
        if held is None or event.state_rank >= held.state_rank:
            best[k] = event
    return sorted(best.values(), key=lambda e: (str(e.project_id), e.type.value, e.natural_key))


async def _upsert_events(
    conn: AsyncConnection, events: list[EventIn], now: datetime
) -> list[EventIn]:
    """Insert new events, replace stored ones by a later state; return those stored."""
    if conn.dialect.name == "postgresql":
        return await _upsert_events_pg(conn, events, now)
    stored: list[EventIn] = []
    insert = _insert_for(conn)
    for chunk in _chunks(events, 200):
        statement = insert(process_events).values(
            [
                {
                    "project_id": e.project_id,
                    "type": e.type.value,
                    "natural_key": e.natural_key,
                    "ref": e.ref,
                    "status": e.status,
                    "state_rank": e.state_rank,
                    "time": e.time,
                    "end_time": e.end_time,
                    "payload": e.payload,
                    "digest": e.digest,
                    "create_time": now,
                    "update_time": now,
                }
                for e in chunk
            ]
        )
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[
                process_events.c.project_id,
                process_events.c.type,
                process_events.c.natural_key,
            ],
            set_={
                "ref": excluded.ref,
                "status": excluded.status,
                "state_rank": excluded.state_rank,
                "time": excluded.time,
                "end_time": excluded.end_time,
                "payload": excluded.payload,
                "digest": excluded.digest,
                "update_time": excluded.update_time,
            },
            where=(excluded.state_rank > process_events.c.state_rank)
            | (
                (excluded.state_rank == process_events.c.state_rank)
                & (excluded.digest != process_events.c.digest)
            ),
        ).returning(
            process_events.c.type, process_events.c.natural_key, process_events.c.project_id
        )
        rows = await conn.execute(statement)
        done = {(r.project_id, r.type, r.natural_key) for r in rows}
        stored.extend(e for e in chunk if (e.project_id, e.type.value, e.natural_key) in done)
    return stored


# PostgreSQL: one statement of fixed text whatever the batch size, the rows as
# arrays unnested server-side. A multi-row VALUES statement is compiled anew
# for every batch size, which cost a third of the server's CPU on commit
# backfills.
_UPSERT_EVENTS_PG = text(
    """
    INSERT INTO process_events (project_id, type, natural_key, ref, status, state_rank,
                                time, end_time, payload, digest, create_time, update_time)
    SELECT u.project_id, u.type, u.natural_key, u.ref, u.status, u.state_rank,
           u.time, u.end_time, u.payload::jsonb, u.digest, :now, :now
    FROM unnest(CAST(:project_ids AS uuid[]), CAST(:types AS text[]),
                CAST(:natural_keys AS text[]), CAST(:refs AS text[]),
                CAST(:statuses AS text[]), CAST(:state_ranks AS smallint[]),
                CAST(:times AS timestamptz[]), CAST(:end_times AS timestamptz[]),
                CAST(:payloads AS text[]), CAST(:digests AS text[]))
         AS u(project_id, type, natural_key, ref, status, state_rank, time, end_time,
              payload, digest)
    ON CONFLICT (project_id, type, natural_key) DO UPDATE SET
        ref = EXCLUDED.ref, status = EXCLUDED.status, state_rank = EXCLUDED.state_rank,
        time = EXCLUDED.time, end_time = EXCLUDED.end_time, payload = EXCLUDED.payload,
        digest = EXCLUDED.digest, update_time = EXCLUDED.update_time
    WHERE EXCLUDED.state_rank > process_events.state_rank
       OR (EXCLUDED.state_rank = process_events.state_rank
           AND EXCLUDED.digest <> process_events.digest)
    RETURNING project_id, type, natural_key
    """
)


async def _upsert_events_pg(
    conn: AsyncConnection, events: list[EventIn], now: datetime
) -> list[EventIn]:
    stored: list[EventIn] = []
    for chunk in _chunks(events, 2000):
        rows = await conn.execute(
            _UPSERT_EVENTS_PG,
            {
                "now": now,
                "project_ids": [e.project_id for e in chunk],
                "types": [e.type.value for e in chunk],
                "natural_keys": [e.natural_key for e in chunk],
                "refs": [e.ref for e in chunk],
                "statuses": [e.status for e in chunk],
                "state_ranks": [e.state_rank for e in chunk],
                "times": [e.time for e in chunk],
                "end_times": [e.end_time for e in chunk],
                "payloads": [json.dumps(e.payload, separators=(",", ":")) for e in chunk],
                "digests": [e.digest for e in chunk],
            },
        )
        done = {(r.project_id, r.type, r.natural_key) for r in rows}
        stored.extend(e for e in chunk if (e.project_id, e.type.value, e.natural_key) in done)
    return stored


def _encode_result(result: WriteResult) -> bytes:
    return json.dumps(
        {
            "stored_points": result.stored_points,
            "stored_events": result.stored_events,
            "rejected": [[r.field, r.description] for r in result.rejected],
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
        rejected=[Rejected(f, d) for f, d in data["rejected"]],
    )


__all__ = ["Duplicate", "Ingestor", "Opened", "StreamPosition", "func"]
