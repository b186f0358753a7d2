"""Summary benchmark: GetMetricSummary over a year of one metric, from rollups, at scale.

For each size (1,000,000 and 10,000,000 points by default), one series of
a project of its own gets that many points spread evenly over the year
2025: the series is made by a RecordMetrics call (the first point), the
other points are COPYed (binary, the store's own encoder) straight into
metric_points, into the monthly partitions the store makes, and a rollup
job covering them is enqueued as the write path does. Then
`maestro worker metrics --once` rolls them up, as a deployed worker does.
Measured, beside limits in the same run:

- GetMetricSummary for the year (a window longer than
  MAESTRO_METRICS_SUMMARY_RAW_MAX_DAYS, so it merges 365 daily rollups)
  p50/p95 over gRPC;
- the same statistics in raw SQL over the same rows (percentile_cont,
  stddev: what the summary costs without rollups), p50/p95;
- a bare SQL read of the year's 365 daily rollup rows of the series: the
  floor of any answer from rollups.

Target (issue #15): p95 at most 20 ms at 10,000,000 points. The answer's
count must be every point and its mean the raw SQL's. The last line is one
JSON object.

    .venv/bin/python bench/summary.py [--sizes 1000000,10000000] [--summaries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import grpc.aio
import numpy as np
from google.protobuf import timestamp_pb2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import create_database, drop_database, free_port, migrate, start_server  # noqa: E402
from maestro.metrics.v1 import metric_pb2 as mp  # noqa: E402
from maestro.metrics.v1 import metrics_service_pb2 as ms  # noqa: E402
from maestro.metrics.v1 import metrics_service_pb2_grpc as msg  # noqa: E402
from maestro.registry.v1 import project_pb2 as pp  # noqa: E402
from maestro.registry.v1 import registry_service_pb2 as rs  # noqa: E402
from maestro.registry.v1 import registry_service_pb2_grpc as rsg  # noqa: E402
from maestro_grpc.clock import to_micros  # noqa: E402
from maestro_grpc.metrics.domain.windows import windows_of  # noqa: E402
from maestro_grpc.metrics.model import PointRows  # noqa: E402
from maestro_grpc.metrics.store.ingest import ROLLUP_QUEUE  # noqa: E402
from maestro_grpc.metrics.store.partitions import create_partition, months_of  # noqa: E402
from maestro_grpc.metrics.store.points import copy_binary  # noqa: E402
from maestro_grpc.store import jobs  # noqa: E402
from maestro_grpc.store.db import Database  # noqa: E402

NAME = "ci.pipeline.duration_seconds"
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 1_000_000
TARGET_P95_MS = 20.0
# Raw SQL over millions of points takes seconds: a few runs give its p95.
RAW_RUNS = 5


def stamp(when: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(when)
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


async def make_series(address: str) -> tuple[str, float]:
    """A project whose series NAME holds one point, at the year's start (made by the RPC)."""
    first_value = 60.0
    async with grpc.aio.insecure_channel(address) as channel:
        registry = rsg.RegistryServiceStub(channel)
        project = (
            await registry.CreateProject(
                rs.CreateProjectRequest(
                    project=pp.Project(name=f"summary-bench-{uuid.uuid4().hex[:6]}")
                )
            )
        ).project
        await msg.MetricsServiceStub(channel).RecordMetrics(
            ms.RecordMetricsRequest(
                batch=mp.MetricBatch(
                    points=[
                        mp.MetricPoint(
                            project_id=project.id,
                            name=NAME,
                            value=first_value,
                            time=stamp(YEAR_START),
                            source=mp.METRIC_SOURCE_CI,
                        )
                    ]
                )
            )
        )
    return project.id, first_value


