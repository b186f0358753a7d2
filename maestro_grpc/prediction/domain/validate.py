"""Beside the nested score: a time-ordered hold-out, a learning curve, and the no-skill verdict.

- Time order: a user predicts projects that start after the ones the model
  learned from. The projects are sorted by start; the procedure (inner
  choice included) learns from the first 75% and scores the rest.
- Learning curve: the kept candidate, fitted on 25/50/75/100% of each outer
  training fold of the first repeat (a seeded random subset) and scored on
  the whole held-out fold, so a small organisation sees whether more data
  would help. A point whose subset has fewer than 6 projects of an outcome is
  left out (too few to fit and calibrate).
- Verdict: a model has no skill when the 95% bootstrap interval of its
  outer-fold ROC AUC does not clear 0.5, or when its outer-fold Brier score
  does not beat always predicting the training folds' success rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from maestro_grpc.prediction.domain.nested import (
    CURVE,
    TEMPORAL_SHARE,
    Array,
    Labels,
    Nested,
    Spec,
    Split,
    auc,
    enough,
    fit,
    proba,
    select,
)
from maestro_grpc.prediction.model import CurvePoint, Scores, TemporalScores


def temporal(
    x: Array,
    y: Labels,
    names: Sequence[str],
    starts: Sequence[float],
    specs: Sequence[Spec],
    seed: int,
) -> TemporalScores | None:
    """Learn from the earliest 75% of projects by start, score the later 25%."""
    if len(starts) != len(y):
        return None
    order = np.argsort(np.asarray(starts, dtype=np.float64), kind="stable")
    cut = math.floor(len(y) * TEMPORAL_SHARE)
    train, test = order[:cut], order[cut:]
    cut_time = float(starts[int(test[0])]) if len(test) else 0.0
    if not enough(y[train]) or len(test) == 0:
        return TemporalScores(
            roc_auc=float("nan"),
            brier=float("nan"),
            baseline_brier=float("nan"),
            train_count=len(train),
            test_count=len(test),
            cut_time=cut_time,
            candidate="",
            note="too few projects of each outcome before the cut to learn from",
        )
    chosen, _ = select(x[train], y[train], names, specs, seed)
    p = proba(fit(chosen, x[train], y[train], names, seed), chosen, x[test], names)
    rate = float(y[train].mean())
    score = auc(y[test], p)
    return TemporalScores(
        roc_auc=score,
        brier=float(np.mean((p - y[test]) ** 2)),
        baseline_brier=float(np.mean((rate - y[test]) ** 2)),
        train_count=len(train),
        test_count=len(test),
        cut_time=cut_time,
        candidate=chosen.name,
        note="" if not math.isnan(score) else "the later projects all have the same outcome",
    )


# A learning curve's point before averaging: ROC AUCs, Brier scores and training sizes.
CurveFits = dict[float, tuple[list[float], list[float], list[int]]]


def curve_fits(
    x: Array, y: Labels, names: Sequence[str], spec: Spec, splits: Sequence[Split], seed: int
) -> CurveFits:
    """The kept candidate fitted on part of each outer training fold (`splits`: the
    first repeat's), scored on the whole held-out fold: every fraction but the whole."""
    rng = np.random.default_rng(seed % (2**32))
    orders = [rng.permutation(train) for train, _ in splits]
    out: CurveFits = {}
    for fraction in CURVE:
        if fraction == 1.0:
            continue
        aucs, briers, sizes = [], [], []
        for order, (_, test) in zip(orders, splits, strict=True):
            part = order[: max(round(len(order) * fraction), 1)]
            if not enough(y[part]):
                continue
            p = proba(fit(spec, x[part], y[part], names, seed), spec, x[test], names)
            aucs.append(auc(y[test], p))
            briers.append(float(np.mean((p - y[test]) ** 2)))
            sizes.append(len(part))
        out[fraction] = (aucs, briers, sizes)
    return out


def learning_curve(spec: Spec, nested: Nested, fits: CurveFits) -> list[CurvePoint]:
    """The kept candidate's outer-fold scores when it learns from part of each training
    fold (`fits`, from `curve_fits`); the whole fold's are the nested ones, already fitted."""
    out: list[CurvePoint] = []
    for fraction in CURVE:
        if fraction == 1.0:
            scored = nested.first_repeat[spec.name]
            aucs, briers = [a for a, _ in scored], [b for _, b in scored]
            sizes = [len(train) for train, _ in nested.splits]
        else:
            aucs, briers, sizes = fits[fraction]
        if aucs:
            out.append(
                CurvePoint(
                    fraction=fraction,
                    training_projects=float(np.mean(sizes)),
                    roc_auc=float(np.nanmean(aucs)) if not np.isnan(aucs).all() else math.nan,
                    brier=float(np.mean(briers)),
                )
            )
    return out


def verdict(scores: Scores, low: float, high: float, serves: bool = False) -> tuple[bool, str]:
    """(no_skill, the verdict in words); `serves`: asked to serve by default even without skill.

    The words say what the service does with a version without skill, as
    `versions.resolve` and `skill.judge` do it: PredictSuccess without a
    version skips it; RecommendTeam without one takes it only when no
    version serves, and whenever it uses it ranks teams without its
    predictions.
    """
    reasons = []
    if not low > 0.5:
        reasons.append(
            f"the 95% interval of its outer-fold ROC AUC ({low:.3f}-{high:.3f}) does not clear 0.5"
        )
    if not scores.brier < scores.baseline_brier:
        reasons.append(
            f"its Brier score {scores.brier:.4f} does not beat the baseline's "
            f"{scores.baseline_brier:.4f} (always predicting the success rate)"
        )
    if reasons:
        return True, "No skill: " + "; and ".join(reasons) + ". " + (SERVED if serves else STORED)
    return False, (
        f"Skill: outer-fold ROC AUC {scores.roc_auc:.3f} (95% interval {low:.3f}-{high:.3f}) "
        f"and Brier score {scores.brier:.4f} below the baseline's {scores.baseline_brier:.4f}."
    )


RANKED = (
    "RecommendTeam ranks teams by skill coverage and experience whenever it uses it, "
    "not by its predictions; every prediction from it carries this warning."
)
STORED = (
    "Stored, but not served by default: PredictSuccess uses it only when asked for by "
    "version; RecommendTeam uses it when asked for by version or when no version serves "
    "by default. " + RANKED
)
SERVED = (
    "Served by default all the same, as the training asked (serve_without_skill): "
    "PredictSuccess and RecommendTeam without a version use it while it is the newest "
    "version serving by default. " + RANKED
)
