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
EXPERIMENT_UNIT_UNSPECIFIED: ExperimentUnit
EXPERIMENT_UNIT_PROJECT: ExperimentUnit
EXPERIMENT_UNIT_TEAM: ExperimentUnit

class Variant(_message.Message):
    __slots__ = ("name", "weight")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    name: str
    weight: float
    def __init__(self, name: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...

class Experiment(_message.Message):
    __slots__ = ("id", "name", "description", "unit", "variants", "outcome_metric", "create_time", "salt")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_METRIC_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SALT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    unit: ExperimentUnit
    variants: _containers.RepeatedCompositeFieldContainer[Variant]
    outcome_metric: str
    create_time: _timestamp_pb2.Timestamp
    salt: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., unit: _Optional[_Union[ExperimentUnit, str]] = ..., variants: _Optional[_Iterable[_Union[Variant, _Mapping]]] = ..., outcome_metric: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., salt: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("chi_square", "p_value", "mismatch", "degrees_of_freedom")
    CHI_SQUARE_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    MISMATCH_FIELD_NUMBER: _ClassVar[int]
    DEGREES_OF_FREEDOM_FIELD_NUMBER: _ClassVar[int]
    chi_square: float
    p_value: float
    mismatch: bool
    degrees_of_freedom: int
    def __init__(self, chi_square: _Optional[float] = ..., p_value: _Optional[float] = ..., mismatch: _Optional[bool] = ..., degrees_of_freedom: _Optional[int] = ...) -> None: ...

class ExperimentAnalysis(_message.Message):
    __slots__ = ("experiment_id", "outcome_metric", "results", "comparisons", "sample_ratio", "confidence_level", "end_time")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_METRIC_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATIO_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    outcome_metric: str
    results: _containers.RepeatedCompositeFieldContainer[VariantResult]
    comparisons: _containers.RepeatedCompositeFieldContainer[VariantComparison]
    sample_ratio: SampleRatioCheck
    confidence_level: float
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, experiment_id: _Optional[str] = ..., outcome_metric: _Optional[str] = ..., results: _Optional[_Iterable[_Union[VariantResult, _Mapping]]] = ..., comparisons: _Optional[_Iterable[_Union[VariantComparison, _Mapping]]] = ..., sample_ratio: _Optional[_Union[SampleRatioCheck, _Mapping]] = ..., confidence_level: _Optional[float] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
