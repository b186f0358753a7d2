"""The SQL behind the metrics read API for other contexts (`metrics/read.py`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, select

from maestro_grpc.metrics.model import EventRecord, Windows, WindowTotals
from maestro_grpc.metrics.store import windows as windowed
from maestro_grpc.metrics.store.tables import metric_points as points_table
from maestro_grpc.metrics.store.tables import metric_series
from maestro_grpc.metrics.store.tables import process_events as events_table
from maestro_grpc.store.db import Database

# What every prediction reads, built once (see registry/store/read.py): a
# project's points and events before `end`, and from `start` on.
_POINTS_BEFORE = (
    select(metric_series.c.name, points_table.c.time, points_table.c.value)
    .select_from(metric_series.join(points_table, points_table.c.series_id == metric_series.c.id))
    .where(
        metric_series.c.project_id == bindparam("project_id"),
        points_table.c.time < bindparam("end"),
    )
    .order_by(metric_series.c.name, points_table.c.time, metric_series.c.labels)
)
_POINTS = _POINTS_BEFORE.where(points_table.c.time >= bindparam("start"))
_EVENTS_BEFORE = (
    select(events_table.c.type, events_table.c.time, events_table.c.payload)
    .where(
        events_table.c.project_id == bindparam("project_id"),
        events_table.c.time < bindparam("end"),
    )
    .order_by(events_table.c.time, events_table.c.id)
)
_EVENTS = _EVENTS_BEFORE.where(events_table.c.time >= bindparam("start"))


class MetricsReadStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def metric_points(
        self, project_id: uuid.UUID, start: datetime | None, end: datetime
    ) -> list[tuple[str, datetime, float]]:
        query = _POINTS if start is not None else _POINTS_BEFORE
        params = {"project_id": project_id, "start": start, "end": end}
        async with self.db.read() as conn:
            rows = await conn.execute(query, params)
            return [(row.name, row.time, float(row.value)) for row in rows]

    async def process_events(
        self, project_id: uuid.UUID, start: datetime | None, end: datetime
    ) -> list[EventRecord]:
        query = _EVENTS if start is not None else _EVENTS_BEFORE
        params = {"project_id": project_id, "start": start, "end": end}
        async with self.db.read() as conn:
            rows = await conn.execute(query, params)
            return [EventRecord(type=r.type, time=r.time, payload=dict(r.payload)) for r in rows]

    async def window_totals(self, name: str, windows: Windows, with_last: bool) -> WindowTotals:
        """Two queries at most, whatever the number of windows (`windows.py`)."""
        if not len(windows):
            return WindowTotals.empty(0)
        async with self.db.read() as conn:
            return await windowed.totals(conn, name, windows, with_last)
