import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_KIND_UNSPECIFIED: _ClassVar[ModelKind]
    MODEL_KIND_LOGISTIC_REGRESSION: _ClassVar[ModelKind]
    MODEL_KIND_GRADIENT_BOOSTING: _ClassVar[ModelKind]

class LeftOutReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEFT_OUT_REASON_UNSPECIFIED: _ClassVar[LeftOutReason]
    LEFT_OUT_REASON_NO_OUTCOME: _ClassVar[LeftOutReason]
    LEFT_OUT_REASON_STILL_ACTIVE: _ClassVar[LeftOutReason]
    LEFT_OUT_REASON_WINDOW_OPEN: _ClassVar[LeftOutReason]
    LEFT_OUT_REASON_ENDED_BEFORE_WINDOW_CLOSED: _ClassVar[LeftOutReason]
MODEL_KIND_UNSPECIFIED: ModelKind
MODEL_KIND_LOGISTIC_REGRESSION: ModelKind
MODEL_KIND_GRADIENT_BOOSTING: ModelKind
LEFT_OUT_REASON_UNSPECIFIED: LeftOutReason
LEFT_OUT_REASON_NO_OUTCOME: LeftOutReason
LEFT_OUT_REASON_STILL_ACTIVE: LeftOutReason
LEFT_OUT_REASON_WINDOW_OPEN: LeftOutReason
LEFT_OUT_REASON_ENDED_BEFORE_WINDOW_CLOSED: LeftOutReason

class CvScores(_message.Message):
    __slots__ = ("roc_auc", "roc_auc_std", "brier", "accuracy", "baseline_accuracy", "baseline_brier", "folds", "repeats")
    ROC_AUC_FIELD_NUMBER: _ClassVar[int]
    ROC_AUC_STD_FIELD_NUMBER: _ClassVar[int]
    BRIER_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    BASELINE_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    BASELINE_BRIER_FIELD_NUMBER: _ClassVar[int]
    FOLDS_FIELD_NUMBER: _ClassVar[int]
    REPEATS_FIELD_NUMBER: _ClassVar[int]
    roc_auc: float
    roc_auc_std: float
    brier: float
    accuracy: float
    baseline_accuracy: float
    baseline_brier: float
    folds: int
    repeats: int
    def __init__(self, roc_auc: _Optional[float] = ..., roc_auc_std: _Optional[float] = ..., brier: _Optional[float] = ..., accuracy: _Optional[float] = ..., baseline_accuracy: _Optional[float] = ..., baseline_brier: _Optional[float] = ..., folds: _Optional[int] = ..., repeats: _Optional[int] = ...) -> None: ...

class RealisedScores(_message.Message):
    __slots__ = ("projects", "roc_auc", "brier", "accuracy")
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    ROC_AUC_FIELD_NUMBER: _ClassVar[int]
    BRIER_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    projects: int
    roc_auc: float
    brier: float
    accuracy: float
    def __init__(self, projects: _Optional[int] = ..., roc_auc: _Optional[float] = ..., brier: _Optional[float] = ..., accuracy: _Optional[float] = ...) -> None: ...

