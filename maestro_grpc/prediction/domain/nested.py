"""Honest scores of the whole training procedure: nested, time-ordered, by training-set size.

The procedure being scored is "rank the candidates by inner cross-validation
on the projects at hand, keep the best, fit it with its calibration". Nested
cross-validation runs that procedure inside every outer training fold and
scores the held-out outer fold with it, so the choice among candidates never
sees the projects it is scored on; only those outer folds are reported. The
same outer folds also score each candidate on its own (fixed, no choice) and
the plain logistic-regression baseline (mean and last value of each metric),
so the gain over a plain model is measured on the same splits.

Everything is seeded: the same data and seed give the same folds, the same
choices and the same scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata  # type: ignore[import-untyped]
from sklearn.base import clone  # type: ignore[import-untyped]
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.model_selection import (  # type: ignore[import-untyped]
    RepeatedStratifiedKFold,
    StratifiedKFold,
)
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from maestro_grpc.prediction.domain.estimator import candidate, pipeline
from maestro_grpc.prediction.domain.parallel import Call
from maestro_grpc.prediction.domain.trainset import TrainingJob
from maestro_grpc.prediction.model import ModelKind, Report, Scores

INNER_FOLDS = 3
BOOTSTRAP = 1000
TEMPORAL_SHARE = 0.75
CURVE = (0.25, 0.5, 0.75, 1.0)
MIN_CLASS_TO_FIT = 6

Array = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Spec:
    """A candidate: a learner kind on the columns whose names keep none of `drop` suffixes.

    The levels-only logistic regression leaves out the per-day slopes: on
    small data a least-squares slope over a few noisy points is mostly
    noise, and the end state is still there (last, recent_mean).
    """

    name: str
    kind: ModelKind
    drop: tuple[str, ...] = ()

    def columns(self, names: Sequence[str]) -> list[int]:
        return [j for j, n in enumerate(names) if not n.endswith(self.drop)] if self.drop else []


SPECS = (
    Spec("logistic_regression", ModelKind.LOGISTIC_REGRESSION),
    Spec("logistic_regression_levels", ModelKind.LOGISTIC_REGRESSION, (".slope",)),
    Spec("gradient_boosting", ModelKind.GRADIENT_BOOSTING),
)


def specs_for(names: Sequence[str]) -> list[Spec]:
    """The candidates that differ on these features (a drop that drops nothing is skipped)."""
    out = []
    for spec in SPECS:
        kept = spec.columns(names)
        if spec.drop and (len(kept) == len(names) or not kept):
            continue
        out.append(spec)
    return out


def view(spec: Spec, x: Array, names: Sequence[str]) -> Array:
    """The columns a candidate sees."""
    kept = spec.columns(names)
    return x[:, kept] if kept else x


def auc(y: Labels, p: Array) -> float:
    """ROC AUC by ranks (Mann-Whitney), ties counted half; NaN with one class."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def simplicity(spec: Spec, names: Sequence[str]) -> tuple[bool, int]:
    """Simpler first: a linear model before trees, then fewer features."""
    return (spec.kind is not ModelKind.LOGISTIC_REGRESSION, len(spec.columns(names)) or len(names))


def select(
    x: Array, y: Labels, names: Sequence[str], specs: Sequence[Spec], seed: int
) -> tuple[Spec, dict[str, float]]:
    """The candidate inner cross-validation prefers, by the one-standard-error rule.

    The best mean inner ROC AUC sets the bar; the simplest candidate whose
    mean is within one standard error (over the inner folds) of it is kept.
    With a few hundred projects the candidates' inner scores differ by less
    than their noise, and a noisy choice costs more than a slightly weaker
    learner (Hastie, Tibshirani & Friedman, The Elements of Statistical
    Learning, 7.10).
    """
    splitter = StratifiedKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=seed % (2**32))
    per: dict[str, list[float]] = {s.name: [] for s in specs}
    for train, test in splitter.split(x, y):
        for spec in specs:
            xs = view(spec, x, names)
            # Calibration is monotone: the uncalibrated learner ranks the same.
            fitted = clone(pipeline(spec.kind, seed)).fit(xs[train], y[train])
            per[spec.name].append(auc(y[test], fitted.predict_proba(xs[test])[:, 1]))
    means = {k: float(np.mean(v)) for k, v in per.items()}
    best = max(specs, key=lambda s: (means[s.name], -specs.index(s)))
    error = float(np.std(per[best.name], ddof=1) / np.sqrt(INNER_FOLDS))
    ordered = sorted(specs, key=lambda s: simplicity(s, names))
    chosen = next(s for s in ordered if means[s.name] >= means[best.name] - error)
    return chosen, means


