"""Experiments benchmark: AnalyzeExperiment on 2,000 and 20,000 units on PostgreSQL.

Makes a PostgreSQL database of its own and starts `maestro serve` on it in
a subprocess. Two experiments are made through CreateExperiment; one
enrols 2,000 projects, the other all 20,000. Each project has an outcome
metric after its assignment (5 points), a pre-period (3 points before it)
and 20 points of four unrelated metrics. Both experiments analyse the
outcome as a MEAN with CUPED on a 30-day pre-period. The projects, the
assignments (the variant AssignVariant's hash chooses) and the points are
loaded with COPY into the tables those RPCs fill: through the RPCs the
load takes ten minutes on two cores, and it is not what is measured.

For each it measures AnalyzeExperiment over gRPC (median of 9 after a
warm-up, in turns with the raw SQL) beside the same aggregation written as one raw SQL statement run
with asyncpg (the limit measured in the same run: assignments joined to
their projects' points, per-unit means, per-variant sums). Target: at most
1 s and at most 2x the raw SQL at 20,000 units.

The last line is one JSON object.

    .venv/bin/python bench/experiments.py [--units 20000] [--small 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import grpc.aio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import ADMIN_URL, free_port  # noqa: E402
from maestro.prediction.v1 import experiment_pb2 as ep  # noqa: E402
from maestro.prediction.v1 import prediction_service_pb2 as pb  # noqa: E402
from maestro.prediction.v1 import prediction_service_pb2_grpc as pg  # noqa: E402
from maestro_grpc.prediction.domain.experiments import choose_variant  # noqa: E402
from maestro_grpc.prediction.model import Variant  # noqa: E402

METRIC = "bench.lead_time"
TARGET_MS = 1000.0
TARGET_RATIO = 2.0
RUNS = 9

RAW_SQL = """
WITH u AS (
    SELECT a.unit_id, a.variant, a.assign_time, l.project_id
    FROM experiment_assignments a
    JOIN experiment_unit_projects l
      ON l.experiment_id = a.experiment_id AND l.unit_id = a.unit_id
    WHERE a.experiment_id = $1 AND a.assign_time < $2
), per_unit AS (
    SELECT u.unit_id, u.variant,
        sum(p.value) FILTER (WHERE p.time >= u.assign_time)
          / nullif(count(*) FILTER (WHERE p.time >= u.assign_time), 0) AS post,
        coalesce(sum(p.value) FILTER (WHERE p.time < u.assign_time)
          / nullif(count(*) FILTER (WHERE p.time < u.assign_time), 0), 0) AS pre
    FROM u
    JOIN metric_series s ON s.project_id = u.project_id AND s.name = $3
    JOIN metric_points p
      ON p.series_id = s.id AND p.time >= u.assign_time - interval '30 days' AND p.time < $2
    GROUP BY u.unit_id, u.variant
)
SELECT variant, count(post) AS n, sum(post) AS post, sum(post * post) AS post_sq,
    sum(pre) AS pre, sum(pre * pre) AS pre_sq, sum(post * pre) AS products
