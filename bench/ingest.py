"""Ingest benchmark: durable points per second through StreamMetrics, beside raw COPY.

Makes a PostgreSQL database of its own, starts `maestro serve` on it in a
subprocess, and measures in the same run:

- raw: asyncpg `copy_records_to_table` of the same rows (series_id, time,
  value, source) straight into metric_points, with the same partitions and
  indexes: the limit;
- gRPC: one client process streams the same 2,000,000 points in columnar
  batches of 1,000 over a few concurrent StreamMetrics calls; a point counts
  when its batch is acked (durable: committed with its sequence);
- the server's peak RSS while 100 streams send at once.

Targets (issue #3): >= 150,000 points/s, >= 0.5 of raw COPY, <= 300 MB RSS
with 100 streams. The last line is one JSON object.

    .venv/bin/python bench/ingest.py [--points 2000000] [--batch 1000] [--streams 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import grpc
import grpc.aio
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import ADMIN_URL, free_port  # noqa: E402
from maestro.metrics.v1 import metric_pb2 as mp  # noqa: E402
from maestro.metrics.v1 import metrics_service_pb2 as ms  # noqa: E402
from maestro.metrics.v1 import metrics_service_pb2_grpc as msg  # noqa: E402

NAMES = [f"bench.metric_{i}" for i in range(10)]
START = datetime(2026, 1, 5, tzinfo=UTC)
START_US = int(START.timestamp()) * 1_000_000


def postgres_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes (where visible)."""
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] in {"postgres", "postmaster"}:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


def make_points(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points over 10 names, one every 10 ms per name: (name index, time us, value)."""
    rng = np.random.default_rng(7)
    names = np.arange(n, dtype=np.int64) % len(NAMES)
    times = START_US + (np.arange(n, dtype=np.int64) // len(NAMES)) * 10_000
    values = rng.normal(100.0, 15.0, n)
    return names, times, values


def batches(
    project: str, names: np.ndarray, times: np.ndarray, values: np.ndarray, size: int
) -> list[mp.MetricBatch]:
    out = []
    for start in range(0, names.shape[0], size):
        end = start + size
        block = mp.MetricColumns(project_id=project, source=mp.METRIC_SOURCE_AGENT, names=NAMES)
        block.name_indexes.extend(names[start:end].tolist())
        block.values.extend(values[start:end].tolist())
        block.times_unix_micros.extend(times[start:end].tolist())
        out.append(mp.MetricBatch(columns=[block]))
    return out


async def setup(url: str) -> tuple[str, str]:
    """Migrate, and make the two projects (one for raw COPY, one for gRPC)."""
    from maestro_grpc.store.db import Database
    from maestro_grpc.store.migrate import upgrade

    db = Database(url)
    await upgrade(db)
    await db.dispose()
    conn = await asyncpg.connect(url)
    ids = []
    for name in ("bench-raw", "bench-grpc"):
        project = uuid.uuid4()
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO projects (id, name, description, status, labels, repo_url, "
            "mlflow_experiment_id, create_time, update_time) "
            "VALUES ($1, $2, '', 'ACTIVE', '{}', '', '', $3, $3)",
            project,
            name,
            now,
        )
        ids.append(str(project))
    await conn.close()
    return ids[0], ids[1]


async def raw_copy(
    url: str, project: str, names: np.ndarray, times: np.ndarray, values: np.ndarray
) -> float:
    """copy_records_to_table of the same rows into metric_points: points per second."""
    conn = await asyncpg.connect(url)
    series = []
    for name in NAMES:
        series.append(
            await conn.fetchval(
                "INSERT INTO metric_series (project_id, name, labels, create_time) "
                "VALUES ($1, $2, '{}', now()) RETURNING id",
                uuid.UUID(project),
                name,
            )
        )
    ids = np.array(series, dtype=np.int64)[names]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    records = [
        (int(s), epoch + timedelta(microseconds=int(t)), float(v), 4)
        for s, t, v in zip(ids.tolist(), times.tolist(), values.tolist(), strict=True)
    ]
    # The same partitions exist for both runs (created up front).
    started = time.perf_counter()
    await conn.copy_records_to_table(
        "metric_points", records=records, columns=["series_id", "time", "value", "source"]
    )
    elapsed = time.perf_counter() - started
    await conn.execute("TRUNCATE metric_points")
    await conn.execute("CHECKPOINT")
    await conn.close()
    return len(records) / elapsed


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        MAESTRO_DATABASE_URL=url,
        MAESTRO_PORT=str(port),
        MAESTRO_HOST="127.0.0.1",
        MAESTRO_METRICS_PORT="off",
        MAESTRO_WEB_PORT="off",
        MAESTRO_ACCESS_LOG="0",
        MAESTRO_LOG_LEVEL="WARNING",
        MAESTRO_MIGRATE_ON_START="0",
        MAESTRO_DB_POOL_SIZE="12",
    )
    command = [sys.executable, "-m", "maestro_grpc", "serve"]
    if os.environ.get("MAESTRO_BENCH_PROFILE"):
        command[1:1] = ["-m", "cProfile", "-o", os.environ["MAESTRO_BENCH_PROFILE"]]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.time() + 30
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


async def stream(
    stub: msg.MetricsServiceStub, producer: str, project: str, work: list[mp.MetricBatch]
) -> int:
    """Send `work` on one stream, keeping the server's in-flight window full."""
    call = stub.StreamMetrics(None)  # requests are written below
    await call.write(
        ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id=producer, project_id=project))
    )
    first = await call.read()
    if not isinstance(first, ms.StreamMetricsResponse):
        raise SystemExit(f"stream {producer} ended before it opened: {await call.code()}")
    opened = first.opened
    window = asyncio.Semaphore(opened.max_inflight_batches)
    acked = 0

    async def reader() -> None:
        nonlocal acked
        while True:
            response = await call.read()
            if not isinstance(response, ms.StreamMetricsResponse):
                return  # grpc.aio.EOF
            acked += response.ack.stored_points
            window.release()

    task = asyncio.create_task(reader())
    for seq, batch in enumerate(work, start=opened.committed_sequence + 1):
        await window.acquire()
        await call.write(ms.StreamMetricsRequest(batch=ms.StreamBatch(sequence=seq, batch=batch)))
    await call.done_writing()
    await task
    code = await call.code()
    if code != grpc.StatusCode.OK:
        raise SystemExit(f"stream {producer} ended with {code}")
    return acked


