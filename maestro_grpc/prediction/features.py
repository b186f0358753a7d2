"""The meta-model's features: one module for training, prediction and team search.

A project is observed over a window measured from its start (its start_time,
or its create_time when that is not set): [start, start + observation_days).
Nothing at or after the window's end is read, and while the window is still
open (a running project) nothing after the prediction time either. The same
functions compute the features of the finished projects a model learns from
and of the project it is asked about, so the two can never drift apart.

Features are a flat mapping of name to value, None meaning *missing*
(unknown, as opposed to a real zero); the model replaces a missing value by
its training median and adds a missing indicator (see `training.py`). The
families:

- team.*: composition at the window's end: size, members and share per
  role, mean and max years of experience, total allocation, coverage of the
  project's required skills (label `required_skills`), turnover (members who
  left within the window over members who joined before its end). All
  missing when no member had joined by then.
- artifacts.*: reuse within the window: artifacts used, their mean impact
  score as it stood at the window's end (the registry's impact formula over
  the usages made before it, with the outcomes recorded before it), how many
  were reused (made by another project) and created (by this one), and the
  created share.
- metric.<name>.<aggregate>: for every metric name, over the points in the
  window: count, mean, median, min, last, slope (least squares, per day)
  and recent_mean (mean over the window's second half): the level (mean,
  median; the median is not swayed by a one-off bulk import), the floor
  (min: idle periods), the end state (last, recent_mean) and the trend. A
  name never seen before becomes a feature without code changes.
- event.<type>.<aggregate>: for every event type, over weekly counts: count
  (total), mean (events per week), last (events in the final 7 days), slope
  (of the weekly counts, per week) and recent_mean (events per week in the
  window's second half). Missing when the project has no events at all.
- dora.* and velocity.*: deployment frequency, change failure rate, lead
  time and time to restore (DORA), and merged pull requests per week, where
  the events they need exist. An event's later state is read only as far as
  the window allows: a pull request merged after the window's end counts as
  open, an incident resolved after it as unresolved.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

import numpy as np
import numpy.typing as npt

from maestro_grpc.metrics.read import EventRecord, MetricsReader
from maestro_grpc.registry.model import TeamRole
from maestro_grpc.registry.read import (
    ArtifactUse,
    ProjectOutline,
    ProjectUse,
    RegistryReader,
    TeamMember,
    UsageSignal,
    impact_score,
)

DEFAULT_OBSERVATION_DAYS = 240
MAX_OBSERVATION_DAYS = 3650
METRIC_AGGREGATES = ("count", "mean", "median", "min", "last", "slope", "recent_mean")
EVENT_AGGREGATES = ("count", "mean", "last", "slope", "recent_mean")
ROLES = tuple(role.value for role in TeamRole)
WEEK = timedelta(days=7)
DAY_SECONDS = 86_400.0
PRODUCTION = {"production", "prod"}

Features = dict[str, float | None]


# ---- the window -----------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """[start, end) of a project's observation, cut at `observed_end` while still open."""

    start: datetime
    end: datetime
    observed_end: datetime

    @property
    def complete(self) -> bool:
        return self.observed_end >= self.end

    @property
    def middle(self) -> datetime:
        return self.start + (self.end - self.start) / 2

    @property
    def observed_days(self) -> float:
        return max((self.observed_end - self.start).total_seconds(), 0.0) / DAY_SECONDS


def window_for(start: datetime, observation_days: int, as_of: datetime) -> Window:
    """The window of a project that started at `start`, as seen at `as_of`."""
    end = start + timedelta(days=observation_days)
    return Window(start=start, end=end, observed_end=max(min(end, as_of), start))


# ---- what features are computed from ----------------------------------------------------


@dataclass(frozen=True)
class Member:
    """What the team features need of one member."""

    role: str
    years_experience: float
    skills: frozenset[str]
    allocation: float
    join_time: datetime | None = None
    leave_time: datetime | None = None


