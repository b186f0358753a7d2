"""Simulated experiments: a planted effect is found, null experiments flag at most at alpha,
and sequential analysis stays at most at alpha when peeked at ten times (fixed-horizon does not).

Seeded, so each run sees the same draws; the bounds leave room for the
simulation's own noise only where the method's rate sits at alpha.
"""

from __future__ import annotations

import numpy as np

from maestro_grpc.prediction.domain import stats
from maestro_grpc.prediction.domain.stats import Arm, Moments

ALPHA = 0.05


def arm(x: np.ndarray) -> Arm:
    return stats.mean_arm(Moments(len(x), float(x.sum()), float((x * x).sum())))


def p_value(a: np.ndarray, b: np.ndarray, tuning: float | None = None) -> float:
    return stats.compare(arm(a), arm(b), relative=False, alpha=ALPHA, tuning=tuning).p_value


def test_a_planted_effect_is_found() -> None:
    rng = np.random.default_rng(1)
    found = 0
    for _ in range(300):
        control = rng.normal(10, 2, 150)
        treatment = rng.normal(11, 2, 150)  # d = 0.5: power ~0.99 at 150 per arm
        effect = stats.compare(arm(control), arm(treatment), relative=True, alpha=ALPHA)
        found += effect.p_value < ALPHA and effect.ci_low > 0
    assert found / 300 >= 0.95


def test_null_experiments_flag_at_most_at_alpha() -> None:
    rng = np.random.default_rng(2)
    runs = 4000
    flagged = sum(p_value(rng.normal(5, 1, 80), rng.normal(5, 1, 80)) < ALPHA for _ in range(runs))
    proportions = 0
    for _ in range(runs):
        a, b = rng.binomial(1, 0.3, 200).astype(float), rng.binomial(1, 0.3, 200).astype(float)
        pa = stats.mean_arm(Moments(200, float(a.sum()), float(a.sum()), binary=True))
        pb = stats.mean_arm(Moments(200, float(b.sum()), float(b.sum()), binary=True))
        proportions += stats.compare(pa, pb, relative=False, alpha=ALPHA).p_value < ALPHA
    # alpha plus two standard errors of the simulated rate (sqrt(.05 * .95 / 4000) = .0034).
    assert flagged / runs <= ALPHA + 0.007
    assert proportions / runs <= ALPHA + 0.007


def test_sequential_analysis_survives_ten_peeks_where_fixed_horizon_does_not() -> None:
    rng = np.random.default_rng(3)
    runs, peeks, step = 1000, 10, 40
    fixed = sequential = 0
    for _ in range(runs):
        a = rng.normal(0, 1, peeks * step)
        b = rng.normal(0, 1, peeks * step)
        looks = [(a[: k * step], b[: k * step]) for k in range(1, peeks + 1)]
        fixed += any(p_value(x, y) < ALPHA for x, y in looks)
        sequential += any(p_value(x, y, tuning=float(2 * peeks * step)) < ALPHA for x, y in looks)
    assert sequential / runs <= ALPHA
    # Peeking inflates the fixed-horizon test's false-positive rate well past alpha.
    assert fixed / runs > 2 * ALPHA
