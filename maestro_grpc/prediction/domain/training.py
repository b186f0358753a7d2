"""Fitting and validating the meta-model: plain scikit-learn on a feature matrix.

Runs in a worker process (see `runner.py`), so everything here is
synchronous, picklable and free of the store. Two candidates
(`estimator.py`) are scored by repeated stratified k-fold cross-validation
over projects (one row per project); the one with the higher mean ROC AUC
is kept (the logistic regression on a tie), fitted with its calibration on
every project, serialised and, when a tracking store is given, logged to
MLflow (`tracking.py`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sklearn.base import clone  # type: ignore[import-untyped]
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import accuracy_score, brier_score_loss, roc_auc_score  # type: ignore[import-untyped]
from sklearn.model_selection import RepeatedStratifiedKFold  # type: ignore[import-untyped]

from maestro_grpc.prediction.domain.estimator import (
    base_feature,
    candidate,
    inner_pipeline,
    serialize,
)
from maestro_grpc.prediction.domain.tracking import log_training
from maestro_grpc.prediction.domain.trainset import (
    TrackingFailed,
    TrainingJob,
    TrainingSet,
    check_trainable,
)
from maestro_grpc.prediction.model import FeatureStats, ModelKind, Report, Scores, TrainingOutcome


def cross_validate(
    ts: TrainingSet,
    kinds: Sequence[ModelKind],
    folds: int,
    repeats: int,
    seed: int,
    progress: Report,
    span: tuple[float, float] = (0.0, 1.0),
) -> dict[ModelKind, Scores]:
    """Repeated stratified k-fold scores of each kind, on the same splits."""
    splitter = RepeatedStratifiedKFold(
        n_splits=folds, n_repeats=repeats, random_state=seed % (2**32)
    )
    splits = list(splitter.split(ts.x, ts.y))
    per_kind: dict[ModelKind, list[tuple[float, float, float, float, float]]] = {
        k: [] for k in kinds
    }
    total = len(splits) * len(kinds)
    done = 0
    for number, (train, test) in enumerate(splits, start=1):
        y_train, y_test = ts.y[train], ts.y[test]
        rate = float(y_train.mean())
        majority = 1 if rate >= 0.5 else 0
        baseline_accuracy = float(np.mean(y_test == majority))
        baseline_brier = float(np.mean((rate - y_test) ** 2))
        for kind in kinds:
            fitted = clone(candidate(kind, seed)).fit(ts.x[train], y_train)
            p = fitted.predict_proba(ts.x[test])[:, 1]
            per_kind[kind].append(
                (
                    float(roc_auc_score(y_test, p)),
                    float(brier_score_loss(y_test, p)),
                    float(accuracy_score(y_test, p >= 0.5)),
                    baseline_accuracy,
                    baseline_brier,
                )
            )
            done += 1
            progress(
                "cross_validation",
                span[0] + (span[1] - span[0]) * done / total,
                f"fold {number}/{len(splits)} ({kind.value})",
            )
    out: dict[ModelKind, Scores] = {}
    for kind, rows in per_kind.items():
        a = np.array(rows)
        out[kind] = Scores(
            roc_auc=float(a[:, 0].mean()),
            roc_auc_std=float(a[:, 0].std()),
            brier=float(a[:, 1].mean()),
            accuracy=float(a[:, 2].mean()),
            baseline_accuracy=float(a[:, 3].mean()),
            baseline_brier=float(a[:, 4].mean()),
            folds=folds,
            repeats=repeats,
        )
    return out


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
        return _train(job, progress)


def _train(job: TrainingJob, progress: Report) -> TrainingOutcome:
    ts = job.training_set
    check_trainable(ts, job.folds)
    kinds = [ModelKind.LOGISTIC_REGRESSION, ModelKind.GRADIENT_BOOSTING]
    progress("cross_validation", 0.25, f"{len(ts.y)} projects, {len(ts.feature_names)} features")
    scores = cross_validate(ts, kinds, job.folds, job.repeats, job.seed, progress, (0.25, 0.85))
    best = max(kinds, key=lambda k: (scores[k].roc_auc, k is ModelKind.LOGISTIC_REGRESSION))
    progress("fitting", 0.86, f"{best.value} with its calibration on {len(ts.y)} projects")
    estimator = candidate(best, job.seed).fit(ts.x, ts.y)
    features = feature_stats(estimator, ts.feature_names, ts.x)
    outcome = TrainingOutcome(
        kind=best,
        model_bytes=serialize(estimator),
        features=features,
        cv_scores=scores[best],
        candidates=[(k, scores[k]) for k in kinds],
        training_set_size=len(ts.y),
        positive_count=ts.positives,
        observation_days=ts.observation_days,
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
