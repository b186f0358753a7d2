"""The training set (one row per project) and the checks it must pass before fitting.

Sent to a worker process with the job (see `runner.py`): plain, picklable,
numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from maestro_grpc.prediction.model import LeftOutReason, TrackingTarget, TrainingSetReport

MIN_PROJECTS = 20
MIN_PER_CLASS = 6


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
    # Each project's start, seconds since the epoch (the time-ordered hold-out).
    start_times: list[float] = field(default_factory=list)

    @property
    def positives(self) -> int:
        return int(self.y.sum())

    @property
    def negatives(self) -> int:
        return int(len(self.y) - self.y.sum())


@dataclass
class TrainingJob:
    job_id: str
    training_set: TrainingSet
    folds: int = 5
    repeats: int = 5
    seed: int = 0
    tracking: TrackingTarget | None = None
    # Serve the new version by default even without skill (its verdict says which).
    serve_without_skill: bool = False
    # Processes fitting the outer folds at once (1: the training worker alone).
    jobs: int = 1


def _left_out(report: TrainingSetReport | None) -> str:
    if report is None:
        return ""
    with_outcome = [
        (r, len(ids)) for r, ids in report.left_out.items() if r is not LeftOutReason.NO_OUTCOME
    ]
    total = sum(n for _, n in with_outcome)
    text = f", and {total} more projects with an outcome were left out"
    if with_outcome:
        text += " (" + ", ".join(f"{r.value}: {n}" for r, n in with_outcome) + ")"
    without = report.count(LeftOutReason.NO_OUTCOME)
    if without:
        text += f"; {without} considered projects have no outcome"
    return text


def check_counts(
    n: int, positives: int, folds: int, report: TrainingSetReport | None = None
) -> None:
    """Refuse too few projects, or too few of either outcome, to cross-validate."""
    need_class = max(MIN_PER_CLASS, folds)
    negatives = n - positives
    if n < MIN_PROJECTS or positives < need_class or negatives < need_class:
        raise TrainingError(
            f"training needs at least {MIN_PROJECTS} eligible projects with at least "
            f"{need_class} of each outcome (cv_folds={folds}); found {n} "
            f"({positives} succeeded, {negatives} failed){_left_out(report)}"
        )


def check_trainable(ts: TrainingSet, folds: int, report: TrainingSetReport | None = None) -> None:
    """Refuse data too small, too one-sided or too uniform to train on."""
    check_counts(len(ts.y), ts.positives, folds, report)
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
