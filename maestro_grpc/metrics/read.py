"""The metrics read API for other contexts (the Prediction context builds features from it).

Plain records only; raw points older than the retention setting
(MAESTRO_METRICS_RAW_RETENTION_DAYS, off by default) are no longer there.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from maestro_grpc.metrics.model import EventRecord, Windows, WindowTotals
from maestro_grpc.metrics.store.read import MetricsReadStore
from maestro_grpc.store.db import Database

__all__ = ["EventRecord", "MetricsReader", "WindowTotals", "Windows"]


class MetricsReader:
    """What other contexts may read of the metrics."""

    def __init__(self, db: Database) -> None:
        self._store = MetricsReadStore(db)

    async def metric_points(
        self, project_id: uuid.UUID, start: datetime | None, end: datetime
    ) -> list[tuple[str, datetime, float]]:
        """Every point of the project with start <= time < end, as (name, time, value).

        Ordered by (name, time); points of one name with different label sets
        at the same time come in label order.
        """
        return await self._store.metric_points(project_id, start, end)

    async def process_events(
        self, project_id: uuid.UUID, start: datetime | None, end: datetime
    ) -> list[EventRecord]:
        """The project's process events with start <= time < end (their main time), by time."""
        return await self._store.process_events(project_id, start, end)

    async def window_totals(
        self, name: str, windows: Windows, *, with_last: bool = False
    ) -> WindowTotals:
        """Each window's points named `name`, and its pre-period's, totalled in the store.

        At most two queries whatever the number of windows (the latest values
        are the second, when `with_last`); columns aligned with the windows.
        """
        return await self._store.window_totals(name, windows, with_last)
