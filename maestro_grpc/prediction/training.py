"""Fitting and validating the meta-model: plain scikit-learn on a feature matrix.

Runs in a worker process (see `runner.py`), so everything here is
synchronous, picklable and free of the store. Two candidates are scored by
repeated stratified k-fold cross-validation over projects (one row per
project); the one with the higher mean ROC AUC is kept (the logistic
regression on a tie), fitted with its calibration on every project,
serialised with skops and, when a tracking store is given, logged to MLflow.

Every candidate is one scikit-learn estimator, so cross-validation fits
exactly what is deployed:

    CalibratedClassifierCV(method="sigmoid", cv=3, ensemble=False) of
      Pipeline(impute: SimpleImputer(median, add_indicator=True)
               constant: VarianceThreshold(0)          # drops constant columns
               [asinh, scale]                          # logistic regression only
               model: LogisticRegression | GradientBoostingClassifier)

A missing value becomes the training median plus a 0/1 indicator column
`missingindicator_<feature>` (only for features some training project
lacked); a feature missing for every training project is dropped.
"""

from __future__ import annotations

import enum
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import clone  # type: ignore[import-untyped]
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.ensemble import GradientBoostingClassifier  # type: ignore[import-untyped]
from sklearn.feature_selection import VarianceThreshold  # type: ignore[import-untyped]
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import accuracy_score, brier_score_loss, roc_auc_score  # type: ignore[import-untyped]
from sklearn.model_selection import RepeatedStratifiedKFold  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # type: ignore[import-untyped]

MIN_PROJECTS = 20
MIN_PER_CLASS = 6
INDICATOR_PREFIX = "missingindicator_"

# The only types a stored model may contain beyond what skops trusts by
# default; loading refuses anything else.
TRUSTED_TYPES = (
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.tree._tree.Tree",
)

Progress = Callable[[str, float, str], None]


class ModelKind(enum.Enum):
    LOGISTIC_REGRESSION = "logistic_regression"
    GRADIENT_BOOSTING = "gradient_boosting"


class TrainingError(Exception):
    """The data cannot be trained on (too few projects, one class, no varying feature)."""


class TrackingFailed(Exception):
    """The MLflow tracking store refused or could not be reached."""


@dataclass
class TrainingSet:
    """One row per project: features (NaN = missing) and outcome (1 succeeded)."""

    feature_names: list[str]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.int64]
    project_ids: list[str]
    observation_days: int

    @property
    def positives(self) -> int:
        return int(self.y.sum())

    @property
    def negatives(self) -> int:
        return int(len(self.y) - self.y.sum())


@dataclass(frozen=True)
class TrackingTarget:
    """Where MLflow logs a run: tracking URI, artifact root (None: the server's), names."""

    tracking_uri: str
    artifact_location: str | None
    experiment_name: str = "maestro-meta-model"
    registered_model_name: str = "maestro-meta-model"


@dataclass
class TrainingJob:
    job_id: str
    training_set: TrainingSet
    folds: int = 5
    repeats: int = 5
    seed: int = 0
    tracking: TrackingTarget | None = None


@dataclass
class Scores:
    """Cross-validated scores (means over every fold of every repeat)."""

    roc_auc: float
    roc_auc_std: float
    brier: float
    accuracy: float
    baseline_accuracy: float
    baseline_brier: float
    folds: int
    repeats: int

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass
class FeatureStats:
    name: str
    importance: float
    training_mean: float
    training_min: float
    training_max: float
    missing_fraction: float
    imputed_value: float

    def as_dict(self) -> dict[str, float | str]:
        return dict(self.__dict__)


@dataclass
class TrainingOutcome:
    kind: ModelKind
    model_bytes: bytes
    features: list[FeatureStats]
    cv_scores: Scores
    candidates: list[tuple[ModelKind, Scores]]
    training_set_size: int
    positive_count: int
    observation_days: int
    mlflow_run_id: str = ""
    mlflow_model_uri: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def check_counts(n: int, positives: int, folds: int, left_out: int = 0) -> None:
    """Refuse too few projects, or too few of either outcome, to cross-validate."""
    need_class = max(MIN_PER_CLASS, folds)
    negatives = n - positives
    if n < MIN_PROJECTS or positives < need_class or negatives < need_class:
        raise TrainingError(
            f"training needs at least {MIN_PROJECTS} eligible projects with at least "
            f"{need_class} of each outcome (cv_folds={folds}); found {n} "
            f"({positives} succeeded, {negatives} failed), and {left_out} more "
            "finished projects were left out because they ended before their "
            "observation window closed"
        )


