"""Logging a training run to MLflow: params, scores, features, the model, a registered version.

The default tracking store is a SQLite file in the data dir (MLflow's file
store is deprecated), with run artifacts in the data dir too;
MLFLOW_TRACKING_URI points elsewhere (then artifacts go where that server
puts them). Runs in the training worker: MLflow's client is synchronous.

A server does not send usage telemetry on its operator's behalf: MLflow's
is turned off here unless MLFLOW_DISABLE_TELEMETRY is set explicitly.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maestro_grpc.config import Settings
from maestro_grpc.prediction.model import TrackingTarget, TrainingOutcome

if TYPE_CHECKING:
    from maestro_grpc.prediction.domain.trainset import TrainingJob


def tracking_target(settings: Settings) -> TrackingTarget:
    """Where this server logs its training runs.

    Without a tracking server (the default SQLite file, or any database or
    file URI) MLflow would put run artifacts in ./mlruns of whatever
    directory the server was started in, so they go to the data dir; a
    tracking server (http, https, databricks) decides for itself.
    """
    data_dir = Path(settings.data_dir).resolve()
    artifacts = (data_dir / "mlflow-artifacts").as_uri()
    uri = settings.mlflow_tracking_uri
    if not uri:
        data_dir.mkdir(parents=True, exist_ok=True)
        return TrackingTarget(
            tracking_uri=f"sqlite:///{data_dir / 'mlflow.db'}", artifact_location=artifacts
        )
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    served = scheme in {"http", "https"} or scheme.startswith("databricks")
    return TrackingTarget(tracking_uri=uri, artifact_location=None if served else artifacts)


def _experiment_id(client: Any, target: TrackingTarget) -> str:
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(target.experiment_name)
    if found is not None:
        return str(found.experiment_id)
    try:
        return str(
            client.create_experiment(
                target.experiment_name, artifact_location=target.artifact_location
            )
        )
    except MlflowException:
        # Another worker created it in between.
        found = client.get_experiment_by_name(target.experiment_name)
        if found is None:
            raise
        return str(found.experiment_id)


def _params(job: TrainingJob, outcome: TrainingOutcome) -> dict[str, Any]:
    ts = job.training_set
    return {
        "kind": outcome.kind.value,
        "candidate": outcome.candidate,
        "observation_days": ts.observation_days,
        "cv_folds": job.folds,
        "cv_repeats": job.repeats,
        "random_seed": job.seed,
        "training_set_size": outcome.training_set_size,
        "positive_count": outcome.positive_count,
        "features_offered": len(ts.feature_names),
        "features_used": len(outcome.features),
    }


def _metrics(outcome: TrainingOutcome) -> dict[str, float]:
    """Every candidate's scores under its kind, and the kept one's plainly."""
    metrics: dict[str, float] = {}
    for candidate in outcome.candidates:
        for name, value in candidate.scores.as_dict().items():
            if name not in {"folds", "repeats"}:
                metrics[f"{candidate.name}.cv_{name}"] = float(value)
    for name, value in outcome.cv_scores.as_dict().items():
        if name not in {"folds", "repeats"}:
            metrics[f"cv_{name}"] = float(value)
    validation = outcome.validation
    if validation is not None:
        metrics["cv_roc_auc_low"] = validation.roc_auc_low
        metrics["cv_roc_auc_high"] = validation.roc_auc_high
        metrics["baseline_lr_roc_auc"] = validation.baseline_lr.roc_auc
        metrics["no_skill"] = float(validation.no_skill)
        if validation.temporal is not None:
            metrics["temporal_roc_auc"] = validation.temporal.roc_auc
    # MLflow refuses NaN in some stores: a score that does not exist is not logged.
    return {k: v for k, v in metrics.items() if math.isfinite(v)}


# The stores made ready in this process; the lock makes a training's logging wait
# for a warm-up still preparing the same store (in another thread) instead of racing it.
_prepared: set[TrackingTarget] = set()
_preparing = threading.Lock()


def prepare(target: TrackingTarget) -> None:
    """Import MLflow and make the store and the experiment ready (a new SQLite store
    creates its tables: seconds), so that the first training's logging does not wait.

    Once per store and process; a failure is raised and the next call tries again.
    """
    with _preparing:
        if target in _prepared:
            return
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        import mlflow.sklearn  # noqa: F401
        from mlflow import MlflowClient

        _experiment_id(MlflowClient(tracking_uri=target.tracking_uri), target)
        # MLflow imports GitPython when it starts the first run of a process (to tag
        # the source's commit): 0.35 s of the first training's logging. Absent or
        # without a git executable, MLflow skips the tag, and so does this.
        with contextlib.suppress(Exception):
            importlib.import_module("git")
        _prepared.add(target)


def log_training(
    target: TrackingTarget, job: TrainingJob, outcome: TrainingOutcome, estimator: Any
) -> tuple[str, str]:
    """Log one training run; returns (run id, registered model URI)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    from maestro_grpc.prediction.domain.estimator import TRUSTED_TYPES

    prepare(target)  # waits for a warm-up still making this store ready
    mlflow.set_tracking_uri(target.tracking_uri)
    client = MlflowClient(tracking_uri=target.tracking_uri)
    experiment_id = _experiment_id(client, target)
    with mlflow.start_run(experiment_id=experiment_id, run_name="train-meta-model") as run:
        mlflow.log_params(_params(job, outcome))
        mlflow.log_metrics(_metrics(outcome))
        mlflow.log_dict(
            {
                # The model's input columns, in order (NaN where a value is missing).
                "input_names": list(outcome.input_names),
                "features": [f.as_dict() for f in outcome.features],
            },
            "features.json",
        )
        info = mlflow.sklearn.log_model(
            estimator,
            name="model",
            serialization_format="skops",
            skops_trusted_types=list(TRUSTED_TYPES),
            registered_model_name=target.registered_model_name,
            # Named, so MLflow does not load the model in a subprocess to guess them.
            pip_requirements=_requirements(),
        )
        version = info.registered_model_version
        run_id = str(run.info.run_id)
    uri = f"models:/{target.registered_model_name}/{version}" if version else info.model_uri
    return run_id, str(uri)


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in ("scikit-learn", "skops", "numpy", "scipy")]


def tag_version(target: TrackingTarget, run_id: str, version: int) -> None:
    """Tag the run with the meta-model version it became in the store."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=target.tracking_uri).set_tag(
        run_id, "maestro.meta_model_version", str(version)
    )
