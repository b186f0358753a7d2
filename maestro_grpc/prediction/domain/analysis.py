"""From per-unit observations to each metric's comparisons, adjusted p-values and verdicts.

Pure: the outcomes were read (`outcomes.py`), this turns them into the
records AnalyzeExperiment answers with. Which statistic a metric gets:

- PROJECT units, MEAN / COUNT: a sample mean (n - 1 variance); PROPORTION:
  a proportion (p(1 - p) variance); with a pre-period, CUPED on either;
- RATIO metrics, and every metric of a TEAM experiment: a ratio of sums
  over units, its variance by the delta method. For teams that is the
  cluster-robust variance of the mean over their projects: numerator the
  team's sum of project values, denominator its number of projects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from maestro_grpc.prediction.domain import bayes, stats
from maestro_grpc.prediction.domain.stats import Arm, Effect, Moments, Paired, Power
from maestro_grpc.prediction.model import (
    Adjustment,
    Experiment,
    ExperimentUnit,
    MetricKind,
    MetricRole,
    MetricSpec,
    SampleRatio,
    Verdict,
)


@dataclass(frozen=True)
class Observed:
    """One metric's values as columns, one entry per counted project with a value.

    `unit` is the index of the project's unit; `denominator` is a ratio's
    (1 otherwise), `pre` the pre-period covariate (0 without CUPED).
    """

    unit: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    denominator: npt.NDArray[np.float64]
    pre: npt.NDArray[np.float64]


@dataclass(frozen=True)
class ArmResult:
    variant: str
    units: int
    units_with_value: int
    mean: float
    stddev: float
    adjusted_mean: float
    projects: int


@dataclass(frozen=True)
class MetricComparison:
    variant: str
    control: str
    valid: bool
    note: str = ""
    absolute: Effect | None = None
    relative: Effect | None = None
    posterior: bayes.Posterior | None = None
    power: Power | None = None
    variance_reduction: float = 0.0
    theta: float = 0.0
    effect_size: float = 0.0  # Cohen's d, pooled standard deviation
    verdict: Verdict = Verdict.NOT_ENOUGH_DATA
    verdict_reason: str = ""


@dataclass(frozen=True)
class MetricAnalysis:
    metric: MetricSpec
    results: list[ArmResult]
    comparisons: list[MetricComparison]


@dataclass(frozen=True)
class Analysis:
    experiment: Experiment
    metrics: list[MetricAnalysis]
    sample_ratio: SampleRatio
    confidence_level: float
    end_time: datetime
    adjustment: Adjustment
    expected_shares: list[float]


# ---- one metric ---------------------------------------------------------------------------


def _moments(values: npt.NDArray[np.float64], binary: bool = False) -> Moments:
    return Moments(len(values), float(values.sum()), float((values * values).sum()), binary)


Pair = tuple[Arm, Arm, float, float]  # control, treatment as compared; theta, variance reduction


@dataclass(frozen=True)
class _Grouped:
    """Each variant's raw arm, its projects, and its pairs with the control."""

    raw: list[Arm]
    projects: list[int]
    pairs: list[Pair]


def _clustered(observed: Observed, unit_variant: npt.NDArray[np.int64], k: int) -> _Grouped:
    """Ratio of sums over units (teams, or ratio metrics): the delta method."""
    size = len(unit_variant)
    per_unit = np.bincount(observed.unit, minlength=size)
    num = np.bincount(observed.unit, weights=observed.value, minlength=size)
    den = np.bincount(observed.unit, weights=observed.denominator, minlength=size)
    raw, projects = [], []
    for j in range(k):
        sel = (per_unit > 0) & (unit_variant == j)
        m, d = num[sel], den[sel]
        raw.append(stats.ratio_arm(_moments(m), _moments(d), float((m * d).sum())))
        projects.append(int(per_unit[sel].sum()))
    return _Grouped(raw, projects, [(raw[0], arm, 0.0, 0.0) for arm in raw[1:]])