async def grpc_rate(port: int, project: str, work: list[mp.MetricBatch], streams: int) -> float:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = msg.MetricsServiceStub(channel)
        shares = [work[i::streams] for i in range(streams)]
        started = time.perf_counter()
        stored = await asyncio.gather(
            *(stream(stub, f"bench-{i}", project, share) for i, share in enumerate(shares))
        )
        elapsed = time.perf_counter() - started
    total = sum(stored)
    expected = sum(len(b.columns[0].values) for b in work)
    if total != expected:
        raise SystemExit(f"stored {total} points of {expected}")
    return total / elapsed


async def rss_with_streams(port: int, pid: int, project: str, n: int) -> tuple[float, float]:
    """RSS (MB) of the server before, and its peak while n streams each send 20 batches of 1,000."""
    names, times, values = make_points(20_000)
    process = psutil.Process(pid)
    peak = before = process.memory_info().rss
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.05)

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = msg.MetricsServiceStub(channel)
        sampler = asyncio.create_task(sample())
        work = []
        for i in range(n):
            # Each stream its own times, so nothing is deduplicated away.
            work.append(batches(project, names, times + (i + 1) * 60_000_000, values, 1000))
        await asyncio.gather(*(stream(stub, f"rss-{i}", project, w) for i, w in enumerate(work)))
        done.set()
        await sampler
    return before / 1e6, peak / 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--rss-streams", type=int, default=100)
    parser.add_argument(
        "--rss-only", action="store_true", help="measure only the RSS with many streams"
    )
    args = parser.parse_args()

    name = f"maestro_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    server = None
    try:
        raw_project, grpc_project = await setup(url)
        names, times, values = make_points(args.points)
        # Partitions for the benchmark's month exist before either run.
        from maestro_grpc.metrics.store.partitions import create_partition, months_of
        from maestro_grpc.store.db import Database

        db = Database(url)
        for month in months_of(times):
            await create_partition(db, month)
        await db.dispose()

        port = free_port()
        if args.rss_only:
            server = start_server(url, port)
            idle, rss = await rss_with_streams(port, server.pid, grpc_project, args.rss_streams)
            print(
                f"server RSS idle {idle:.0f} MB, peak with {args.rss_streams} streams {rss:.0f} MB"
            )
            return
        copy_rate = await raw_copy(url, raw_project, names, times, values)
        print(f"raw copy_records_to_table: {copy_rate:,.0f} points/s", flush=True)

        server = start_server(url, port)
        work = batches(grpc_project, names, times, values, args.batch)
        server_cpu = psutil.Process(server.pid).cpu_times()
        own_cpu = time.process_time()
        pg_cpu = postgres_cpu()
        rate = await grpc_rate(port, grpc_project, work, args.streams)
        server_after = psutil.Process(server.pid).cpu_times()
        server_used = server_after.user + server_after.system - server_cpu.user - server_cpu.system
        print(
            f"cpu seconds during the gRPC run: server {server_used:.2f}, "
            f"client {time.process_time() - own_cpu:.2f}, PostgreSQL {postgres_cpu() - pg_cpu:.2f}",
            flush=True,
        )
        print(
            f"StreamMetrics ({args.streams} streams, batches of {args.batch}): "
            f"{rate:,.0f} durable points/s = {rate / copy_rate:.2f} x raw COPY "
            f"(targets >= 150,000/s and >= 0.5 x)",
            flush=True,
        )
        idle, rss = await rss_with_streams(port, server.pid, grpc_project, args.rss_streams)
        print(
            f"server peak RSS with {args.rss_streams} streams: {rss:.0f} MB (target <= 300); "
            f"idle before them {idle:.0f} MB, so the streams cost {rss - idle:.0f} MB"
        )
        print(
            json.dumps(
                {
                    "points_per_s": round(rate),
                    "copy_points_per_s": round(copy_rate),
                    "ratio": round(rate / copy_rate, 3),
                    "rss_mb_100_streams": round(rss, 1),
                    "rss_mb_idle": round(idle, 1),
                    "points": args.points,
                    "batch": args.batch,
                    "streams": args.streams,
                }
            )
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
