import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from maestro.prediction.v1 import experiment_pb2 as _experiment_pb2
from maestro.prediction.v1 import meta_model_pb2 as _meta_model_pb2
from maestro.registry.v1 import project_pb2 as _project_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TeamRanking(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEAM_RANKING_UNSPECIFIED: _ClassVar[TeamRanking]
    TEAM_RANKING_PREDICTED_SUCCESS: _ClassVar[TeamRanking]
    TEAM_RANKING_SKILL_COVERAGE_AND_EXPERIENCE: _ClassVar[TeamRanking]
TEAM_RANKING_UNSPECIFIED: TeamRanking
TEAM_RANKING_PREDICTED_SUCCESS: TeamRanking
TEAM_RANKING_SKILL_COVERAGE_AND_EXPERIENCE: TeamRanking

class TrainMetaModelRequest(_message.Message):
    __slots__ = ("observation_days", "cv_folds", "cv_repeats", "random_seed", "training_set", "serve_without_skill")
    OBSERVATION_DAYS_FIELD_NUMBER: _ClassVar[int]
    CV_FOLDS_FIELD_NUMBER: _ClassVar[int]
    CV_REPEATS_FIELD_NUMBER: _ClassVar[int]
    RANDOM_SEED_FIELD_NUMBER: _ClassVar[int]
    TRAINING_SET_FIELD_NUMBER: _ClassVar[int]
    SERVE_WITHOUT_SKILL_FIELD_NUMBER: _ClassVar[int]
    observation_days: int
    cv_folds: int
    cv_repeats: int
    random_seed: int
    training_set: TrainingSetSelector
    serve_without_skill: bool
    def __init__(self, observation_days: _Optional[int] = ..., cv_folds: _Optional[int] = ..., cv_repeats: _Optional[int] = ..., random_seed: _Optional[int] = ..., training_set: _Optional[_Union[TrainingSetSelector, _Mapping]] = ..., serve_without_skill: _Optional[bool] = ...) -> None: ...

class TrainingSetSelector(_message.Message):
    __slots__ = ("labels", "project_ids", "started_after", "started_before")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AFTER_FIELD_NUMBER: _ClassVar[int]
    STARTED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.ScalarMap[str, str]
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    started_after: _timestamp_pb2.Timestamp
    started_before: _timestamp_pb2.Timestamp
    def __init__(self, labels: _Optional[_Mapping[str, str]] = ..., project_ids: _Optional[_Iterable[str]] = ..., started_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TrainMetaModelResponse(_message.Message):
    __slots__ = ("progress", "model")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    progress: _meta_model_pb2.TrainingProgress
    model: _meta_model_pb2.MetaModel
    def __init__(self, progress: _Optional[_Union[_meta_model_pb2.TrainingProgress, _Mapping]] = ..., model: _Optional[_Union[_meta_model_pb2.MetaModel, _Mapping]] = ...) -> None: ...

class GetMetaModelRequest(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class GetMetaModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: _meta_model_pb2.MetaModel
    def __init__(self, model: _Optional[_Union[_meta_model_pb2.MetaModel, _Mapping]] = ...) -> None: ...

class ListMetaModelsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMetaModelsResponse(_message.Message):
    __slots__ = ("models", "next_page_token")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_meta_model_pb2.MetaModel]
    next_page_token: str
    def __init__(self, models: _Optional[_Iterable[_Union[_meta_model_pb2.MetaModel, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PredictSuccessRequest(_message.Message):
    __slots__ = ("project_id", "model_version")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    model_version: int
    def __init__(self, project_id: _Optional[str] = ..., model_version: _Optional[int] = ...) -> None: ...

class PredictSuccessResponse(_message.Message):
    __slots__ = ("prediction",)
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    prediction: _meta_model_pb2.Prediction
    def __init__(self, prediction: _Optional[_Union[_meta_model_pb2.Prediction, _Mapping]] = ...) -> None: ...

class ListPredictionsRequest(_message.Message):
    __slots__ = ("project_id", "page_size", "page_token")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    page_size: int
    page_token: str
    def __init__(self, project_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPredictionsResponse(_message.Message):
    __slots__ = ("predictions", "next_page_token")
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    predictions: _containers.RepeatedCompositeFieldContainer[_meta_model_pb2.Prediction]
    next_page_token: str
    def __init__(self, predictions: _Optional[_Iterable[_Union[_meta_model_pb2.Prediction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("person_id", "display_name", "role", "years_experience", "skills", "availability")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    YEARS_EXPERIENCE_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    display_name: str
    role: _project_pb2.TeamRole
    years_experience: float
    skills: _containers.RepeatedScalarFieldContainer[str]
    availability: float
    def __init__(self, person_id: _Optional[str] = ..., display_name: _Optional[str] = ..., role: _Optional[_Union[_project_pb2.TeamRole, str]] = ..., years_experience: _Optional[float] = ..., skills: _Optional[_Iterable[str]] = ..., availability: _Optional[float] = ...) -> None: ...

class TeamLimits(_message.Message):
    __slots__ = ("min_size", "max_size", "max_total_allocation")
    MIN_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_TOTAL_ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    min_size: int
    max_size: int
    max_total_allocation: float
    def __init__(self, min_size: _Optional[int] = ..., max_size: _Optional[int] = ..., max_total_allocation: _Optional[float] = ...) -> None: ...

class RecommendTeamRequest(_message.Message):
    __slots__ = ("project_id", "candidates", "limits", "max_results", "model_version", "directory_pool")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_POOL_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    limits: TeamLimits
    max_results: int
    model_version: int
    directory_pool: DirectoryPool
    def __init__(self, project_id: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., limits: _Optional[_Union[TeamLimits, _Mapping]] = ..., max_results: _Optional[int] = ..., model_version: _Optional[int] = ..., directory_pool: _Optional[_Union[DirectoryPool, _Mapping]] = ...) -> None: ...

class DirectoryPool(_message.Message):
    __slots__ = ("skills", "max_candidates")
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    MAX_CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    skills: _containers.RepeatedScalarFieldContainer[str]
    max_candidates: int
    def __init__(self, skills: _Optional[_Iterable[str]] = ..., max_candidates: _Optional[int] = ...) -> None: ...

class CandidateAvailability(_message.Message):
    __slots__ = ("person_id", "requested", "allocated_elsewhere", "available", "excluded", "projects")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_ELSEWHERE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_FIELD_NUMBER: _ClassVar[int]
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    requested: float
    allocated_elsewhere: float
    available: float
    excluded: bool
    projects: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, person_id: _Optional[str] = ..., requested: _Optional[float] = ..., allocated_elsewhere: _Optional[float] = ..., available: _Optional[float] = ..., excluded: _Optional[bool] = ..., projects: _Optional[_Iterable[str]] = ...) -> None: ...

class TeamProposal(_message.Message):
    __slots__ = ("members", "probability", "skill_coverage", "score", "reasons", "extrapolation", "extrapolation_reasons")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    SKILL_COVERAGE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    EXTRAPOLATION_FIELD_NUMBER: _ClassVar[int]
    EXTRAPOLATION_REASONS_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[_project_pb2.TeamMember]
    probability: float
    skill_coverage: float
    score: float
    reasons: _containers.RepeatedScalarFieldContainer[str]
    extrapolation: bool
    extrapolation_reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, members: _Optional[_Iterable[_Union[_project_pb2.TeamMember, _Mapping]]] = ..., probability: _Optional[float] = ..., skill_coverage: _Optional[float] = ..., score: _Optional[float] = ..., reasons: _Optional[_Iterable[str]] = ..., extrapolation: _Optional[bool] = ..., extrapolation_reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class RecommendTeamResponse(_message.Message):
    __slots__ = ("current_team", "proposals", "model_version", "ranking", "ranking_reason", "observation_window_open", "availability")
    CURRENT_TEAM_FIELD_NUMBER: _ClassVar[int]
    PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RANKING_FIELD_NUMBER: _ClassVar[int]
    RANKING_REASON_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_WINDOW_OPEN_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    current_team: TeamProposal
    proposals: _containers.RepeatedCompositeFieldContainer[TeamProposal]
    model_version: int
    ranking: TeamRanking
    ranking_reason: str
    observation_window_open: bool
    availability: _containers.RepeatedCompositeFieldContainer[CandidateAvailability]
    def __init__(self, current_team: _Optional[_Union[TeamProposal, _Mapping]] = ..., proposals: _Optional[_Iterable[_Union[TeamProposal, _Mapping]]] = ..., model_version: _Optional[int] = ..., ranking: _Optional[_Union[TeamRanking, str]] = ..., ranking_reason: _Optional[str] = ..., observation_window_open: _Optional[bool] = ..., availability: _Optional[_Iterable[_Union[CandidateAvailability, _Mapping]]] = ...) -> None: ...

class CreateExperimentRequest(_message.Message):
    __slots__ = ("experiment", "request_id")
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    experiment: _experiment_pb2.Experiment
    request_id: str
    def __init__(self, experiment: _Optional[_Union[_experiment_pb2.Experiment, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: _experiment_pb2.Experiment
    def __init__(self, experiment: _Optional[_Union[_experiment_pb2.Experiment, _Mapping]] = ...) -> None: ...

class GetExperimentRequest(_message.Message):
    __slots__ = ("experiment_id",)
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    def __init__(self, experiment_id: _Optional[str] = ...) -> None: ...

class GetExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: _experiment_pb2.Experiment
    def __init__(self, experiment: _Optional[_Union[_experiment_pb2.Experiment, _Mapping]] = ...) -> None: ...

class AssignVariantRequest(_message.Message):
    __slots__ = ("experiment_id", "unit_id", "project_id")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    unit_id: str
    project_id: str
    def __init__(self, experiment_id: _Optional[str] = ..., unit_id: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class AssignVariantResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: _experiment_pb2.Assignment
    def __init__(self, assignment: _Optional[_Union[_experiment_pb2.Assignment, _Mapping]] = ...) -> None: ...

class ListAssignmentsRequest(_message.Message):
    __slots__ = ("experiment_id", "variant", "page_size", "page_token")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    variant: str
    page_size: int
    page_token: str
    def __init__(self, experiment_id: _Optional[str] = ..., variant: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAssignmentsResponse(_message.Message):
    __slots__ = ("assignments", "next_page_token", "total_size")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[_experiment_pb2.Assignment]
    next_page_token: str
    total_size: int
    def __init__(self, assignments: _Optional[_Iterable[_Union[_experiment_pb2.Assignment, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class AnalyzeExperimentRequest(_message.Message):
    __slots__ = ("experiment_id", "confidence_level", "end_time", "p_value_adjustment", "srm_min_units")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    SRM_MIN_UNITS_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    confidence_level: float
    end_time: _timestamp_pb2.Timestamp
    p_value_adjustment: _experiment_pb2.PValueAdjustment
    srm_min_units: int
    def __init__(self, experiment_id: _Optional[str] = ..., confidence_level: _Optional[float] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., p_value_adjustment: _Optional[_Union[_experiment_pb2.PValueAdjustment, str]] = ..., srm_min_units: _Optional[int] = ...) -> None: ...

class ListExperimentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: _experiment_pb2.ExperimentStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[_experiment_pb2.ExperimentStatus, str]] = ...) -> None: ...

class ListExperimentsResponse(_message.Message):
    __slots__ = ("experiments", "next_page_token")
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    experiments: _containers.RepeatedCompositeFieldContainer[_experiment_pb2.Experiment]
    next_page_token: str
    def __init__(self, experiments: _Optional[_Iterable[_Union[_experiment_pb2.Experiment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class StopExperimentRequest(_message.Message):
    __slots__ = ("experiment_id",)
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    def __init__(self, experiment_id: _Optional[str] = ...) -> None: ...

class StopExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: _experiment_pb2.Experiment
    def __init__(self, experiment: _Optional[_Union[_experiment_pb2.Experiment, _Mapping]] = ...) -> None: ...

class AnalyzeExperimentResponse(_message.Message):
    __slots__ = ("analysis",)
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    analysis: _experiment_pb2.ExperimentAnalysis
    def __init__(self, analysis: _Optional[_Union[_experiment_pb2.ExperimentAnalysis, _Mapping]] = ...) -> None: ...