def _single(
    spec: MetricSpec, observed: Observed, unit_variant: npt.NDArray[np.int64], k: int
) -> _Grouped:
    """One project per unit: sample means or proportions, CUPED with a pre-period."""
    variant = unit_variant[observed.unit]
    binary = spec.kind is MetricKind.PROPORTION
    post = [observed.value[variant == j] for j in range(k)]
    raw = [stats.mean_arm(_moments(v, binary)) for v in post]
    projects = [len(v) for v in post]
    if spec.pre_period_days <= 0:
        return _Grouped(raw, projects, [(raw[0], arm, 0.0, 0.0) for arm in raw[1:]])
    pre = [observed.pre[variant == j] for j in range(k)]
    paired = [
        Paired(_moments(x, binary), _moments(y, binary), float((x * y).sum()))
        for x, y in zip(post, pre, strict=True)
    ]
    pairs: list[Pair] = []
    for treatment in paired[1:]:
        # Theta is pooled over the control and this treatment (gbstats' pairwise way).
        done = stats.cuped(paired[0], treatment)
        pairs.append((done.control, done.treatment, done.theta, done.variance_reduction))
    return _Grouped(raw, projects, pairs)


def analyse_metric(
    experiment: Experiment,
    spec: MetricSpec,
    observed: Observed,
    unit_variant: npt.NDArray[np.int64],
    alpha: float,
) -> MetricAnalysis:
    """One metric: `unit_variant` is each unit's variant index (-1: not a variant)."""
    names = [v.name for v in experiment.variants]
    k = len(names)
    counts = np.bincount(unit_variant[unit_variant >= 0], minlength=k)
    if experiment.unit is ExperimentUnit.TEAM or spec.kind is MetricKind.RATIO:
        grouped = _clustered(observed, unit_variant, k)
    else:
        grouped = _single(spec, observed, unit_variant, k)
    raw, pairs = grouped.raw, grouped.pairs
    adjusted = [pairs[0][0].mean if pairs else raw[0].mean] + [p[1].mean for p in pairs]
    results = [
        ArmResult(
            variant=name,
            units=int(counts[i]),
            units_with_value=raw[i].n,
            mean=raw[i].mean,
            stddev=math.sqrt(max(raw[i].variance, 0.0)),
            adjusted_mean=adjusted[i],
            projects=grouped.projects[i],
        )
        for i, name in enumerate(names)
    ]
    tuning = experiment.tuning if experiment.sequential else None
    comparisons = []
    for i, (control, treatment, theta, reduction) in enumerate(pairs, start=1):
        made = compare_arms(
            (names[0], names[i]), (control, treatment), (raw[0], raw[i]), spec, alpha, tuning
        )
        comparisons.append(replace(made, theta=theta, variance_reduction=reduction))
    return MetricAnalysis(spec, results, comparisons)


def compare_arms(
    names: tuple[str, str],
    compared: tuple[Arm, Arm],
    raw: tuple[Arm, Arm],
    spec: MetricSpec,
    alpha: float,
    tuning: float | None,
) -> MetricComparison:
    """One treatment against the control, before adjustment and verdict.

    `names`, `compared` and `raw` are (control, treatment): their names, the
    arms as compared (CUPED-adjusted or not) and the unadjusted arms.
    """
    control_name, treatment_name = names
    control, treatment = compared
    raw_control, raw_treatment = raw
    why = stats.why_invalid(control, treatment)
    if why:
        return MetricComparison(treatment_name, control_name, False, note=why, verdict_reason=why)
    absolute = stats.compare(control, treatment, relative=False, alpha=alpha, tuning=tuning)
    note = ""
    relative = None
    posterior = None
    if control.mean == 0 or control.unadjusted_mean == 0:
        note = "the control's mean is 0: no relative effect"
    else:
        relative = stats.compare(control, treatment, relative=True, alpha=alpha, tuning=tuning)
        prior = None
        if spec.prior_stddev > 0:
            prior = bayes.Prior(spec.prior_mean, spec.prior_stddev**2)
        posterior = bayes.posterior(
            relative.estimate,
            stats.difference_variance(control, treatment, relative=True),
            alpha=alpha,
            lower_is_better=spec.lower_is_better,
            prior=prior,
        )
    return MetricComparison(
        treatment_name,
        control_name,
        True,
        note=note,
        absolute=absolute,
        relative=relative,
        posterior=posterior,
        power=stats.power(control, treatment, alpha, spec.minimum_effect),
        effect_size=_cohens_d(raw_control, raw_treatment),
    )