FROM per_unit WHERE post IS NOT NULL GROUP BY variant
"""


def wait_port(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


async def create_experiments(
    channel: grpc.aio.Channel, small: int, units: int
) -> list[ep.Experiment]:
    prediction = pg.PredictionServiceStub(channel)
    made = []
    for name in (f"small-{small}", f"large-{units}"):
        request = pb.CreateExperimentRequest(
            experiment=ep.Experiment(
                name=name,
                variants=[
                    ep.Variant(name="control", weight=1),
                    ep.Variant(name="treatment", weight=1),
                ],
                metrics=[
                    ep.ExperimentMetric(
                        name=METRIC,
                        role=ep.METRIC_ROLE_PRIMARY,
                        direction=ep.METRIC_DIRECTION_LOWER_IS_BETTER,
                        pre_period_days=30,
                    )
                ],
            )
        )
        made.append((await prediction.CreateExperiment(request)).experiment)
    return made


async def load(
    conn: asyncpg.Connection, experiments: list[ep.Experiment], units: int, small: int
) -> None:
    """Projects, assignments (the variant AssignVariant would choose) and points, by COPY."""
    now = datetime.now(UTC)
    assigned = now - timedelta(hours=1)
    ids = sorted(uuid.uuid4() for _ in range(units))
    await conn.copy_records_to_table(
        "projects",
        columns=["id", "name", "status", "labels", "create_time", "update_time"],
        records=[(p, f"bench-{i}", "active", "{}", now, now) for i, p in enumerate(ids)],
    )
    variants = [Variant("control", 1.0), Variant("treatment", 1.0)]
    treated: set[uuid.UUID] = set()
    for k, experiment in enumerate(experiments):
        enrolled = ids[:small] if k == 0 else ids
        rows = [
            (uuid.UUID(experiment.id), str(p), choose_variant(experiment.salt, str(p), variants))
            for p in enrolled
        ]
        if k == 1:
            treated = {p for (_, _, v), p in zip(rows, enrolled, strict=True) if v == "treatment"}
        await conn.copy_records_to_table(
            "experiment_assignments",
            columns=["experiment_id", "unit_id", "variant", "project_id", "assign_time"],
            records=[(e, u, v, uuid.UUID(u), assigned) for e, u, v in rows],
        )
        await conn.copy_records_to_table(
            "experiment_unit_projects",
            columns=["experiment_id", "project_id", "unit_id", "link_time"],
            records=[(e, uuid.UUID(u), u, assigned) for e, u, _ in rows],
        )
    names = [METRIC, "bench.noise.a", "bench.noise.b", "bench.noise.c", "bench.noise.d"]
    series = await conn.fetch(
        "INSERT INTO metric_series (project_id, name, labels, create_time) "
        "SELECT p, n, '{}', $3 FROM unnest($1::uuid[]) AS p, unnest($2::text[]) AS n "
        "RETURNING id, project_id, name",
        ids,
        names,
        now,
    )
    points = []
    for row in series:
        base = 20.0 + row["project_id"].int % 17
        if row["name"] == METRIC:
            effect = -2.0 if row["project_id"] in treated else 0.0
            points += [(row["id"], assigned - timedelta(days=d), base + d % 3) for d in (3, 5, 8)]
            points += [
                (row["id"], assigned + timedelta(minutes=m), base + effect + m % 4)
                for m in range(1, 6)
            ]
        else:
            points += [(row["id"], assigned + timedelta(seconds=j), float(j)) for j in range(5)]
    await conn.copy_records_to_table(
        "metric_points", columns=["series_id", "time", "value"], records=points
    )
    await conn.execute("ANALYZE")


async def medians_ms(
    first: Callable[[], Awaitable[object]], second: Callable[[], Awaitable[object]]
) -> tuple[float, float]:
    """Median milliseconds of each, run in turns so that both see the same machine."""
    await first()  # warm up: plans, caches, connections
    await second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(RUNS):
        for fn, out in ((first, a), (second, b)):
            started = time.perf_counter()
            await fn()
            out.append((time.perf_counter() - started) * 1000)
    return statistics.median(a), statistics.median(b)


async def measure(
    channel: grpc.aio.Channel, conn: asyncpg.Connection, experiment_id: str, end: datetime
) -> tuple[float, float, int]:
    prediction = pg.PredictionServiceStub(channel)
    request = pb.AnalyzeExperimentRequest(experiment_id=experiment_id)
    request.end_time.FromDatetime(end)
    answer = (await prediction.AnalyzeExperiment(request)).analysis
    raw = await conn.fetch(RAW_SQL, uuid.UUID(experiment_id), end, METRIC)
    # The two agree on what they aggregate.
    by_variant = {r["variant"]: r for r in raw}
    for result in answer.metrics[0].results:
        row = by_variant[result.variant]
        assert result.units_with_value == row["n"], (result, dict(row))
        assert abs(result.mean - row["post"] / row["n"]) < 1e-9, (result, dict(row))
    analyze, sql = await medians_ms(
        lambda: prediction.AnalyzeExperiment(request),
        lambda: conn.fetch(RAW_SQL, uuid.UUID(experiment_id), end, METRIC),
    )
    return analyze, sql, sum(r.units for r in answer.metrics[0].results)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=2_000)
    args = parser.parse_args()

    name = f"maestro_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    process: subprocess.Popen[bytes] | None = None
    figures: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="maestro-bench-") as tmp:
        try:
            env = {**os.environ, "MAESTRO_DATABASE_URL": url, "MAESTRO_DATA_DIR": tmp}
            env.pop("MLFLOW_TRACKING_URI", None)
            subprocess.run(
                [sys.executable, "-m", "maestro_grpc", "migrate"],
                env=env,
                check=True,
                capture_output=True,
            )
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "maestro_grpc", "serve"],
                env={
                    **env,
                    "MAESTRO_PORT": str(port),
                    "MAESTRO_HOST": "127.0.0.1",
                    "MAESTRO_METRICS_PORT": "off",
                    "MAESTRO_ACCESS_LOG": "0",
                    "MAESTRO_LOG_LEVEL": "WARNING",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_port(port)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                conn = await asyncpg.connect(url)
                try:
                    started = time.perf_counter()
                    made = await create_experiments(channel, args.small, args.units)
                    await load(conn, made, args.units, args.small)
                    print(f"  loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
                    end = datetime.now(UTC) + timedelta(minutes=30)
                    for experiment_id in (made[0].id, made[1].id):
                        analyze, sql, units = await measure(channel, conn, experiment_id, end)
                        figures[units] = (analyze, sql)
                finally:
                    await conn.close()
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
            admin = await asyncpg.connect(ADMIN_URL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()

    for units, (analyze, sql) in sorted(figures.items()):
        print(
            f"AnalyzeExperiment, {units} units (CUPED, 28 points per unit): {analyze:.1f} ms "
            f"over gRPC; the same aggregation in raw SQL: {sql:.1f} ms (ratio {analyze / sql:.2f})"
        )
    units = max(figures)
    analyze, sql = figures[units]
    small_units = min(figures)
    print(
        f"target at {units} units: <= {TARGET_MS:.0f} ms (ratio {analyze / TARGET_MS:.2f}) and "
        f"<= {TARGET_RATIO:.0f}x raw SQL (ratio {analyze / sql:.2f})"
    )
    print(
        json.dumps(
            {
                "units": units,
                "analyze_ms": round(analyze, 1),
                "sql_ms": round(sql, 1),
                "ratio": round(analyze / sql, 3),
                "small_units": small_units,
                "small_analyze_ms": round(figures[small_units][0], 1),
                "small_sql_ms": round(figures[small_units][1], 1),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
