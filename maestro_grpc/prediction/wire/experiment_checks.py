"""Experiment requests -> plain records, every violation collected at once."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro_grpc.errors import Violations
from maestro_grpc.prediction.model import (
    DEFAULT_TUNING,
    SUCCESS,
    SUCCESS_SCORE,
    Adjustment,
    Aggregation,
    AnalysisOptions,
    ExperimentFields,
    ExperimentStatus,
    ExperimentUnit,
    MetricKind,
    MetricRole,
    MetricSpec,
    Variant,
)
from maestro_grpc.wire import checks
from maestro_grpc.wire.protoconv import opt_time

VARIANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
METRIC_NAME = re.compile(r"^[a-z0-9_.:-]{1,200}$")
MAX_METRICS = 20
T = TypeVar("T")
MAX_PRE_PERIOD_DAYS = 365

ROLE: dict[int, MetricRole] = {
    ep.METRIC_ROLE_UNSPECIFIED: MetricRole.SECONDARY,
    ep.METRIC_ROLE_PRIMARY: MetricRole.PRIMARY,
    ep.METRIC_ROLE_SECONDARY: MetricRole.SECONDARY,
    ep.METRIC_ROLE_GUARDRAIL: MetricRole.GUARDRAIL,
}
KIND: dict[int, MetricKind] = {
    ep.METRIC_KIND_MEAN: MetricKind.MEAN,
    ep.METRIC_KIND_PROPORTION: MetricKind.PROPORTION,
    ep.METRIC_KIND_RATIO: MetricKind.RATIO,
    ep.METRIC_KIND_COUNT: MetricKind.COUNT,
}
AGGREGATION: dict[int, Aggregation] = {
    ep.METRIC_AGGREGATION_MEAN: Aggregation.MEAN,
    ep.METRIC_AGGREGATION_SUM: Aggregation.SUM,
    ep.METRIC_AGGREGATION_LAST: Aggregation.LAST,
    ep.METRIC_AGGREGATION_COUNT: Aggregation.COUNT,
}
STATUS: dict[int, ExperimentStatus] = {
    ep.EXPERIMENT_STATUS_DRAFT: ExperimentStatus.DRAFT,
    ep.EXPERIMENT_STATUS_RUNNING: ExperimentStatus.RUNNING,
    ep.EXPERIMENT_STATUS_STOPPED: ExperimentStatus.STOPPED,
}
ADJUSTMENT: dict[int, Adjustment] = {
    ep.P_VALUE_ADJUSTMENT_UNSPECIFIED: Adjustment.NONE,
    ep.P_VALUE_ADJUSTMENT_NONE: Adjustment.NONE,
    ep.P_VALUE_ADJUSTMENT_HOLM: Adjustment.HOLM,
    ep.P_VALUE_ADJUSTMENT_BENJAMINI_HOCHBERG: Adjustment.BENJAMINI_HOCHBERG,
}


def experiment_fields(v: Violations, request: pb.CreateExperimentRequest) -> ExperimentFields:
    if not request.HasField("experiment"):
        v.add("experiment", "is required")
    e = request.experiment
    unit = _unit(v, e.unit)
    start = v.take(lambda: opt_time(e, "start_time", "experiment.start_time"), None)
    end = v.take(lambda: opt_time(e, "end_time", "experiment.end_time"), None)
    if start is not None and end is not None and end <= start:
        v.add("experiment.end_time", "must be after experiment.start_time")
    tuning = e.sequential_tuning_parameter or DEFAULT_TUNING
    if not math.isfinite(tuning) or not 1 <= tuning <= 1e9:
        v.add("experiment.sequential_tuning_parameter", "must be between 1 and 1e9 (0 for 5000)")
    return ExperimentFields(
        name=checks.text(v, e.name, "experiment.name", max_len=200, required=True),
        description=checks.text(v, e.description, "experiment.description", max_len=10_000),
        unit=unit,
        variants=_variants(v, e.variants),
        metrics=_metrics(v, e, unit),
        salt=checks.text(v, e.salt, "experiment.salt", max_len=100),
        hypothesis=checks.text(v, e.hypothesis, "experiment.hypothesis", max_len=10_000),
        start_time=start,
        end_time=end,
        sequential=e.sequential_testing,
        tuning=tuning,
    )


def _unit(v: Violations, value: int) -> ExperimentUnit:
    if value == ep.EXPERIMENT_UNIT_TEAM:
        return ExperimentUnit.TEAM
    if value not in (ep.EXPERIMENT_UNIT_UNSPECIFIED, ep.EXPERIMENT_UNIT_PROJECT):
        v.add("experiment.unit", f"{value} is not a known value")
    return ExperimentUnit.PROJECT


def _variants(v: Violations, items: Sequence[ep.Variant]) -> tuple[Variant, ...]:
    """2 to 10 variants with distinct names and positive weights, the control first."""
    if not 2 <= len(items) <= 10:
        v.add("experiment.variants", "must hold 2 to 10 variants (the first is the control)")
        if len(items) > 10:
            return ()
    out: list[Variant] = []
    names: set[str] = set()
    for i, variant in enumerate(items):
        at = f"experiment.variants[{i}]"
        if not VARIANT_NAME.match(variant.name):
            v.add(
                f"{at}.name",
                "must be 1-63 characters of [a-z0-9_-], starting with a letter or digit",
            )
        elif variant.name in names:
            v.add(f"{at}.name", f"{variant.name!r} is used twice")
        names.add(variant.name)
        if not math.isfinite(variant.weight) or variant.weight <= 0:
            v.add(f"{at}.weight", "must be a positive finite number")
        out.append(Variant(variant.name, variant.weight))
    return tuple(out)


def _metric_name(v: Violations, value: str, field: str) -> str:
    metric = value.strip()
    if not metric:
        v.add(field, f'is required: "{SUCCESS}", "{SUCCESS_SCORE}" or a metric name')
    elif not METRIC_NAME.match(metric):
        v.add(field, "must be 1-200 characters of [a-z0-9_.:-]")
    return metric


def _metrics(v: Violations, e: ep.Experiment, unit: ExperimentUnit) -> tuple[MetricSpec, ...]:
    """The metrics, the primary first; outcome_metric alone when none are given."""
    if not e.metrics:
        name = _metric_name(v, e.outcome_metric, "experiment.outcome_metric")
        kind = MetricKind.PROPORTION if name == SUCCESS else MetricKind.MEAN
        return (MetricSpec(name, kind=kind),)
    if not checks.bounded(v, e.metrics, "experiment.metrics", MAX_METRICS):
        return ()
    specs = [_metric(v, m, f"experiment.metrics[{i}]", unit) for i, m in enumerate(e.metrics)]
    primaries = [s for s in specs if s.role is MetricRole.PRIMARY]
    if len(primaries) != 1:
        v.add(
            "experiment.metrics", f"must hold exactly one PRIMARY metric ({len(primaries)} given)"
        )
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        if spec.name in seen:
            v.add(f"experiment.metrics[{i}].name", f"{spec.name!r} is used twice")
        seen.add(spec.name)
    if e.outcome_metric and primaries and e.outcome_metric.strip() != primaries[0].name:
        v.add("experiment.outcome_metric", "must be empty or name the PRIMARY metric")
    return tuple(primaries + [s for s in specs if s.role is not MetricRole.PRIMARY])


def _metric(v: Violations, m: ep.ExperimentMetric, at: str, unit: ExperimentUnit) -> MetricSpec:
    name = _metric_name(v, m.name, f"{at}.name")
    role = _enum(v, ROLE, m.role, f"{at}.role", MetricRole.SECONDARY)
    default_kind = MetricKind.PROPORTION if name == SUCCESS else MetricKind.MEAN
    kind = _enum(v, KIND, m.kind, f"{at}.kind", default_kind)
    default_agg = Aggregation.COUNT if kind is MetricKind.COUNT else Aggregation.MEAN
    aggregation = _enum(v, AGGREGATION, m.aggregation, f"{at}.aggregation", default_agg)
    success = name in {SUCCESS, SUCCESS_SCORE}
    if success and m.aggregation:
        v.add(f"{at}.aggregation", "must be unset for a success metric")
    if success and kind not in (MetricKind.MEAN, MetricKind.PROPORTION):
        v.add(f"{at}.kind", "must be MEAN or PROPORTION for a success metric")
    if name == SUCCESS_SCORE and kind is MetricKind.PROPORTION:
        v.add(f"{at}.kind", "must be MEAN for success_score")
    denominator = ""
    if kind is MetricKind.RATIO:
        denominator = _metric_name(v, m.denominator, f"{at}.denominator")
        if denominator in {SUCCESS, SUCCESS_SCORE}:
            v.add(f"{at}.denominator", "must be a recorded metric")
    elif m.denominator:
        v.add(f"{at}.denominator", "is for RATIO metrics only")
    if m.direction not in (0, 1, 2):
        v.add(f"{at}.direction", f"{m.direction} is not a known value")
    days = m.pre_period_days
    if not 0 <= days <= MAX_PRE_PERIOD_DAYS:
        v.add(f"{at}.pre_period_days", f"must be between 0 and {MAX_PRE_PERIOD_DAYS}")
    elif days and (success or kind is MetricKind.RATIO or unit is ExperimentUnit.TEAM):
        v.add(
            f"{at}.pre_period_days",
            "CUPED is for MEAN, COUNT and PROPORTION metrics of PROJECT experiments",
        )
    effect = checks.number(v, m.minimum_effect, f"{at}.minimum_effect", low=0, high=100)
    prior_mean = checks.number(v, m.prior_mean, f"{at}.prior_mean", low=-100, high=100)
    prior_sd = checks.number(v, m.prior_stddev, f"{at}.prior_stddev", low=0, high=100)
    if prior_mean and not prior_sd:
        v.add(f"{at}.prior_mean", "needs prior_stddev (a flat prior has no mean)")
    return MetricSpec(
        name=name,
        role=role,
        kind=kind,
        aggregation=aggregation,
        denominator=denominator,
        lower_is_better=m.direction == ep.METRIC_DIRECTION_LOWER_IS_BETTER,
        pre_period_days=days,
        minimum_effect=effect,
        prior_mean=prior_mean,
        prior_stddev=prior_sd,
    )


def _enum(v: Violations, table: dict[int, T], value: int, field: str, default: T) -> T:
    if value == 0:
        return default
    found = table.get(value)
    if found is None:
        v.add(field, f"{value} is not a known value")
        return default
    return found


def status_filter(v: Violations, value: int) -> ExperimentStatus | None:
    if value == ep.EXPERIMENT_STATUS_UNSPECIFIED:
        return None
    found = STATUS.get(value)
    if found is None:
        v.add("status", f"{value} is not a known value")
    return found


def analysis_options(
    v: Violations, request: pb.AnalyzeExperimentRequest, end_time: datetime | None
) -> AnalysisOptions:
    level = request.confidence_level or 0.95
    if not math.isfinite(level) or not 0.5 <= level <= 0.999:
        v.add("confidence_level", "must be between 0.5 and 0.999 (0 for 0.95)")
    adjustment = ADJUSTMENT.get(request.p_value_adjustment)
    if adjustment is None:
        v.add("p_value_adjustment", f"{request.p_value_adjustment} is not a known value")
    floor = request.srm_min_units or 100
    if not 1 <= floor <= 1_000_000_000:
        v.add("srm_min_units", "must be between 1 and 1e9 (0 for 100)")
    return AnalysisOptions(
        confidence_level=level,
        end_time=end_time,
        adjustment=adjustment or Adjustment.NONE,
        srm_min_units=floor,
    )
