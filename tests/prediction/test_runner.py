"""Training off the event loop: in a worker process or a thread, progress back on the loop."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import grpc.aio
import mlflow
import numpy as np
import pytest

from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro_grpc.config import Settings
from maestro_grpc.errors import Unavailable
from maestro_grpc.prediction.domain import runner as runner_module
from maestro_grpc.prediction.domain.runner import TrainingRunner
from maestro_grpc.prediction.domain.trainset import TrainingJob, TrainingSet
from maestro_grpc.server import start_server
from tests.conftest import with_settings
from tests.prediction.conftest import PredictionStub


def job() -> TrainingJob:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    y = (x[:, 0] + rng.normal(size=60) > 0).astype(np.int64)
    return TrainingJob("runner", TrainingSet(["a", "b"], x, y, [], 240), folds=3, repeats=1)


@pytest.mark.parametrize("processes", [0, 1])
async def test_training_reports_progress_on_the_callers_loop(processes: int) -> None:
    loop_thread = threading.get_ident()
    seen: list[tuple[str, int]] = []
    fitted = asyncio.Event()

    def report(stage: str, fraction: float, message: str) -> None:
        seen.append((stage, threading.get_ident()))
        if stage == "fitting":  # the last report of a training without tracking
            fitted.set()

    outcome = await TrainingRunner(processes).run(job(), report)
    # The last reports may trail the result (from a worker, they cross a queue and a thread).
    await asyncio.wait_for(fitted.wait(), timeout=30)
    assert outcome.training_set_size == 60
    assert {stage for stage, _ in seen} >= {"cross_validation"}
    assert {thread for _, thread in seen} == {loop_thread}


async def test_a_dead_worker_is_unavailable_and_replaced() -> None:
    # Two processes: a pool of its own, so the shared one is left alone.
    runner = TrainingRunner(2)
    with pytest.raises(Unavailable, match="worker process died"):
        await runner.call(os._exit, 3)
    assert await runner.call(os.getpid) != os.getpid()
    assert (await runner.run(job(), lambda *_: None)).training_set_size == 60


def fold_worker_pids() -> list[int]:
    """The fold workers of the process this runs in (a training worker)."""
    from joblib.externals.loky import reusable_executor  # type: ignore[import-untyped]

    executor = reusable_executor._executor
    return sorted(executor._processes) if executor is not None else []


def gone(pid: int) -> bool:
    """Whether a process has ended (a zombie waiting for its reaper counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


async def test_stopping_a_training_worker_stops_its_fold_workers() -> None:
    # Three processes: a pool of its own, so the shared one is left alone.
    runner = TrainingRunner(3, jobs=2)
    await runner.warm(None)
    pids = await runner.call(fold_worker_pids)
    assert len(pids) == 2
    assert not any(gone(pid) for pid in pids)
    runner_module._pools.pop(3).close()  # what a stopping server does to every pool
    for _ in range(100):
        if all(gone(pid) for pid in pids):
            break
        await asyncio.sleep(0.1)
    assert [pid for pid in pids if not gone(pid)] == []


async def test_a_warm_server_has_its_training_worker_and_tracking_store_ready(
    settings: Settings, tmp_path: Path
) -> None:
    tracking = f"sqlite:///{tmp_path / 'warm-mlflow.db'}"
    warm = with_settings(settings, prediction_warm=True, mlflow_tracking_uri=tracking)
    running = await start_server(warm)
    try:
        # Ready before any call: the experiment training logs to exists already.
        client = mlflow.MlflowClient(tracking_uri=tracking)
        for _ in range(1200):
            if client.get_experiment_by_name("maestro-meta-model") is not None:
                break
            await asyncio.sleep(0.5)
        assert client.get_experiment_by_name("maestro-meta-model") is not None
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            listed = await PredictionStub(channel).ListMetaModels(pb.ListMetaModelsRequest())
        assert list(listed.models) == []
    finally:
        await running.stop(grace=0.2)
