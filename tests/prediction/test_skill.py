"""The no-skill rule on stored scores, case by case (the RPC tests show it end to end)."""

from __future__ import annotations

from typing import Any

import pytest

from maestro_grpc.prediction.domain.skill import judge

CV = {"folds": 5, "repeats": 5, "baseline_brier": 0.25}


@pytest.mark.parametrize(
    ("details", "has_skill"),
    [
        # AUC 0.80 +/- 1.96 x 0.05 x sqrt(1/25 + 1/4) = 0.053: clears 0.5; Brier beats 0.25.
        ({"cv_scores": {**CV, "roc_auc": 0.80, "roc_auc_std": 0.05, "brier": 0.18}}, True),
        # The case: CV AUC 0.47.
        ({"cv_scores": {**CV, "roc_auc": 0.47, "roc_auc_std": 0.08, "brier": 0.26}}, False),
        # A good AUC, but spread so wide that its corrected interval reaches 0.5.
        ({"cv_scores": {**CV, "roc_auc": 0.62, "roc_auc_std": 0.12, "brier": 0.2}}, False),
        # Ranks well, but its probabilities are worse than the base rate's.
        ({"cv_scores": {**CV, "roc_auc": 0.80, "roc_auc_std": 0.02, "brier": 0.26}}, False),
        # A stored interval (and verdict) is taken as it is.
        (
            {
                "cv_scores": {**CV, "roc_auc": 0.80, "roc_auc_std": 0.01, "brier": 0.1},
                "validation": {"roc_auc_low": 0.45, "roc_auc_high": 0.9},
            },
            False,
        ),
        (
            {
                "cv_scores": {**CV, "roc_auc": 0.80, "roc_auc_std": 0.01, "brier": 0.1},
                "validation": {"roc_auc_low": 0.7, "roc_auc_high": 0.9, "no_skill": True},
            },
            False,
        ),
        ({}, False),
    ],
)
def test_skill_is_judged_from_what_the_version_stored(
    details: dict[str, Any], has_skill: bool
) -> None:
    skill = judge(details)
    assert skill.has_skill is has_skill
    if has_skill:
        assert skill.reason.startswith("ranked by the meta-model")
    elif details:
        assert "no skill" in skill.reason
        assert "ROC AUC" in skill.reason
