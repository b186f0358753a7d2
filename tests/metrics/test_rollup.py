"""Rollups: the worker, summaries from rollups, late points, shared leases, retention."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc.aio
import numpy as np
import pytest
from sqlalchemy import func, select

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.config import Settings
from maestro_grpc.metrics.domain.rollup import RollupWorker
from maestro_grpc.metrics.store.rollups import RollupStore
from maestro_grpc.metrics.store.tables import metric_points, metric_rollups
from maestro_grpc.server import RunningServer, start_server
from maestro_grpc.store import jobs
from tests.conftest import with_settings
from tests.helpers import ts
from tests.metrics.conftest import make_project
from tests.metrics.helpers import Metrics, columns

ROOT = Path(__file__).resolve().parents[2]
DAY0 = datetime(2026, 2, 1, tzinfo=UTC)
DAY0_US = int(DAY0.timestamp()) * 1_000_000
HOUR_US = 3_600_000_000


@pytest.fixture
async def rollup_server(settings: Settings) -> AsyncIterator[RunningServer]:
    running = await start_server(
        with_settings(
            settings,
            metrics_summary_raw_max_days=1.0,
            metrics_rollup_delay_seconds=0.0,
            metrics_inprocess_worker=False,
        )
    )
    try:
        yield running
    finally:
        await running.stop(grace=0.2)


@pytest.fixture
async def stubs(rollup_server: RunningServer) -> AsyncIterator[tuple[object, str]]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rollup_server.port}") as channel:
        project = await make_project(
            registry_service_pb2_grpc.RegistryServiceStub(channel), "rollups"
        )
        yield metrics_service_pb2_grpc.MetricsServiceStub(channel), project


def three_days(project: str) -> tuple[mp.MetricColumns, np.ndarray]:
    rng = np.random.default_rng(5)
    values = rng.lognormal(3, 0.5, 72 * 6).round(4)
    # Six points an hour for three days.
    block = columns(
        project,
        values.tolist(),
        names=("ci.duration_seconds",),
        start_us=DAY0_US,
        step_us=600_000_000,
    )
    return block, values


async def summary(stub: Metrics, project: str, start: datetime, end: datetime) -> ms.MetricSummary:
    got = await stub.GetMetricSummary(
        ms.GetMetricSummaryRequest(project_id=project, start_time=ts(start), end_time=ts(end))
    )
    assert len(got.summaries) == 1
    return got.summaries[0]


def run_worker_cli(settings: Settings) -> str:
    env = dict(os.environ, MAESTRO_DATABASE_URL=settings.store_url, MAESTRO_LOG_LEVEL="WARNING")
    env["MAESTRO_DATA_DIR"] = str(settings.data_dir)
    done = subprocess.run(
        [sys.executable, "-m", "maestro_grpc", "worker", "metrics", "--once"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


async def test_worker_rolls_up_and_long_windows_use_rollups(
    rollup_server: RunningServer, stubs: tuple[Metrics, str]
) -> None:
    stub, project = stubs
    block, values = three_days(project)
    await stub.RecordMetrics(ms.RecordMetricsRequest(batch=mp.MetricBatch(columns=[block])))
    start, end = DAY0, DAY0 + timedelta(days=3)

    # Before any rollup, the long window is answered from raw points (all pending).
    before = await summary(stub, project, start, end)
    assert before.count == values.shape[0]

    out = await asyncio.to_thread(run_worker_cli, rollup_server.settings)
    assert "rolled up" in out
    async with rollup_server.db.read() as conn:
        counts: dict[str, int] = dict(
            (
                await conn.execute(
                    select(metric_rollups.c.granularity, func.count()).group_by(
                        metric_rollups.c.granularity
                    )
                )
            ).all()
        )
    assert counts == {"hour": 72, "day": 3}
    assert await jobs.pending(rollup_server.db, "metrics.rollup") == 0

    got = await summary(stub, project, start, end)
    assert got.source == ms.SUMMARY_SOURCE_ROLLUP
    assert got.count == values.shape[0]
    assert got.min == values.min()
    assert got.max == values.max()
    assert got.mean == pytest.approx(values.mean(), rel=1e-12)
    assert got.stddev == pytest.approx(values.std(ddof=1), rel=1e-9)
    assert got.last == values[-1]
    for field, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert getattr(got, field) == pytest.approx(np.percentile(values, q), rel=0.011)

    # A window with ragged edges mixes rollups and raw points, still exact in count.
    ragged = await summary(
        stub, project, start + timedelta(minutes=25), end - timedelta(minutes=35)
    )
    inside = values[3:-3]  # 00:30 .. 71:20
    assert ragged.source == ms.SUMMARY_SOURCE_ROLLUP
    assert ragged.count == inside.shape[0]
    assert ragged.mean == pytest.approx(inside.mean(), rel=1e-12)

    # A short window is exact from raw points.
    short = await summary(stub, project, start, start + timedelta(hours=2))
    assert short.source == ms.SUMMARY_SOURCE_RAW
    assert short.p50 == pytest.approx(np.percentile(values[:12], 50), rel=1e-12)


async def test_late_points_count_at_once_and_reroll_only_their_window(
    rollup_server: RunningServer, stubs: tuple[Metrics, str]
) -> None:
    stub, project = stubs
    block, values = three_days(project)
    await stub.RecordMetrics(ms.RecordMetricsRequest(batch=mp.MetricBatch(columns=[block])))
    worker = RollupWorker(RollupStore(rollup_server.db), owner="test")
    assert await worker.run_once() == 3  # 72 hours coarsened to three day windows
    async with rollup_server.db.read() as conn:
        stamps = {
            (r.granularity, r.bucket_start): r.update_time
            for r in await conn.execute(select(metric_rollups))
        }
    late = columns(
        project, [1000.0], names=("ci.duration_seconds",), start_us=DAY0_US + 30 * HOUR_US + 7
    )
    await stub.RecordMetrics(ms.RecordMetricsRequest(batch=mp.MetricBatch(columns=[late])))
    start, end = DAY0, DAY0 + timedelta(days=3)
    pending = await summary(stub, project, start, end)
    assert pending.source == ms.SUMMARY_SOURCE_ROLLUP
    assert pending.count == values.shape[0] + 1  # the pending hour is read raw
    assert pending.max == 1000.0

    assert await worker.run_once() == 1
    async with rollup_server.db.read() as conn:
        after = {
            (r.granularity, r.bucket_start): r.update_time
            for r in await conn.execute(select(metric_rollups))
        }
    changed = {key for key in after if after[key] != stamps[key]}
    late_hour = DAY0 + timedelta(hours=30)
    assert changed == {("hour", late_hour), ("day", DAY0 + timedelta(days=1))}
    done = await summary(stub, project, start, end)
    assert (done.count, done.max) == (values.shape[0] + 1, 1000.0)


async def test_two_workers_share_the_jobs(
    rollup_server: RunningServer, stubs: tuple[Metrics, str]
) -> None:
    stub, project = stubs
    # 30 separate windows (one write per hour of five days, sparse).
    for hour in range(0, 120, 4):
        block = columns(project, [float(hour)], names=("m",), start_us=DAY0_US + hour * HOUR_US)
        await stub.RecordMetrics(ms.RecordMetricsRequest(batch=mp.MetricBatch(columns=[block])))
    queued = await jobs.pending(rollup_server.db, "metrics.rollup")
    assert queued == 30
    a = RollupWorker(RollupStore(rollup_server.db), owner="a", batch=3)
    b = RollupWorker(RollupStore(rollup_server.db), owner="b", batch=3)
    done_a, done_b = await asyncio.gather(a.run_once(), b.run_once())
    assert done_a + done_b == queued
    if rollup_server.db.is_postgres:
        assert done_a > 0
        assert done_b > 0  # SKIP LOCKED let both work at once
    got = await summary(stub, project, DAY0, DAY0 + timedelta(days=5))
    assert got.source == ms.SUMMARY_SOURCE_ROLLUP
    assert got.count == 30
    assert got.mean == pytest.approx(np.arange(0, 120, 4).mean())


async def test_retention_keeps_rollups_and_counts(
    rollup_server: RunningServer, stubs: tuple[Metrics, str]
) -> None:
    stub, project = stubs
    block, values = three_days(project)
    await stub.RecordMetrics(ms.RecordMetricsRequest(batch=mp.MetricBatch(columns=[block])))
    worker = RollupWorker(RollupStore(rollup_server.db), owner="t", retention_days=1.0)
    await worker.run_once()
    async with rollup_server.db.read() as conn:
        left = await conn.scalar(select(func.count()).select_from(metric_points))
    assert left == 0  # February 2026 is long past the one-day retention
    # Queries over the old window now come from rollups alone (this server
    # has no retention set, so it still sees the long window as rollup-worthy).
    got = await summary(stub, project, DAY0, DAY0 + timedelta(days=3))
    assert got.count == values.shape[0]
    assert got.source == ms.SUMMARY_SOURCE_ROLLUP


async def test_request_ids_are_forgotten_after_a_week(
    rollup_server: RunningServer, stubs: tuple[Metrics, str]
) -> None:
    stub, project = stubs
    request = ms.RecordMetricsRequest(
        batch=mp.MetricBatch(columns=[columns(project, [1.0], names=("m",))]), request_id="r-1"
    )
    assert (await stub.RecordMetrics(request)).stored_points == 1
    assert (await stub.RecordMetrics(request)).stored_points == 1  # the first answer again
    later = RollupWorker(
        RollupStore(rollup_server.db),
        owner="t",
        clock=lambda: datetime.now(UTC) + timedelta(days=8),
    )
    assert await later.forget_old_requests() == 1
    again = await stub.RecordMetrics(request)
    assert again.stored_points == 0  # a new call now: the point is already there


async def test_sigterm_stops_the_worker_between_jobs_and_gives_back_its_leases(
    rollup_server: RunningServer, stubs: tuple[Metrics, str]
) -> None:
    """#18, 12: it ignored SIGTERM until its backlog was empty (50 s and more)."""
    from maestro_grpc.store.schema import worker_jobs

    _, project = stubs
    backlog = 20_000
    now = datetime.now(UTC)
    async with rollup_server.db.write() as conn:
        await conn.execute(
            worker_jobs.insert(),
            [
                {
                    "queue": "metrics.rollup",
                    "key": f"{project}/hour/{DAY0_US + i * HOUR_US}",
                    "payload": {
                        "project_id": project,
                        "start_us": DAY0_US + i * HOUR_US,
                        "end_us": DAY0_US + (i + 1) * HOUR_US,
                    },
                    "generation": 1,
                    "run_after": now,
                    "attempts": 0,
                    "create_time": now,
                }
                for i in range(backlog)
            ],
        )
    settings = rollup_server.settings
    env = dict(os.environ, MAESTRO_DATABASE_URL=settings.store_url, MAESTRO_LOG_LEVEL="WARNING")
    env["MAESTRO_DATA_DIR"] = str(settings.data_dir)
    worker = subprocess.Popen(  # noqa: ASYNC220 (started, not waited for)
        [sys.executable, "-m", "maestro_grpc", "worker", "metrics"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        db = rollup_server.db
        while await jobs.pending(db, "metrics.rollup") == backlog:
            assert worker.poll() is None, worker.communicate()
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(worker.communicate, timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    left = await jobs.pending(rollup_server.db, "metrics.rollup")
    assert 0 < left < backlog  # it stopped with work left, not after the backlog
    async with rollup_server.db.read() as conn:
        leased = await conn.scalar(
            select(func.count())
            .select_from(worker_jobs)
            .where(worker_jobs.c.lease_owner.is_not(None))
        )
    assert leased == 0  # what it had leased is free for the next worker at once


async def test_a_window_cut_by_many_pending_days_still_counts_every_point(
    rollup_server: RunningServer, stubs: tuple[Metrics, str]
) -> None:
    # Forty days rolled up, then late points on every other day: the clean
    # days left are many separate runs, each read apart or, past a few, by list.
    stub, project = stubs
    values = np.arange(40 * 24, dtype=np.float64) % 17
    block = columns(
        project,
        values.tolist(),
        names=("ci.duration_seconds",),
        start_us=DAY0_US,
        step_us=HOUR_US,
    )
    await stub.RecordMetrics(ms.RecordMetricsRequest(batch=mp.MetricBatch(columns=[block])))
    await asyncio.to_thread(run_worker_cli, rollup_server.settings)
    late = []
    for day in range(2, 38, 2):
        late.append(100.0 + day)
        point = columns(
            project,
            [late[-1]],
            names=("ci.duration_seconds",),
            start_us=DAY0_US + day * 24 * HOUR_US + HOUR_US // 2,
            step_us=HOUR_US,
        )
        await stub.RecordMetrics(ms.RecordMetricsRequest(batch=mp.MetricBatch(columns=[point])))
    assert await jobs.pending(rollup_server.db, "metrics.rollup") == len(late)
    everything = np.concatenate([values, late])
    got = await summary(stub, project, DAY0, DAY0 + timedelta(days=40))
    assert got.source == ms.SUMMARY_SOURCE_ROLLUP
    assert got.count == everything.shape[0]
    assert got.mean == pytest.approx(everything.mean(), rel=1e-12)
    assert got.max == everything.max()
