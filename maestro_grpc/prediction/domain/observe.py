"""Reading what the features need, through the registry's and the metrics' read APIs
(and, for RecommendTeam's pool, the people directory's)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from maestro_grpc.metrics.read import MetricsReader
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
        """The observations of each (project, window), in the order given."""
        ids = [p.id for p, _ in targets]
        windows = {p.id: w for p, w in targets}
        teams = await self.registry.team_members(ids)
        uses: dict[uuid.UUID, list[ProjectUse]] = defaultdict(list)
        for use in await self.registry.uses_by(ids):
            window = windows[use.project_id]
            if window.start <= use.use_time < window.observed_end:
                uses[use.project_id].append(use)
        created: dict[uuid.UUID, int] = dict.fromkeys(ids, 0)
        for made in await self.registry.created_by(ids):
            window = windows[made.origin_project_id]
            if window.start <= made.create_time < window.observed_end:
                created[made.origin_project_id] += 1
        out: list[Observations] = []
        for project, window in targets:
            members = [
                member_of(m) for m in teams.get(project.id, []) if m.join_time < window.observed_end
            ]
            obs = Observations(members=members, created=created[project.id])
            used: dict[uuid.UUID, ProjectUse] = {}
            for use in uses.get(project.id, []):
                used.setdefault(use.artifact_id, use)
            obs.reused = sum(1 for u in used.values() if u.origin_project_id != project.id)
            obs.used_impacts = dict.fromkeys(used, 0.0)
            out.append(obs)
        await self._impacts(targets, out)
        for (project, window), obs in zip(targets, out, strict=True):
            obs.points = await self.metrics.metric_points(
                project.id, window.start, window.observed_end
            )
            obs.events = await self.metrics.process_events(
                project.id, window.start, window.observed_end
            )
        return out

    async def _impacts(
        self, targets: Sequence[tuple[ProjectRecord, Window]], out: list[Observations]
    ) -> None:
        """Each used artifact's impact as it stood at the using project's window end."""
        wanted = {a for obs in out for a in obs.used_impacts}
        history: dict[uuid.UUID, list[ArtifactUse]] = defaultdict(list)
        for use in await self.registry.uses_of(wanted):
            history[use.artifact_id].append(use)
        for (_, window), obs in zip(targets, out, strict=True):
            cut = window.observed_end
            for artifact_id in obs.used_impacts:
                signals = []
                for u in history[artifact_id]:
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
                obs.used_impacts[artifact_id] = impact_score(signals, cut, self.half_life_days)


async def load_projects(
    registry: RegistryReader, ids: Sequence[uuid.UUID] | None = None
) -> list[ProjectRecord]:
    """Projects (all, or those of `ids`), ordered by id."""
    return [project_record(p) for p in await registry.projects(ids)]
