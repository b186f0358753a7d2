"""The experiment statistics against published values (R's documentation and textbook examples)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from maestro_grpc.prediction.domain import analysis, stats
from maestro_grpc.prediction.domain.stats import Arm, Effect, Moments
from maestro_grpc.prediction.model import MetricSpec


def arm(values: list[float]) -> Arm:
    return stats.mean_arm(Moments(len(values), math.fsum(values), math.fsum(v * v for v in values)))


def welch(treatment: list[float], control: list[float], level: float = 0.95) -> Effect:
    assert not stats.why_invalid(arm(control), arm(treatment))
    return stats.compare(arm(control), arm(treatment), relative=False, alpha=1 - level)


def significant(effect: Effect, level: float = 0.95) -> bool:
    return effect.p_value < 1 - level


def test_welch_matches_r_t_test_documentation_example() -> None:
    # R, ?t.test (stats package), Examples: t.test(1:10, y = c(7:20, 200)) prints
    #   t = -1.6329, df = 14.165, p-value = 0.1245
    #   95 percent confidence interval: -47.242900   6.376233
    #   mean of x 5.50000, mean of y 25.93333
    # (x - y; our difference is treatment - control, so x is the treatment).
    x = [float(v) for v in range(1, 11)]
    y = [float(v) for v in range(7, 21)] + [200.0]
    result = welch(x, y)
    assert result.estimate == pytest.approx(5.5 - 25.93333, abs=5e-5)
    assert result.t_statistic == pytest.approx(-1.6329, abs=5e-5)
    assert result.degrees_of_freedom == pytest.approx(14.165, abs=5e-4)
    assert result.p_value == pytest.approx(0.1245, abs=5e-5)
    assert result.ci_low == pytest.approx(-47.242900, abs=5e-7)
    assert result.ci_high == pytest.approx(6.376233, abs=5e-7)
    assert not significant(result)


def test_welch_small_p_value_matches_r_documentation() -> None:
    # R, ?t.test, Examples: t.test(1:10, y = c(7:20))  # P = .00001855
    result = welch([float(v) for v in range(1, 11)], [float(v) for v in range(7, 21)])
    assert result.p_value == pytest.approx(0.00001855, abs=5e-9)
    assert significant(result)


def test_welch_matches_a_published_worked_example() -> None:
    # Statology, "How to Perform Welch's t-test in R" (exam scores with and
    # without a prep booklet): t.test(booklet, no_booklet) prints
    #   t = 2.2361, df = 14.354, p-value = 0.04171
    #   95 percent confidence interval: 0.3048395 13.8618272
    booklet = [90, 85, 88, 89, 94, 91, 79, 83, 87, 88, 91, 90]
    no_booklet = [67, 90, 71, 95, 88, 83, 72, 66, 75, 86, 93, 84]
    result = welch([float(v) for v in booklet], [float(v) for v in no_booklet])
    assert result.t_statistic == pytest.approx(2.2361, abs=5e-5)
    assert result.degrees_of_freedom == pytest.approx(14.354, abs=5e-4)
    assert result.p_value == pytest.approx(0.04171, abs=5e-6)
    assert result.ci_low == pytest.approx(0.3048395, abs=5e-8)
    assert result.ci_high == pytest.approx(13.8618272, abs=5e-8)
    assert significant(result)


# R's `sleep` data set (datasets package): extra hours of sleep by drug group.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_welch_and_cohens_d_on_the_sleep_data() -> None:
    # R, ?t.test, Examples: t.test(extra ~ group, data = sleep) prints
    #   t = -1.8608, df = 17.776, p-value = 0.07939
    #   95 percent confidence interval: -3.3654832  0.2054832
    # (group 1 - group 2). With equal group sizes Welch's t equals Student's
    # t, and Cohen's d with the pooled SD is t * sqrt(1/n1 + 1/n2):
    # 1.8608 * sqrt(0.2) = 0.8322 (to the 4 digits the published t carries).
    result = welch(SLEEP_2, SLEEP_1)
    assert result.t_statistic == pytest.approx(1.8608, abs=5e-5)
    assert result.degrees_of_freedom == pytest.approx(17.776, abs=5e-4)
    assert result.p_value == pytest.approx(0.07939, abs=5e-6)
    assert result.ci_low == pytest.approx(-0.2054832, abs=5e-8)
    assert result.ci_high == pytest.approx(3.3654832, abs=5e-8)
    compared = analysis.compare_arms(
        ("control", "treatment"),
        (arm(SLEEP_1), arm(SLEEP_2)),
        (arm(SLEEP_1), arm(SLEEP_2)),
        MetricSpec("sleep"),
        0.05,
        None,
    )
    assert compared.effect_size == pytest.approx(1.8608 * math.sqrt(0.2), abs=5e-5)
    assert compared.relative is not None
    assert compared.relative.estimate == pytest.approx((2.33 - 0.75) / 0.75)


def test_confidence_level_widens_the_interval() -> None:
    narrow = welch(SLEEP_2, SLEEP_1, 0.8)
    wide = welch(SLEEP_2, SLEEP_1, 0.99)
    assert wide.ci_low < narrow.ci_low < narrow.ci_high < wide.ci_high
    assert significant(narrow, 0.8)  # p = 0.079 < 0.2
    assert not significant(wide, 0.99)


@pytest.mark.parametrize(
    ("treatment", "control", "why"),
    [
        ([1.0], [1.0, 2.0], "fewer than 2 units with a value in the treatment"),
        ([], [1.0, 2.0], "fewer than 2 units with a value in the treatment"),
        ([3.0, 3.0], [3.0, 3.0], "the control's values do not vary"),
    ],
)
def test_degenerate_samples_are_not_valid_and_never_significant(
    treatment: list[float], control: list[float], why: str
) -> None:
    # Issue #12: an invalid comparison used to report p = 0 beside valid = false.
    compared = analysis.compare_arms(
        ("control", "treatment"),
        (arm(control), arm(treatment)),
        (arm(control), arm(treatment)),
        MetricSpec("m"),
        0.05,
        None,
    )
    assert not compared.valid
    assert compared.note == why
    assert compared.absolute is None
    assert compared.relative is None


def test_sample_ratio_matches_r_chisq_test_examples() -> None:
    # R, ?chisq.test, Examples: x <- c(A = 20, B = 15, C = 25); chisq.test(x)
    #   X-squared = 2.5, df = 2, p-value = 0.2865
    equal = stats.sample_ratio([20, 15, 25], [1, 1, 1], 0)
    assert equal.chi_square == pytest.approx(2.5)
    assert equal.degrees_of_freedom == 2
    assert equal.p_value == pytest.approx(0.2865, abs=5e-5)
    assert not equal.mismatch
    # Same page: x <- c(89,37,30,28,2); p <- c(40,20,20,15,5);
    # chisq.test(x, p = p, rescale.p = TRUE)
    #   X-squared = 9.9901, df = 4, p-value = 0.04059
    weighted = stats.sample_ratio([89, 37, 30, 28, 2], [40, 20, 20, 15, 5], 0)
    assert weighted.chi_square == pytest.approx(9.9901, abs=5e-5)
    assert weighted.degrees_of_freedom == 4
    assert weighted.p_value == pytest.approx(0.04059, abs=5e-6)
    assert not weighted.mismatch  # 0.04 is not below the SRM threshold of 0.001


def test_sample_ratio_matches_a_textbook_problem() -> None:
    # "Professor Bumblefuss" (goodness-of-fit chapter, R tutorial):
    # chisq.test(c(25, 32, 18, 20)) gives X-squared = 4.9158, df = 3,
    # p-value = 0.1781.
    result = stats.sample_ratio([25, 32, 18, 20], [0.25, 0.25, 0.25, 0.25], 0)
    assert result.chi_square == pytest.approx(4.9158, abs=5e-5)
    assert result.p_value == pytest.approx(0.1781, abs=5e-5)


def test_sample_ratio_flags_a_broken_split_and_handles_no_units() -> None:
    broken = stats.sample_ratio([600, 400], [1, 1], 100)
    assert broken.mismatch
    assert broken.checked
    assert broken.p_value < 0.001
    empty = stats.sample_ratio([0, 0], [1, 1], 100)
    assert (empty.chi_square, empty.p_value, empty.mismatch) == (0.0, 1.0, False)


def test_sample_ratio_has_a_minimum_traffic_floor() -> None:
    # 30 to 6 has p < 0.001, but 36 units are below the floor: reported, not flagged.
    small = stats.sample_ratio([30, 6], [1, 1], 100)
    assert small.p_value < 0.001
    assert not small.checked
    assert not small.mismatch
    assert small.min_units == 100
    assert stats.sample_ratio([30, 6], [1, 1], 36).mismatch


def test_holm_matches_a_worked_example() -> None:
    # Sorted: 0.005 * 4 = 0.02, 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 -> 0.06
    # (adjusted values never decrease along the order).
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([]) == []


@pytest.mark.parametrize("seed", range(5))
def test_benjamini_hochberg_matches_scipy(seed: int) -> None:
    from scipy.stats import false_discovery_control  # type: ignore[import-untyped]

    rng = np.random.default_rng(seed)
    ps = [float(p) for p in rng.random(int(rng.integers(1, 30))) ** 3]
    assert stats.benjamini_hochberg(ps) == pytest.approx(list(false_discovery_control(ps)))


def test_power_and_mde_match_the_textbook_sample_size() -> None:
    # The classic: 63 per group detect d = 0.5 with 80% power at alpha 0.05
    # (normal approximation: 2 * (1.95996 + 0.84162)^2 / 0.25 = 62.8 per group).
    values = [float(v) for v in range(-31, 32)]  # mean 0, n = 63
    sd = math.sqrt(arm(values).variance)
    control = Arm(63, 10.0, sd**2, 10.0)
    treatment = Arm(63, 10.0, sd**2, 10.0)
    result = stats.power(control, treatment, 0.05, minimum_effect=0.5 * sd / 10.0)
    assert result.power == pytest.approx(0.8013, abs=5e-4)
    se = sd * math.sqrt(2 / 63)
    assert result.mde == pytest.approx((1.959964 + 0.841621) * se, rel=1e-6)
    assert result.relative_mde == pytest.approx(result.mde / 10.0)
