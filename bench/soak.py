"""Soak: 200 agent streams and a mix of registry reads at once, for a set time.

Makes a PostgreSQL database of its own, starts `maestro serve` on it in a
subprocess, seeds projects and artifacts, then for `--seconds`:

- 200 StreamMetrics calls (one producer each, as 200 CI agents) each send a
  batch of 50 points a second and wait for its ack (the in-flight window);
- eight readers loop over GetProject, GetArtifact, SearchArtifacts and
  ListProjects.

It reports every error, the p99 latency of each RPC under load beside the
same RPC's p99 on the idle server measured first (the limit: the ratio is
what the load costs), the server's RSS once warm (after a fifth of the time)
and at the end, and whether the store holds exactly the acked points.

Targets (issue #18): errors 0; rss_mb_end within 20% of rss_mb_warm; no
point lost or doubled. The last line is one JSON object.

    .venv/bin/python bench/soak.py [--seconds 60] [--streams 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from maestro.registry.v1 import artifact_pb2 as ap  # noqa: E402
from maestro.registry.v1 import project_pb2 as pp  # noqa: E402
from maestro.registry.v1 import registry_service_pb2 as rs  # noqa: E402
from maestro.registry.v1 import registry_service_pb2_grpc as rsg  # noqa: E402

POINTS_PER_BATCH = 50
READERS = 8
TAGS = [f"tag{i:02d}" for i in range(40)]
START_US = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp()) * 1_000_000


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
        MAESTRO_MIGRATE_ON_START="1",
    )
    process = subprocess.Popen([sys.executable, "-m", "maestro_grpc", "serve"], env=env, cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


class Recorder:
    """Latencies and errors per RPC."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.first_error: dict[str, str] = {}

    async def timed(self, name: str, call: Callable[[], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        try:
            result = await call()
        except grpc.aio.AioRpcError as error:
            self.errors[name] += 1
            self.first_error.setdefault(name, f"{error.code().name}: {error.details()}")
            return None
        self.latencies[name].append((time.perf_counter() - started) * 1000)
        return result

    def p99(self) -> dict[str, float]:
        return {
            name: round(float(np.percentile(values, 99)), 2)
            for name, values in sorted(self.latencies.items())
            if values
        }


async def seed(channel: grpc.aio.Channel) -> tuple[list[str], list[str]]:
    stub = rsg.RegistryServiceStub(channel)
    projects = []
    for i in range(20):
        project = await stub.CreateProject(
            rs.CreateProjectRequest(project=pp.Project(name=f"soak-{i}", labels={"team": "t"}))
        )
        projects.append(project.project.id)
    rng = random.Random(7)
    artifacts = []
    for i in range(2000):
        made = await stub.CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name=f"artifact-{i}",
                    version="1.0",
                    type=ap.ARTIFACT_TYPE_MODEL if i % 2 else ap.ARTIFACT_TYPE_DATASET,
                    origin_project_id=projects[i % len(projects)],
                    tags=rng.sample(TAGS, 3),
                )
            )
        )
        artifacts.append(made.artifact.id)
    return projects, artifacts


def read_mix(
    stub: rsg.RegistryServiceStub, projects: list[str], artifacts: list[str], rng: random.Random
) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    return [
        (
            "GetProject",
            lambda: stub.GetProject(rs.GetProjectRequest(project_id=rng.choice(projects))),
        ),
        (
            "GetArtifact",
            lambda: stub.GetArtifact(rs.GetArtifactRequest(artifact_id=rng.choice(artifacts))),
        ),
        (
            "SearchArtifacts",
            lambda: stub.SearchArtifacts(
                rs.SearchArtifactsRequest(tags_any=rng.sample(TAGS, 2), page_size=20)
            ),
        ),
        ("ListProjects", lambda: stub.ListProjects(rs.ListProjectsRequest(page_size=20))),
    ]


async def reader(
    stub: rsg.RegistryServiceStub,
    projects: list[str],
    artifacts: list[str],
    recorder: Recorder,
    until: float,
    seed_value: int,
) -> None:
    rng = random.Random(seed_value)
    mix = read_mix(stub, projects, artifacts, rng)
    while time.monotonic() < until:
        name, call = rng.choice(mix)
        await recorder.timed(name, call)


async def idle_p99(
    stub: rsg.RegistryServiceStub, projects: list[str], artifacts: list[str]
) -> dict[str, float]:
    """Each read RPC 300 times, one at a time, on the idle server: the limit."""
    recorder = Recorder()
    rng = random.Random(1)
    for name, call in read_mix(stub, projects, artifacts, rng):
        for _ in range(300):
            await recorder.timed(name, call)
    return recorder.p99()