def _cohens_d(control: Arm, treatment: Arm) -> float:
    pooled = ((treatment.n - 1) * treatment.variance + (control.n - 1) * control.variance) / (
        treatment.n + control.n - 2
    )
    diff = treatment.mean - control.mean
    return diff / math.sqrt(pooled) if pooled > 0 else 0.0


# ---- across metrics -------------------------------------------------------------------------


def adjust_and_judge(
    metrics: list[MetricAnalysis], alpha: float, adjustment: Adjustment, srm: SampleRatio
) -> list[MetricAnalysis]:
    """Holm and BH p-values over every valid comparison, then each comparison's verdict."""
    spots = [(m, c) for m in range(len(metrics)) for c in range(len(metrics[m].comparisons))]
    valid = [s for s in spots if metrics[s[0]].comparisons[s[1]].valid]
    updated = {s: metrics[s[0]].comparisons[s[1]] for s in spots}
    for field in ("absolute", "relative"):
        family = [s for s in valid if getattr(updated[s], field) is not None]
        ps = [getattr(updated[s], field).p_value for s in family]
        for s, h, b in zip(family, stats.holm(ps), stats.benjamini_hochberg(ps), strict=True):
            effect = replace(getattr(updated[s], field), p_holm=h, p_bh=b)
            updated[s] = replace(updated[s], **{field: effect})
    out = []
    for m, analysed in enumerate(metrics):
        comps = []
        for c in range(len(analysed.comparisons)):
            verdict, reason = judge(updated[(m, c)], analysed.metric, alpha, adjustment, srm)
            comps.append(replace(updated[(m, c)], verdict=verdict, verdict_reason=reason))
        out.append(replace(analysed, comparisons=comps))
    return out


def judge(
    c: MetricComparison, spec: MetricSpec, alpha: float, adjustment: Adjustment, srm: SampleRatio
) -> tuple[Verdict, str]:
    """The plain reading of one comparison."""
    if srm.mismatch:
        return Verdict.NOT_ENOUGH_DATA, (
            f"sample-ratio mismatch (p = {srm.p_value:.2g}): the assignment is broken"
        )
    if not c.valid or c.absolute is None:
        return Verdict.NOT_ENOUGH_DATA, c.note
    p = {
        Adjustment.NONE: c.absolute.p_value,
        Adjustment.HOLM: c.absolute.p_holm,
        Adjustment.BENJAMINI_HOCHBERG: c.absolute.p_bh,
    }[adjustment]
    label = "p" if adjustment is Adjustment.NONE else f"{adjustment.value} p"
    if p >= alpha:
        return Verdict.NO_DETECTABLE_EFFECT, f"{label} = {p:.3g} >= {alpha:.3g}"
    better = (c.absolute.estimate > 0) != spec.lower_is_better
    way = "lower" if spec.lower_is_better else "higher"
    reason = f"{label} = {p:.3g} < {alpha:.3g}, {way} is better"
    if better:
        return Verdict.BETTER, reason
    if spec.role is MetricRole.GUARDRAIL:
        return Verdict.GUARDRAIL_BREACHED, reason
    return Verdict.WORSE, reason
