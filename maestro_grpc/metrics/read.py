"""Read API of the metrics store for other services (the Prediction service builds features).

Both functions run on the caller's connection (either store) and return
plain Python values. Raw points older than the retention setting
(MAESTRO_METRICS_RAW_RETENTION_DAYS, off by default) are no longer there.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.metrics.model import EventRecord
from maestro_grpc.metrics.store.tables import metric_points as points_table
from maestro_grpc.metrics.store.tables import metric_series
from maestro_grpc.metrics.store.tables import process_events as events_table

__all__ = ["EventRecord", "metric_points", "process_events"]


async def metric_points(
    conn: AsyncConnection, project_id: uuid.UUID, start: datetime | None, end: datetime
) -> list[tuple[str, datetime, float]]:
    """Every point of the project with start <= time < end, as (name, time, value).

    Ordered by (name, time); points of one name with different label sets
    at the same time come in label order.
    """
    query = (
        select(metric_series.c.name, points_table.c.time, points_table.c.value)
        .select_from(
            metric_series.join(points_table, points_table.c.series_id == metric_series.c.id)
        )
        .where(metric_series.c.project_id == project_id, points_table.c.time < end)
        .order_by(metric_series.c.name, points_table.c.time, metric_series.c.labels)
    )
    if start is not None:
        query = query.where(points_table.c.time >= start)
    rows = await conn.execute(query)
    return [(row.name, row.time, float(row.value)) for row in rows]


async def process_events(
    conn: AsyncConnection, project_id: uuid.UUID, start: datetime | None, end: datetime
) -> list[EventRecord]:
    """The project's process events with start <= time < end (their main time), by time."""
    query = (
        select(events_table.c.type, events_table.c.time, events_table.c.payload)
        .where(events_table.c.project_id == project_id, events_table.c.time < end)
        .order_by(events_table.c.time, events_table.c.id)
    )
    if start is not None:
        query = query.where(events_table.c.time >= start)
    rows = await conn.execute(query)
    return [EventRecord(type=r.type, time=r.time, payload=dict(r.payload)) for r in rows]