async def agent(
    stub: msg.MetricsServiceStub,
    index: int,
    project: str,
    recorder: Recorder,
    until: float,
) -> int:
    """One agent's stream: a batch a second until `until`; the points acked."""
    call = stub.StreamMetrics(None)
    await call.write(
        ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id=f"soak-{index}", project_id=project))
    )
    first = await call.read()
    if not isinstance(first, ms.StreamMetricsResponse):
        recorder.errors["StreamMetrics"] += 1
        return 0
    sequence = first.opened.committed_sequence
    acked = 0
    base = START_US + index * 10**12  # each agent its own times: nothing deduplicated
    try:
        while time.monotonic() < until:
            sequence += 1
            times = [
                base + (sequence * POINTS_PER_BATCH + i) * 1000 for i in range(POINTS_PER_BATCH)
            ]
            batch = mp.MetricBatch(
                columns=[
                    mp.MetricColumns(
                        project_id=project,
                        source=mp.METRIC_SOURCE_CI,
                        names=["soak.value"],
                        name_indexes=[0] * POINTS_PER_BATCH,
                        values=[float(i) for i in range(POINTS_PER_BATCH)],
                        times_unix_micros=times,
                    )
                ]
            )
            started = time.perf_counter()
            await call.write(
                ms.StreamMetricsRequest(batch=ms.StreamBatch(sequence=sequence, batch=batch))
            )
            response = await call.read()
            if not isinstance(response, ms.StreamMetricsResponse):
                break
            recorder.latencies["StreamMetrics.ack"].append((time.perf_counter() - started) * 1000)
            acked += response.ack.stored_points
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
        await call.done_writing()
        while isinstance(await call.read(), ms.StreamMetricsResponse):
            pass
        if await call.code() != grpc.StatusCode.OK:
            recorder.errors["StreamMetrics"] += 1
    except grpc.aio.AioRpcError as error:
        recorder.errors["StreamMetrics"] += 1
        recorder.first_error.setdefault("StreamMetrics", f"{error.code().name}: {error.details()}")
    return acked


async def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    port = free_port()
    server = start_server(url, port)
    process = psutil.Process(server.pid)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            registry = rsg.RegistryServiceStub(channel)
            projects, artifacts = await seed(channel)
            idle = await idle_p99(registry, projects, artifacts)
            recorder = Recorder()
            until = time.monotonic() + args.seconds
            rss_warm = 0.0

            async def warm_sample() -> None:
                nonlocal rss_warm
                await asyncio.sleep(args.seconds / 5)
                rss_warm = process.memory_info().rss / 1e6

            # Streams over channels of their own (as agents on other machines).
            channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(8)]
            agents = [
                agent(
                    msg.MetricsServiceStub(channels[i % len(channels)]),
                    i,
                    projects[0],
                    recorder,
                    until,
                )
                for i in range(args.streams)
            ]
            readers = [
                reader(registry, projects, artifacts, recorder, until, i) for i in range(READERS)
            ]
            results = await asyncio.gather(warm_sample(), *agents, *readers)
            rss_end = process.memory_info().rss / 1e6
            for extra in channels:
                await extra.close(None)
        acked = sum(r for r in results if isinstance(r, int))
        conn = await asyncpg.connect(url)
        stored = await conn.fetchval(
            "SELECT count(*) FROM metric_points p JOIN metric_series s ON s.id = p.series_id "
            "WHERE s.project_id = $1",
            uuid.UUID(projects[0]),
        )
        await conn.close()
    finally:
        server.terminate()
        server.wait(60)
    under_load = recorder.p99()
    return {
        "seconds": args.seconds,
        "streams": args.streams,
        "errors": sum(recorder.errors.values()),
        "first_errors": recorder.first_error,
        "calls": {name: len(v) for name, v in sorted(recorder.latencies.items())},
        "p99_ms": under_load,
        "idle_p99_ms": idle,
        "p99_vs_idle": {
            name: round(under_load[name] / idle[name], 2) for name in idle if name in under_load
        },
        "points_acked": acked,
        "points_stored": int(stored),
        "rss_mb_warm": round(rss_warm, 1),
        "rss_mb_end": round(rss_end, 1),
        "rss_end_vs_warm": round(rss_end / rss_warm, 3) if rss_warm else None,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--streams", type=int, default=200)
    args = parser.parse_args()
    name = f"maestro_soak_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        figures = await run(args, url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
