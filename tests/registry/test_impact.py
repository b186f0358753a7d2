"""The impact score: the documented formula, checked by hand and by its properties."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro_grpc.registry.impact import UsageSignal, impact_score, project_factor
from maestro_grpc.registry.model import UsageOutcome

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def squash(s: float) -> float:
    return 100 * (1 - math.exp(-max(s, 0) / 5))


def test_no_usage_scores_zero() -> None:
    assert impact_score([], NOW, 180) == 0.0


@pytest.mark.parametrize(
    ("outcome", "succeeded", "score", "age_days", "expected_sum"),
    [
        (UsageOutcome.HELPFUL, None, None, 0, 1.0),
        (UsageOutcome.HELPFUL, True, None, 0, 1.5),
        (UsageOutcome.HELPFUL, False, None, 0, 0.5),
        (UsageOutcome.HELPFUL, True, 0.9, 0, 1.4),
        (UsageOutcome.NEUTRAL, None, None, 0, 0.25),
        (UsageOutcome.UNKNOWN, None, None, 0, 0.1),
        (UsageOutcome.HELPFUL, None, None, 180, 0.5),  # one half-life
        (UsageOutcome.HELPFUL, None, None, 360, 0.25),
        (UsageOutcome.HARMFUL, None, None, 0, -1.0),
    ],
)
def test_hand_worked_values(
    outcome: UsageOutcome,
    succeeded: bool | None,
    score: float | None,
    age_days: int,
    expected_sum: float,
) -> None:
    usage = UsageSignal(outcome, NOW - timedelta(days=age_days), succeeded, score)
    assert impact_score([usage], NOW, 180) == pytest.approx(squash(expected_sum))


def test_harmful_cancels_helpful() -> None:
    usages = [
        UsageSignal(UsageOutcome.HELPFUL, NOW),
        UsageSignal(UsageOutcome.HARMFUL, NOW),
    ]
    assert impact_score(usages, NOW, 180) == 0.0


def test_future_usage_does_not_grow() -> None:
    assert impact_score([UsageSignal(UsageOutcome.HELPFUL, NOW + timedelta(days=3))], NOW, 180) == (
        pytest.approx(squash(1.0))
    )


def test_project_factor() -> None:
    assert project_factor(None, None) == 1.0
    assert project_factor(True, None) == 1.5
    assert project_factor(False, None) == 0.5
    assert project_factor(False, 0.2) == pytest.approx(0.7)


outcomes = st.sampled_from(list(UsageOutcome))
signals = st.builds(
    UsageSignal,
    outcome=outcomes,
    use_time=st.integers(min_value=0, max_value=3650).map(lambda d: NOW - timedelta(days=d)),
    project_succeeded=st.one_of(st.none(), st.booleans()),
    project_score=st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
)


@given(st.lists(signals, max_size=50))
def test_always_between_0_and_100(usages: list[UsageSignal]) -> None:
    assert 0.0 <= impact_score(usages, NOW, 180) < 100.0


@given(st.lists(signals, max_size=20), signals)
def test_a_helpful_usage_never_lowers_the_score(
    usages: list[UsageSignal], extra: UsageSignal
) -> None:
    helpful = UsageSignal(
        UsageOutcome.HELPFUL, extra.use_time, extra.project_succeeded, extra.project_score
    )
    assert impact_score([*usages, helpful], NOW, 180) >= impact_score(usages, NOW, 180)


@given(st.lists(signals, min_size=1, max_size=20))
def test_scores_decay_with_time(usages: list[UsageSignal]) -> None:
    later = NOW + timedelta(days=90)
    positive = [u for u in usages if u.outcome is not UsageOutcome.HARMFUL]
    assert impact_score(positive, later, 180) <= impact_score(positive, NOW, 180) + 1e-9