@dataclass(frozen=True)
class ProjectRecord:
    """The project's own fields that training and prediction need."""

    id: uuid.UUID
    name: str
    status: str
    start: datetime
    end_time: datetime | None
    succeeded: bool | None
    success_record_time: datetime | None
    required_skills: frozenset[str]

    @property
    def finished_time(self) -> datetime | None:
        """When the project ended: its end_time, else when its outcome was recorded."""
        return self.end_time or self.success_record_time


@dataclass
class Observations:
    """Everything read for one project over its window."""

    members: list[Member] = field(default_factory=list)
    # Artifacts used in the window -> their impact score at the window's end.
    used_impacts: dict[uuid.UUID, float] = field(default_factory=dict)
    reused: int = 0
    created: int = 0
    points: list[tuple[str, datetime, float]] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)


def required_skills(labels: Mapping[str, Any] | None) -> frozenset[str]:
    raw = str((labels or {}).get("required_skills", ""))
    return frozenset(s.strip().lower() for s in raw.split(",") if s.strip())


def project_record(project: ProjectOutline) -> ProjectRecord:
    """What training and prediction need of a registry project."""
    return ProjectRecord(
        id=project.id,
        name=project.name,
        status=project.status.value,
        start=project.start_time or project.create_time,
        end_time=project.end_time,
        succeeded=project.succeeded,
        success_record_time=project.success_record_time,
        required_skills=required_skills(project.labels),
    )


# ---- computing --------------------------------------------------------------------------


def compute(project: ProjectRecord, window: Window, obs: Observations) -> Features:
    """All features of one project over its window (pure: the same input, the same output)."""
    out: Features = {}
    out.update(team_features(obs.members, project.required_skills, window))
    out.update(artifact_features(obs, window))
    out.update(metric_features(obs.points, window))
    out.update(event_features(obs.events, window))
    return out


def team_features(members: Sequence[Member], required: frozenset[str], window: Window) -> Features:
    """Composition at the window's end; all missing when nobody had joined by then."""
    joined = [m for m in members if (m.join_time or window.start) < window.observed_end]
    names = team_feature_names()
    if not joined:
        return dict.fromkeys(names)
    present = [m for m in joined if m.leave_time is None or m.leave_time >= window.observed_end]
    left = len(joined) - len(present)
    size = len(present)
    out: Features = {"team.size": float(size)}
    for role in ROLES:
        count = sum(1 for m in present if m.role == role)
        out[f"team.role.{role}.count"] = float(count)
        out[f"team.role.{role}.share"] = count / size if size else None
    years = [m.years_experience for m in present]
    out["team.experience.mean"] = sum(years) / size if size else None
    out["team.experience.max"] = max(years) if years else None
    out["team.allocation.total"] = sum(m.allocation for m in present)
    covered: set[str] = set()
    for m in present:
        covered |= m.skills
    out["team.skill_coverage"] = len(required & covered) / len(required) if required else None
    out["team.turnover"] = left / len(joined)
    return out


def team_feature_names() -> list[str]:
    names = ["team.size"]
    for role in ROLES:
        names += [f"team.role.{role}.count", f"team.role.{role}.share"]
    return [
        *names,
        "team.experience.mean",
        "team.experience.max",
        "team.allocation.total",
        "team.skill_coverage",
        "team.turnover",
    ]


@dataclass(frozen=True)
class CandidatePool:
    """Candidates as arrays, for computing the team features of many teams at once."""

    roles: npt.NDArray[np.int64]  # index into ROLES
    years: npt.NDArray[np.float64]
    allocation: npt.NDArray[np.float64]
    # covers[i, j]: candidate i has the j-th required skill.
    covers: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, members: Sequence[Member], required: frozenset[str]) -> CandidatePool:
        wanted = sorted(required)
        return cls(
            roles=np.array([ROLES.index(m.role) for m in members], dtype=np.int64),
            years=np.array([m.years_experience for m in members], dtype=np.float64),
            allocation=np.array([m.allocation for m in members], dtype=np.float64),
            covers=np.array(
                [[skill in m.skills for skill in wanted] for m in members], dtype=np.bool_
            ).reshape(len(members), len(wanted)),
        )


