"""Prediction benchmark: PredictSuccess latency and TrainMetaModel wall time on 10,000 projects.

Makes a PostgreSQL database of its own, starts `maestro serve` on it in a
subprocess, and loads synthetic projects with `maestro demo seed`'s
generator through the public RPCs (10,000 finished ones plus 200 running
ones: teams, weekly metric points, outcomes). Then it measures:

- TrainMetaModel wall time over gRPC (5-fold cross-validation, one repeat,
  both learners, calibration, storage, MLflow), beside the learning alone
  (the same `training.train` on the same feature matrix, in this process,
  without store or MLflow): the limit it is compared with;
- PredictSuccess p50/p95 over gRPC, one call at a time on random projects
  (target p95 <= 20 ms), beside GetProject p95 on the same projects and
  server (the cost of any read RPC) and the same prediction called in this
  process without gRPC (features, model, stored prediction).

The last line is one JSON object.

    .venv/bin/python bench/predict.py [--projects 10000] [--predictions 1000]
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
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import grpc.aio
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from maestro.prediction.v1 import meta_model_pb2 as mp  # noqa: E402
from maestro.prediction.v1 import prediction_service_pb2 as pb  # noqa: E402
from maestro.prediction.v1 import prediction_service_pb2_grpc as pg  # noqa: E402
from maestro.registry.v1 import registry_service_pb2 as rs  # noqa: E402
from maestro.registry.v1 import registry_service_pb2_grpc as rsg  # noqa: E402
from maestro_grpc.demo import seed  # noqa: E402

ADMIN_URL = os.environ.get(
    "MAESTRO_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TARGET_P95_MS = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


async def timed(calls: list[str], fn: Callable[[str], Awaitable[object]]) -> list[float]:
    """Milliseconds of each call, one at a time."""
    out = []
    for item in calls:
        started = time.perf_counter()
        await fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


async def train_over_grpc(stub: pg.PredictionServiceStub) -> tuple[float, int]:
    started = time.perf_counter()
    model = None
    last = ""
    async for message in stub.TrainMetaModel(
        pb.TrainMetaModelRequest(cv_folds=5, cv_repeats=1, random_seed=0), timeout=3600
    ):
        if message.progress.stage != last:
            last = message.progress.stage
            print(
                f"  {time.perf_counter() - started:7.1f} s  {last}: {message.progress.message}",
                file=sys.stderr,
            )
        if message.HasField("model"):
            model = message.model
    assert model is not None
    print(
        f"  trained on {model.training_set_size} projects, {len(model.features)} features, "
        f"kept {mp.ModelKind.Name(model.kind)}; ROC AUC {model.cv_scores.roc_auc:.3f}",
        file=sys.stderr,
    )
    return time.perf_counter() - started, model.training_set_size


async def in_process(url: str, data_dir: Path, ids: list[str]) -> tuple[list[float], float]:
    """The same prediction without gRPC, and the learning alone on the same matrix."""
    from maestro_grpc.metrics.read import MetricsReader
    from maestro_grpc.prediction.domain.observe import FeatureReader
    from maestro_grpc.prediction.domain.predictor import Predictor
    from maestro_grpc.prediction.domain.runner import TrainingRunner
    from maestro_grpc.prediction.domain.training import train
    from maestro_grpc.prediction.domain.trainset import TrainingJob
    from maestro_grpc.prediction.domain.versions import ModelVersions
    from maestro_grpc.prediction.model import TrainingOptions
    from maestro_grpc.prediction.store.metamodels import MetaModelStore
    from maestro_grpc.prediction.store.predictions import PredictionStore
    from maestro_grpc.registry.read import RegistryReader
    from maestro_grpc.store.db import Database

    db = Database(url)
    try:
        registry = RegistryReader(db)
        predictions = PredictionStore(db)
        predictor = Predictor(
            ModelVersions(MetaModelStore(db), predictions, registry),
            predictions,
            FeatureReader(registry, MetricsReader(db), half_life_days=180.0),
            TrainingRunner(0),
            None,
        )
        for project_id in ids[:20]:
            await predictor.predict(uuid.UUID(project_id), 0)
        direct = await timed(ids, lambda pid: predictor.predict(uuid.UUID(pid), 0))
        ts, _ = await predictor.training_set(
            TrainingOptions(observation_days=240, folds=5, repeats=1, seed=0), lambda *_: None
        )
    finally:
        await db.dispose()
    started = time.perf_counter()
    await asyncio.to_thread(
        train, TrainingJob("bench", ts, folds=5, repeats=1, seed=0), lambda *_: None
    )
    return direct, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--active", type=int, default=200)
    parser.add_argument("--predictions", type=int, default=1000)
    args = parser.parse_args()

    name = f"maestro_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    process: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="maestro-bench-") as tmp:
        data_dir = Path(tmp)
        try:
            env = {**os.environ, "MAESTRO_DATABASE_URL": url, "MAESTRO_DATA_DIR": str(data_dir)}
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
                    "MAESTRO_WEB_PORT": "off",
                    "MAESTRO_ACCESS_LOG": "0",
                    "MAESTRO_LOG_LEVEL": "WARNING",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_port(port)
            address = f"127.0.0.1:{port}"
            async with grpc.aio.insecure_channel(address) as channel:
                started = time.perf_counter()
                report = await seed(
                    channel, args.projects, args.active, random_seed=1, concurrency=16
                )
                print(
                    f"loaded {args.projects} + {args.active} projects "
                    f"({report.points} metric points) in {time.perf_counter() - started:.1f} s",
                    file=sys.stderr,
                )
                stub = pg.PredictionServiceStub(channel)
                registry = rsg.RegistryServiceStub(channel)
                train_seconds, trained_on = await train_over_grpc(stub)

                rng = random.Random(7)
                ids = [p.project_id for p in report.projects]
                sample = [rng.choice(ids) for _ in range(args.predictions)]
                for project_id in sample[:20]:  # warm up: model load, connections
                    await stub.PredictSuccess(pb.PredictSuccessRequest(project_id=project_id))
                predict_ms = await timed(
                    sample,
                    lambda pid: stub.PredictSuccess(pb.PredictSuccessRequest(project_id=pid)),
                )
                get_ms = await timed(
                    sample, lambda pid: registry.GetProject(rs.GetProjectRequest(project_id=pid))
                )
            direct_ms, learn_seconds = await in_process(url, data_dir, sample)
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
            admin = await asyncpg.connect(ADMIN_URL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()

    p50, p95 = pct(predict_ms, 50), pct(predict_ms, 95)
    get95, direct95 = pct(get_ms, 95), pct(direct_ms, 95)
    print(
        f"PredictSuccess over gRPC: p50 {p50:.2f} ms, p95 {p95:.2f} ms; "
        f"target p95 <= {TARGET_P95_MS:.0f} ms: ratio {p95 / TARGET_P95_MS:.2f}"
    )
    print(
        f"  limits measured in this run: GetProject p95 {get95:.2f} ms (ratio {p95 / get95:.2f}); "
        f"the same prediction in process, no gRPC, p95 {direct95:.2f} ms "
        f"(ratio {p95 / direct95:.2f})"
    )
    print(
        f"TrainMetaModel on {trained_on} projects over gRPC: {train_seconds:.1f} s; "
        f"the learning alone on the same matrix: {learn_seconds:.1f} s "
        f"(ratio {train_seconds / learn_seconds:.2f}: features, storage and MLflow on top)"
    )
    print(
        json.dumps(
            {
                "predict_p50_ms": round(p50, 3),
                "predict_p95_ms": round(p95, 3),
                "train_seconds_10k": round(train_seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
