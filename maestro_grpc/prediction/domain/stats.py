"""The statistics of experiment analysis: Welch's t-test, Cohen's d, the sample-ratio check.

The formulas are the textbook ones (and R's: `t.test(..., var.equal =
FALSE)`, `chisq.test(x, p = p)`); SciPy supplies only the t and chi-square
distributions. Each is documented on the proto messages that carry it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats as sps  # type: ignore[import-untyped]

from maestro_grpc.prediction.model import Comparison, SampleRatio, Summary

SRM_ALPHA = 0.001


def summarize(values: Sequence[float]) -> Summary:
    n = len(values)
    if n == 0:
        return Summary(0, 0.0, 0.0)
    mean = math.fsum(values) / n
    if n < 2:
        return Summary(n, mean, 0.0)
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return Summary(n, mean, math.sqrt(variance))


def welch(treatment: Summary, control: Summary, confidence_level: float) -> Comparison:
    """Welch's two-sample t-test of treatment minus control, with Cohen's d."""
    difference = treatment.mean - control.mean
    relative = difference / control.mean if control.mean != 0 else 0.0
    if treatment.n < 2 or control.n < 2:
        return Comparison(difference, relative, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False, False)
    a = treatment.variance / treatment.n
    b = control.variance / control.n
    se = math.sqrt(a + b)
    pooled = math.sqrt(
        ((treatment.n - 1) * treatment.variance + (control.n - 1) * control.variance)
        / (treatment.n + control.n - 2)
    )
    effect = difference / pooled if pooled > 0 else 0.0
    if se == 0:
        return Comparison(difference, relative, 0.0, 0.0, 0.0, 0.0, 0.0, effect, False, False)
    t = difference / se
    df = (a + b) ** 2 / (a**2 / (treatment.n - 1) + b**2 / (control.n - 1))
    p = float(2.0 * sps.t.sf(abs(t), df))
    q = float(sps.t.ppf((1.0 + confidence_level) / 2.0, df))
    return Comparison(
        difference=difference,
        relative_difference=relative,
        t_statistic=t,
        degrees_of_freedom=df,
        p_value=p,
        ci_low=difference - q * se,
        ci_high=difference + q * se,
        effect_size=effect,
        significant=p < 1.0 - confidence_level,
        valid=True,
    )


def sample_ratio(counts: Sequence[int], weights: Sequence[float]) -> SampleRatio:
    """Pearson's chi-square goodness of fit of `counts` against shares `weights`."""
    df = len(counts) - 1
    total = sum(counts)
    if total == 0:
        return SampleRatio(0.0, df, 1.0, False)
    weight_sum = math.fsum(weights)
    chi = math.fsum(
        (c - total * w / weight_sum) ** 2 / (total * w / weight_sum)
        for c, w in zip(counts, weights, strict=True)
    )
    p = float(sps.chi2.sf(chi, df))
    return SampleRatio(chi, df, p, p < SRM_ALPHA)