class FeatureInfo(_message.Message):
    __slots__ = ("name", "importance", "training_mean", "training_min", "training_max", "missing_fraction", "imputed_value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IMPORTANCE_FIELD_NUMBER: _ClassVar[int]
    TRAINING_MEAN_FIELD_NUMBER: _ClassVar[int]
    TRAINING_MIN_FIELD_NUMBER: _ClassVar[int]
    TRAINING_MAX_FIELD_NUMBER: _ClassVar[int]
    MISSING_FRACTION_FIELD_NUMBER: _ClassVar[int]
    IMPUTED_VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    importance: float
    training_mean: float
    training_min: float
    training_max: float
    missing_fraction: float
    imputed_value: float
    def __init__(self, name: _Optional[str] = ..., importance: _Optional[float] = ..., training_mean: _Optional[float] = ..., training_min: _Optional[float] = ..., training_max: _Optional[float] = ..., missing_fraction: _Optional[float] = ..., imputed_value: _Optional[float] = ...) -> None: ...

class CandidateScores(_message.Message):
    __slots__ = ("kind", "cv_scores", "name", "inner_roc_auc", "times_selected", "feature_count")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CV_SCORES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INNER_ROC_AUC_FIELD_NUMBER: _ClassVar[int]
    TIMES_SELECTED_FIELD_NUMBER: _ClassVar[int]
    FEATURE_COUNT_FIELD_NUMBER: _ClassVar[int]
    kind: ModelKind
    cv_scores: CvScores
    name: str
    inner_roc_auc: float
    times_selected: int
    feature_count: int
    def __init__(self, kind: _Optional[_Union[ModelKind, str]] = ..., cv_scores: _Optional[_Union[CvScores, _Mapping]] = ..., name: _Optional[str] = ..., inner_roc_auc: _Optional[float] = ..., times_selected: _Optional[int] = ..., feature_count: _Optional[int] = ...) -> None: ...

class TemporalValidation(_message.Message):
    __slots__ = ("roc_auc", "brier", "baseline_brier", "train_count", "test_count", "cut_time", "candidate", "note")
    ROC_AUC_FIELD_NUMBER: _ClassVar[int]
    BRIER_FIELD_NUMBER: _ClassVar[int]
    BASELINE_BRIER_FIELD_NUMBER: _ClassVar[int]
    TRAIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    TEST_COUNT_FIELD_NUMBER: _ClassVar[int]
    CUT_TIME_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    roc_auc: float
    brier: float
    baseline_brier: float
    train_count: int
    test_count: int
    cut_time: _timestamp_pb2.Timestamp
    candidate: str
    note: str
    def __init__(self, roc_auc: _Optional[float] = ..., brier: _Optional[float] = ..., baseline_brier: _Optional[float] = ..., train_count: _Optional[int] = ..., test_count: _Optional[int] = ..., cut_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., candidate: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class LearningCurvePoint(_message.Message):
    __slots__ = ("fraction", "training_projects", "roc_auc", "brier")
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    TRAINING_PROJECTS_FIELD_NUMBER: _ClassVar[int]
    ROC_AUC_FIELD_NUMBER: _ClassVar[int]
    BRIER_FIELD_NUMBER: _ClassVar[int]
    fraction: float
    training_projects: float
    roc_auc: float
    brier: float
    def __init__(self, fraction: _Optional[float] = ..., training_projects: _Optional[float] = ..., roc_auc: _Optional[float] = ..., brier: _Optional[float] = ...) -> None: ...

class Validation(_message.Message):
    __slots__ = ("roc_auc_low", "roc_auc_high", "baseline_lr", "temporal", "learning_curve")
    ROC_AUC_LOW_FIELD_NUMBER: _ClassVar[int]
    ROC_AUC_HIGH_FIELD_NUMBER: _ClassVar[int]
    BASELINE_LR_FIELD_NUMBER: _ClassVar[int]
    TEMPORAL_FIELD_NUMBER: _ClassVar[int]
    LEARNING_CURVE_FIELD_NUMBER: _ClassVar[int]
    roc_auc_low: float
    roc_auc_high: float
    baseline_lr: CvScores
    temporal: TemporalValidation
    learning_curve: _containers.RepeatedCompositeFieldContainer[LearningCurvePoint]
    def __init__(self, roc_auc_low: _Optional[float] = ..., roc_auc_high: _Optional[float] = ..., baseline_lr: _Optional[_Union[CvScores, _Mapping]] = ..., temporal: _Optional[_Union[TemporalValidation, _Mapping]] = ..., learning_curve: _Optional[_Iterable[_Union[LearningCurvePoint, _Mapping]]] = ...) -> None: ...

class LeftOut(_message.Message):
    __slots__ = ("reason", "count", "project_ids")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    reason: LeftOutReason
    count: int
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, reason: _Optional[_Union[LeftOutReason, str]] = ..., count: _Optional[int] = ..., project_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class TrainingSetReport(_message.Message):
    __slots__ = ("considered", "used", "left_out", "left_out_by_reason")
    CONSIDERED_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    LEFT_OUT_FIELD_NUMBER: _ClassVar[int]
    LEFT_OUT_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    considered: int
    used: int
    left_out: int
    left_out_by_reason: _containers.RepeatedCompositeFieldContainer[LeftOut]
    def __init__(self, considered: _Optional[int] = ..., used: _Optional[int] = ..., left_out: _Optional[int] = ..., left_out_by_reason: _Optional[_Iterable[_Union[LeftOut, _Mapping]]] = ...) -> None: ...

class MetaModel(_message.Message):
    __slots__ = ("version", "kind", "features", "cv_scores", "candidates", "training_set_size", "positive_count", "observation_days", "realised_scores", "mlflow_run_id", "mlflow_model_uri", "create_time", "candidate", "validation", "no_skill", "verdict", "training_set", "serves_by_default")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    CV_SCORES_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    TRAINING_SET_SIZE_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_COUNT_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_DAYS_FIELD_NUMBER: _ClassVar[int]
    REALISED_SCORES_FIELD_NUMBER: _ClassVar[int]
    MLFLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MLFLOW_MODEL_URI_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    NO_SKILL_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    TRAINING_SET_FIELD_NUMBER: _ClassVar[int]
    SERVES_BY_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    version: int
    kind: ModelKind
    features: _containers.RepeatedCompositeFieldContainer[FeatureInfo]
    cv_scores: CvScores
    candidates: _containers.RepeatedCompositeFieldContainer[CandidateScores]
    training_set_size: int
    positive_count: int
    observation_days: int
    realised_scores: RealisedScores
    mlflow_run_id: str
    mlflow_model_uri: str
    create_time: _timestamp_pb2.Timestamp
    candidate: str
    validation: Validation
    no_skill: bool
    verdict: str
    training_set: TrainingSetReport
    serves_by_default: bool
    def __init__(self, version: _Optional[int] = ..., kind: _Optional[_Union[ModelKind, str]] = ..., features: _Optional[_Iterable[_Union[FeatureInfo, _Mapping]]] = ..., cv_scores: _Optional[_Union[CvScores, _Mapping]] = ..., candidates: _Optional[_Iterable[_Union[CandidateScores, _Mapping]]] = ..., training_set_size: _Optional[int] = ..., positive_count: _Optional[int] = ..., observation_days: _Optional[int] = ..., realised_scores: _Optional[_Union[RealisedScores, _Mapping]] = ..., mlflow_run_id: _Optional[str] = ..., mlflow_model_uri: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., candidate: _Optional[str] = ..., validation: _Optional[_Union[Validation, _Mapping]] = ..., no_skill: _Optional[bool] = ..., verdict: _Optional[str] = ..., training_set: _Optional[_Union[TrainingSetReport, _Mapping]] = ..., serves_by_default: _Optional[bool] = ...) -> None: ...

class TrainingProgress(_message.Message):
    __slots__ = ("stage", "fraction", "message")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    stage: str
    fraction: float
    message: str
    def __init__(self, stage: _Optional[str] = ..., fraction: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class FeatureContribution(_message.Message):
    __slots__ = ("feature", "value", "missing", "contribution")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    feature: str
    value: float
    missing: bool
    contribution: float
    def __init__(self, feature: _Optional[str] = ..., value: _Optional[float] = ..., missing: _Optional[bool] = ..., contribution: _Optional[float] = ...) -> None: ...

class Prediction(_message.Message):
    __slots__ = ("id", "project_id", "model_version", "probability", "base_log_odds", "contributions", "extrapolation", "extrapolation_reasons", "observation_end_time", "create_time", "no_skill", "warnings")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    BASE_LOG_ODDS_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTIONS_FIELD_NUMBER: _ClassVar[int]
    EXTRAPOLATION_FIELD_NUMBER: _ClassVar[int]
    EXTRAPOLATION_REASONS_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_END_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    NO_SKILL_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    model_version: int
    probability: float
    base_log_odds: float
    contributions: _containers.RepeatedCompositeFieldContainer[FeatureContribution]
    extrapolation: bool
    extrapolation_reasons: _containers.RepeatedScalarFieldContainer[str]
    observation_end_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    no_skill: bool
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., model_version: _Optional[int] = ..., probability: _Optional[float] = ..., base_log_odds: _Optional[float] = ..., contributions: _Optional[_Iterable[_Union[FeatureContribution, _Mapping]]] = ..., extrapolation: _Optional[bool] = ..., extrapolation_reasons: _Optional[_Iterable[str]] = ..., observation_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., no_skill: _Optional[bool] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...
