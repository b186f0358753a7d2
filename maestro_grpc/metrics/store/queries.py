"""The read side's SQL for metric names, velocity and DORA (summaries: `summaries.py`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.metrics.model import (
    DAY,
    EventTimes,
    EventType,
    NameInfo,
    RepositoryHead,
    TypeInfo,
    natural_key,
)
from maestro_grpc.metrics.store.points import fetch_named_points
from maestro_grpc.metrics.store.tables import (
    metric_points,
    metric_rollups,
    metric_series,
    process_events,
)
from maestro_grpc.store.db import Database

# A process event's main time and its payload.
TimedPayload = tuple[datetime, dict[str, Any]]
# A merged pull request: its natural key, open time and payload.
Pull = tuple[str, datetime, dict[str, Any]]
VELOCITY_TYPES = ("commit", "pull_request", "pipeline_run", "deployment")


class QueryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def names(
        self, project_id: uuid.UUID, name_prefix: str, boundary: datetime | None
    ) -> tuple[list[NameInfo], list[NameInfo], list[TypeInfo]]:
        """The project's metric names from raw points (from `boundary` on, if given), from
        daily rollups before `boundary` (none without one), and its event types."""
        async with self.db.read() as conn:
            raw = await _raw_names(conn, project_id, name_prefix, boundary)
            older = []
            if boundary is not None:
                older = await _rolled_names(conn, project_id, name_prefix, boundary)
            rows = await conn.execute(
                select(
                    process_events.c.type,
                    func.count().label("n"),
                    func.min(process_events.c.time).label("first"),
                    func.max(process_events.c.time).label("last"),
                )
                .where(process_events.c.project_id == project_id)
                .group_by(process_events.c.type)
                .order_by(process_events.c.type)
            )
            types = [TypeInfo(EventType(r.type), int(r.n), r.first, r.last) for r in rows]
        return raw, older, types

    async def named_points(
        self, project_id: uuid.UUID, name: str, start_us: int, end_us: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """One metric's raw points in [start, end), by time."""
        async with self.db.read() as conn:
            return await fetch_named_points(conn, project_id, name, start_us, end_us)

    async def velocity_events(
        self, project_id: uuid.UUID, start: datetime, end: datetime
    ) -> list[EventTimes]:
        """Commits, pull requests, pipeline runs and deployments with a time in [start, end)."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(
                    process_events.c.type,
                    process_events.c.status,
                    process_events.c.time,
                    process_events.c.end_time,
                ).where(
                    process_events.c.project_id == project_id,
                    process_events.c.type.in_(VELOCITY_TYPES),
                    ((process_events.c.time >= start) & (process_events.c.time < end))
                    | ((process_events.c.end_time >= start) & (process_events.c.end_time < end)),
                )
            )
            return [EventTimes(r.type, r.status, r.time, r.end_time) for r in rows]

    async def dora_events(
        self, project_id: uuid.UUID, incidents_since: datetime | None
    ) -> tuple[list[TimedPayload], list[TimedPayload]]:
        """Every deployment, and the incidents opened at or after `incidents_since`
        (all when None): an incident opened after a window can still be caused by
        a deployment in it, and be attributed to the last deployment before it."""
        async with self.db.read() as conn:
            deployments = await _events(conn, project_id, "deployment", None, None)
            incidents = await _events(conn, project_id, "incident", incidents_since, None)
        return deployments, incidents

    async def repository_heads(
        self, project_id: uuid.UUID, repo: str, limit: int
    ) -> list[RepositoryHead]:
        """The repository's branch heads whose commit is stored, newest commit first."""
        prefix = natural_key(repo, "")
        async with self.db.read() as conn:
            rows = (
                await conn.execute(
                    select(
                        process_events.c.natural_key,
                        process_events.c.ref,
                        process_events.c.time,
                        process_events.c.update_time,
                    )
                    .where(
                        process_events.c.project_id == project_id,
                        process_events.c.type == EventType.BRANCH_HEAD.value,
                        func.substr(process_events.c.natural_key, 1, len(prefix)) == prefix,
                    )
                    .order_by(process_events.c.time.desc(), process_events.c.id.desc())
                    .limit(limit)
                )
            ).all()
            wanted = [natural_key(repo, r.ref) for r in rows]
            stored: set[str] = set()
            for i in range(0, len(wanted), 500):
                found = await conn.execute(
                    select(process_events.c.natural_key).where(
                        process_events.c.project_id == project_id,
                        process_events.c.type == EventType.COMMIT.value,
                        process_events.c.natural_key.in_(wanted[i : i + 500]),
                    )
                )
                stored.update(r[0] for r in found)
        return [
            RepositoryHead(r.natural_key[len(prefix) :], r.ref, r.time, r.update_time)
            for r in rows
            if natural_key(repo, r.ref) in stored
        ]

    async def changes(
        self, project_id: uuid.UUID, shas: set[str], merged_since: datetime, end: datetime
    ) -> tuple[dict[str, datetime], list[Pull]]:
        """The earliest author time of each of `shas` that is a known commit, and the pull
        requests merged in [merged_since, end)."""
        commit_times: dict[str, datetime] = {}
        wanted = sorted(shas)
        async with self.db.read() as conn:
            for i in range(0, len(wanted), 500):
                rows = await conn.execute(
                    select(process_events.c.ref, process_events.c.time).where(
                        process_events.c.project_id == project_id,
                        process_events.c.type == "commit",
                        process_events.c.ref.in_(wanted[i : i + 500]),
                    )
                )
                for r in rows:
                    commit_times[r.ref] = min(r.time, commit_times.get(r.ref, r.time))
            pulls = await conn.execute(
                select(
                    process_events.c.natural_key, process_events.c.time, process_events.c.payload
                ).where(
                    process_events.c.project_id == project_id,
                    process_events.c.type == "pull_request",
                    process_events.c.status == "merged",
                    process_events.c.end_time >= merged_since,
                    process_events.c.end_time < end,
                )
            )
            return commit_times, [(p.natural_key, p.time, p.payload) for p in pulls]