def team_feature_columns(
    pool: CandidatePool, membership: npt.NDArray[np.bool_]
) -> dict[str, npt.NDArray[np.float64]]:
    """team.* of teams drawn from `pool` (row b of `membership` marks team b's members).

    The teams are hypothetical: every member is there for the whole window,
    so turnover is 0. For the same members this agrees with `team_features`.
    """
    m = membership.astype(np.float64)
    size = m.sum(axis=1)
    safe = np.where(size > 0, size, 1.0)
    nan = np.full(size.shape, np.nan)
    out: dict[str, npt.NDArray[np.float64]] = {"team.size": size}
    for index, role in enumerate(ROLES):
        count = m @ (pool.roles == index).astype(np.float64)
        out[f"team.role.{role}.count"] = count
        out[f"team.role.{role}.share"] = np.where(size > 0, count / safe, nan)
    out["team.experience.mean"] = np.where(size > 0, (m @ pool.years) / safe, nan)
    masked = np.where(membership, pool.years[np.newaxis, :], -np.inf)
    out["team.experience.max"] = np.where(size > 0, masked.max(axis=1, initial=-np.inf), nan)
    out["team.allocation.total"] = m @ pool.allocation
    if pool.covers.shape[1]:
        covered = (m @ pool.covers.astype(np.float64)) > 0
        out["team.skill_coverage"] = covered.mean(axis=1)
    else:
        out["team.skill_coverage"] = nan
    out["team.turnover"] = np.zeros(size.shape)
    return out


def skill_coverage(pool: CandidatePool, membership: npt.NDArray[np.bool_]) -> npt.NDArray[Any]:
    """Share of the required skills each team covers (1 when none are required)."""
    if not pool.covers.shape[1]:
        return np.ones(membership.shape[0])
    covered = (membership.astype(np.float64) @ pool.covers.astype(np.float64)) > 0
    return np.asarray(covered.mean(axis=1), dtype=np.float64)


def artifact_features(obs: Observations, window: Window) -> Features:
    used = len(obs.used_impacts)
    impacts = list(obs.used_impacts.values())
    both = obs.created + obs.reused
    return {
        "artifacts.used": float(used),
        "artifacts.impact.mean": sum(impacts) / used if used else None,
        "artifacts.reused": float(obs.reused),
        "artifacts.created": float(obs.created),
        "artifacts.created_share": obs.created / both if both else None,
    }