def check_trainable(ts: TrainingSet, folds: int, left_out: int = 0) -> None:
    """Refuse data too small, too one-sided or too uniform to train on."""
    check_counts(len(ts.y), ts.positives, folds, left_out)
    present = ~np.isnan(ts.x)
    for j in range(ts.x.shape[1]):
        column = ts.x[present[:, j], j]
        # A partly missing feature varies through its missing indicator.
        if column.size and (not present[:, j].all() or np.ptp(column) > 0):
            return
    raise TrainingError(
        f"no feature varies across the {len(ts.y)} eligible projects: record team "
        "members, metrics or events for them first"
    )


def candidate(kind: ModelKind, seed: int) -> CalibratedClassifierCV:
    """The full estimator of one kind, unfitted."""
    steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy="median", add_indicator=True)),
        ("constant", VarianceThreshold(0.0)),
    ]
    model: Any
    if kind is ModelKind.LOGISTIC_REGRESSION:
        steps += [
            ("asinh", FunctionTransformer(np.arcsinh, feature_names_out="one-to-one")),
            ("scale", StandardScaler()),
        ]
        # Balanced class weights: the failures are usually the minority, and
        # the calibration afterwards restores honest probabilities.
        model = LogisticRegression(C=0.02, class_weight="balanced", max_iter=5000)
    else:
        # Each split looks at sqrt(features) of them: with a hundred or more
        # generic features this is what keeps 10,000 projects trainable.
        model = GradientBoostingClassifier(
            n_estimators=100,
            learning_rate=0.1,
            max_depth=2,
            subsample=0.7,
            max_features="sqrt",
            min_samples_leaf=5,
            random_state=seed % (2**32),
        )
    pipeline = Pipeline([*steps, ("model", model)])
    return CalibratedClassifierCV(pipeline, method="sigmoid", cv=3, ensemble=False)


def cross_validate(
    ts: TrainingSet,
    kinds: Sequence[ModelKind],
    folds: int,
    repeats: int,
    seed: int,
    progress: Progress,
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


def inner_pipeline(estimator: CalibratedClassifierCV) -> Pipeline:
    """The fitted pipeline inside a fitted calibrated estimator."""
    pipeline: Pipeline = estimator.calibrated_classifiers_[0].estimator
    return pipeline


def base_feature(column: str) -> str:
    return column.removeprefix(INDICATOR_PREFIX)


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


def serialize(estimator: Any) -> bytes:
    import skops.io as sio  # type: ignore[import-untyped]

    data: bytes = sio.dumps(estimator)
    return data


class UntrustedModel(Exception):
    """A stored model holds types outside TRUSTED_TYPES."""


def deserialize(data: bytes) -> CalibratedClassifierCV:
    """Load a stored model, refusing any type outside the known list."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=data)
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise UntrustedModel(f"stored model holds untrusted types: {', '.join(unexpected)}")
    model: CalibratedClassifierCV = sio.loads(data, trusted=list(untrusted))
    return model


def train(job: TrainingJob, progress: Progress) -> TrainingOutcome:
    """Score both candidates, keep the better, fit it on everything, log it."""
    with warnings.catch_warnings():
        # A feature only a few projects have can be absent from a whole
        # training fold: the imputer then drops it, as intended.
        warnings.filterwarnings("ignore", message="Skipping features without any observed")
        return _train(job, progress)


def _train(job: TrainingJob, progress: Progress) -> TrainingOutcome:
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
        from maestro_grpc.prediction.tracking import log_training

        try:
            outcome.mlflow_run_id, outcome.mlflow_model_uri = log_training(
                job.tracking, job, outcome, estimator
            )
        except Exception as error:
            raise TrackingFailed(
                f"could not log the run to MLflow at {job.tracking.tracking_uri}: {error}"
            ) from None
    return outcome


def finite(value: float) -> float:
    """NaN and infinities (a degenerate fold) as 0 for the wire."""
    return value if math.isfinite(value) else 0.0
