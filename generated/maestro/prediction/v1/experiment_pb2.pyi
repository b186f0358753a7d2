import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExperimentUnit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPERIMENT_UNIT_UNSPECIFIED: _ClassVar[ExperimentUnit]
    EXPERIMENT_UNIT_PROJECT: _ClassVar[ExperimentUnit]
    EXPERIMENT_UNIT_TEAM: _ClassVar[ExperimentUnit]

class ExperimentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPERIMENT_STATUS_UNSPECIFIED: _ClassVar[ExperimentStatus]
    EXPERIMENT_STATUS_DRAFT: _ClassVar[ExperimentStatus]
    EXPERIMENT_STATUS_RUNNING: _ClassVar[ExperimentStatus]
    EXPERIMENT_STATUS_STOPPED: _ClassVar[ExperimentStatus]

class MetricRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_ROLE_UNSPECIFIED: _ClassVar[MetricRole]
    METRIC_ROLE_PRIMARY: _ClassVar[MetricRole]
    METRIC_ROLE_SECONDARY: _ClassVar[MetricRole]
    METRIC_ROLE_GUARDRAIL: _ClassVar[MetricRole]

class MetricKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_KIND_UNSPECIFIED: _ClassVar[MetricKind]
    METRIC_KIND_MEAN: _ClassVar[MetricKind]
    METRIC_KIND_PROPORTION: _ClassVar[MetricKind]
    METRIC_KIND_RATIO: _ClassVar[MetricKind]
    METRIC_KIND_COUNT: _ClassVar[MetricKind]

class MetricAggregation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_AGGREGATION_UNSPECIFIED: _ClassVar[MetricAggregation]
    METRIC_AGGREGATION_MEAN: _ClassVar[MetricAggregation]
    METRIC_AGGREGATION_SUM: _ClassVar[MetricAggregation]
    METRIC_AGGREGATION_LAST: _ClassVar[MetricAggregation]
    METRIC_AGGREGATION_COUNT: _ClassVar[MetricAggregation]

class MetricDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_DIRECTION_UNSPECIFIED: _ClassVar[MetricDirection]
    METRIC_DIRECTION_HIGHER_IS_BETTER: _ClassVar[MetricDirection]
    METRIC_DIRECTION_LOWER_IS_BETTER: _ClassVar[MetricDirection]

class PValueAdjustment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    P_VALUE_ADJUSTMENT_UNSPECIFIED: _ClassVar[PValueAdjustment]
    P_VALUE_ADJUSTMENT_NONE: _ClassVar[PValueAdjustment]
    P_VALUE_ADJUSTMENT_HOLM: _ClassVar[PValueAdjustment]
    P_VALUE_ADJUSTMENT_BENJAMINI_HOCHBERG: _ClassVar[PValueAdjustment]

class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_UNSPECIFIED: _ClassVar[Verdict]
    VERDICT_NOT_ENOUGH_DATA: _ClassVar[Verdict]
    VERDICT_NO_DETECTABLE_EFFECT: _ClassVar[Verdict]
    VERDICT_BETTER: _ClassVar[Verdict]
    VERDICT_WORSE: _ClassVar[Verdict]
    VERDICT_GUARDRAIL_BREACHED: _ClassVar[Verdict]
