"""Backups: PostgreSQL through pg_dump and pg_restore, as README "Running in production" says.

A server on a database of its own stores projects, a team, an artifact with
content, metric points and events, and hands out a page token; the database
is dumped (`pg_dump --format=custom`), restored into a new one
(`pg_restore --no-owner`), and a new server on the restored database (with
the same blob store, which is backed up on its own) answers everything as
before: the rows, the content, the summaries, the page token (its key is in
the store), and `maestro migrate` finds nothing to do.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc.aio
import pytest
from sqlalchemy import text

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.metrics.v1 import process_event_pb2 as pe
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.server import RunningServer, start_server
from maestro_grpc.store.db import Database
from maestro_grpc.store.migrate import head_revision, upgrade
from tests.conftest import _admin_execute, server_settings, skip_or_fail
from tests.content.support import download, make_artifact, pattern, upload
from tests.helpers import ts
from tests.metrics.helpers import BASE, columns, commit, sha

CONTENT = pattern(300_000, seed=7)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)


def _tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None
    )
    if found is None:
        skip_or_fail(f"{name} is not installed (PostgreSQL's client programs)")
    assert found is not None
    return found


@pytest.fixture
def databases(pg_admin_url: str | None) -> Iterator[tuple[str, str]]:
    """Two new databases: the one backed up, the one restored into."""
    if pg_admin_url is None:
        skip_or_fail("no PostgreSQL to back up")
    assert pg_admin_url is not None
    base = pg_admin_url.rsplit("/", 1)[0]
    names = [f"maestro_backup_{uuid.uuid4().hex[:8]}", f"maestro_restore_{uuid.uuid4().hex[:8]}"]
    for name in names:
        _admin_execute(pg_admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        for name in names:
            _admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrated(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


async def _write(server: RunningServer) -> dict[str, str]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        registry = registry_service_pb2_grpc.RegistryServiceStub(channel)
        metrics = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        ids = {}
        for name in ("churn", "fraud", "search"):
            created = await registry.CreateProject(
                rs.CreateProjectRequest(project=pp.Project(name=name, labels={"team": "ml"}))
            )
            ids[name] = created.project.id
        await registry.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=ids["churn"],
                team_member=pp.TeamMember(
                    person_id="ada", display_name="Ada", role=pp.TEAM_ROLE_ML_ENGINEER
                ),
            )
        )
        artifact = await make_artifact(registry, "churn-model", origin_project_id=ids["churn"])
        await upload(registry, artifact.id, CONTENT)
        ids["artifact"] = artifact.id
        batch = mp.MetricBatch(
            columns=[columns(ids["churn"], [float(v) for v in range(100)])],
            events=[commit(ids["churn"], sha(1), BASE)],
        )
        await metrics.RecordMetrics(ms.RecordMetricsRequest(batch=batch))
        first = await registry.ListProjects(rs.ListProjectsRequest(page_size=1))
        ids["page_token"] = first.next_page_token
    return ids


async def _read(server: RunningServer, ids: dict[str, str]) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        registry = registry_service_pb2_grpc.RegistryServiceStub(channel)
        metrics = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        churn = (await registry.GetProject(rs.GetProjectRequest(project_id=ids["churn"]))).project
        assert (churn.name, churn.labels["team"]) == ("churn", "ml")
        assert [m.person_id for m in churn.team] == ["ada"]
        _sha256, size, data = await download(registry, ids["artifact"])
        assert (size, data) == (len(CONTENT), CONTENT)
        # The page token issued before the backup still reads the next page.
        rest = await registry.ListProjects(
            rs.ListProjectsRequest(page_size=10, page_token=ids["page_token"])
        )
        assert len(rest.projects) == 2
        summary = await metrics.GetMetricSummary(
            ms.GetMetricSummaryRequest(
                project_id=ids["churn"],
                start_time=ts(BASE.replace(hour=0)),
                end_time=ts(BASE.replace(hour=23)),
            )
        )
        (points,) = summary.summaries
        assert (points.count, points.max) == (100, 99.0)
        names = await metrics.ListMetricNames(ms.ListMetricNamesRequest(project_id=ids["churn"]))
        assert [(n.name, n.count) for n in names.metric_names] == [("ci.duration_seconds", 100)]
        assert [(e.event_type, e.count) for e in names.event_types] == [(pe.EVENT_TYPE_COMMIT, 1)]


async def test_a_pg_dump_restores_into_a_database_that_serves_the_same(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    source, target = databases
    await _migrated(source)
    settings = replace(server_settings(source, tmp_path), migrate_on_start=False)
    running = await start_server(settings)
    try:
        ids = await _write(running)
        await _read(running, ids)
    finally:
        await running.stop(grace=0.2)

    dump = tmp_path / "maestro.dump"
    done = await asyncio.to_thread(
        _run,
        _tool("pg_dump"),
        "--format=custom",
        "--no-owner",
        f"--file={dump}",
        f"--dbname={source}",
    )
    assert done.returncode == 0, done.stderr
    done = await asyncio.to_thread(
        _run, _tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)
    )
    assert done.returncode == 0, done.stderr

    # A new server on the restored database, with the same blob store.
    restored = await start_server(replace(settings, database_url=target))
    try:
        await _read(restored, ids)
    finally:
        await restored.stop(grace=0.2)
    db = Database(target)
    try:
        async with db.read() as conn:
            revision = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
        assert revision == head_revision()
    finally:
        await db.dispose()
