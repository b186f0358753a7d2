"""The read side of the Metrics service: summaries, velocity, DORA, metric names.

Each loads what it needs through the store and hands it to the plain
functions of summary.py, velocity.py and dora.py. The request's window was
validated by the wire (start before end); what depends on stored state is
checked here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from maestro_grpc.clock import Clock, to_micros, utcnow
from maestro_grpc.errors import InvalidArgument, NotFound
from maestro_grpc.metrics.domain import dora as dora_math
from maestro_grpc.metrics.domain import fourkeys
from maestro_grpc.metrics.domain.series import Series, series
from maestro_grpc.metrics.domain.summary import Summary, summaries
from maestro_grpc.metrics.domain.velocity import MAX_BUCKETS, Velocity, bucket_starts, velocity
from maestro_grpc.metrics.model import (
    EventTimes,
    NameInfo,
    RepositoryHead,
    SummaryQuery,
    TypeInfo,
)
from maestro_grpc.metrics.store.queries import Pull, QueryStore
from maestro_grpc.metrics.store.summaries import SummaryStore
from maestro_grpc.registry.read import RegistryReader

PR_LOOKBACK = timedelta(days=365)
MAX_HEADS = 1000
# What each velocity series counts, by event type.
_VELOCITY_SERIES = {
    "commit": "commits",
    "pull_request": "merged_pull_requests",
    "pipeline_run": "pipeline_runs",
    "deployment": "deployments",
}


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class Queries:
    def __init__(
        self,
        store: QueryStore,
        summaries: SummaryStore,
        *,
        registry: RegistryReader,
        clock: Clock = utcnow,
        raw_max: timedelta = timedelta(days=31),
        retention: timedelta | None = None,
    ) -> None:
        self.store = store
        self.summaries = summaries
        self.registry = registry
        self.clock = clock
        self.raw_max = raw_max
        self.retention = retention

    async def require_project(self, project_id: uuid.UUID) -> None:
        if not await self.registry.project_exists(project_id):
            raise NotFound(f"project {project_id} does not exist", reason="PROJECT_NOT_FOUND")

    async def summary(self, query: SummaryQuery) -> list[Summary]:
        found = await summaries(
            self.summaries,
            query,
            now=self.clock(),
            raw_max=self.raw_max,
            retention=self.retention,
        )
        # Only an empty answer needs the project looked up: a series (and so
        # a summary) exists only while its project does (ON DELETE CASCADE).
        if not found:
            await self.require_project(query.project_id)
        return found

    async def series(
        self,
        project_id: uuid.UUID,
        name: str,
        start: datetime | None,
        end: datetime,
        max_points: int,
    ) -> Series:
        """One metric's points in [start, end), or buckets of them (GetMetricSeries)."""
        await self.require_project(project_id)
        start_us = to_micros(start) if start is not None else 0
        times, values = await self.store.named_points(project_id, name, start_us, to_micros(end))
        return series(times, values, max_points)

    # ---- names ---------------------------------------------------------------------

    def _raw_boundary(self) -> datetime | None:
        """Raw points are complete from here on (the next whole day after the retention)."""
        if self.retention is None:
            return None
        horizon = self.clock() - self.retention
        day = datetime(horizon.year, horizon.month, horizon.day, tzinfo=UTC)
        return day + timedelta(days=1)

    async def repository_heads(self, project_id: uuid.UUID, repo: str) -> list[RepositoryHead]:
        """The branch heads agents sent for `repo` whose commit is stored (GetRepositoryHeads)."""
        await self.require_project(project_id)
        return await self.store.repository_heads(project_id, repo, MAX_HEADS)

    async def names(
        self, project_id: uuid.UUID, name_prefix: str
    ) -> tuple[list[NameInfo], list[TypeInfo]]:
        """The project's metric names and event types, with counts and first and last times.

        Before the raw-point retention's boundary, names are counted from
        their daily rollups; after it, from the points.
        """
        await self.require_project(project_id)
        raw, older, types = await self.store.names(project_id, name_prefix, self._raw_boundary())
        found = {info.name: info for info in raw}
        for info in older:
            held = found.get(info.name)
            if held is not None:
                info = NameInfo(
                    info.name,
                    held.count + info.count,
                    min(held.first_time, info.first_time),
                    max(held.last_time, info.last_time),
                )
            found[info.name] = info
        return [found[n] for n in sorted(found)], sorted(types, key=lambda t: t.type.value)

    # ---- velocity ------------------------------------------------------------------

    async def velocity(
        self, project_id: uuid.UUID, start: datetime, end: datetime, weekly: bool
    ) -> Velocity:
        await self.require_project(project_id)
        if len(bucket_starts(start, end, weekly)) > MAX_BUCKETS:
            raise InvalidArgument.for_field(
                "start_time", f"the window holds more than {MAX_BUCKETS} buckets; narrow it"
            )
        rows = await self.store.velocity_events(project_id, start, end)
        return velocity(start, end, weekly, [e for row in rows if (e := _counted(row))])

    # ---- DORA ----------------------------------------------------------------------

    async def dora(
        self,
        project_id: uuid.UUID,
        start: datetime,
        end: datetime,
        environment: str,
        thresholds: int,
        four_keys: bool = False,
    ) -> dora_math.DoraResult:
        await self.require_project(project_id)
        # Four Keys links incidents of any time; this service's own reading,
        # those opened from the window's start on (after its end too: a
        # deployment of the window can cause one later).
        deployed, opened = await self.store.dora_events(project_id, None if four_keys else start)
        deployments = [_deploy(t, p) for t, p in deployed]
        incidents = [_incident(t, p) for t, p in opened]
        env = (environment or "production").lower()
        shipped = {
            sha
            for d in deployments
            if d.environment.lower() == env and start <= d.time < end
            for sha in d.commit_shas
        }
        commit_times: dict[str, datetime] = {}
        pulls: list[Pull] = []
        if shipped:
            commit_times, pulls = await self.store.changes(
                project_id, shipped, start - PR_LOOKBACK, end
            )
        if four_keys:
            return fourkeys.four_keys(
                start=start,
                end=end,
                environment=environment or "production",
                deployments=deployments,
                incidents=incidents,
                commit_times=commit_times,
            )
        return dora_math.dora(
            start=start,
            end=end,
            environment=environment or "production",
            deployments=deployments,
            incidents=incidents,
            changes=_changes(shipped, commit_times, pulls) if shipped else [],
            thresholds=thresholds,
        )