def fit(spec: Spec, x: Array, y: Labels, names: Sequence[str], seed: int) -> object:
    return candidate(spec.kind, seed).fit(view(spec, x, names), y)


def proba(model: object, spec: Spec, x: Array, names: Sequence[str]) -> Array:
    return np.asarray(model.predict_proba(view(spec, x, names))[:, 1], dtype=np.float64)  # type: ignore[attr-defined]


def baseline_columns(names: Sequence[str]) -> list[int]:
    """The plain baseline's inputs: the mean and the last value of each metric."""
    return [
        j for j, n in enumerate(names) if n.startswith("metric.") and n.endswith((".mean", ".last"))
    ]


def baseline_lr() -> Pipeline:
    """A plain logistic regression (median imputation, standardised, default C)."""
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(max_iter=5000)),
        ]
    )


@dataclass
class FoldScores:
    rows: list[tuple[float, float, float, float, float]]

    def add(self, y: Labels, p: Array, rate: float) -> None:
        majority = 1 if rate >= 0.5 else 0
        self.rows.append(
            (
                auc(y, p),
                float(np.mean((p - y) ** 2)),
                float(np.mean((p >= 0.5) == (y == 1))),
                float(np.mean(y == majority)),
                float(np.mean((rate - y) ** 2)),
            )
        )

    def scores(self, folds: int, repeats: int) -> Scores:
        a = np.array(self.rows) if self.rows else np.full((1, 5), np.nan)
        aucs = a[~np.isnan(a[:, 0]), 0]
        return Scores(
            roc_auc=float(aucs.mean()) if aucs.size else float("nan"),
            roc_auc_std=float(aucs.std()) if aucs.size else float("nan"),
            brier=float(a[:, 1].mean()),
            accuracy=float(a[:, 2].mean()),
            baseline_accuracy=float(a[:, 3].mean()),
            baseline_brier=float(a[:, 4].mean()),
            folds=folds,
            repeats=repeats,
        )


@dataclass
class Nested:
    """What nested cross-validation found, before it becomes records."""

    procedure: Scores
    candidates: dict[str, Scores]
    # Each candidate's (ROC AUC, Brier) on each outer fold of the first repeat.
    first_repeat: dict[str, list[tuple[float, float]]]
    inner: dict[str, float]
    selected: dict[str, int]
    baseline: Scores
    # Per project: the mean out-of-fold probability of the procedure.
    oof: Array
    splits: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]  # the first repeat's


@dataclass
class OuterFold:
    """One outer fold's fits: the inner choice, and every candidate's held-out probabilities."""

    chosen: str
    means: dict[str, float]
    p: dict[str, Array]
    baseline: Array | None


def outer_fold(
    x: Array,
    y: Labels,
    names: Sequence[str],
    specs: Sequence[Spec],
    seed: int,
    number: int,
    train: npt.NDArray[np.intp],
    test: npt.NDArray[np.intp],
) -> OuterFold:
    """Everything one outer fold fits; pure and seeded, so folds may run in any process
    (`in_parallel` runs it under `fitting()`)."""
    chosen, means = select(x[train], y[train], names, specs, seed + number)
    p = {
        spec.name: proba(fit(spec, x[train], y[train], names, seed), spec, x[test], names)
        for spec in specs
    }
    base_cols = baseline_columns(names)
    plain = None
    if base_cols:
        model = baseline_lr().fit(x[train][:, base_cols], y[train])
        plain = np.asarray(model.predict_proba(x[test][:, base_cols])[:, 1], dtype=np.float64)
    return OuterFold(chosen.name, means, p, plain)


