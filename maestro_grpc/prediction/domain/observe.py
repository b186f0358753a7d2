"""Reading what the features need, through the registry's and the metrics' read APIs
(and, for RecommendTeam's pool, the people directory's)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from maestro_grpc.metrics.read import EventRecord, MetricsReader
from maestro_grpc.prediction.domain.pool import People
from maestro_grpc.prediction.domain.window import (
    Member,
    Observations,
    ProjectRecord,
    Window,
    project_record,
)
from maestro_grpc.registry.read import (
    ArtifactUse,
    ProjectUse,
    RegistryReader,
    TeamMember,
    UsageSignal,
    impact_score,
)


def member_of(member: TeamMember) -> Member:
    """What the team features need of a registry team member."""
    return Member(
        role=member.role.value,
        years_experience=float(member.years_experience),
        skills=frozenset(s.lower() for s in member.skills),
        allocation=float(member.allocation),
        join_time=member.join_time,
        leave_time=member.leave_time,
    )


class FeatureReader:
    """Reads what `compute` needs, through the registry's and the metrics' read APIs."""

    def __init__(
        self,
        registry: RegistryReader,
        metrics: MetricsReader,
        half_life_days: float,
        people: People | None = None,
    ) -> None:
        self.registry = registry
        self.metrics = metrics
        self.half_life_days = half_life_days
        # The directory RecommendTeam draws candidates from (None: none wired).
        self.people = people

    async def observe(self, targets: Sequence[tuple[ProjectRecord, Window]]) -> list[Observations]:
        """The observations of each (project, window), in the order given.

        The reads that do not need each other's rows run at once, each on a
        connection of its own: a prediction waits for the slowest of them, not
        for their sum.
        """
        ids = [p.id for p, _ in targets]
        windows = {p.id: w for p, w in targets}
        teams, (uses, history), made, measured = await asyncio.gather(
            self.registry.team_members(ids),
            self._uses(windows),
            self.registry.created_by(ids),
            self._measured(targets),
        )
        created: dict[uuid.UUID, int] = dict.fromkeys(ids, 0)
        for artifact in made:
            window = windows[artifact.origin_project_id]
            if window.start <= artifact.create_time < window.observed_end:
                created[artifact.origin_project_id] += 1
        out: list[Observations] = []
        for (project, window), (points, events) in zip(targets, measured, strict=True):
            members = [
                member_of(m) for m in teams.get(project.id, []) if m.join_time < window.observed_end
            ]
            obs = Observations(members=members, created=created[project.id])
            used: dict[uuid.UUID, ProjectUse] = {}
            for use in uses.get(project.id, []):
                used.setdefault(use.artifact_id, use)
            obs.reused = sum(1 for u in used.values() if u.origin_project_id != project.id)
            obs.used_impacts = {a: self._impact(history[a], window.observed_end) for a in used}
            obs.points, obs.events = points, events
            out.append(obs)
        return out

    async def _uses(
        self, windows: dict[uuid.UUID, Window]
    ) -> tuple[dict[uuid.UUID, list[ProjectUse]], dict[uuid.UUID, list[ArtifactUse]]]:
        """The usages each project logged in its window, and every usage of the
        artifacts they used (with the using projects' outcomes): their impacts."""
        uses: dict[uuid.UUID, list[ProjectUse]] = defaultdict(list)
        for use in await self.registry.uses_by(list(windows)):
            window = windows[use.project_id]
            if window.start <= use.use_time < window.observed_end:
                uses[use.project_id].append(use)
        history: dict[uuid.UUID, list[ArtifactUse]] = defaultdict(list)
        wanted = {use.artifact_id for found in uses.values() for use in found}
        if wanted:
            for past in await self.registry.uses_of(wanted):
                history[past.artifact_id].append(past)
        return uses, history

    async def _measured(
        self, targets: Sequence[tuple[ProjectRecord, Window]]
    ) -> list[tuple[list[tuple[str, datetime, float]], list[EventRecord]]]:
        """Each project's metric points and process events in its window (a project's
        two reads at once; one project after another, so a training set of thousands
        holds two connections, not the pool)."""
        out = []
        for project, window in targets:
            out.append(
                await asyncio.gather(
                    self.metrics.metric_points(project.id, window.start, window.observed_end),
                    self.metrics.process_events(project.id, window.start, window.observed_end),
                )
            )
        return out

    def _impact(self, history: list[ArtifactUse], cut: datetime) -> float:
        """An artifact's impact as it stood at `cut` (a using project's window end)."""
        signals = []
        for u in history:
            if u.use_time >= cut:
                continue
            known = u.project_record_time is not None and u.project_record_time < cut
            signals.append(
                UsageSignal(
                    outcome=u.outcome,
                    use_time=u.use_time,
                    project_succeeded=u.project_succeeded if known else None,
                    project_score=u.project_score if known else None,
                )
            )
        return impact_score(signals, cut, self.half_life_days)


async def load_projects(
    registry: RegistryReader, ids: Sequence[uuid.UUID] | None = None
) -> list[ProjectRecord]:
    """Projects (all, or those of `ids`), ordered by id."""
    return [project_record(p) for p in await registry.projects(ids)]
