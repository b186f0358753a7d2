"""The experiment statistics against GrowthBook's engine (gbstats): its published cases, and
randomised data compared to 1e-6 (means, proportions, ratios, CUPED, sequential, Bayesian, SRM)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from gbstats.bayesian.tests import (  # type: ignore
    EffectBayesianABTest,
    EffectBayesianConfig,
    GaussianPrior,
)
from gbstats.frequentist.tests import (  # type: ignore
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (  # type: ignore
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
from gbstats.utils import check_srm  # type: ignore

from maestro_grpc.prediction.domain import bayes, stats
from maestro_grpc.prediction.domain.stats import Arm, Effect, Moments, Paired

TOL = 1e-6


def mean_arm(n: int, total: float, total_sq: float) -> Arm:
    return stats.mean_arm(Moments(n, total, total_sq))


def prop_arm(n: int, total: float) -> Arm:
    return stats.mean_arm(Moments(n, total, total, binary=True))


def ours(
    a: Arm, b: Arm, relative: bool, alpha: float = 0.05, tuning: float | None = None
) -> Effect:
    assert not stats.why_invalid(a, b)
    return stats.compare(a, b, relative=relative, alpha=alpha, tuning=tuning)


def theirs(a: Any, b: Any, relative: bool, alpha: float = 0.05, tuning: float | None = None) -> Any:
    kind = "relative" if relative else "absolute"
    if tuning is None:
        return TwoSidedTTest(a, b, FrequentistConfig(alpha=alpha, difference_type=kind))
    config = SequentialConfig(alpha=alpha, difference_type=kind, sequential_tuning_parameter=tuning)
    return SequentialTwoSidedTTest(a, b, config)


def agree(mine: Effect, test: Any) -> None:
    result = test.compute_result()
    assert result.error_message is None
    assert mine.estimate == pytest.approx(result.expected, abs=TOL, rel=TOL)
    assert mine.ci_low == pytest.approx(result.ci[0], abs=TOL, rel=TOL)
    assert mine.ci_high == pytest.approx(result.ci[1], abs=TOL, rel=TOL)
    assert mine.p_value == pytest.approx(result.p_value, abs=TOL)
    assert mine.stderr == pytest.approx(result.uplift.stddev, abs=TOL, rel=TOL)


# ---- gbstats' own published cases (packages/stats/tests, to the 5 digits they print) -----

A = (3407, 1396.87, 52377.9767)
B = (3461, 2422.7, 134698.29)


def test_published_two_sided_ttest_relative_and_absolute() -> None:
    rel = ours(mean_arm(*A), mean_arm(*B), relative=True)
    assert (round(rel.estimate, 5), round(rel.ci_low, 5), round(rel.ci_high, 5)) == (
        0.70732,
        -0.03526,
        1.44989,
    )
    assert round(rel.p_value, 5) == 0.06191
    assert round(rel.stderr, 5) == 0.37879
    absolute = ours(mean_arm(*A), mean_arm(*B), relative=False)
    assert round(absolute.estimate, 5) == round(0.7 - 0.41, 5)
    assert (round(absolute.ci_low, 5), round(absolute.ci_high, 5)) == (0.04538, 0.53462)
    assert round(absolute.p_value, 5) == 0.02016


def test_published_binomial_ttest() -> None:
    rel = ours(prop_arm(28, 14), prop_arm(30, 16), relative=True)
    assert (round(rel.ci_low, 5), round(rel.ci_high, 5)) == (-0.47767, 0.61101)
    assert round(rel.p_value, 5) == 0.80707
    assert round(rel.stderr, 5) == 0.2717


def test_published_sequential_cases() -> None:
    means = ours(mean_arm(3000, 1396.87, 52377.9767), mean_arm(*B), relative=True, tuning=1000)
    assert (round(means.estimate, 5), round(means.ci_low, 5), round(means.ci_high, 5)) == (
        0.50336,
        -0.55844,
        1.56516,
    )
    assert means.p_value == 1
    props = ours(prop_arm(3000, 1396), prop_arm(3461, 2422), relative=True, tuning=5000)
    assert (round(props.ci_low, 5), round(props.ci_high, 5)) == (0.40098, 0.60675)
    assert round(props.p_value, 5) == 0.0


def test_published_sequential_cuped_case() -> None:
    control = Paired(Moments(3000, 1396.87, 52377.9767), Moments(3000, 16.87, 527.9767), 1)
    treatment = Paired(Moments(*B), Moments(3461, 22.7, 1348.29), 1)
    done = stats.cuped(control, treatment)
    rel = ours(done.control, done.treatment, relative=True, tuning=5000)
    assert (round(rel.estimate, 5), round(rel.ci_low, 5), round(rel.ci_high, 5)) == (
        0.50338,
        -0.50969,
        1.51646,
    )
    assert round(rel.stderr, 5) == 0.33341
    assert rel.p_value == 1


def test_published_bayesian_cases() -> None:
    a, b = prop_arm(100, 49), prop_arm(100, 51)
    rel = ours(a, b, relative=True)
    post = bayes.posterior(rel.estimate, rel.stderr**2, alpha=0.05, lower_is_better=False)
    assert round(post.mean, 5) == 0.04082
    assert (round(post.ci_low, 5), round(post.ci_high, 5)) == (-0.24779, 0.32943)
    assert round(post.chance_to_beat_control, 5) == 0.60918
    assert (round(post.control_loss, 5), round(post.expected_loss, 5)) == (0.0814, 0.04058)
    a, b = mean_arm(10, 100, 1002.25), mean_arm(10, 105, 1111.5)
    rel = ours(a, b, relative=True)
    post = bayes.posterior(rel.estimate, rel.stderr**2, alpha=0.05, lower_is_better=False)
    assert round(post.mean, 5) == 0.05
    assert (round(post.ci_low, 5), round(post.ci_high, 5)) == (-0.02, 0.12)
    assert round(post.chance_to_beat_control, 5) == 0.91923
    assert (round(post.control_loss, 5), round(post.expected_loss, 5)) == (0.05131, 0.00131)


# ---- randomised data against the installed engine ------------------------------------------

SEEDS = range(12)


def sample(rng: np.random.Generator, n: int, loc: float, scale: float) -> np.ndarray:
    return rng.normal(loc, scale, n)


def moments(x: np.ndarray) -> tuple[int, float, float]:
    return len(x), float(x.sum()), float((x * x).sum())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("relative", [False, True])
@pytest.mark.parametrize("tuning", [None, 5000.0, 200.0])
def test_means_agree(seed: int, relative: bool, tuning: float | None) -> None:
    rng = np.random.default_rng(seed)
    a = sample(rng, int(rng.integers(5, 400)), 10, 3)
    b = sample(rng, int(rng.integers(5, 400)), 10 + rng.normal(0, 1), 3 + rng.random())
    alpha = float(rng.choice([0.05, 0.1, 0.01]))
    mine = ours(mean_arm(*moments(a)), mean_arm(*moments(b)), relative, alpha, tuning)
    ga = SampleMeanStatistic(*moments(a))
    gb = SampleMeanStatistic(*moments(b))
    agree(mine, theirs(ga, gb, relative, alpha, tuning))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("relative", [False, True])
@pytest.mark.parametrize("tuning", [None, 5000.0])
def test_proportions_agree(seed: int, relative: bool, tuning: float | None) -> None:
    rng = np.random.default_rng(100 + seed)
    na, nb = int(rng.integers(20, 3000)), int(rng.integers(20, 3000))
    sa = int(rng.binomial(na, 0.3))
    sb = int(rng.binomial(nb, 0.3 + rng.normal(0, 0.05)))
    mine = ours(prop_arm(na, sa), prop_arm(nb, sb), relative, tuning=tuning)
    agree(
        mine,
        theirs(
            ProportionStatistic(n=na, sum=sa),
            ProportionStatistic(n=nb, sum=sb),
            relative,
            tuning=tuning,
        ),
    )


def ratio_data(rng: np.random.Generator, n: int) -> tuple[Arm, Any]:
    den = rng.poisson(5, n).astype(float) + 1
    num = den * rng.normal(2, 0.5, n)
    arm = stats.ratio_arm(Moments(*moments(num)), Moments(*moments(den)), float((num * den).sum()))
    theirs_ = RatioStatistic(
        n=n,
        m_statistic=SampleMeanStatistic(*moments(num)),
        d_statistic=SampleMeanStatistic(*moments(den)),
        m_d_sum_of_products=float((num * den).sum()),
    )
    return arm, theirs_


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("relative", [False, True])
def test_ratios_agree(seed: int, relative: bool) -> None:
    rng = np.random.default_rng(200 + seed)
    a, ga = ratio_data(rng, int(rng.integers(5, 500)))
    b, gb = ratio_data(rng, int(rng.integers(5, 500)))
    assert a.mean == pytest.approx(ga.mean, rel=1e-12)
    assert a.variance == pytest.approx(ga.variance, rel=1e-9)
    agree(ours(a, b, relative), theirs(ga, gb, relative))


def paired(rng: np.random.Generator, n: int, shift: float, binary: bool) -> tuple[Paired, Any]:
    pre = rng.normal(5, 2, n)
    post = 0.8 * pre + rng.normal(shift, 1, n)
    if binary:
        pre, post = (pre > 5).astype(float), (post > 4 + shift).astype(float)
    p = Paired(
        Moments(*moments(post), binary=binary),
        Moments(*moments(pre), binary=binary),
        float((post * pre).sum()),
    )

    def make(x: np.ndarray) -> Any:
        if binary:
            return ProportionStatistic(n=len(x), sum=float(x.sum()))
        return SampleMeanStatistic(*moments(x))

    g = RegressionAdjustedStatistic(
        n=n,
        post_statistic=make(post),
        pre_statistic=make(pre),
        post_pre_sum_of_products=float((post * pre).sum()),
        theta=0,
    )
    return p, g


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("relative", [False, True])
@pytest.mark.parametrize("binary", [False, True])
def test_cuped_agrees(seed: int, relative: bool, binary: bool) -> None:
    rng = np.random.default_rng(300 + seed)
    a, ga = paired(rng, int(rng.integers(20, 600)), 1.0, binary)
    b, gb = paired(rng, int(rng.integers(20, 600)), 1.0 + rng.normal(0, 0.3), binary)
    done = stats.cuped(a, b)
    test = theirs(ga, gb, relative)
    assert done.theta == pytest.approx(test.stat_a.theta, rel=1e-9)
    agree(ours(done.control, done.treatment, relative), test)
    if not binary:
        # The pre-period explains much of the post-period here.
        assert done.variance_reduction > 0.3


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("lower_is_better", [False, True])
@pytest.mark.parametrize("relative", [False, True])
def test_bayesian_agrees(seed: int, lower_is_better: bool, relative: bool) -> None:
    rng = np.random.default_rng(400 + seed)
    a = sample(rng, int(rng.integers(5, 400)), 10, 3)
    b = sample(rng, int(rng.integers(5, 400)), 10 + rng.normal(0, 0.5), 3)
    effect = ours(mean_arm(*moments(a)), mean_arm(*moments(b)), relative)
    post = bayes.posterior(
        effect.estimate, effect.stderr**2, alpha=0.05, lower_is_better=lower_is_better
    )
    config = EffectBayesianConfig(
        inverse=lower_is_better, difference_type="relative" if relative else "absolute"
    )
    result = EffectBayesianABTest(
        SampleMeanStatistic(*moments(a)), SampleMeanStatistic(*moments(b)), config
    ).compute_result()
    assert post.chance_to_beat_control == pytest.approx(result.chance_to_win, abs=TOL)
    assert post.control_loss == pytest.approx(result.risk[0], abs=TOL)
    assert post.expected_loss == pytest.approx(result.risk[1], abs=TOL)
    assert post.ci_low == pytest.approx(result.ci[0], abs=TOL, rel=TOL)
    assert post.ci_high == pytest.approx(result.ci[1], abs=TOL, rel=TOL)


def test_bayesian_with_a_proper_prior_blends_by_precision() -> None:
    post = bayes.posterior(
        0.1, 0.01, alpha=0.05, lower_is_better=False, prior=bayes.Prior(0.0, 0.01)
    )
    assert post.mean == pytest.approx(0.05)
    assert post.stddev == pytest.approx(math.sqrt(0.005))


def test_published_informative_prior_case() -> None:
    rel = ours(mean_arm(10, 100, 1002.25), mean_arm(10, 105, 1111.5), relative=True)
    post = bayes.posterior(
        rel.estimate,
        rel.stderr**2,
        alpha=0.05,
        lower_is_better=False,
        prior=bayes.Prior(0.1, 0.1),
    )
    assert round(post.mean, 5) == 0.05063
    assert (round(post.ci_low, 5), round(post.ci_high, 5)) == (-0.01893, 0.12019)
    assert round(post.stddev, 5) == 0.03549
    assert round(post.chance_to_beat_control, 5) == 0.92315
    assert (round(post.control_loss, 5), round(post.expected_loss, 5)) == (0.05186, 0.00123)


@pytest.mark.parametrize("seed", SEEDS)
def test_informative_priors_agree(seed: int) -> None:
    rng = np.random.default_rng(600 + seed)
    a = sample(rng, int(rng.integers(5, 300)), 10, 3)
    b = sample(rng, int(rng.integers(5, 300)), 10 + rng.normal(0, 0.5), 3)
    mean, variance = float(rng.normal(0, 0.05)), float(rng.random() * 0.01 + 1e-4)
    effect = ours(mean_arm(*moments(a)), mean_arm(*moments(b)), relative=True)
    post = bayes.posterior(
        effect.estimate,
        effect.stderr**2,
        alpha=0.05,
        lower_is_better=False,
        prior=bayes.Prior(mean, variance),
    )
    config = EffectBayesianConfig(prior_effect=GaussianPrior(mean, variance, True))
    result = EffectBayesianABTest(
        SampleMeanStatistic(*moments(a)), SampleMeanStatistic(*moments(b)), config
    ).compute_result()
    assert post.mean == pytest.approx(result.expected, abs=TOL, rel=TOL)
    assert post.chance_to_beat_control == pytest.approx(result.chance_to_win, abs=TOL)
    assert post.control_loss == pytest.approx(result.risk[0], abs=TOL)
    assert post.expected_loss == pytest.approx(result.risk[1], abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_sample_ratio_agrees(seed: int) -> None:
    rng = np.random.default_rng(500 + seed)
    k = int(rng.integers(2, 6))
    weights = [float(w) for w in rng.random(k) + 0.1]
    counts = [
        int(c)
        for c in rng.multinomial(int(rng.integers(50, 5000)), np.array(weights) / sum(weights))
    ]
    mine = stats.sample_ratio(counts, weights, 0)
    assert mine.p_value == pytest.approx(check_srm(counts, weights), abs=TOL)
