"""The frequentist statistics of experiment analysis, written to agree with GrowthBook's engine.

Every variant of every metric is first reduced to an `Arm`: its units, its
mean (the estimate) and the per-unit variance of that mean, from sums the
store computes (gbstats' "statistics": sample mean, proportion, ratio and
regression-adjusted). A treatment is then compared with the control by
Welch's t-test on the absolute difference and, by the delta method, on the
relative one, fixed-horizon or as a confidence sequence (Waudby-Smith et
al., the method and tuning parameter gbstats uses). The formulas are
documented on the proto messages that carry them; tests compare each with
`gbstats` (a test dependency) to 1e-6. SciPy supplies the distributions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps  # type: ignore[import-untyped]

from maestro_grpc.prediction.model import SampleRatio

SRM_ALPHA = 0.001
POWER_TARGET = 0.8


@dataclass(frozen=True)
class Moments:
    """Sums over units of a per-unit value: n, sum and sum of squares."""

    n: int
    total: float
    total_sq: float
    # 0/1 values: the variance is p(1 - p), as for a proportion (gbstats' ProportionStatistic).
    binary: bool = False

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        if self.binary:
            return self.mean * (1.0 - self.mean)
        if self.n <= 1:
            return 0.0
        return (self.total_sq - self.total**2 / self.n) / (self.n - 1)


def covariance(n: int, sum_x: float, sum_y: float, sum_xy: float) -> float:
    """Sample covariance from sums (n - 1 in the denominator)."""
    return (sum_xy - sum_x * sum_y / n) / (n - 1) if n > 1 else 0.0


@dataclass(frozen=True)
class Arm:
    """One variant of one metric: se^2 of `mean` is variance / n."""

    n: int
    mean: float
    variance: float
    # The mean before regression adjustment (the relative effect's base).
    unadjusted_mean: float


def mean_arm(m: Moments) -> Arm:
    return Arm(m.n, m.mean, m.variance, m.mean)


def ratio_arm(num: Moments, den: Moments, sum_products: float) -> Arm:
    """sum(num) / sum(den) over units, its variance by the delta method.

    Also the cluster-robust mean of clustered observations: num the
    clusters' sums, den their sizes.
    """
    n = num.n
    if den.total == 0:
        return Arm(n, 0.0, 0.0, 0.0)
    mean = num.total / den.total
    mu_d = den.mean
    if mu_d == 0 or n <= 1:
        return Arm(n, mean, 0.0, mean)
    cov = covariance(n, num.total, den.total, sum_products)
    variance = (
        num.variance / mu_d**2 - 2 * cov * num.mean / mu_d**3 + num.mean**2 * den.variance / mu_d**4
    )
    return Arm(n, mean, variance, mean)


@dataclass(frozen=True)
class Paired:
    """A metric over a window and its pre-period (the covariate), per variant."""

    post: Moments
    pre: Moments
    sum_products: float


@dataclass(frozen=True)
class Adjusted:
    """CUPED arms of control and treatment, with the variance reduction achieved."""

    control: Arm
    treatment: Arm
    theta: float
    # 1 - var(adjusted difference) / var(unadjusted difference).
    variance_reduction: float


def cuped(control: Paired, treatment: Paired) -> Adjusted:
    """Regression adjustment on the pre-period, theta pooled over both variants (gbstats)."""
    n = control.post.n + treatment.post.n
    post = _joint(control.post, treatment.post, n)
    pre = _joint(control.pre, treatment.pre, n)
    raw_c, raw_t = mean_arm(control.post), mean_arm(treatment.post)
    if pre.variance == 0 or post.variance == 0 or n <= 1:
        return Adjusted(raw_c, raw_t, 0.0, 0.0)
    joint = covariance(n, post.total, pre.total, control.sum_products + treatment.sum_products)
    theta = joint / pre.variance
    adj_c, adj_t = _adjust(control, theta), _adjust(treatment, theta)
    before = _diff_variance(raw_c, raw_t)
    after = _diff_variance(adj_c, adj_t)
    reduction = 1.0 - after / before if before > 0 else 0.0
    return Adjusted(adj_c, adj_t, theta, reduction)


def _joint(a: Moments, b: Moments, n: int) -> Moments:
    return Moments(n, a.total + b.total, a.total_sq + b.total_sq, a.binary and b.binary)


def _adjust(p: Paired, theta: float) -> Arm:
    n = p.post.n
    cov = covariance(n, p.post.total, p.pre.total, p.sum_products)
    variance = p.post.variance + theta**2 * p.pre.variance - 2 * theta * cov if n > 1 else 0.0
    return Arm(n, p.post.mean - theta * p.pre.mean, variance, p.post.mean)


def _diff_variance(control: Arm, treatment: Arm) -> float:
    if control.n == 0 or treatment.n == 0:
        return 0.0
    return control.variance / control.n + treatment.variance / treatment.n


# ---- comparisons ------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """An estimate with its standard error, interval and two-sided p-value."""

    estimate: float
    stderr: float
    ci_low: float
    ci_high: float
    p_value: float
    degrees_of_freedom: float
    # Adjusted across the analysis' comparisons (filled in after all are made).
    p_holm: float = 1.0
    p_bh: float = 1.0

    @property
    def t_statistic(self) -> float:
        return self.estimate / self.stderr if self.stderr > 0 else 0.0


def why_invalid(control: Arm, treatment: Arm) -> str:
    """Why the two arms cannot be compared ("" when they can)."""
    for label, arm in (("control", control), ("treatment", treatment)):
        if arm.n < 2:
            return f"fewer than 2 units with a value in the {label}"
        if arm.variance <= 0:
            return f"the {label}'s values do not vary"
    return ""


def difference_variance(control: Arm, treatment: Arm, relative: bool) -> float:
    """Var of the absolute difference, or of the relative one by the delta method."""
    if not relative:
        return _diff_variance(control, treatment)
    ma, mb = control.unadjusted_mean, treatment.unadjusted_mean
    return treatment.variance / (ma**2 * treatment.n) + control.variance * mb**2 / (
        ma**4 * control.n
    )


def welch_dof(control: Arm, treatment: Arm) -> float:
    a = control.variance / control.n
    b = treatment.variance / treatment.n
    return (a + b) ** 2 / (
        treatment.variance**2 / (treatment.n**2 * (treatment.n - 1))
        + control.variance**2 / (control.n**2 * (control.n - 1))
    )


def compare(
    control: Arm,
    treatment: Arm,
    *,
    relative: bool,
    alpha: float,
    tuning: float | None = None,
) -> Effect:
    """Treatment against control; `tuning` set: a confidence sequence instead of a fixed test.

    The arms must be comparable (`why_invalid` empty) and, for a relative
    effect, the control's mean non-zero.
    """
    estimate = treatment.mean - control.mean
    if relative:
        estimate /= control.unadjusted_mean
    variance = difference_variance(control, treatment, relative)
    se = math.sqrt(variance)
    dof = welch_dof(control, treatment)
    if tuning is None:
        p = float(2.0 * sps.t.sf(abs(estimate) / se, dof))
        width = float(sps.t.ppf(1.0 - alpha / 2.0, dof)) * se
    else:
        p, width = _sequential(estimate, variance, control.n + treatment.n, alpha, tuning)
    return Effect(estimate, se, estimate - width, estimate + width, p, dof)


def _sequential(
    estimate: float, variance: float, total: int, alpha: float, tuning: float
) -> tuple[float, float]:
    """Asymptotic confidence sequence (Waudby-Smith et al. 2023, eqs 9, 155, 161)."""
    rho2 = (-2.0 * math.log(alpha) + math.log(-2.0 * math.log(alpha) + 1.0)) / tuning
    s2 = variance * total
    scale = total * rho2 + 1.0
    width = math.sqrt(s2) * math.sqrt(
        2.0 * scale * math.log(math.sqrt(scale) / alpha) / (total**2 * rho2)
    )
    st2 = estimate**2 * total / variance
    log_e = rho2 * st2 / (2.0 * scale) - 0.5 * math.log(scale)
    p = 1.0 if log_e <= 0 else math.exp(-log_e)
    return min(p, 1.0), width


@dataclass(frozen=True)
class Power:
    """What the enrolled units can detect (fixed-horizon, two-sided, at POWER_TARGET)."""

    # The smallest absolute effect detected with 80% power at alpha.
    mde: float
    # The same relative to the control's mean (0 when that is 0).
    relative_mde: float
    # Power to detect the metric's minimum effect of interest (0 when none is set).
    power: float


def power(control: Arm, treatment: Arm, alpha: float, minimum_effect: float) -> Power:
    se = math.sqrt(_diff_variance(control, treatment))
    z = float(sps.norm.ppf(1.0 - alpha / 2.0))
    mde = (z + float(sps.norm.ppf(POWER_TARGET))) * se
    base = abs(control.unadjusted_mean)
    relative = mde / base if base > 0 else 0.0
    achieved = 0.0
    if minimum_effect > 0 and base > 0 and se > 0:
        shift = minimum_effect * base / se
        achieved = float(sps.norm.cdf(shift - z) + sps.norm.cdf(-shift - z))
    return Power(mde, relative, achieved)


# ---- across comparisons ------------------------------------------------------------------


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (R's p.adjust(p, "holm"))."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    out = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        out[i] = running
    return out


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (R's p.adjust(p, "BH"))."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i], reverse=True)
    out = [1.0] * m
    running = 1.0
    for k, i in enumerate(order):
        rank = m - k
        running = min(running, p_values[i] * m / rank)
        out[i] = min(1.0, running)
    return out


def sample_ratio(counts: Sequence[int], weights: Sequence[float], min_units: int) -> SampleRatio:
    """Pearson's chi-square goodness of fit of `counts` against shares `weights`.

    With fewer than `min_units` units in all, the statistic is still
    reported but never flags a mismatch (`checked` false).
    """
    df = len(counts) - 1
    total = sum(counts)
    if total == 0:
        return SampleRatio(0.0, df, 1.0, False, checked=False, min_units=min_units)
    weight_sum = math.fsum(weights)
    chi = math.fsum(
        (c - total * w / weight_sum) ** 2 / (total * w / weight_sum)
        for c, w in zip(counts, weights, strict=True)
    )
    p = float(sps.chi2.sf(chi, df))
    checked = total >= min_units
    return SampleRatio(chi, df, p, checked and p < SRM_ALPHA, checked=checked, min_units=min_units)