EXPERIMENT_UNIT_UNSPECIFIED: ExperimentUnit
EXPERIMENT_UNIT_PROJECT: ExperimentUnit
EXPERIMENT_UNIT_TEAM: ExperimentUnit
EXPERIMENT_STATUS_UNSPECIFIED: ExperimentStatus
EXPERIMENT_STATUS_DRAFT: ExperimentStatus
EXPERIMENT_STATUS_RUNNING: ExperimentStatus
EXPERIMENT_STATUS_STOPPED: ExperimentStatus
METRIC_ROLE_UNSPECIFIED: MetricRole
METRIC_ROLE_PRIMARY: MetricRole
METRIC_ROLE_SECONDARY: MetricRole
METRIC_ROLE_GUARDRAIL: MetricRole
METRIC_KIND_UNSPECIFIED: MetricKind
METRIC_KIND_MEAN: MetricKind
METRIC_KIND_PROPORTION: MetricKind
METRIC_KIND_RATIO: MetricKind
METRIC_KIND_COUNT: MetricKind
METRIC_AGGREGATION_UNSPECIFIED: MetricAggregation
METRIC_AGGREGATION_MEAN: MetricAggregation
METRIC_AGGREGATION_SUM: MetricAggregation
METRIC_AGGREGATION_LAST: MetricAggregation
METRIC_AGGREGATION_COUNT: MetricAggregation
METRIC_DIRECTION_UNSPECIFIED: MetricDirection
METRIC_DIRECTION_HIGHER_IS_BETTER: MetricDirection
METRIC_DIRECTION_LOWER_IS_BETTER: MetricDirection
P_VALUE_ADJUSTMENT_UNSPECIFIED: PValueAdjustment
P_VALUE_ADJUSTMENT_NONE: PValueAdjustment
P_VALUE_ADJUSTMENT_HOLM: PValueAdjustment
P_VALUE_ADJUSTMENT_BENJAMINI_HOCHBERG: PValueAdjustment
VERDICT_UNSPECIFIED: Verdict
VERDICT_NOT_ENOUGH_DATA: Verdict
VERDICT_NO_DETECTABLE_EFFECT: Verdict
VERDICT_BETTER: Verdict
VERDICT_WORSE: Verdict
VERDICT_GUARDRAIL_BREACHED: Verdict

class Variant(_message.Message):
    __slots__ = ("name", "weight")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    name: str
    weight: float
    def __init__(self, name: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...

class Experiment(_message.Message):
    __slots__ = ("id", "name", "description", "unit", "variants", "outcome_metric", "create_time", "salt", "status", "hypothesis", "start_time", "end_time", "metrics", "sequential_testing", "sequential_tuning_parameter")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_METRIC_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SALT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HYPOTHESIS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_TESTING_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_TUNING_PARAMETER_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    unit: ExperimentUnit
    variants: _containers.RepeatedCompositeFieldContainer[Variant]
    outcome_metric: str
    create_time: _timestamp_pb2.Timestamp
    salt: str
    status: ExperimentStatus
    hypothesis: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    metrics: _containers.RepeatedCompositeFieldContainer[ExperimentMetric]
    sequential_testing: bool
    sequential_tuning_parameter: float
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., unit: _Optional[_Union[ExperimentUnit, str]] = ..., variants: _Optional[_Iterable[_Union[Variant, _Mapping]]] = ..., outcome_metric: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., salt: _Optional[str] = ..., status: _Optional[_Union[ExperimentStatus, str]] = ..., hypothesis: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metrics: _Optional[_Iterable[_Union[ExperimentMetric, _Mapping]]] = ..., sequential_testing: _Optional[bool] = ..., sequential_tuning_parameter: _Optional[float] = ...) -> None: ...

