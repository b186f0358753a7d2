"""`maestro demo ...`: load example data through the public RPCs.

`maestro demo import-asfi DIR --address HOST:PORT` loads the Apache
Incubator data set (DIR holds projects.csv and monthly.csv; the repository
ships it in data/asfi/): each project is created with its start date
(CreateProject, labels source=asfi and its alias and sponsor), each monthly
figure becomes the metric point `asf.<column>` stamped at the start of its
month (month 1 at the start date, month m at m - 1 calendar months later:
the figure describes that month), sent in batches of columnar RecordMetrics
calls; then the project is closed (UpdateProject: COMPLETED for graduated,
CANCELLED for retired, with its end date) and its outcome recorded
(UpdateProjectSuccess: succeeded = graduated). Each CreateProject carries a
request_id, so running the import twice does not create projects twice.

`maestro demo seed --address HOST:PORT` generates synthetic projects whose
outcome follows a known rule (the ground truth below), so a trained
meta-model can be checked against it. For each finished project:

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

import argparse
import asyncio
import csv
import json
import math
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ASFI_COLUMNS = (
    "active_devs",
    "num_commits",
    "num_files",
    "num_emails",
    "c_percentage",
    "e_percentage",
    "inactive_c",
    "inactive_e",
    "c_nodes",
    "c_edges",
    "c_c_coef",
    "c_mean_degree",
    "c_long_tail",
    "e_nodes",
    "e_edges",
    "e_c_coef",
    "e_mean_degree",
    "e_long_tail",
)
MAX_POINTS_PER_CALL = 8000
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


def add_commands(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="load demo data (Apache Incubator projects, synthetic projects)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = demo.add_subparsers(dest="demo_command", metavar="DEMO_COMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--address",
        default=os.environ.get("MAESTRO_ADDRESS", "localhost:50051"),
        help="the server, HOST:PORT (MAESTRO_ADDRESS, default localhost:50051)",
    )
    common.add_argument(
        "--token",
        default=os.environ.get("MAESTRO_TOKEN", ""),
        help="bearer token, when the server requires one (MAESTRO_TOKEN)",
    )
    common.add_argument(
        "--concurrency", type=int, default=8, help="calls in flight at once (default 8)"
    )
    asfi = sub.add_parser(
        "import-asfi",
        parents=[common],
        help="load the Apache Incubator projects (projects.csv, monthly.csv) through the RPCs",
    )
    asfi.add_argument("directory", type=Path, help="folder holding projects.csv and monthly.csv")
    asfi.set_defaults(handler=_import_asfi_command)
    seed = sub.add_parser(
        "seed",
        parents=[common],
        help="generate synthetic projects from the documented ground truth",
    )
    seed.add_argument("--projects", type=int, default=300, help="finished projects (default 300)")
    seed.add_argument("--active", type=int, default=0, help="running projects (default 0)")
    seed.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    seed.add_argument(
        "--prefix", default="demo", help="project names are <prefix>-<n> (default demo)"
    )
    seed.set_defaults(handler=_seed_command)


# ---- shared ---------------------------------------------------------------------------------


class Calls:
    """The service stubs on one channel, with the token and a bound on calls in flight."""

    def __init__(self, channel: Any, token: str = "", concurrency: int = 8) -> None:
        from maestro.metrics.v1 import metrics_service_pb2_grpc
        from maestro.registry.v1 import registry_service_pb2_grpc

        self.registry = registry_service_pb2_grpc.RegistryServiceStub(channel)
        self.metrics = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        self.metadata = [("authorization", f"Bearer {token}")] if token else []
        self.limit = asyncio.Semaphore(max(concurrency, 1))

    async def call(self, method: Callable[..., Awaitable[T]], request: Any) -> T:
        async with self.limit:
            return await method(request, metadata=self.metadata, timeout=120)

    async def record(self, columns: Sequence[Any]) -> int:
        """Send columnar points in calls of at most MAX_POINTS_PER_CALL points each."""
        batches: list[list[Any]] = [[]]
        size = 0
        for item in columns:
            if batches[-1] and size + len(item.values) > MAX_POINTS_PER_CALL:
                batches.append([])
                size = 0
            batches[-1].append(item)
            size += len(item.values)
        stored = await asyncio.gather(*(flush_of(b, self) for b in batches if b))
        return sum(stored)


async def flush_of(batch: list[Any], calls: Calls) -> int:
    from maestro.metrics.v1 import metric_pb2
    from maestro.metrics.v1 import metrics_service_pb2 as ms

    response = await calls.call(
        calls.metrics.RecordMetrics,
        ms.RecordMetricsRequest(batch=metric_pb2.MetricBatch(columns=batch)),
    )
    if response.rejected:
        first = response.rejected[0]
        raise RuntimeError(
            f"{len(response.rejected)} points refused, first {first.field}: {first.description}"
        )
    return int(response.stored_points)


def columns_of(project_id: str, points: Sequence[tuple[str, datetime, float]]) -> Any:
    """One project's points as a MetricColumns message."""
    from maestro.metrics.v1 import metric_pb2
    from maestro_grpc.clock import to_micros

    names = sorted({name for name, _, _ in points})
    index = {name: i for i, name in enumerate(names)}
    return metric_pb2.MetricColumns(
        project_id=project_id,
        source=metric_pb2.METRIC_SOURCE_MANUAL,
        names=names,
        name_indexes=[index[name] for name, _, _ in points],
        values=[value for _, _, value in points],
        times_unix_micros=[to_micros(time) for _, time, _ in points],
    )


