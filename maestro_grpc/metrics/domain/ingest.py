"""The write path: one batch, one transaction, exactly once per producer sequence.

Before its transaction, a batch is made ready: rows of unknown projects
refused, series ids resolved (created as needed, cached), points
deduplicated and sorted, the rollup windows it touches worked out, the
monthly partitions it needs created. Then it waits for a write slot and is
stored, together with the batches that wait beside it (`groupcommit.py`);
the store runs the transactions (`store/ingest.py`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from maestro_grpc import audit
from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import NotFound
from maestro_grpc.metrics.domain.groupcommit import GroupCommit
from maestro_grpc.metrics.domain.windows import windows_of
from maestro_grpc.metrics.model import (
    Batch,
    EventIn,
    FeedEntry,
    Opened,
    PointColumns,
    PointRows,
    PreparedBatch,
    SeriesKey,
    StreamPosition,
    Window,
    WriteResult,
)
from maestro_grpc.metrics.store.ingest import IngestStore
from maestro_grpc.registry.read import RegistryReader

log = logging.getLogger("maestro.metrics.ingest")

MAX_CACHED_SERIES = 200_000
# Told of each committed write's feed entries; must not wait (feed.Publisher).
Feed = Callable[[list[FeedEntry]], None]


class Ingestor:
    """Stores batches (RecordMetrics and StreamMetrics) and opens producers' streams."""

    def __init__(
        self,
        store: IngestStore,
        *,
        registry: RegistryReader,
        clock: Clock = utcnow,
        feed: Feed | None = None,
        rollup_delay: timedelta = timedelta(seconds=5),
        max_concurrent_writes: int = 8,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.feed = feed
        self.rollup_delay = rollup_delay
        self._known_projects: set[uuid.UUID] = set()
        self._series: dict[SeriesKey, int] = {}
        # At most this many batch transactions at once, so that streams queue
        # here (in order) rather than time out waiting for a pooled connection.
        self._writes = asyncio.Semaphore(max_concurrent_writes)
        # Fewer group writers than write slots, so that batches arriving
        # together wait a moment and share a commit.
        self._group = GroupCommit(self._write_group, slots=max(1, max_concurrent_writes // 4))

    async def open_producer(self, producer_id: str, project_id: uuid.UUID | None) -> Opened:
        """Register a stream of `producer_id`: a new epoch, and where to resume."""
        now = self.clock()
        if project_id is not None and await self._missing_projects({project_id}):
            raise NotFound(f"project {project_id} does not exist", reason="PROJECT_NOT_FOUND")
        return await self.store.open_producer(producer_id, project_id, now)

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
        scope = audit.current() if position is None else None
        if scope is not None:
            # Written in a group commit, beside other callers' batches: its
            # event goes in that transaction, by the store, with the batch.
            scope.automatic = False
            for project in sorted(batch.project_ids(), key=str):
                audit.touch("projects", f"{project}/metrics", project)
        item = await self.prepare(batch, position)
        item.audit = scope
        if request_id:
            return await self._write_one(item, request_id=request_id, fingerprint=fingerprint)
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
        item = PreparedBatch(batch=batch, position=position, events=latest_states(batch.events))
        if len(points):
            keep = dedup_sorted(points.series_index, points.times)
            used = points.series_index[keep]
            ids = await self._series_ids(points.series, np.unique(used))
            # One copy of the kept columns serves the write and the feed.
            item.points = points.subset(keep)
            item.series_ids = ids
            item.windows = _windows(points)
            await self.store.ensure_partitions(points.times)
            # The batch's own columns are no longer needed (memory per
            # in-flight batch is what bounds a server with many streams).
            batch.points = PointColumns.empty()
        return item

    def _publish(self, entries: list[FeedEntry]) -> None:
        if self.feed is not None and entries:
            self.feed(entries)

    async def _write_one(
        self, item: PreparedBatch, *, request_id: str = "", fingerprint: str = ""
    ) -> WriteResult:
        """One batch in its own transaction; existing points are replaced."""
        now = self.clock()
        async with self._writes:
            result = await self.store.write_one(
                item,
                now=now,
                run_after=now + self.rollup_delay,
                request_id=request_id,
                fingerprint=fingerprint,
            )
        self._publish(result.feed)
        return result

    async def _write_group(self, items: list[PreparedBatch]) -> list[WriteResult | BaseException]:
        """Several batches in one transaction; on any failure, one by one."""
        if len(items) > 1 or self.store.copies_lone_batches:
            grouped = await self._try_group(items)
            if grouped is not None:
                return list(grouped)
        out: list[WriteResult | BaseException] = []
        for item in items:
            try:
                out.append(await self._write_one(item))
            except Exception as error:
                out.append(error)
        return out

    async def _try_group(self, items: list[PreparedBatch]) -> list[WriteResult] | None:
        now = self.clock()
        rows, owner, feed_points = _merged(items)
        # A lone batch's events are its own latest states already (prepare).
        events = (
            items[0].events
            if len(items) == 1
            else latest_states([e for i in items for e in i.events])
        )
        event_owner = {id(e): n for n, i in enumerate(items) for e in i.events}
        async with self._writes:
            stored = await self.store.write_group(
                [i.position for i in items if i.position is not None],
                rows,
                events,
                sorted({w for i in items for w in i.windows}),
                feed_points=feed_points,
                now=now,
                run_after=now + self.rollup_delay,
                audits=[i.audit for i in items if i.audit is not None],
            )
        if stored is None:
            return None
        self._publish(stored.feed)
        stored_by: list[list[EventIn]] = [[] for _ in items]
        for event in stored.events:
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

    async def _missing_projects(self, wanted: set[uuid.UUID]) -> set[uuid.UUID]:
        unknown = wanted - self._known_projects
        if not unknown:
            return set()
        found = await self.registry.existing_projects(unknown)
        # Projects are never deleted, so a project seen once stays known.
        self._known_projects |= found
        return unknown - found

    async def _series_ids(
        self, keys: Sequence[SeriesKey], used: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """Ids of the used series (created as needed, in their own transaction); -1 for others."""
        wanted = [keys[i] for i in used.tolist()]
        missing = [k for k in wanted if k not in self._series]
        if missing:
            if len(self._series) + len(missing) > MAX_CACHED_SERIES:
                self._series.clear()
            self._series.update(await self.store.create_series(missing, self.clock()))
        ids = np.full(len(keys), -1, dtype=np.int64)
        ids[used] = [self._series[k] for k in wanted]
        return ids


# ---- a batch's rows, made ready --------------------------------------------------------


def _merged(items: list[PreparedBatch]) -> tuple[PointRows, np.ndarray, PointColumns]:
    """The rows of a group's batches as one: each identity's last point, sorted; which
    batch each row came from; the same points as the feed shows them.

    A function of its own so that the concatenated columns it sorts from
    are freed before the group's COPY, not held (as locals) until it ends.
    """
    # One concatenation of each column serves the write and the feed; the
    # series tables are joined as concat joins the batches' series.
    whole = PointColumns.concat([i.points for i in items])
    series_ids = np.concatenate([i.series_ids for i in items])[whole.series_index]
    # Across batches too, the last point of an identity wins; then every
    # remaining row must be new for the direct COPY.
    keep = dedup_sorted(series_ids, whole.times)
    owner = np.repeat(np.arange(len(items)), [len(i.points) for i in items])[keep]
    feed = whole.subset(keep)
    rows = PointRows(series_ids[keep], feed.times, feed.values, feed.sources)
    return rows, owner, feed


def dedup_sorted(
    series_ids: npt.NDArray[np.int64],
    times: npt.NDArray[np.int64],
) -> npt.NDArray[np.intp]:
    """Indexes that keep the last point of each (series, time), sorted by (series, time).

    A later point of the same identity in one batch replaces an earlier one,
    as a later batch would; sorting also makes index inserts local.
    """
    n = series_ids.shape[0]
    if n == 0:
        return np.zeros(0, np.intp)
    # lexsort is stable: equal keys keep their order, so the last of a run
    # is the last sent.
    order = np.lexsort((times, series_ids))
    s = series_ids[order]
    t = times[order]
    last = np.ones(n, dtype=bool)
    last[:-1] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
    return order[last]


def latest_states(events: list[EventIn]) -> list[EventIn]:
    """One event per natural key: the highest state; among equals, the last sent."""
    best: dict[tuple[uuid.UUID, str, str], EventIn] = {}
    for event in events:
        k = (event.project_id, event.type.value, event.natural_key)
        held = best.get(k)
        if held is None or event.state_rank >= held.state_rank:
            best[k] = event
    # UUIDs order as their text does (and their ints compare in C).
    return sorted(best.values(), key=lambda e: (e.project_id.int, e.type.value, e.natural_key))


def _windows(points: PointColumns) -> list[Window]:
    projects = {points.series[i].project_id for i in np.unique(points.series_index).tolist()}
    if len(projects) == 1:
        return windows_of(next(iter(projects)), points.times)
    codes = np.array([s.project_id.int for s in points.series], dtype=object)[points.series_index]
    out: list[Window] = []
    for project in projects:
        out.extend(windows_of(project, points.times[codes == project.int]))
    return out