Split = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]


def outer_splits(job: TrainingJob) -> list[Split]:
    """The outer folds of every repeat, in order (seeded: the same every time)."""
    splitter = RepeatedStratifiedKFold(
        n_splits=job.folds, n_repeats=job.repeats, random_state=job.seed % (2**32)
    )
    return list(splitter.split(job.training_set.x, job.training_set.y))


def fold_calls(job: TrainingJob, specs: Sequence[Spec], splits: Sequence[Split]) -> list[Call]:
    """One `outer_fold` call per split, numbered from 1 (what seeds its inner choice)."""
    x, y, names = job.training_set.x, job.training_set.y, job.training_set.feature_names
    return [
        (outer_fold, (x, y, names, specs, job.seed, n, train, test))
        for n, (train, test) in enumerate(splits, 1)
    ]


# long: one loop over the outer folds, every score of a fold taken in the same pass
def nested_cv(
    job: TrainingJob,
    specs: Sequence[Spec],
    splits: Sequence[Split],
    found: Iterable[OuterFold],
    progress: Report,
    span: tuple[float, float],
) -> Nested:
    """Outer folds scoring the procedure (inner choice), each candidate, and the baseline.

    `found` holds the outer folds' fits (`outer_fold` of each of `fold_calls`),
    one per split in split order. They may be fitted by several processes
    (`outer_fold` is seeded by the fold's number, never by the process that
    runs it): taken in fold order, the scores are the same however many run
    at once.
    """
    y = job.training_set.y
    folds, repeats = job.folds, job.repeats
    procedure = FoldScores([])
    per_spec = {s.name: FoldScores([]) for s in specs}
    baseline = FoldScores([])
    inner = dict.fromkeys(per_spec, 0.0)
    selected = dict.fromkeys(per_spec, 0)
    oof_sum, oof_n = np.zeros(len(y)), np.zeros(len(y))
    for number, ((train, test), fold) in enumerate(zip(splits, found, strict=True), start=1):
        rate = float(y[train].mean())
        selected[fold.chosen] += 1
        for spec in specs:
            inner[spec.name] += fold.means[spec.name] / len(splits)
            p = fold.p[spec.name]
            per_spec[spec.name].add(y[test], p, rate)
            if spec.name == fold.chosen:
                procedure.add(y[test], p, rate)
                oof_sum[test] += p
                oof_n[test] += 1
        if fold.baseline is not None:
            baseline.add(y[test], fold.baseline, rate)
        progress(
            "cross_validation",
            span[0] + (span[1] - span[0]) * number / len(splits),
            f"outer fold {number}/{len(splits)} (inner choice: {fold.chosen})",
        )
    return Nested(
        procedure=procedure.scores(folds, repeats),
        candidates={k: v.scores(folds, repeats) for k, v in per_spec.items()},
        first_repeat={k: [(r[0], r[1]) for r in v.rows[:folds]] for k, v in per_spec.items()},
        inner=inner,
        selected=selected,
        baseline=baseline.scores(folds, repeats),
        oof=oof_sum / np.maximum(oof_n, 1),
        splits=list(splits[:folds]),
    )


def interval(y: Labels, p: Array, seed: int) -> tuple[float, float]:
    """A 95% percentile bootstrap interval of the out-of-fold ROC AUC (projects resampled)."""
    rng = np.random.default_rng(seed % (2**32))
    n = len(y)
    values = []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, n, n)
        value = auc(y[pick], p[pick])
        if not np.isnan(value):
            values.append(value)
    if not values:
        return float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def enough(y: Labels) -> bool:
    """Enough of each outcome to fit a calibrated candidate (calibration folds included)."""
    positives = int(y.sum())
    return min(positives, len(y) - positives) >= MIN_CLASS_TO_FIT