class ExperimentMetric(_message.Message):
    __slots__ = ("name", "role", "kind", "aggregation", "denominator", "direction", "pre_period_days", "minimum_effect", "prior_mean", "prior_stddev")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    PRE_PERIOD_DAYS_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_EFFECT_FIELD_NUMBER: _ClassVar[int]
    PRIOR_MEAN_FIELD_NUMBER: _ClassVar[int]
    PRIOR_STDDEV_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: MetricRole
    kind: MetricKind
    aggregation: MetricAggregation
    denominator: str
    direction: MetricDirection
    pre_period_days: int
    minimum_effect: float
    prior_mean: float
    prior_stddev: float
    def __init__(self, name: _Optional[str] = ..., role: _Optional[_Union[MetricRole, str]] = ..., kind: _Optional[_Union[MetricKind, str]] = ..., aggregation: _Optional[_Union[MetricAggregation, str]] = ..., denominator: _Optional[str] = ..., direction: _Optional[_Union[MetricDirection, str]] = ..., pre_period_days: _Optional[int] = ..., minimum_effect: _Optional[float] = ..., prior_mean: _Optional[float] = ..., prior_stddev: _Optional[float] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("experiment_id", "unit_id", "variant", "assign_time", "project_id")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    ASSIGN_TIME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    unit_id: str
    variant: str
    assign_time: _timestamp_pb2.Timestamp
    project_id: str
    def __init__(self, experiment_id: _Optional[str] = ..., unit_id: _Optional[str] = ..., variant: _Optional[str] = ..., assign_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., project_id: _Optional[str] = ...) -> None: ...

class VariantResult(_message.Message):
    __slots__ = ("variant", "units", "units_with_outcome", "mean", "stddev", "expected_share")
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    UNITS_WITH_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STDDEV_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHARE_FIELD_NUMBER: _ClassVar[int]
    variant: str
    units: int
    units_with_outcome: int
    mean: float
    stddev: float
    expected_share: float
    def __init__(self, variant: _Optional[str] = ..., units: _Optional[int] = ..., units_with_outcome: _Optional[int] = ..., mean: _Optional[float] = ..., stddev: _Optional[float] = ..., expected_share: _Optional[float] = ...) -> None: ...

class VariantComparison(_message.Message):
    __slots__ = ("variant", "control", "difference", "relative_difference", "ci_low", "ci_high", "p_value", "effect_size", "significant", "t_statistic", "degrees_of_freedom", "valid")
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    EFFECT_SIZE_FIELD_NUMBER: _ClassVar[int]
    SIGNIFICANT_FIELD_NUMBER: _ClassVar[int]
    T_STATISTIC_FIELD_NUMBER: _ClassVar[int]
    DEGREES_OF_FREEDOM_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    variant: str
    control: str
    difference: float
    relative_difference: float
    ci_low: float
    ci_high: float
    p_value: float
    effect_size: float
    significant: bool
    t_statistic: float
    degrees_of_freedom: float
    valid: bool
    def __init__(self, variant: _Optional[str] = ..., control: _Optional[str] = ..., difference: _Optional[float] = ..., relative_difference: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ..., p_value: _Optional[float] = ..., effect_size: _Optional[float] = ..., significant: _Optional[bool] = ..., t_statistic: _Optional[float] = ..., degrees_of_freedom: _Optional[float] = ..., valid: _Optional[bool] = ...) -> None: ...

class SampleRatioCheck(_message.Message):
    __slots__ = ("chi_square", "p_value", "mismatch", "degrees_of_freedom", "checked", "min_units")
    CHI_SQUARE_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    MISMATCH_FIELD_NUMBER: _ClassVar[int]
    DEGREES_OF_FREEDOM_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    MIN_UNITS_FIELD_NUMBER: _ClassVar[int]
    chi_square: float
    p_value: float
    mismatch: bool
    degrees_of_freedom: int
    checked: bool
    min_units: int
    def __init__(self, chi_square: _Optional[float] = ..., p_value: _Optional[float] = ..., mismatch: _Optional[bool] = ..., degrees_of_freedom: _Optional[int] = ..., checked: _Optional[bool] = ..., min_units: _Optional[int] = ...) -> None: ...

class ExperimentAnalysis(_message.Message):
    __slots__ = ("experiment_id", "outcome_metric", "results", "comparisons", "sample_ratio", "confidence_level", "end_time", "metrics", "sequential", "p_value_adjustment")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_METRIC_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATIO_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    outcome_metric: str
    results: _containers.RepeatedCompositeFieldContainer[VariantResult]
    comparisons: _containers.RepeatedCompositeFieldContainer[VariantComparison]
    sample_ratio: SampleRatioCheck
    confidence_level: float
    end_time: _timestamp_pb2.Timestamp
    metrics: _containers.RepeatedCompositeFieldContainer[MetricAnalysis]
    sequential: bool
    p_value_adjustment: PValueAdjustment
    def __init__(self, experiment_id: _Optional[str] = ..., outcome_metric: _Optional[str] = ..., results: _Optional[_Iterable[_Union[VariantResult, _Mapping]]] = ..., comparisons: _Optional[_Iterable[_Union[VariantComparison, _Mapping]]] = ..., sample_ratio: _Optional[_Union[SampleRatioCheck, _Mapping]] = ..., confidence_level: _Optional[float] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metrics: _Optional[_Iterable[_Union[MetricAnalysis, _Mapping]]] = ..., sequential: _Optional[bool] = ..., p_value_adjustment: _Optional[_Union[PValueAdjustment, str]] = ...) -> None: ...

class Effect(_message.Message):
    __slots__ = ("estimate", "stderr", "ci_low", "ci_high", "p_value", "p_value_holm", "p_value_bh")
    ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_HOLM_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_BH_FIELD_NUMBER: _ClassVar[int]
    estimate: float
    stderr: float
    ci_low: float
    ci_high: float
    p_value: float
    p_value_holm: float
    p_value_bh: float
    def __init__(self, estimate: _Optional[float] = ..., stderr: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ..., p_value: _Optional[float] = ..., p_value_holm: _Optional[float] = ..., p_value_bh: _Optional[float] = ...) -> None: ...

class MetricVariantResult(_message.Message):
    __slots__ = ("variant", "units", "units_with_value", "mean", "stddev", "adjusted_mean", "projects")
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    UNITS_WITH_VALUE_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STDDEV_FIELD_NUMBER: _ClassVar[int]
    ADJUSTED_MEAN_FIELD_NUMBER: _ClassVar[int]
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    variant: str
    units: int
    units_with_value: int
    mean: float
    stddev: float
    adjusted_mean: float
    projects: int
    def __init__(self, variant: _Optional[str] = ..., units: _Optional[int] = ..., units_with_value: _Optional[int] = ..., mean: _Optional[float] = ..., stddev: _Optional[float] = ..., adjusted_mean: _Optional[float] = ..., projects: _Optional[int] = ...) -> None: ...

class MetricComparison(_message.Message):
    __slots__ = ("variant", "control", "valid", "note", "absolute", "relative", "verdict", "verdict_reason", "bayesian", "power", "variance_reduction", "cuped_theta")
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ABSOLUTE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    VERDICT_REASON_FIELD_NUMBER: _ClassVar[int]
    BAYESIAN_FIELD_NUMBER: _ClassVar[int]
    POWER_FIELD_NUMBER: _ClassVar[int]
    VARIANCE_REDUCTION_FIELD_NUMBER: _ClassVar[int]
    CUPED_THETA_FIELD_NUMBER: _ClassVar[int]
    variant: str
    control: str
    valid: bool
    note: str
    absolute: Effect
    relative: Effect
    verdict: Verdict
    verdict_reason: str
    bayesian: BayesianResult
    power: PowerResult
    variance_reduction: float
    cuped_theta: float
    def __init__(self, variant: _Optional[str] = ..., control: _Optional[str] = ..., valid: _Optional[bool] = ..., note: _Optional[str] = ..., absolute: _Optional[_Union[Effect, _Mapping]] = ..., relative: _Optional[_Union[Effect, _Mapping]] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., verdict_reason: _Optional[str] = ..., bayesian: _Optional[_Union[BayesianResult, _Mapping]] = ..., power: _Optional[_Union[PowerResult, _Mapping]] = ..., variance_reduction: _Optional[float] = ..., cuped_theta: _Optional[float] = ...) -> None: ...

class BayesianResult(_message.Message):
    __slots__ = ("chance_to_beat_control", "expected_loss", "control_expected_loss", "ci_low", "ci_high")
    CHANCE_TO_BEAT_CONTROL_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_LOSS_FIELD_NUMBER: _ClassVar[int]
    CONTROL_EXPECTED_LOSS_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    chance_to_beat_control: float
    expected_loss: float
    control_expected_loss: float
    ci_low: float
    ci_high: float
    def __init__(self, chance_to_beat_control: _Optional[float] = ..., expected_loss: _Optional[float] = ..., control_expected_loss: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ...) -> None: ...

class PowerResult(_message.Message):
    __slots__ = ("mde", "relative_mde", "power")
    MDE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_MDE_FIELD_NUMBER: _ClassVar[int]
    POWER_FIELD_NUMBER: _ClassVar[int]
    mde: float
    relative_mde: float
    power: float
    def __init__(self, mde: _Optional[float] = ..., relative_mde: _Optional[float] = ..., power: _Optional[float] = ...) -> None: ...

class MetricAnalysis(_message.Message):
    __slots__ = ("metric", "results", "comparisons")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    metric: ExperimentMetric
    results: _containers.RepeatedCompositeFieldContainer[MetricVariantResult]
    comparisons: _containers.RepeatedCompositeFieldContainer[MetricComparison]
    def __init__(self, metric: _Optional[_Union[ExperimentMetric, _Mapping]] = ..., results: _Optional[_Iterable[_Union[MetricVariantResult, _Mapping]]] = ..., comparisons: _Optional[_Iterable[_Union[MetricComparison, _Mapping]]] = ...) -> None: ...
