"""Fixtures: real stores, a real server on port 0, real channels.

The store suite runs on SQLite and on PostgreSQL. PostgreSQL is found at
MAESTRO_TEST_DATABASE_URL (default the local server); where none answers, a
throwaway one is started from the installed binaries (pytest-postgresql);
where there are none, the PostgreSQL half is skipped, loudly, unless
MAESTRO_TEST_REQUIRE_ALL=1 (CI), which turns every such skip into a failure.
Each run makes its own database and drops it at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio
import pytest

from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.catalog import metadata
from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server
from maestro_grpc.store.db import Database
from maestro_grpc.store.migrate import upgrade

if TYPE_CHECKING:
    from pytest_postgresql.executor import PostgreSQLExecutor

REQUIRE_ALL = os.environ.get("MAESTRO_TEST_REQUIRE_ALL", "") == "1"
# A served process warms the Prediction service at start and fits folds in two
# processes (the production defaults). The suite starts hundreds of servers,
# most never asked for a prediction, two at a time on two cores: there the
# warm-up would only compete with the calls under test. Tests of those
# defaults ask for them (tests/prediction/test_runner.py).
os.environ.setdefault("MAESTRO_PREDICTION_WARM", "off")
os.environ.setdefault("MAESTRO_TRAINING_JOBS", "1")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def skip_or_fail(reason: str) -> None:
    """Skip loudly on a laptop; fail where everything is required (CI)."""
    if REQUIRE_ALL:
        pytest.fail(f"MAESTRO_TEST_REQUIRE_ALL=1 and {reason}", pytrace=False)
    print(f"\n*** SKIPPING: {reason} ***", file=sys.stderr)
    pytest.skip(reason)


# ---- PostgreSQL -----------------------------------------------------------------


def _pg_answers(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _throwaway_postgres(tmp: Path) -> tuple[str, PostgreSQLExecutor] | None:
    """Start a private PostgreSQL from the installed binaries, if there are any."""
    pg_ctl = shutil.which("pg_ctl") or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))), None
    )
    if pg_ctl is None or os.geteuid() == 0:
        return None
    from pytest_postgresql.executor import PostgreSQLExecutor

    executor = PostgreSQLExecutor(
        executable=pg_ctl,
        host="127.0.0.1",
        port=55432,
        datadir=str(tmp / "pgdata"),
        unixsocketdir=str(tmp),
        logfile=str(tmp / "pg.log"),
        startparams="-w",
        dbname="postgres",
        user="postgres",
        password="",
        options="",
    )
    executor.start()
    return "postgresql://postgres@127.0.0.1:55432/postgres", executor


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    url = os.environ.get("MAESTRO_TEST_DATABASE_URL", DEFAULT_PG)
    if _pg_answers(url):
        yield url
        return
    started = None
    try:
        started = _throwaway_postgres(tmp_path_factory.mktemp("pg"))
    except Exception as error:
        print(f"could not start a throwaway PostgreSQL: {error}", file=sys.stderr)
    if started is None:
        yield None
        return
    admin, executor = started
    try:
        yield admin
    finally:
        executor.stop()


def _admin_execute(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_url(pg_admin_url: str | None) -> Iterator[str]:
    """A migrated PostgreSQL database of this run's own, dropped at the end."""
    if pg_admin_url is None:
        skip_or_fail("no PostgreSQL answers at MAESTRO_TEST_DATABASE_URL and none could be started")
    assert pg_admin_url is not None
    name = f"maestro_test_{uuid.uuid4().hex[:10]}"
    _admin_execute(pg_admin_url, f'CREATE DATABASE "{name}"')
    base = pg_admin_url.rsplit("/", 1)[0]
    url = f"{base}/{name}"

    async def migrate() -> None:
        db = Database(url)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(migrate())
    try:
        yield url
    finally:
        _admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_pg(url: str) -> None:
    import psycopg

    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


# ---- SQLite -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return path


# ---- the store under test -----------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated store of each kind."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "maestro.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("pg_url")
    _truncate_pg(url)
    return url


def server_settings(store_url: str, tmp_path: Path) -> Settings:
    """A test server's settings: loopback, port 0, no metrics port, short waits."""
    return Settings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        database_url=store_url,
        migrate_on_start=False,
        metrics_port=None,
        grace_seconds=0.5,
        health_interval_seconds=0.2,
    )


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    return server_settings(store_url, tmp_path)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[RunningServer]:
    running = await start_server(settings)
    try:
        yield running
    finally:
        await running.stop(grace=0.2)


@pytest.fixture
async def channel(server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
        yield ch


@pytest.fixture
def registry(channel: grpc.aio.Channel) -> registry_service_pb2_grpc.RegistryServiceStub:
    return registry_service_pb2_grpc.RegistryServiceStub(channel)


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)