async def load(url: str, project_id: str, n: int) -> None:
    """COPY n - 1 more points of the series over the year; enqueue their rollup windows."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        series_id = int(
            await conn.fetchval(
                "SELECT id FROM metric_series WHERE project_id = $1 AND name = $2",
                uuid.UUID(project_id),
                NAME,
            )
        )
    finally:
        await conn.close()
    start_us, end_us = to_micros(YEAR_START), to_micros(YEAR_END)
    step = (end_us - start_us) // n
    times = start_us + step * np.arange(1, n, dtype=np.int64)
    rng = np.random.default_rng(n)
    db = Database(url)
    try:
        for month in months_of(times):
            await create_partition(db, month)
        copier = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            for lo in range(0, times.shape[0], CHUNK):
                part = times[lo : lo + CHUNK]
                rows = PointRows(
                    series_ids=np.full(part.shape[0], series_id, dtype=np.int64),
                    times=part,
                    values=np.asarray(rng.lognormal(4.0, 0.5, size=part.shape[0]), np.float64),
                    sources=np.full(part.shape[0], mp.METRIC_SOURCE_CI, dtype=np.int16),
                )
                await copier.copy_to_table(
                    "metric_points",
                    source=io.BytesIO(copy_binary(rows)),
                    columns=["series_id", "time", "value", "source"],
                    format="binary",
                )
            await copier.execute("ANALYZE metric_points")
        finally:
            await copier.close()
        now = datetime.now(UTC)
        async with db.write() as write:
            for window in sorted(windows_of(uuid.UUID(project_id), times)):
                await jobs.enqueue(write, ROLLUP_QUEUE, window.key, window.payload(), now=now)
    finally:
        await db.dispose()


def roll_up(url: str) -> float:
    """`maestro worker metrics --once` until no rollup job is left; its seconds."""
    started = time.perf_counter()
    env = {"MAESTRO_DATABASE_URL": url, "MAESTRO_MIGRATE_ON_START": "0"}
    subprocess.run(
        [sys.executable, "-m", "maestro_grpc", "worker", "metrics", "--once"],
        env={**os.environ, **env},
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


async def pending_jobs(url: str) -> int:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM worker_jobs WHERE queue = $1", ROLLUP_QUEUE)
        )
    finally:
        await conn.close()


async def measure_rpc(
    address: str, project_id: str, calls: int
) -> tuple[list[float], ms.MetricSummary]:
    request = ms.GetMetricSummaryRequest(
        project_id=project_id, names=[NAME], start_time=stamp(YEAR_START), end_time=stamp(YEAR_END)
    )
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = msg.MetricsServiceStub(channel)
        for _ in range(20):  # warm up
            answer = await stub.GetMetricSummary(request)
        for _ in range(calls):
            started = time.perf_counter()
            answer = await stub.GetMetricSummary(request)
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies, answer.summaries[0]


RAW_SQL = (
    "SELECT count(*) AS n, min(value), max(value), avg(value) AS mean, stddev_samp(value), "
    "percentile_cont(ARRAY[0.5, 0.9, 0.95, 0.99]) WITHIN GROUP (ORDER BY value), "
    "(SELECT value FROM metric_points q WHERE q.series_id = $1 AND q.time >= $2 "
    " AND q.time < $3 ORDER BY q.time DESC LIMIT 1) AS last "
    "FROM metric_points p WHERE p.series_id = $1 AND p.time >= $2 AND p.time < $3"
)
ROLLUP_SQL = (
    "SELECT count, sum, m2, min, max, first_time, last_time, last_value, sketch "
    "FROM metric_rollups WHERE series_id = $1 AND granularity = 'day' "
    "AND bucket_start >= $2 AND bucket_start < $3"
)


async def measure_sql(
    url: str, project_id: str, calls: int
) -> tuple[list[float], list[float], asyncpg.Record, int]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        series_id = await conn.fetchval(
            "SELECT id FROM metric_series WHERE project_id = $1", uuid.UUID(project_id)
        )
        args = (series_id, YEAR_START, YEAR_END)
        raw_ms: list[float] = []
        row = None
        for _ in range(RAW_RUNS):
            started = time.perf_counter()
            row = await conn.fetchrow(RAW_SQL, *args)
            raw_ms.append((time.perf_counter() - started) * 1000)
        rollups = await conn.prepare(ROLLUP_SQL)
        for _ in range(20):
            await rollups.fetch(*args)
        floor_ms: list[float] = []
        for _ in range(calls):
            started = time.perf_counter()
            days = await rollups.fetch(*args)
            floor_ms.append((time.perf_counter() - started) * 1000)
    finally:
        await conn.close()
    assert row is not None
    return raw_ms, floor_ms, row, len(days)


async def one_size(address: str, url: str, n: int, calls: int) -> dict[str, float]:
    started = time.perf_counter()
    project_id, _ = await make_series(address)
    await load(url, project_id, n)
    load_s = time.perf_counter() - started
    rollup_s = roll_up(url)
    left = await pending_jobs(url)
    print(
        f"{n:>11,} points: loaded (COPY) in {load_s:.1f} s, rolled up by "
        f"`maestro worker metrics --once` in {rollup_s:.1f} s ({left} jobs left)",
        file=sys.stderr,
        flush=True,
    )
    latencies, summary = await measure_rpc(address, project_id, calls)
    raw_ms, floor_ms, row, days = await measure_sql(url, project_id, calls)
    p95, raw95, floor95 = pct(latencies, 95), pct(raw_ms, 95), pct(floor_ms, 95)
    exact = summary.count == n and summary.count == row["n"]
    mean_error = abs(summary.mean - float(row["mean"])) / float(row["mean"])
    p95_error = abs(summary.p95 - float(row[5][2])) / float(row[5][2])
    source = ms.SummarySource.Name(summary.source)
    print(
        f"{n:>11,} points, a year: GetMetricSummary p50 {pct(latencies, 50):.2f} ms, "
        f"p95 {p95:.2f} ms (target <= {TARGET_P95_MS:g}), {source}; raw SQL over the same "
        f"rows p95 {raw95:.0f} ms ({raw95 / p95:.0f}x slower); SQL read of the "
        f"{days} daily rollups p95 {floor95:.2f} ms (ratio {p95 / floor95:.1f}); "
        f"count exact: {exact}, mean off by {mean_error:.1e}, p95 off by {p95_error:.2%}",
        flush=True,
    )
    suffix = f"_{n // 1_000_000}m" if n % 1_000_000 == 0 else f"_{n}"
    return {
        f"summary_p50_ms{suffix}": pct(latencies, 50),
        f"summary_p95_ms{suffix}": p95,
        f"sql_raw_p95_ms{suffix}": raw95,
        f"sql_rollups_p95_ms{suffix}": floor95,
        f"summary_vs_raw_sql{suffix}": p95 / raw95,
        f"summary_p95_error{suffix}": p95_error,
        f"count_exact{suffix}": float(exact),
        f"load_seconds{suffix}": load_s,
        f"rollup_seconds{suffix}": rollup_s,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--summaries", type=int, default=200)
    args = parser.parse_args()
    url, name = create_database("maestro_bench_summary")
    store_url = url.replace("postgresql://", "postgresql+asyncpg://")
    server = None
    try:
        migrate(store_url)
        port = free_port()
        server = start_server(store_url, port, MAESTRO_METRICS_ROLLUP_DELAY_SECONDS="0")
        figures: dict[str, float] = {}
        for n in sorted(int(x) for x in args.sizes.split(",")):
            figures |= await one_size(f"127.0.0.1:{port}", store_url, n, args.summaries)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop_database(name)
    largest = max(int(x) for x in args.sizes.split(","))
    suffix = f"_{largest // 1_000_000}m" if largest % 1_000_000 == 0 else f"_{largest}"
    figures["summary_p95_ms"] = figures[f"summary_p95_ms{suffix}"]
    figures["summary_p95_target_ms"] = TARGET_P95_MS
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}))


if __name__ == "__main__":
    asyncio.run(main())
