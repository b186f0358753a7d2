"""Experiment records -> protobuf messages."""

from __future__ import annotations

import math
from datetime import datetime

from maestro.prediction.v1 import experiment_pb2 as ep
from maestro_grpc.prediction.domain.analysis import (
    Analysis,
    ArmResult,
    MetricAnalysis,
    MetricComparison,
)
from maestro_grpc.prediction.domain.stats import Effect
from maestro_grpc.prediction.model import (
    Adjustment,
    Aggregation,
    Assignment,
    Experiment,
    ExperimentStatus,
    ExperimentUnit,
    MetricKind,
    MetricRole,
    MetricSpec,
    Verdict,
)
from maestro_grpc.prediction.wire.experiment_checks import ADJUSTMENT
from maestro_grpc.wire.protoconv import set_timestamp

UNIT = {
    ExperimentUnit.PROJECT: ep.EXPERIMENT_UNIT_PROJECT,
    ExperimentUnit.TEAM: ep.EXPERIMENT_UNIT_TEAM,
}
STATUS = {
    ExperimentStatus.DRAFT: ep.EXPERIMENT_STATUS_DRAFT,
    ExperimentStatus.RUNNING: ep.EXPERIMENT_STATUS_RUNNING,
    ExperimentStatus.STOPPED: ep.EXPERIMENT_STATUS_STOPPED,
}
ROLE = {
    MetricRole.PRIMARY: ep.METRIC_ROLE_PRIMARY,
    MetricRole.SECONDARY: ep.METRIC_ROLE_SECONDARY,
    MetricRole.GUARDRAIL: ep.METRIC_ROLE_GUARDRAIL,
}
KIND = {
    MetricKind.MEAN: ep.METRIC_KIND_MEAN,
    MetricKind.PROPORTION: ep.METRIC_KIND_PROPORTION,
    MetricKind.RATIO: ep.METRIC_KIND_RATIO,
    MetricKind.COUNT: ep.METRIC_KIND_COUNT,
}
AGGREGATION = {
    Aggregation.MEAN: ep.METRIC_AGGREGATION_MEAN,
    Aggregation.SUM: ep.METRIC_AGGREGATION_SUM,
    Aggregation.LAST: ep.METRIC_AGGREGATION_LAST,
    Aggregation.COUNT: ep.METRIC_AGGREGATION_COUNT,
}
VERDICT = {
    Verdict.NOT_ENOUGH_DATA: ep.VERDICT_NOT_ENOUGH_DATA,
    Verdict.NO_DETECTABLE_EFFECT: ep.VERDICT_NO_DETECTABLE_EFFECT,
    Verdict.BETTER: ep.VERDICT_BETTER,
    Verdict.WORSE: ep.VERDICT_WORSE,
    Verdict.GUARDRAIL_BREACHED: ep.VERDICT_GUARDRAIL_BREACHED,
}
ADJUSTED = {
    Adjustment.NONE: ep.P_VALUE_ADJUSTMENT_NONE,
    Adjustment.HOLM: ep.P_VALUE_ADJUSTMENT_HOLM,
    Adjustment.BENJAMINI_HOCHBERG: ep.P_VALUE_ADJUSTMENT_BENJAMINI_HOCHBERG,
}
assert set(ADJUSTMENT.values()) == set(ADJUSTED)


def finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def metric(spec: MetricSpec) -> ep.ExperimentMetric:
    return ep.ExperimentMetric(
        name=spec.name,
        role=ROLE[spec.role],
        kind=KIND[spec.kind],
        aggregation=ep.METRIC_AGGREGATION_UNSPECIFIED
        if spec.is_success
        else AGGREGATION[spec.aggregation],
        denominator=spec.denominator,
        direction=ep.METRIC_DIRECTION_LOWER_IS_BETTER
        if spec.lower_is_better
        else ep.METRIC_DIRECTION_HIGHER_IS_BETTER,
        pre_period_days=spec.pre_period_days,
        minimum_effect=spec.minimum_effect,
        prior_mean=spec.prior_mean,
        prior_stddev=spec.prior_stddev,
    )


def experiment(item: Experiment, now: datetime) -> ep.Experiment:
    out = ep.Experiment(
        id=str(item.id),
        name=item.name,
        description=item.description,
        unit=UNIT[item.unit],
        variants=[ep.Variant(name=v.name, weight=v.weight) for v in item.variants],
        outcome_metric=item.outcome_metric,
        salt=item.salt,
        status=STATUS[item.status(now)],
        hypothesis=item.hypothesis,
        metrics=[metric(m) for m in item.metrics],
        sequential_testing=item.sequential,
        sequential_tuning_parameter=item.tuning,
    )
    set_timestamp(out.create_time, item.create_time)
    set_timestamp(out.start_time, item.start_time)
    set_timestamp(out.end_time, item.end_time)
    return out


