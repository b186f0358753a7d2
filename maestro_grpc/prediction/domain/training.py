"""Fitting and validating the meta-model: plain scikit-learn on a feature matrix.

Runs in a worker process (see `runner.py`), so everything here is
synchronous, picklable and free of the store. The candidates (`nested.py`)
are chosen by inner cross-validation; the whole procedure is scored by
nested cross-validation over projects (one row per project), beside a
time-ordered hold-out, a learning curve and the no-skill verdict
(`validate.py`). The candidate inner cross-validation prefers on every
project is fitted with its calibration, serialised and, when a tracking
store is given, logged to MLflow (`tracking.py`). Every fit is seeded and
independent of the others, so all of them, the outer folds and the final
fit alike, may run in the fold processes (`parallel.py`) in any order.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from maestro_grpc.prediction.domain.estimator import base_feature, inner_pipeline, serialize
from maestro_grpc.prediction.domain.nested import (
    Array,
    Labels,
    Spec,
    Split,
    fit,
    fold_calls,
    interval,
    nested_cv,
    outer_splits,
    select,
    specs_for,
)
from maestro_grpc.prediction.domain.parallel import fitting, in_parallel
from maestro_grpc.prediction.domain.tracking import log_training
from maestro_grpc.prediction.domain.trainset import (
    TrackingFailed,
    TrainingJob,
    check_trainable,
)
from maestro_grpc.prediction.domain.validate import (
    CurveFits,
    curve_fits,
    learning_curve,
    temporal,
    verdict,
)
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


@dataclass
class Final:
    """The candidate inner cross-validation prefers on every project, fitted, and its
    learning curve's fits."""

    spec: Spec
    estimator: CalibratedClassifierCV
    curve: CurveFits


def final_fit(
    x: Array,
    y: Labels,
    names: Sequence[str],
    specs: Sequence[Spec],
    seed: int,
    first: Sequence[Split],
) -> Final:
    """Choose among `specs` on every project, fit the choice, and its learning curve on
    the outer folds of the first repeat (`first`); pure and seeded, like an outer fold."""
    best, _ = select(x, y, names, specs, seed)
    curve = curve_fits(x, y, names, best, first, seed)
    return Final(best, fit(best, x, y, names, seed), curve)


# long: the training's steps in order, each one call
def _train(job: TrainingJob, progress: Report) -> TrainingOutcome:
    ts = job.training_set
    check_trainable(ts, job.folds)
    names, x, y = ts.feature_names, ts.x, ts.y
    specs = specs_for(names)
    progress("cross_validation", 0.25, f"{len(y)} projects, {len(names)} features")
    splits = outer_splits(job)
    # Every fit is independent and seeded, so the final choice and fit and the
    # time-ordered hold-out run beside the outer folds, first: the longest calls
    # first keep every process busy to the end.
    found = in_parallel(
        job.jobs,
        [
            (final_fit, (x, y, names, specs, job.seed, splits[: job.folds])),
            (temporal, (x, y, names, ts.start_times, specs, job.seed)),
            *fold_calls(job, specs, splits),
        ],
    )
    final: Final = next(found)
    best, estimator = final.spec, final.estimator
    # The kept model's bytes and statistics while the outer folds are fitted.
    model_bytes = serialize(estimator)
    kept = best.columns(names) or list(range(len(names)))
    inputs = [names[j] for j in kept]
    features = feature_stats(estimator, inputs, x[:, kept])
    later = next(found)
    nested = nested_cv(job, specs, splits, found, progress, (0.25, 0.75))
    progress("cross_validation", 0.78, "time-ordered hold-out")
    progress("fitting", 0.8, f"choosing among {len(specs)} candidates on all {len(y)} projects")
    progress("fitting", 0.82, "learning curve")
    curve = learning_curve(best, nested, final.curve)
    low, high = interval(y, nested.oof, job.seed)
    no_skill, words = verdict(nested.procedure, low, high, job.serve_without_skill)
    progress("fitting", 0.86, f"{best.name} with its calibration on {len(y)} projects")
    outcome = TrainingOutcome(
        kind=best.kind,
        model_bytes=model_bytes,
        features=features,
        cv_scores=nested.procedure,
        candidates=[
            CandidateResult(
                name=spec.name,
                kind=spec.kind,
                scores=nested.candidates[spec.name],
                inner_roc_auc=nested.inner[spec.name],
                times_selected=nested.selected[spec.name],
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
            baseline_lr=nested.baseline,
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
