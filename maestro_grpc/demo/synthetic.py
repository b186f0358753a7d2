"""`maestro demo seed --address HOST:PORT`: synthetic projects with a known ground truth.

Each project's outcome follows a known rule, so a trained meta-model can be
checked against it. For each finished project:

- start: uniformly 400-1500 days ago; end: start + 240 + U(30, 150) days;
- team: 3-8 members joining at the start, roles drawn from five, years of
  experience ~ Gamma(2, 2.5) (mean 5), 2-4 skills each from ten; each
  member leaves within the first 240 days with probability 0.15; the
  project requires 3 of the ten skills (label `required_skills`);
- weekly metric points from the start to the end:
  `demo.review_coverage` = clip(r + N(0, 0.05), 0, 1) with the project's
  level r ~ U(0.3, 0.95); `demo.build_failures` ~ Poisson(b) with
  b ~ U(0, 5); `demo.noise` ~ N(u, 1) with u ~ U(-1, 1), unrelated to the
  outcome. After day 240 review coverage is 0.95 for projects that succeed
  and 0.2 for the others: a leak that only a model reading past its
  observation window could use;
- outcome: succeeded ~ Bernoulli(sigmoid(eta)) with
  eta = 0.3 + 0.9 (E - 5) / 2 + 2.0 (C - 0.5) + 4.0 (r - 0.6) - 0.35 (b - 2.5),
  E the mean experience and C the required-skill coverage of the members
  present on day 240.

`--active N` adds N running projects (started 30-200 days ago, no outcome)
to predict and staff.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from maestro_grpc.demo.calls import Calls, columns_of, timestamp

if TYPE_CHECKING:
    import grpc.aio
    import numpy as np

SKILLS = (
    "python",
    "sql",
    "spark",
    "pytorch",
    "nlp",
    "vision",
    "kubernetes",
    "statistics",
    "airflow",
    "go",
)
ROLES = (
    "TEAM_ROLE_DATA_SCIENTIST",
    "TEAM_ROLE_ML_ENGINEER",
    "TEAM_ROLE_DATA_ENGINEER",
    "TEAM_ROLE_SOFTWARE_ENGINEER",
    "TEAM_ROLE_MLOPS_ENGINEER",
)
WINDOW_DAYS = 240

Point = tuple[str, datetime, float]


@dataclass
class SeededProject:
    project_id: str
    name: str
    finished: bool
    probability: float
    succeeded: bool | None


@dataclass
class SeedReport:
    projects: list[SeededProject] = field(default_factory=list)
    points: int = 0


@dataclass(frozen=True)
class _Member:
    person_id: str
    role: str
    years: float
    skills: list[str]
    leave: datetime | None


@dataclass(frozen=True)
class _Plan:
    n: int
    start: datetime
    end: datetime | None
    required: list[str]
    members: list[_Member]
    probability: float
    succeeded: bool | None
    points: list[Point]


def truth(mean_experience: float, coverage: float, review: float, failures: float) -> float:
    """The ground-truth probability of success (see the module docstring)."""
    eta = (
        0.3
        + 0.9 * (mean_experience - 5.0) / 2.0
        + 2.0 * (coverage - 0.5)
        + 4.0 * (review - 0.6)
        - 0.35 * (failures - 2.5)
    )
    return 1.0 / (1.0 + math.exp(-eta))


async def seed(
    channel: grpc.aio.Channel,
    projects: int,
    active: int = 0,
    random_seed: int = 0,
    prefix: str = "demo",
    token: str = "",
    concurrency: int = 8,
    now: datetime | None = None,
) -> SeedReport:
    """Create synthetic projects through the public RPCs (see the module docstring)."""
    import numpy as np

    planner = _Planner(np.random.default_rng(random_seed), now or datetime.now(UTC), prefix)
    # All randomness is drawn first, in order: a seed gives the same data
    # whatever order the calls complete in.
    plans = [planner.plan(n, finished=n < projects) for n in range(projects + active)]
    calls = Calls(channel, token, concurrency)
    request_ids = f"{prefix}-seed-{random_seed}"
    project_ids = await asyncio.gather(*(_create(calls, p, prefix, request_ids) for p in plans))
    report = SeedReport()
    report.points = await calls.record(
        [columns_of(pid, plan.points) for plan, pid in zip(plans, project_ids, strict=True)]
    )
    await asyncio.gather(
        *(
            calls.close_project(
                pid,
                "PROJECT_STATUS_COMPLETED" if plan.succeeded else "PROJECT_STATUS_CANCELLED",
                plan.end,
                plan.succeeded,
                "synthetic outcome (maestro demo seed)",
            )
            for plan, pid in zip(plans, project_ids, strict=True)
            if plan.end is not None and plan.succeeded is not None
        )
    )
    report.projects = sorted(
        (
            SeededProject(
                pid,
                f"{prefix}-{plan.n}",
                plan.succeeded is not None,
                plan.probability,
                plan.succeeded,
            )
            for plan, pid in zip(plans, project_ids, strict=True)
        ),
        key=lambda p: p.name,
    )
    return report


class _Planner:
    """Draws each project's plan from one generator, always in the same order."""

    def __init__(self, rng: np.random.Generator, now: datetime, prefix: str) -> None:
        self.rng = rng
        self.now = now
        self.prefix = prefix

    def plan(self, n: int, *, finished: bool) -> _Plan:
        rng = self.rng
        start, end = self._dates(finished)
        required = [str(s) for s in rng.choice(SKILLS, size=3, replace=False)]
        members = [self._member(n, i, start) for i in range(int(rng.integers(3, 9)))]
        window_end = start + timedelta(days=WINDOW_DAYS)
        present = [m for m in members if m.leave is None or m.leave >= window_end]
        experience = sum(m.years for m in present) / len(present) if present else 0.0
        covered = {s for m in present for s in m.skills}
        coverage = len(set(required) & covered) / len(required)
        review = float(rng.uniform(0.3, 0.95))
        failures = float(rng.uniform(0.0, 5.0))
        noise = float(rng.uniform(-1.0, 1.0))
        probability = truth(experience, coverage, review, failures)
        succeeded = bool(rng.random() < probability) if finished else None
        last = end if end is not None else self.now - timedelta(hours=1)
        points = self._weekly_points(start, last, review, failures, noise, succeeded)
        return _Plan(n, start, end, required, members, probability, succeeded, points)

    def _dates(self, finished: bool) -> tuple[datetime, datetime | None]:
        if not finished:
            return self.now - timedelta(days=float(self.rng.uniform(30, 200))), None
        start = self.now - timedelta(days=float(self.rng.uniform(400, 1500)))
        return start, start + timedelta(days=WINDOW_DAYS + float(self.rng.uniform(30, 150)))

    def _member(self, n: int, i: int, start: datetime) -> _Member:
        rng = self.rng
        skills = [str(s) for s in rng.choice(SKILLS, size=int(rng.integers(2, 5)), replace=False)]
        leave = None
        if rng.random() < 0.15:
            leave = start + timedelta(days=float(rng.uniform(10, WINDOW_DAYS - 10)))
            if leave > self.now:
                leave = None
        return _Member(
            f"{self.prefix}-person-{n}-{i}",
            str(rng.choice(ROLES)),
            float(min(rng.gamma(2.0, 2.5), 40.0)),
            skills,
            leave,
        )

    def _weekly_points(
        self,
        start: datetime,
        last: datetime,
        review: float,
        failures: float,
        noise: float,
        succeeded: bool | None,
    ) -> list[Point]:
        """The three weekly series from `start` to `last`, sorted by name and time."""
        rng = self.rng
        points = []
        t = start
        while t <= last:
            day = (t - start).total_seconds() / 86_400
            if day < WINDOW_DAYS:
                coverage_value = min(max(review + float(rng.normal(0, 0.05)), 0.0), 1.0)
            else:
                coverage_value = 0.95 if succeeded else 0.2
            points.append(("demo.review_coverage", t, coverage_value))
            points.append(("demo.build_failures", t, float(rng.poisson(failures))))
            points.append(("demo.noise", t, float(rng.normal(noise, 1.0))))
            t += timedelta(days=7)
        points.sort(key=lambda p: (p[0], p[1]))
        return points


async def _create(calls: Calls, plan: _Plan, prefix: str, request_ids: str) -> str:
    """The project, then its members, one after the other; the project's id."""
    from maestro.registry.v1 import project_pb2 as pp
    from maestro.registry.v1 import registry_service_pb2 as rs

    response = await calls.call(
        calls.registry.CreateProject,
        rs.CreateProjectRequest(
            project=pp.Project(
                name=f"{prefix}-{plan.n}",
                status=pp.PROJECT_STATUS_ACTIVE,
                labels={"source": "demo-seed", "required_skills": ",".join(plan.required)},
                start_time=timestamp(plan.start),
            ),
            request_id=f"{request_ids}-{plan.n}",
        ),
    )
    project_id = response.project.id
    for m in plan.members:
        member = pp.TeamMember(
            person_id=m.person_id,
            role=m.role,
            years_experience=m.years,
            skills=m.skills,
            join_time=timestamp(plan.start),
        )
        if m.leave is not None:
            member.leave_time.CopyFrom(timestamp(m.leave))
        await calls.call(
            calls.registry.AddTeamMember,
            rs.AddTeamMemberRequest(project_id=project_id, team_member=member),
        )
    return project_id