def add_months(start: datetime, months: int) -> datetime:
    """`start` moved by whole calendar months (the day clamped to the month's length)."""
    month0 = start.month - 1 + months
    year = start.year + month0 // 12
    month = month0 % 12 + 1
    days = [31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return start.replace(year=year, month=month, day=min(start.day, days[month - 1]))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _ts(value: datetime) -> Any:
    from google.protobuf import timestamp_pb2

    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value)
    return out


async def _close_project(
    calls: Calls, project_id: str, status: str, end: datetime | None, succeeded: bool, notes: str
) -> None:
    from google.protobuf import field_mask_pb2

    from maestro.registry.v1 import project_pb2 as pp
    from maestro.registry.v1 import registry_service_pb2 as rs

    paths = ["status"]
    project = pp.Project(id=project_id, status=status)
    if end is not None:
        project.end_time.CopyFrom(_ts(end))
        paths.append("end_time")
    await calls.call(
        calls.registry.UpdateProject,
        rs.UpdateProjectRequest(project=project, update_mask=field_mask_pb2.FieldMask(paths=paths)),
    )
    await calls.call(
        calls.registry.UpdateProjectSuccess,
        rs.UpdateProjectSuccessRequest(
            project_id=project_id, success=pp.ProjectSuccess(succeeded=succeeded, notes=notes)
        ),
    )


# ---- the Apache Incubator data ------------------------------------------------------------


@dataclass
class ImportReport:
    projects: int = 0
    points: int = 0
    graduated: int = 0
    retired: int = 0
    project_ids: dict[str, str] = field(default_factory=dict)


