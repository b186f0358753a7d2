"""Fitting and validating the meta-model: plain scikit-learn on a feature matrix.

Runs in a worker process (see `runner.py`), so everything here is
synchronous, picklable and free of the store. The candidates (`nested.py`)
are chosen by inner cross-validation; the whole procedure is scored by
nested cross-validation over projects (one row per project), beside a
time-ordered hold-out, a learning curve and the no-skill verdict
(`validate.py`). The candidate inner cross-validation prefers on every
project is fitted with its calibration, serialised and, when a tracking
store is given, logged to MLflow (`tracking.py`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from maestro_grpc.prediction.domain.estimator import base_feature, inner_pipeline, serialize
from maestro_grpc.prediction.domain.nested import fit, interval, nested_cv, select, specs_for
from maestro_grpc.prediction.domain.parallel import fitting
from maestro_grpc.prediction.domain.tracking import log_training
from maestro_grpc.prediction.domain.trainset import (
    TrackingFailed,
    TrainingJob,
    check_trainable,
)
from maestro_grpc.prediction.domain.validate import learning_curve, temporal, verdict
from maestro_grpc.prediction.model import (
    CandidateResult,
    FeatureStats,
    Report,
    TrainingOutcome,
    Validation,
)


def feature_stats(
    estimator: CalibratedClassifierCV, names: Sequence[str], x: npt.NDArray[np.float64]
) -> list[FeatureStats]:
    """The features the fitted model uses, in input order, with training statistics."""
    pipeline = inner_pipeline(estimator)
    columns = list(pipeline[:-1].get_feature_names_out(list(names)))
    model = pipeline[-1]
    if isinstance(model, LogisticRegression):
        weights = np.abs(model.coef_[0])
    else:
        weights = np.asarray(model.feature_importances_)
    importance: dict[str, float] = {}
    for column, weight in zip(columns, weights, strict=True):
        feature = base_feature(column)
        importance[feature] = importance.get(feature, 0.0) + float(weight)
    statistics = pipeline.named_steps["impute"].statistics_
    out: list[FeatureStats] = []
    for j, name in enumerate(names):
        if name not in importance:
            continue
        column = x[:, j]
        present = column[~np.isnan(column)]
        out.append(
            FeatureStats(
                name=name,
                importance=importance[name],
                training_mean=float(present.mean()),
                training_min=float(present.min()),
                training_max=float(present.max()),
                missing_fraction=float(np.isnan(column).mean()),
                imputed_value=float(statistics[j]),
            )
        )
    return out


def train(job: TrainingJob, progress: Report) -> TrainingOutcome:
    """Score both candidates, keep the better, fit it on everything, log it."""
    with warnings.catch_warnings():
        # A feature only a few projects have can be absent from a whole
        # training fold: the imputer then drops it, as intended.
        warnings.filterwarnings("ignore", message="Skipping features without any observed")
        with fitting():
            return _train(job, progress)


# long: the training's steps in the order they run, each one call
def _train(job: TrainingJob, progress: Report) -> TrainingOutcome:
    ts = job.training_set
    check_trainable(ts, job.folds)
    names, x, y = ts.feature_names, ts.x, ts.y
    specs = specs_for(names)
    progress("cross_validation", 0.25, f"{len(y)} projects, {len(names)} features")
    found = nested_cv(job, specs, progress, (0.25, 0.75))
    progress("cross_validation", 0.78, "time-ordered hold-out")
    later = temporal(x, y, names, ts.start_times, specs, job.seed)
    progress("fitting", 0.8, f"choosing among {len(specs)} candidates on all {len(y)} projects")
    best, _ = select(x, y, names, specs, job.seed)
    progress("fitting", 0.82, "learning curve")
    curve = learning_curve(x, y, names, best, found, job.seed)
    low, high = interval(y, found.oof, job.seed)
    no_skill, words = verdict(found.procedure, low, high, job.serve_without_skill)
    progress("fitting", 0.86, f"{best.name} with its calibration on {len(y)} projects")
    estimator = fit(best, x, y, names, job.seed)
    kept = best.columns(names) or list(range(len(names)))
    inputs = [names[j] for j in kept]
    outcome = TrainingOutcome(
        kind=best.kind,
        model_bytes=serialize(estimator),
        features=feature_stats(estimator, inputs, x[:, kept]),
        cv_scores=found.procedure,
        candidates=[
            CandidateResult(
                name=spec.name,
                kind=spec.kind,
                scores=found.candidates[spec.name],
                inner_roc_auc=found.inner[spec.name],
                times_selected=found.selected[spec.name],
                feature_count=len(spec.columns(names) or names),
            )
            for spec in specs
        ],
        training_set_size=len(y),
        positive_count=ts.positives,
        observation_days=ts.observation_days,
        input_names=inputs,
        candidate=best.name,
        validation=Validation(
            roc_auc_low=low,
            roc_auc_high=high,
            baseline_lr=found.baseline,
            temporal=later,
            learning_curve=curve,
            no_skill=no_skill,
            verdict=words,
        ),
    )
    if job.tracking is not None:
        progress("storing", 0.92, "logging the run to MLflow")
        try:
            outcome.mlflow_run_id, outcome.mlflow_model_uri = log_training(
                job.tracking, job, outcome, estimator
            )
        except Exception as error:
            raise TrackingFailed(
                f"could not log the run to MLflow at {job.tracking.tracking_uri}: {error}"
            ) from None
    return outcome
