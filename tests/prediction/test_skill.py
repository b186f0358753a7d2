"""The no-skill rule, case by case: a version's stored verdict is read, an older version's
scores are judged (the RPC tests show both end to end, in test_reliance.py)."""

from __future__ import annotations

from typing import Any

import pytest

from maestro_grpc.prediction.domain.skill import judge

CV = {"folds": 5, "repeats": 5, "baseline_brier": 0.25}
GOOD = {"cv_scores": {**CV, "roc_auc": 0.80, "roc_auc_std": 0.01, "brier": 0.1}}


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
        # A stored interval is taken as it is.
        ({**GOOD, "validation": {"roc_auc_low": 0.45, "roc_auc_high": 0.9}}, False),
        # Scores that did not exist are stored as null: no skill shown.
        ({"cv_scores": {**CV, "roc_auc": None, "roc_auc_std": None, "brier": 0.2}}, False),
        ({}, False),
    ],
)
def test_a_version_stored_before_verdicts_is_judged_from_its_scores(
    details: dict[str, Any], has_skill: bool
) -> None:
    skill = judge(False, "", details)
    assert skill.has_skill is has_skill
    if has_skill:
        assert skill.reason.startswith("ranked by the meta-model")
    else:
        assert "no skill" in skill.reason or "no cross-validated scores" in skill.reason
    if details:
        assert "ROC AUC" in skill.reason
        assert "judged from these scores, as the version was stored before verdicts" in (
            skill.reason
        )


@pytest.mark.parametrize(
    ("no_skill", "details"),
    [
        # The stored verdict decides, whatever the scores would say.
        (True, GOOD),
        (False, {"cv_scores": {**CV, "roc_auc": 0.47, "roc_auc_std": 0.08, "brier": 0.26}}),
        (True, {**GOOD, "validation": {"roc_auc_low": 0.7, "roc_auc_high": 0.9}}),
        (False, {}),
    ],
)
def test_a_stored_verdict_is_read_not_re_derived(no_skill: bool, details: dict[str, Any]) -> None:
    skill = judge(no_skill, "No skill: ..." if no_skill else "Skill: ...", details)
    assert skill.has_skill is not no_skill
    assert "its stored verdict)" in skill.reason
    assert ("no skill" in skill.reason) is no_skill