def _date(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    return datetime.strptime(raw, "%m/%d/%Y").replace(tzinfo=UTC)


async def import_asfi(
    channel: Any, directory: Path, token: str = "", concurrency: int = 8
) -> ImportReport:
    """Load the ASFI projects of `directory` through the public RPCs."""
    from maestro.registry.v1 import project_pb2 as pp
    from maestro.registry.v1 import registry_service_pb2 as rs

    with (directory / "projects.csv").open(newline="") as f:
        projects = list(csv.DictReader(f))
    monthly: dict[str, list[dict[str, str]]] = {}
    with (directory / "monthly.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            monthly.setdefault(row["project"], []).append(row)
    calls = Calls(channel, token, concurrency)
    report = ImportReport()

    async def create(row: dict[str, str]) -> tuple[dict[str, str], str]:
        start = _date(row["start_date"])
        labels = {"source": "asfi", "asf.alias": row["alias"][:256]}
        if row.get("sponsor"):
            labels["asf.sponsor"] = row["sponsor"][:256]
        project = pp.Project(
            name=row["name"],
            description=row.get("intro", "")[:10_000],
            status=pp.PROJECT_STATUS_ACTIVE,
            labels=labels,
        )
        if start is not None:
            project.start_time.CopyFrom(_ts(start))
        response = await calls.call(
            calls.registry.CreateProject,
            rs.CreateProjectRequest(project=project, request_id=f"asfi-{row['project']}"),
        )
        return row, response.project.id

    created = await asyncio.gather(*(create(row) for row in projects))
    columns = []
    for row, project_id in created:
        start = _date(row["start_date"])
        assert start is not None
        points = []
        for month in monthly.get(row["project"], []):
            at = add_months(start, int(float(month["month"])) - 1)
            for column in ASFI_COLUMNS:
                raw = month.get(column, "")
                if raw.strip():
                    points.append((f"asf.{column}", at, float(raw)))
        points.sort(key=lambda p: (p[0], p[1]))
        if points:
            columns.append(columns_of(project_id, points))
        report.project_ids[row["name"]] = project_id
    report.points = await calls.record(columns)

    async def close(row: dict[str, str], project_id: str) -> None:
        graduated = row["status"].strip().lower() == "graduated"
        await _close_project(
            calls,
            project_id,
            "PROJECT_STATUS_COMPLETED" if graduated else "PROJECT_STATUS_CANCELLED",
            _date(row.get("end_date", "")),
            graduated,
            "graduated from the Apache Incubator" if graduated else "retired from the Incubator",
        )

    await asyncio.gather(*(close(row, pid) for row, pid in created))
    report.projects = len(created)
    report.graduated = sum(1 for row, _ in created if row["status"] == "graduated")
    report.retired = report.projects - report.graduated
    return report


# ---- synthetic projects --------------------------------------------------------------------


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
    points: list[tuple[str, datetime, float]]


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
    channel: Any,
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

    from maestro.registry.v1 import project_pb2 as pp
    from maestro.registry.v1 import registry_service_pb2 as rs

    rng = np.random.default_rng(random_seed)
    now = now or datetime.now(UTC)
    calls = Calls(channel, token, concurrency)
    report = SeedReport()
    columns: list[Any] = []
    closing: list[tuple[str, datetime, bool]] = []

    def plan(n: int, finished: bool) -> _Plan:
        if finished:
            start = now - timedelta(days=float(rng.uniform(400, 1500)))
            end: datetime | None = start + timedelta(days=WINDOW_DAYS + float(rng.uniform(30, 150)))
        else:
            start = now - timedelta(days=float(rng.uniform(30, 200)))
            end = None
        required = [str(s) for s in rng.choice(SKILLS, size=3, replace=False)]
        window_end = start + timedelta(days=WINDOW_DAYS)
        members = []
        for i in range(int(rng.integers(3, 9))):
            skills = [
                str(s) for s in rng.choice(SKILLS, size=int(rng.integers(2, 5)), replace=False)
            ]
            leave = None
            if rng.random() < 0.15:
                leave = start + timedelta(days=float(rng.uniform(10, WINDOW_DAYS - 10)))
                if leave > now:
                    leave = None
            members.append(
                _Member(
                    f"{prefix}-person-{n}-{i}",
                    str(rng.choice(ROLES)),
                    float(min(rng.gamma(2.0, 2.5), 40.0)),
                    skills,
                    leave,
                )
            )
        present = [m for m in members if m.leave is None or m.leave >= window_end]
        experience = sum(m.years for m in present) / len(present) if present else 0.0
        covered = {s for m in present for s in m.skills}
        coverage = len(set(required) & covered) / len(required)
        review = float(rng.uniform(0.3, 0.95))
        failures = float(rng.uniform(0.0, 5.0))
        noise = float(rng.uniform(-1.0, 1.0))
        probability = truth(experience, coverage, review, failures)
        succeeded = bool(rng.random() < probability) if finished else None
        points = []
        last = end if end is not None else now - timedelta(hours=1)
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
        return _Plan(n, start, end, required, members, probability, succeeded, points)

    async def create(item: _Plan) -> None:
        response = await calls.call(
            calls.registry.CreateProject,
            rs.CreateProjectRequest(
                project=pp.Project(
                    name=f"{prefix}-{item.n}",
                    status=pp.PROJECT_STATUS_ACTIVE,
                    labels={"source": "demo-seed", "required_skills": ",".join(item.required)},
                    start_time=_ts(item.start),
                ),
                request_id=f"{prefix}-seed-{random_seed}-{item.n}",
            ),
        )
        project_id = response.project.id
        for m in item.members:
            member = pp.TeamMember(
                person_id=m.person_id,
                role=m.role,
                years_experience=m.years,
                skills=m.skills,
                join_time=_ts(item.start),
            )
            if m.leave is not None:
                member.leave_time.CopyFrom(_ts(m.leave))
            await calls.call(
                calls.registry.AddTeamMember,
                rs.AddTeamMemberRequest(project_id=project_id, team_member=member),
            )
        columns.append(columns_of(project_id, item.points))
        if item.end is not None and item.succeeded is not None:
            closing.append((project_id, item.end, item.succeeded))
        report.projects.append(
            SeededProject(
                project_id,
                f"{prefix}-{item.n}",
                item.succeeded is not None,
                item.probability,
                item.succeeded,
            )
        )

    # All randomness is drawn first, in order: a seed gives the same data
    # whatever order the calls complete in.
    plans = [plan(n, n < projects) for n in range(projects + active)]
    await asyncio.gather(*(create(item) for item in plans))
    report.points = await calls.record(columns)
    await asyncio.gather(
        *(
            _close_project(
                calls,
                pid,
                "PROJECT_STATUS_COMPLETED" if ok else "PROJECT_STATUS_CANCELLED",
                end,
                ok,
                "synthetic outcome (maestro demo seed)",
            )
            for pid, end, ok in closing
        )
    )
    report.projects.sort(key=lambda p: p.name)
    return report


# ---- commands -------------------------------------------------------------------------------


async def _with_channel(args: argparse.Namespace, fn: Callable[[Any], Awaitable[T]]) -> T:
    import grpc.aio

    async with grpc.aio.insecure_channel(args.address) as channel:
        return await fn(channel)


def _import_asfi_command(args: argparse.Namespace, settings: Any) -> int:
    import grpc

    directory: Path = args.directory
    for name in ("projects.csv", "monthly.csv"):
        if not (directory / name).is_file():
            print(f"maestro demo import-asfi: {directory / name} not found", file=sys.stderr)
            return 2
    try:
        report = asyncio.run(
            _with_channel(args, lambda ch: import_asfi(ch, directory, args.token, args.concurrency))
        )
    except grpc.RpcError as error:
        print(f"maestro demo import-asfi: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "projects": report.projects,
                "graduated": report.graduated,
                "retired": report.retired,
                "points": report.points,
            }
        )
    )
    return 0


def _seed_command(args: argparse.Namespace, settings: Any) -> int:
    import grpc

    if args.projects < 0 or args.active < 0:
        print("maestro demo seed: --projects and --active must not be negative", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(
            _with_channel(
                args,
                lambda ch: seed(
                    ch,
                    args.projects,
                    args.active,
                    args.seed,
                    args.prefix,
                    args.token,
                    args.concurrency,
                ),
            )
        )
    except grpc.RpcError as error:
        print(f"maestro demo seed: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    finished = [p for p in report.projects if p.finished]
    print(
        json.dumps(
            {
                "projects": len(finished),
                "succeeded": sum(1 for p in finished if p.succeeded),
                "active": len(report.projects) - len(finished),
                "points": report.points,
            }
        )
    )
    return 0