def _days(t: datetime, window: Window) -> float:
    return (t - window.start).total_seconds() / DAY_SECONDS


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of ys on xs; None with fewer than two distinct xs."""
    n = len(xs)
    if n < 2:
        return None
    mean_x = math.fsum(xs) / n
    mean_y = math.fsum(ys) / n
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    if sxx <= 0.0:
        return None
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return sxy / sxx


def metric_features(points: Iterable[tuple[str, datetime, float]], window: Window) -> Features:
    """METRIC_AGGREGATES of every metric name over the window."""
    series: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for name, time, value in points:
        if window.start <= time < window.observed_end:
            series[name].append((time, value))
    out: Features = {}
    middle = window.middle
    for name in sorted(series):
        rows = series[name]
        values = [v for _, v in rows]
        recent = [v for t, v in rows if t >= middle]
        prefix = f"metric.{name}."
        out[prefix + "count"] = float(len(values))
        out[prefix + "mean"] = math.fsum(values) / len(values)
        out[prefix + "median"] = float(median(values))
        out[prefix + "min"] = min(values)
        out[prefix + "last"] = values[-1]
        out[prefix + "slope"] = _slope([_days(t, window) for t, _ in rows], values)
        out[prefix + "recent_mean"] = math.fsum(recent) / len(recent) if recent else None
    return out


def _time(payload: Mapping[str, Any], key: str) -> datetime | None:
    raw = payload.get(key)
    if not raw or not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def event_features(events: Sequence[EventRecord], window: Window) -> Features:
    """Generic weekly aggregates per event type, then DORA and velocity."""
    inside = [e for e in events if window.start <= e.time < window.observed_end]
    if not inside:
        return {}
    weeks = max(window.observed_days / 7.0, 1.0 / 7.0)
    n_buckets = max(math.ceil(window.observed_days / 7.0), 1)
    by_type: dict[str, list[EventRecord]] = defaultdict(list)
    for event in inside:
        by_type[event.type].append(event)
    out: Features = {}
    middle = window.middle
    recent_weeks = (window.observed_end - middle).total_seconds() / DAY_SECONDS / 7.0
    for kind in sorted(by_type):
        rows = by_type[kind]
        buckets = [0.0] * n_buckets
        for e in rows:
            index = min(int(_days(e.time, window) // 7), n_buckets - 1)
            buckets[index] += 1
        prefix = f"event.{kind}."
        out[prefix + "count"] = float(len(rows))
        out[prefix + "mean"] = len(rows) / weeks
        out[prefix + "last"] = float(sum(1 for e in rows if e.time >= window.observed_end - WEEK))
        out[prefix + "slope"] = _slope([float(i) for i in range(n_buckets)], buckets)
        recent = sum(1 for e in rows if e.time >= middle)
        out[prefix + "recent_mean"] = recent / recent_weeks if recent_weeks > 0 else None
    out.update(_dora(by_type, window, weeks))
    return out


def _dora(by_type: Mapping[str, list[EventRecord]], window: Window, weeks: float) -> Features:
    out: Features = {}
    cut = window.observed_end
    deployments = [
        e
        for e in by_type.get("deployment", [])
        if str(e.payload.get("environment", "")).lower() in PRODUCTION
        and e.payload.get("status") != "in_progress"
    ]
    incidents = by_type.get("incident", [])
    if by_type.get("deployment"):
        succeeded = [e for e in deployments if e.payload.get("status") == "succeeded"]
        out["dora.deployment_frequency_per_week"] = len(succeeded) / weeks
        causing = {str(e.payload.get("caused_by_deployment_id") or "") for e in incidents}
        failed = [
            e
            for e in deployments
            if e.payload.get("status") in {"failed", "rolled_back"}
            or str(e.payload.get("deployment_id", "")) in causing
        ]
        out["dora.change_failure_rate"] = len(failed) / len(deployments) if deployments else None
        authored = {str(e.payload.get("sha", "")): e.time for e in by_type.get("commit", [])}
        lead_hours = [
            (d.time - authored[sha]).total_seconds() / 3600.0
            for d in succeeded
            for sha in d.payload.get("commit_shas") or []
            if sha in authored and authored[sha] <= d.time
        ]
        out["dora.lead_time_hours"] = median(lead_hours) if lead_hours else None
    if incidents:
        restore = []
        for e in incidents:
            resolved = _time(e.payload, "resolve_time")
            if resolved is not None and resolved < cut and resolved >= e.time:
                restore.append((resolved - e.time).total_seconds() / 3600.0)
        out["dora.time_to_restore_hours"] = median(restore) if restore else None
    pulls = by_type.get("pull_request", [])
    if pulls:
        merged = 0
        for e in pulls:
            merge_time = _time(e.payload, "merge_time")
            if e.payload.get("state") == "merged" and merge_time is not None and merge_time < cut:
                merged += 1
        out["velocity.merged_prs_per_week"] = merged / weeks
    return out


# ---- reading ------------------------------------------------------------------------------


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
        self, registry: RegistryReader, metrics: MetricsReader, half_life_days: float
    ) -> None:
        self.registry = registry
        self.metrics = metrics
        self.half_life_days = half_life_days

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
