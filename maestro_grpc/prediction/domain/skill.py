"""Has a meta-model version shown skill? Read from what the version stored.

A version has skill when its cross-validated ROC AUC interval lies above
0.5 and its Brier score beats the majority baseline's. The interval is the
stored one when the version holds one (`details["validation"]`), else the
corrected resampled interval of Nadeau and Bengio (2003) over the folds:
mean +/- 1.96 x std x sqrt(1 / (k r) + 1 / (k - 1)) for k folds and r
repeats (fold scores of repeated cross-validation are correlated, so the
plain std / sqrt(k r) would be too narrow).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Z95 = 1.96


@dataclass(frozen=True)
class Skill:
    has_skill: bool
    reason: str


def judge(details: Mapping[str, Any]) -> Skill:
    """The version's skill, from its stored details (cv_scores, and validation if any)."""
    cv = details.get("cv_scores") or {}
    if "roc_auc" not in cv or "brier" not in cv:
        return Skill(False, "the model version holds no cross-validated scores")
    auc, brier = float(cv["roc_auc"]), float(cv["brier"])
    baseline = float(cv.get("baseline_brier", math.inf))
    validation = details.get("validation") or {}
    if "roc_auc_low" in validation:
        low, high = float(validation["roc_auc_low"]), float(validation["roc_auc_high"])
    else:
        k, r = max(int(cv.get("folds", 2)), 2), max(int(cv.get("repeats", 1)), 1)
        half = Z95 * float(cv.get("roc_auc_std", 0.0)) * math.sqrt(1 / (k * r) + 1 / (k - 1))
        low, high = auc - half, auc + half
    figures = (
        f"cross-validated ROC AUC {auc:.2f} (95% interval {low:.2f}-{high:.2f}), "
        f"Brier {brier:.3f} against the majority baseline's {baseline:.3f}"
    )
    if validation.get("no_skill") or low <= 0.5 or brier >= baseline:
        return Skill(
            False,
            f"the meta-model shows no skill ({figures}): its probabilities are shown but "
            "teams are ranked by skill coverage and experience",
        )
    return Skill(True, f"ranked by the meta-model's predicted success ({figures})")
