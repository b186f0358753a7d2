"""`maestro demo import-asfi DIR --address HOST:PORT`: the Apache Incubator data set.

DIR holds projects.csv and monthly.csv (the repository ships them in
data/asfi/). Each project is created with its start date (CreateProject,
labels source=asfi and its alias and sponsor); each monthly figure becomes
the metric point `asf.<column>` stamped at the start of its month (month 1 at
the start date, month m at m - 1 calendar months later: the figure describes
that month), sent in batches of columnar RecordMetrics calls; then the
project is closed (UpdateProject: COMPLETED for graduated, CANCELLED for
retired, with its end date) and its outcome recorded (UpdateProjectSuccess:
succeeded = graduated). Each CreateProject carries a request_id, so running
the import twice does not create projects twice.
"""

from __future__ import annotations

import asyncio
import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from maestro_grpc.demo.calls import Calls, columns_of, timestamp

if TYPE_CHECKING:
    import grpc.aio

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

Row = dict[str, str]


@dataclass
class ImportReport:
    projects: int = 0
    points: int = 0
    graduated: int = 0
    retired: int = 0
    project_ids: dict[str, str] = field(default_factory=dict)


def add_months(start: datetime, months: int) -> datetime:
    """`start` moved by whole calendar months (the day clamped to the month's length)."""
    month0 = start.month - 1 + months
    year = start.year + month0 // 12
    month = month0 % 12 + 1
    days = [31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return start.replace(year=year, month=month, day=min(start.day, days[month - 1]))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _date(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    return datetime.strptime(raw, "%m/%d/%Y").replace(tzinfo=UTC)


async def import_asfi(
    channel: grpc.aio.Channel, directory: Path, token: str = "", concurrency: int = 8
) -> ImportReport:
    """Load the ASFI projects of `directory` through the public RPCs."""
    projects, monthly = _read(directory)
    calls = Calls(channel, token, concurrency)
    report = ImportReport()
    created = await asyncio.gather(*(_create(calls, row) for row in projects))
    columns = []
    for row, project_id in created:
        points = _monthly_points(row, monthly.get(row["project"], []))
        if points:
            columns.append(columns_of(project_id, points))
        report.project_ids[row["name"]] = project_id
    report.points = await calls.record(columns)
    await asyncio.gather(*(_close(calls, row, pid) for row, pid in created))
    report.projects = len(created)
    report.graduated = sum(1 for row, _ in created if row["status"] == "graduated")
    report.retired = report.projects - report.graduated
    return report


def _read(directory: Path) -> tuple[list[Row], dict[str, list[Row]]]:
    """projects.csv's rows, and monthly.csv's rows by project."""
    with (directory / "projects.csv").open(newline="") as f:
        projects = list(csv.DictReader(f))
    monthly: dict[str, list[Row]] = {}
    with (directory / "monthly.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            monthly.setdefault(row["project"], []).append(row)
    return projects, monthly


async def _create(calls: Calls, row: Row) -> tuple[Row, str]:
    from maestro.registry.v1 import project_pb2 as pp
    from maestro.registry.v1 import registry_service_pb2 as rs

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
        project.start_time.CopyFrom(timestamp(start))
    response = await calls.call(
        calls.registry.CreateProject,
        rs.CreateProjectRequest(project=project, request_id=f"asfi-{row['project']}"),
    )
    return row, response.project.id


def _monthly_points(row: Row, months: list[Row]) -> list[tuple[str, datetime, float]]:
    """The project's monthly figures as (name, time, value), sorted by name and time."""
    start = _date(row["start_date"])
    assert start is not None
    points = []
    for month in months:
        at = add_months(start, int(float(month["month"])) - 1)
        for column in ASFI_COLUMNS:
            raw = month.get(column, "")
            if raw.strip():
                points.append((f"asf.{column}", at, float(raw)))
    points.sort(key=lambda p: (p[0], p[1]))
    return points


async def _close(calls: Calls, row: Row, project_id: str) -> None:
    graduated = row["status"].strip().lower() == "graduated"
    await calls.close_project(
        project_id,
        "PROJECT_STATUS_COMPLETED" if graduated else "PROJECT_STATUS_CANCELLED",
        _date(row.get("end_date", "")),
        graduated,
        "graduated from the Apache Incubator" if graduated else "retired from the Incubator",
    )