def _counted(row: EventTimes) -> tuple[str, datetime] | None:
    """The (velocity series, time) an event counts as, or None when it does not count."""
    if row.type == "pull_request":
        if row.status == "merged" and row.end_time:
            return "merged_pull_requests", row.end_time
        return None
    if row.type == "deployment" and row.status not in dora_math.DEPLOYED:
        return None
    series = _VELOCITY_SERIES.get(row.type)
    return None if series is None else (series, row.time)


def _deploy(time: datetime, p: dict[str, Any]) -> dora_math.Deploy:
    return dora_math.Deploy(
        deployment_id=str(p["deployment_id"]),
        environment=str(p["environment"]),
        status=str(p["status"]),
        time=time,
        commit_shas=tuple(p.get("commit_shas") or ()),
    )


def _incident(time: datetime, p: dict[str, Any]) -> dora_math.Incident:
    return dora_math.Incident(
        incident_id=str(p["incident_id"]),
        environment=str(p.get("environment") or "production"),
        open_time=time,
        resolve_time=_time(p.get("resolve_time")),
        caused_by=str(p.get("caused_by_deployment_id") or ""),
    )


def _changes(
    shas: set[str], commit_times: dict[str, datetime], pulls: list[Pull]
) -> list[dora_math.Change]:
    """The changes (pull requests, else lone commits) that the shipped shas belong to."""
    changes: list[dora_math.Change] = []
    covered: set[str] = set()
    for natural_key, opened, p in pulls:
        pr_shas = {s for s in (p.get("commit_shas") or []) if s}
        if p.get("merge_commit_sha"):
            pr_shas.add(p["merge_commit_sha"])
        if not pr_shas & shas:
            continue
        first = _time(p.get("first_commit_time"))
        if first is None:
            known = [commit_times[s] for s in pr_shas if s in commit_times]
            first = min(known) if known else opened
        changes.append(dora_math.Change(f"pr:{natural_key}", tuple(sorted(pr_shas)), first))
        covered |= pr_shas
    for sha in sorted(shas - covered):
        if sha in commit_times:
            changes.append(dora_math.Change(f"commit:{sha}", (sha,), commit_times[sha]))
    return changes
