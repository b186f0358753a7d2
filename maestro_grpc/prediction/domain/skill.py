"""Has a meta-model version shown skill? Its stored verdict says; older versions are judged.

A version trained since migration 0013 holds its verdict (`validate.verdict`:
the 95% bootstrap interval of its outer-fold ROC AUC above 0.5 and its
Brier score below the majority baseline's), which the loaded model carries
(`LoadedModel.no_skill`, `LoadedModel.verdict`): that is read, never
re-derived. A version stored before has no verdict, so the same rule is
applied to its stored cross-validated scores, with the corrected resampled
interval of Nadeau and Bengio (2003) over the folds: mean +/- 1.96 x std x
sqrt(1 / (k r) + 1 / (k - 1)) for k folds and r repeats (fold scores of
repeated cross-validation are correlated, so the plain std / sqrt(k r)
would be too narrow).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Z95 = 1.96
UNTRUSTED = "teams are ranked by skill coverage and experience"


@dataclass(frozen=True)
class Skill:
    has_skill: bool
    reason: str


def judge(no_skill: bool, verdict: str, details: Mapping[str, Any]) -> Skill:
    """The version's skill: its stored verdict (`no_skill`, `verdict`), else judged from
    its stored cross-validated scores (`details`, a version stored before verdicts were)."""
    cv = details.get("cv_scores") or {}
    if verdict:
        return _said(not no_skill, _figures(cv, details) + "; its stored verdict")
    if "roc_auc" not in cv or "brier" not in cv:
        return Skill(False, "the model version holds no cross-validated scores")
    low, _ = _interval(cv, details)
    has = low > 0.5 and _num(cv["brier"]) < _num(cv.get("baseline_brier", math.inf))
    return _said(
        has,
        _figures(cv, details) + "; judged from these scores, as the version was stored "
        "before verdicts were",
    )


def _num(value: Any) -> float:
    """A stored figure (None: a score that did not exist, stored as null)."""
    return math.nan if value is None else float(value)


def _said(has_skill: bool, figures: str) -> Skill:
    if has_skill:
        return Skill(True, f"ranked by the meta-model's predicted success ({figures})")
    return Skill(
        False,
        f"the meta-model shows no skill ({figures}): its probabilities are shown but {UNTRUSTED}",
    )


def _interval(cv: Mapping[str, Any], details: Mapping[str, Any]) -> tuple[float, float]:
    """The stored bootstrap interval when there is one, else the corrected resampled one."""
    validation = details.get("validation") or {}
    if validation.get("roc_auc_low") is not None and validation.get("roc_auc_high") is not None:
        return _num(validation["roc_auc_low"]), _num(validation["roc_auc_high"])
    auc = _num(cv.get("roc_auc"))
    k, r = max(int(cv.get("folds", 2)), 2), max(int(cv.get("repeats", 1)), 1)
    half = Z95 * _num(cv.get("roc_auc_std", 0.0)) * math.sqrt(1 / (k * r) + 1 / (k - 1))
    return auc - half, auc + half


def _figures(cv: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    if "roc_auc" not in cv or "brier" not in cv:
        return "no cross-validated scores stored"
    low, high = _interval(cv, details)
    baseline = _num(cv.get("baseline_brier", math.inf))
    return (
        f"cross-validated ROC AUC {_num(cv['roc_auc']):.2f} (95% interval {low:.2f}-{high:.2f}), "
        f"Brier {_num(cv['brier']):.3f} against the majority baseline's {baseline:.3f}"
    )
