"""Read-side domain of the Metrics service: summaries, velocity, DORA, metric names.

Each loads what it needs from the store and hands it to the plain functions
in summary.py, velocity.py and dora.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import InvalidArgument, NotFound
from maestro_grpc.metrics.domain import dora as dora_math
from maestro_grpc.metrics.domain.velocity import MAX_BUCKETS, Velocity, bucket_starts, velocity
from maestro_grpc.metrics.model import EventType
from maestro_grpc.metrics.rollup import DAY
from maestro_grpc.metrics.store.tables import (
    metric_points,
    metric_rollups,
    metric_series,
    process_events,
)
from maestro_grpc.metrics.summary import Summary, SummaryQuery, summaries
from maestro_grpc.registry.read import RegistryReader
from maestro_grpc.store.db import Database

PR_LOOKBACK = timedelta(days=365)


@dataclass(frozen=True)
class NameInfo:
    name: str
    count: int
    first_time: datetime
    last_time: datetime


@dataclass(frozen=True)
class TypeInfo:
    type: EventType
    count: int
    first_time: datetime
    last_time: datetime


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class Queries:
    def __init__(
        self,
        db: Database,
        *,
        registry: RegistryReader,
        clock: Clock = utcnow,
        raw_max: timedelta = timedelta(days=31),
        retention: timedelta | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.clock = clock
        self.raw_max = raw_max
        self.retention = retention

    async def require_project(self, project_id: uuid.UUID) -> None:
        if not await self.registry.project_exists(project_id):
            raise NotFound(f"project {project_id} does not exist", reason="PROJECT_NOT_FOUND")

    # ---- summaries -----------------------------------------------------------------

    async def summary(self, query: SummaryQuery) -> list[Summary]:
        await self.require_project(query.project_id)
        if query.start is not None and query.start >= query.end:
            raise InvalidArgument.for_field("end_time", "must be after start_time")
        return await summaries(
            self.db, query, now=self.clock(), raw_max=self.raw_max, retention=self.retention
        )

    # ---- names ---------------------------------------------------------------------

    def _raw_boundary(self) -> datetime | None:
        """Raw points are complete from here on (the next whole day after the retention)."""
        if self.retention is None:
            return None
        horizon = self.clock() - self.retention
        day = datetime(horizon.year, horizon.month, horizon.day, tzinfo=UTC)
        return day + timedelta(days=1)

    async def names(
        self, project_id: uuid.UUID, name_prefix: str
    ) -> tuple[list[NameInfo], list[TypeInfo]]:
        await self.require_project(project_id)
        boundary = self._raw_boundary()
        found: dict[str, NameInfo] = {}
        async with self.db.read() as conn:
            statement = (
                select(
                    metric_series.c.name,
                    func.count().label("n"),
                    func.min(metric_points.c.time).label("first"),
                    func.max(metric_points.c.time).label("last"),
                )
                .select_from(
                    metric_series.join(
                        metric_points, metric_points.c.series_id == metric_series.c.id
                    )
                )
                .where(metric_series.c.project_id == project_id)
                .group_by(metric_series.c.name)
            )
            if name_prefix:
                statement = statement.where(
                    func.substr(metric_series.c.name, 1, len(name_prefix)) == name_prefix
                )
            if boundary is not None:
                statement = statement.where(metric_points.c.time >= boundary)
            for r in await conn.execute(statement):
                found[r.name] = NameInfo(r.name, int(r.n), r.first, r.last)
            if boundary is not None:
                older = (
                    select(
                        metric_series.c.name,
                        func.sum(metric_rollups.c.count).label("n"),
                        func.min(metric_rollups.c.first_time).label("first"),
                        func.max(metric_rollups.c.last_time).label("last"),
                    )
                    .select_from(
                        metric_series.join(
                            metric_rollups, metric_rollups.c.series_id == metric_series.c.id
                        )
                    )
                    .where(
                        metric_series.c.project_id == project_id,
                        metric_rollups.c.granularity == DAY,
                        metric_rollups.c.bucket_start < boundary,
                    )
                    .group_by(metric_series.c.name)
                )
                if name_prefix:
                    older = older.where(
                        func.substr(metric_series.c.name, 1, len(name_prefix)) == name_prefix
                    )
                for r in await conn.execute(older):
                    held = found.get(r.name)
                    info = NameInfo(r.name, int(r.n), r.first, r.last)
                    if held is not None:
                        info = NameInfo(
                            r.name,
                            held.count + info.count,
                            min(held.first_time, info.first_time),
                            max(held.last_time, info.last_time),
                        )
                    found[r.name] = info
            types = []
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
            for r in rows:
                types.append(TypeInfo(EventType(r.type), int(r.n), r.first, r.last))
        return [found[n] for n in sorted(found)], sorted(types, key=lambda t: t.type.value)

    # ---- velocity ------------------------------------------------------------------

    async def velocity(
        self, project_id: uuid.UUID, start: datetime, end: datetime, weekly: bool
    ) -> Velocity:
        await self.require_project(project_id)
        if start >= end:
            raise InvalidArgument.for_field("end_time", "must be after start_time")
        if len(bucket_starts(start, end, weekly)) > MAX_BUCKETS:
            raise InvalidArgument.for_field(
                "start_time", f"the window holds more than {MAX_BUCKETS} buckets; narrow it"
            )
        events: list[tuple[str, datetime]] = []
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(
                    process_events.c.type,
                    process_events.c.status,
                    process_events.c.time,
                    process_events.c.end_time,
                ).where(
                    process_events.c.project_id == project_id,
                    process_events.c.type.in_(
                        ["commit", "pull_request", "pipeline_run", "deployment"]
                    ),
                    ((process_events.c.time >= start) & (process_events.c.time < end))
                    | ((process_events.c.end_time >= start) & (process_events.c.end_time < end)),
                )
            )
            for r in rows:
                if r.type == "commit":
                    events.append(("commits", r.time))
                elif r.type == "pull_request" and r.status == "merged" and r.end_time:
                    events.append(("merged_pull_requests", r.end_time))
                elif r.type == "pipeline_run":
                    events.append(("pipeline_runs", r.time))
                elif r.type == "deployment" and r.status in dora_math.DEPLOYED:
                    events.append(("deployments", r.time))
        return velocity(start, end, weekly, events)

    # ---- DORA ----------------------------------------------------------------------

    async def dora(
        self,
        project_id: uuid.UUID,
        start: datetime,
        end: datetime,
        environment: str,
        thresholds: int,
    ) -> dora_math.DoraResult:
        await self.require_project(project_id)
        if start >= end:
            raise InvalidArgument.for_field("end_time", "must be after start_time")
        async with self.db.read() as conn:
            deployments = [
                dora_math.Deploy(
                    deployment_id=str(p["deployment_id"]),
                    environment=str(p["environment"]),
                    status=str(p["status"]),
                    time=t,
                    commit_shas=tuple(p.get("commit_shas") or ()),
                )
                for t, p in await _events(conn, project_id, "deployment", None, end)
            ]
            incidents = [
                dora_math.Incident(
                    incident_id=str(p["incident_id"]),
                    environment=str(p.get("environment") or "production"),
                    open_time=t,
                    resolve_time=_time(p.get("resolve_time")),
                    caused_by=str(p.get("caused_by_deployment_id") or ""),
                )
                for t, p in await _events(conn, project_id, "incident", start, end)
            ]
            env = (environment or "production").lower()
            shipped = {
                sha
                for d in deployments
                if d.environment.lower() == env and start <= d.time < end
                for sha in d.commit_shas
            }
            changes = await _changes(conn, project_id, shipped, start, end)
        return dora_math.dora(
            start=start,
            end=end,
            environment=environment or "production",
            deployments=deployments,
            incidents=incidents,
            changes=changes,
            thresholds=thresholds,
        )


async def _events(
    conn: AsyncConnection,
    project_id: uuid.UUID,
    event_type: str,
    start: datetime | None,
    end: datetime,
) -> list[tuple[datetime, dict[str, Any]]]:
    statement = select(process_events.c.time, process_events.c.payload).where(
        process_events.c.project_id == project_id,
        process_events.c.type == event_type,
        process_events.c.time < end,
    )
    if start is not None:
        statement = statement.where(process_events.c.time >= start)
    return [(r.time, dict(r.payload)) for r in await conn.execute(statement)]


async def _changes(
    conn: AsyncConnection,
    project_id: uuid.UUID,
    shas: set[str],
    start: datetime,
    end: datetime,
) -> list[dora_math.Change]:
    """The changes (pull requests, else lone commits) that the shipped shas belong to."""
    if not shas:
        return []
    commit_times: dict[str, datetime] = {}
    wanted = sorted(shas)
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
        select(process_events.c.natural_key, process_events.c.time, process_events.c.payload).where(
            process_events.c.project_id == project_id,
            process_events.c.type == "pull_request",
            process_events.c.status == "merged",
            process_events.c.end_time >= start - PR_LOOKBACK,
            process_events.c.end_time < end,
        )
    )
    changes: list[dora_math.Change] = []
    covered: set[str] = set()
    for pull in pulls:
        p = pull.payload
        pr_shas = {s for s in (p.get("commit_shas") or []) if s}
        if p.get("merge_commit_sha"):
            pr_shas.add(p["merge_commit_sha"])
        if not pr_shas & shas:
            continue
        first = _time(p.get("first_commit_time"))
        if first is None:
            known = [commit_times[s] for s in pr_shas if s in commit_times]
            first = min(known) if known else pull.time
        changes.append(dora_math.Change(f"pr:{pull.natural_key}", tuple(sorted(pr_shas)), first))
        covered |= pr_shas
    for sha in sorted(shas - covered):
        if sha in commit_times:
            changes.append(dora_math.Change(f"commit:{sha}", (sha,), commit_times[sha]))
    return changes
