"""The experiment statistics against published values (R's documentation and textbook examples)."""

from __future__ import annotations

import math

import pytest

from maestro_grpc.prediction.domain import stats
from maestro_grpc.prediction.model import Comparison, Summary


def welch(treatment: list[float], control: list[float], level: float = 0.95) -> Comparison:
    return stats.welch(stats.summarize(treatment), stats.summarize(control), level)


def test_welch_matches_r_t_test_documentation_example() -> None:
    # R, ?t.test (stats package), Examples: t.test(1:10, y = c(7:20, 200)) prints
    #   t = -1.6329, df = 14.165, p-value = 0.1245
    #   95 percent confidence interval: -47.242900   6.376233
    #   mean of x 5.50000, mean of y 25.93333
    # (x - y; our difference is treatment - control, so x is the treatment).
    x = [float(v) for v in range(1, 11)]
    y = [float(v) for v in range(7, 21)] + [200.0]
    result = welch(x, y)
    assert result.valid
    assert result.difference == pytest.approx(5.5 - 25.93333, abs=5e-5)
    assert result.t_statistic == pytest.approx(-1.6329, abs=5e-5)
    assert result.degrees_of_freedom == pytest.approx(14.165, abs=5e-4)
    assert result.p_value == pytest.approx(0.1245, abs=5e-5)
    assert result.ci_low == pytest.approx(-47.242900, abs=5e-7)
    assert result.ci_high == pytest.approx(6.376233, abs=5e-7)
    assert not result.significant


def test_welch_small_p_value_matches_r_documentation() -> None:
    # R, ?t.test, Examples: t.test(1:10, y = c(7:20))  # P = .00001855
    result = welch([float(v) for v in range(1, 11)], [float(v) for v in range(7, 21)])
    assert result.p_value == pytest.approx(0.00001855, abs=5e-9)
    assert result.significant


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
    assert result.significant


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
    assert result.effect_size == pytest.approx(1.8608 * math.sqrt(0.2), abs=5e-5)
    assert result.relative_difference == pytest.approx((2.33 - 0.75) / 0.75)


def test_confidence_level_widens_the_interval() -> None:
    narrow = welch(SLEEP_2, SLEEP_1, 0.8)
    wide = welch(SLEEP_2, SLEEP_1, 0.99)
    assert wide.ci_low < narrow.ci_low < narrow.ci_high < wide.ci_high
    assert narrow.significant  # p = 0.079 < 0.2
    assert not wide.significant


@pytest.mark.parametrize(
    ("treatment", "control"),
    [([1.0], [1.0, 2.0]), ([], [1.0, 2.0]), ([3.0, 3.0], [3.0, 3.0])],
)
def test_degenerate_samples_are_not_valid(treatment: list[float], control: list[float]) -> None:
    result = welch(treatment, control)
    assert not result.valid
    assert not result.significant
    assert result.p_value == 0.0


def test_summarize() -> None:
    assert stats.summarize([]) == Summary(0, 0.0, 0.0)
    assert stats.summarize([2.0]) == Summary(1, 2.0, 0.0)
    s = stats.summarize([1.0, 2.0, 3.0, 4.0])
    assert s.mean == 2.5
    assert s.stddev == pytest.approx(math.sqrt(5 / 3))


def test_sample_ratio_matches_r_chisq_test_examples() -> None:
    # R, ?chisq.test, Examples: x <- c(A = 20, B = 15, C = 25); chisq.test(x)
    #   X-squared = 2.5, df = 2, p-value = 0.2865
    equal = stats.sample_ratio([20, 15, 25], [1, 1, 1])
    assert equal.chi_square == pytest.approx(2.5)
    assert equal.degrees_of_freedom == 2
    assert equal.p_value == pytest.approx(0.2865, abs=5e-5)
    assert not equal.mismatch
    # Same page: x <- c(89,37,30,28,2); p <- c(40,20,20,15,5);
    # chisq.test(x, p = p, rescale.p = TRUE)
    #   X-squared = 9.9901, df = 4, p-value = 0.04059
    weighted = stats.sample_ratio([89, 37, 30, 28, 2], [40, 20, 20, 15, 5])
    assert weighted.chi_square == pytest.approx(9.9901, abs=5e-5)
    assert weighted.degrees_of_freedom == 4
    assert weighted.p_value == pytest.approx(0.04059, abs=5e-6)
    assert not weighted.mismatch  # 0.04 is not below the SRM threshold of 0.001


def test_sample_ratio_matches_a_textbook_problem() -> None:
    # "Professor Bumblefuss" (goodness-of-fit chapter, R tutorial):
    # chisq.test(c(25, 32, 18, 20)) gives X-squared = 4.9158, df = 3,
    # p-value = 0.1781.
    result = stats.sample_ratio([25, 32, 18, 20], [0.25, 0.25, 0.25, 0.25])
    assert result.chi_square == pytest.approx(4.9158, abs=5e-5)
    assert result.p_value == pytest.approx(0.1781, abs=5e-5)


def test_sample_ratio_flags_a_broken_split_and_handles_no_units() -> None:
    broken = stats.sample_ratio([600, 400], [1, 1])
    assert broken.mismatch
    assert broken.p_value < 0.001
    empty = stats.sample_ratio([0, 0], [1, 1])
    assert (empty.chi_square, empty.p_value, empty.mismatch) == (0.0, 1.0, False)
