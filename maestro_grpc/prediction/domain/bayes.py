"""The Bayesian reading of a comparison: chance to beat the control and expected loss.

gbstats' effect engine: the effect (relative to the control's mean, or
absolute) has a normal likelihood with the frequentist estimate and
variance; with a flat prior (gbstats' default) the posterior is that
normal, with a proper Gaussian prior it is the precision-weighted blend. The
chance to beat the control is P(effect > 0), or P(effect < 0) for a metric
where lower is better; the expected loss of shipping the treatment is
E[max(0, -effect)] (of keeping the control E[max(0, effect)]), both in the
effect's units, mirrored for lower-is-better metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as sps  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Prior:
    """A proper Gaussian prior on the effect, in the effect's units."""

    mean: float
    variance: float


@dataclass(frozen=True)
class Posterior:
    mean: float
    stddev: float
    chance_to_beat_control: float
    # Expected loss of shipping the treatment, and of keeping the control.
    expected_loss: float
    control_loss: float
    ci_low: float
    ci_high: float


def posterior(
    estimate: float,
    variance: float,
    *,
    alpha: float,
    lower_is_better: bool,
    prior: Prior | None = None,
) -> Posterior:
    """The posterior of an effect whose data estimate and variance are given (variance > 0)."""
    precision = 1.0 / variance
    mean = estimate
    if prior is not None:
        precision += 1.0 / prior.variance
        mean = (estimate / variance + prior.mean / prior.variance) / precision
    sd = math.sqrt(1.0 / precision)
    above = float(sps.norm.sf(0.0, mean, sd))
    chance = 1.0 - above if lower_is_better else above
    # E[max(0, X)] and E[max(0, -X)] of X ~ N(mean, sd^2), in closed form.
    z = mean / sd
    density = float(sps.norm.pdf(z))
    gain = mean * float(sps.norm.cdf(z)) + sd * density
    loss = sd * density - mean * float(sps.norm.cdf(-z))
    if lower_is_better:
        gain, loss = loss, gain
    q = float(sps.norm.ppf(1.0 - alpha / 2.0))
    return Posterior(mean, sd, chance, loss, gain, mean - q * sd, mean + q * sd)