def _prefixed(statement: Select[Any], name_prefix: str) -> Select[Any]:
    if not name_prefix:
        return statement
    return statement.where(func.substr(metric_series.c.name, 1, len(name_prefix)) == name_prefix)


async def _raw_names(
    conn: AsyncConnection, project_id: uuid.UUID, name_prefix: str, since: datetime | None
) -> list[NameInfo]:
    statement = (
        select(
            metric_series.c.name,
            func.count().label("n"),
            func.min(metric_points.c.time).label("first"),
            func.max(metric_points.c.time).label("last"),
        )
        .select_from(
            metric_series.join(metric_points, metric_points.c.series_id == metric_series.c.id)
        )
        .where(metric_series.c.project_id == project_id)
        .group_by(metric_series.c.name)
    )
    statement = _prefixed(statement, name_prefix)
    if since is not None:
        statement = statement.where(metric_points.c.time >= since)
    return [NameInfo(r.name, int(r.n), r.first, r.last) for r in await conn.execute(statement)]


async def _rolled_names(
    conn: AsyncConnection, project_id: uuid.UUID, name_prefix: str, before: datetime
) -> list[NameInfo]:
    statement = (
        select(
            metric_series.c.name,
            func.sum(metric_rollups.c.count).label("n"),
            func.min(metric_rollups.c.first_time).label("first"),
            func.max(metric_rollups.c.last_time).label("last"),
        )
        .select_from(
            metric_series.join(metric_rollups, metric_rollups.c.series_id == metric_series.c.id)
        )
        .where(
            metric_series.c.project_id == project_id,
            metric_rollups.c.granularity == DAY,
            metric_rollups.c.bucket_start < before,
        )
        .group_by(metric_series.c.name)
    )
    statement = _prefixed(statement, name_prefix)
    return [NameInfo(r.name, int(r.n), r.first, r.last) for r in await conn.execute(statement)]


async def _events(
    conn: AsyncConnection,
    project_id: uuid.UUID,
    event_type: str,
    start: datetime | None,
    end: datetime | None,
) -> list[TimedPayload]:
    statement = select(process_events.c.time, process_events.c.payload).where(
        process_events.c.project_id == project_id,
        process_events.c.type == event_type,
    )
    if end is not None:
        statement = statement.where(process_events.c.time < end)
    if start is not None:
        statement = statement.where(process_events.c.time >= start)
    return [(r.time, dict(r.payload)) for r in await conn.execute(statement)]