def assignment(item: Assignment) -> ep.Assignment:
    out = ep.Assignment(
        experiment_id=str(item.experiment_id),
        unit_id=item.unit_id,
        variant=item.variant,
        project_id=str(item.project_id) if item.project_id else "",
    )
    set_timestamp(out.assign_time, item.assign_time)
    return out


def effect(item: Effect | None) -> ep.Effect | None:
    if item is None:
        return None
    return ep.Effect(
        estimate=finite(item.estimate),
        stderr=finite(item.stderr),
        ci_low=finite(item.ci_low),
        ci_high=finite(item.ci_high),
        p_value=finite(item.p_value),
        p_value_holm=item.p_holm,
        p_value_bh=item.p_bh,
    )


def comparison(c: MetricComparison) -> ep.MetricComparison:
    out = ep.MetricComparison(
        variant=c.variant,
        control=c.control,
        valid=c.valid,
        note=c.note,
        absolute=effect(c.absolute),
        relative=effect(c.relative),
        verdict=VERDICT[c.verdict],
        verdict_reason=c.verdict_reason,
        variance_reduction=finite(c.variance_reduction),
        cuped_theta=finite(c.theta),
    )
    if c.posterior is not None:
        p = c.posterior
        out.bayesian.CopyFrom(
            ep.BayesianResult(
                chance_to_beat_control=p.chance_to_beat_control,
                expected_loss=finite(p.expected_loss),
                control_expected_loss=finite(p.control_loss),
                ci_low=finite(p.ci_low),
                ci_high=finite(p.ci_high),
            )
        )
    if c.power is not None:
        out.power.CopyFrom(
            ep.PowerResult(
                mde=finite(c.power.mde),
                relative_mde=finite(c.power.relative_mde),
                power=c.power.power,
            )
        )
    return out


def _result(r: ArmResult) -> ep.MetricVariantResult:
    return ep.MetricVariantResult(
        variant=r.variant,
        units=r.units,
        units_with_value=r.units_with_value,
        mean=finite(r.mean),
        stddev=finite(r.stddev),
        adjusted_mean=finite(r.adjusted_mean),
        projects=r.projects,
    )


def metric_analysis(m: MetricAnalysis) -> ep.MetricAnalysis:
    return ep.MetricAnalysis(
        metric=metric(m.metric),
        results=[_result(r) for r in m.results],
        comparisons=[comparison(c) for c in m.comparisons],
    )


def _legacy(c: MetricComparison, alpha: float) -> ep.VariantComparison:
    """The primary metric's comparison in VariantComparison's first form."""
    a = c.absolute
    if a is None:
        return ep.VariantComparison(variant=c.variant, control=c.control, p_value=1.0)
    return ep.VariantComparison(
        variant=c.variant,
        control=c.control,
        difference=finite(a.estimate),
        relative_difference=finite(c.relative.estimate) if c.relative else 0.0,
        ci_low=finite(a.ci_low),
        ci_high=finite(a.ci_high),
        p_value=finite(a.p_value),
        effect_size=finite(c.effect_size),
        significant=a.p_value < alpha,
        t_statistic=finite(a.t_statistic),
        degrees_of_freedom=finite(a.degrees_of_freedom),
        valid=True,
    )


def analysis(item: Analysis) -> ep.ExperimentAnalysis:
    primary = item.metrics[0]
    alpha = 1.0 - item.confidence_level
    out = ep.ExperimentAnalysis(
        experiment_id=str(item.experiment.id),
        outcome_metric=primary.metric.name,
        results=[
            ep.VariantResult(
                variant=r.variant,
                units=r.units,
                units_with_outcome=r.units_with_value,
                mean=finite(r.mean),
                stddev=finite(r.stddev),
                expected_share=share,
            )
            for r, share in zip(primary.results, item.expected_shares, strict=True)
        ],
        comparisons=[_legacy(c, alpha) for c in primary.comparisons],
        sample_ratio=ep.SampleRatioCheck(
            chi_square=item.sample_ratio.chi_square,
            p_value=item.sample_ratio.p_value,
            mismatch=item.sample_ratio.mismatch,
            degrees_of_freedom=item.sample_ratio.degrees_of_freedom,
            checked=item.sample_ratio.checked,
            min_units=item.sample_ratio.min_units,
        ),
        confidence_level=item.confidence_level,
        metrics=[metric_analysis(m) for m in item.metrics],
        sequential=item.experiment.sequential,
        p_value_adjustment=ADJUSTED[item.adjustment],
    )
    set_timestamp(out.end_time, item.end_time)
    return out
