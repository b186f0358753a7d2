"""MLflow logging through the real client and store, and where it goes by default."""

from __future__ import annotations

import threading
from pathlib import Path

import mlflow
import mlflow.sklearn
import numpy as np
import pytest

from maestro_grpc.config import Settings
from maestro_grpc.prediction.domain import training as T
from maestro_grpc.prediction.domain.estimator import deserialize
from maestro_grpc.prediction.domain.tracking import (
    log_training,
    prepare,
    tag_version,
    tracking_target,
)
from maestro_grpc.prediction.domain.trainset import TrainingJob, TrainingSet
from maestro_grpc.prediction.model import TrackingTarget


def test_where_runs_go(tmp_path: Path) -> None:
    default = tracking_target(Settings(data_dir=tmp_path / "data"))
    assert default.tracking_uri == f"sqlite:///{(tmp_path / 'data').resolve() / 'mlflow.db'}"
    assert default.artifact_location == (tmp_path / "data" / "mlflow-artifacts").resolve().as_uri()
    # A database URI has no server to keep artifacts: they stay in the data dir.
    other_db = tracking_target(
        Settings(data_dir=tmp_path, mlflow_tracking_uri="postgresql://mlflow@db/mlflow")
    )
    assert other_db.tracking_uri == "postgresql://mlflow@db/mlflow"
    assert other_db.artifact_location == (tmp_path / "mlflow-artifacts").resolve().as_uri()
    # A tracking server decides for itself.
    served = tracking_target(Settings(data_dir=tmp_path, mlflow_tracking_uri="http://mlflow:5000"))
    assert served.artifact_location is None
    assert Settings.from_env({"MLFLOW_TRACKING_URI": " http://x:5000 "}).mlflow_tracking_uri == (
        "http://x:5000"
    )
    assert Settings.from_env({"MAESTRO_TRAINING_PROCESSES": "0"}).training_processes == 0
    # Served, a server fits two folds at once; it gets training ready at start
    # only when asked (a replica that never predicts stays lean).
    assert Settings.from_env({}).training_jobs == 2
    assert Settings.from_env({}).prediction_warm is False
    assert Settings.from_env({"MAESTRO_TRAINING_JOBS": "1"}).training_jobs == 1
    assert Settings.from_env({"MAESTRO_PREDICTION_WARM": "on"}).prediction_warm is True


def test_a_run_is_logged_registered_and_loads_back(shared_mlflow: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    job = TrainingJob("t", TrainingSet(["a", "b", "c"], x, y, [], 120), folds=3, repeats=1)
    outcome = T.train(job, lambda *_: None)
    estimator = deserialize(outcome.model_bytes)
    target = TrackingTarget(
        tracking_uri=shared_mlflow,
        artifact_location=(tmp_path / "artifacts").as_uri(),
        experiment_name="maestro-tracking-test",
        registered_model_name="maestro-tracking-test",
    )
    run_id, uri = log_training(target, job, outcome, estimator)
    again_id, again_uri = log_training(target, job, outcome, estimator)
    assert uri == "models:/maestro-tracking-test/1"
    assert again_uri == "models:/maestro-tracking-test/2"
    assert again_id != run_id
    tag_version(target, run_id, 7)
    mlflow.set_tracking_uri(shared_mlflow)
    run = mlflow.MlflowClient().get_run(run_id)
    assert run.data.params["observation_days"] == "120"
    assert run.data.params["kind"] == outcome.kind.value
    assert run.data.metrics["cv_roc_auc"] == pytest.approx(outcome.cv_scores.roc_auc)
    assert run.data.tags["maestro.meta_model_version"] == "7"
    assert run.info.artifact_uri.startswith((tmp_path / "artifacts").as_uri())
    loaded = mlflow.sklearn.load_model(uri)
    assert np.array_equal(loaded.predict_proba(x), estimator.predict_proba(x))


def test_a_training_logs_to_a_store_the_warm_up_is_still_making(tmp_path: Path) -> None:
    # A warm server makes a new store ready in a thread of the training worker; a
    # training that came meanwhile logs to the same store, which must wait, not race.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 2))
    y = (x[:, 0] > 0).astype(np.int64)
    job = TrainingJob("w", TrainingSet(["a", "b"], x, y, [], 90), folds=3, repeats=1)
    outcome = T.train(job, lambda *_: None)
    target = TrackingTarget(
        tracking_uri=f"sqlite:///{tmp_path / 'new-mlflow.db'}",
        artifact_location=(tmp_path / "artifacts").as_uri(),
        experiment_name="maestro-warm-test",
        registered_model_name="maestro-warm-test",
    )
    warming = threading.Thread(target=prepare, args=(target,))
    warming.start()
    run_id, uri = log_training(target, job, outcome, deserialize(outcome.model_bytes))
    warming.join()
    assert uri == "models:/maestro-warm-test/1"
    run = mlflow.MlflowClient(tracking_uri=target.tracking_uri).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["observation_days"] == "90"
