import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProjectStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROJECT_STATUS_UNSPECIFIED: _ClassVar[ProjectStatus]
    PROJECT_STATUS_PLANNED: _ClassVar[ProjectStatus]
    PROJECT_STATUS_ACTIVE: _ClassVar[ProjectStatus]
    PROJECT_STATUS_COMPLETED: _ClassVar[ProjectStatus]
    PROJECT_STATUS_CANCELLED: _ClassVar[ProjectStatus]

class TeamRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEAM_ROLE_UNSPECIFIED: _ClassVar[TeamRole]
    TEAM_ROLE_DATA_SCIENTIST: _ClassVar[TeamRole]
    TEAM_ROLE_ML_ENGINEER: _ClassVar[TeamRole]
    TEAM_ROLE_DATA_ENGINEER: _ClassVar[TeamRole]
    TEAM_ROLE_SOFTWARE_ENGINEER: _ClassVar[TeamRole]
    TEAM_ROLE_MLOPS_ENGINEER: _ClassVar[TeamRole]
    TEAM_ROLE_RESEARCHER: _ClassVar[TeamRole]
    TEAM_ROLE_PRODUCT_MANAGER: _ClassVar[TeamRole]
    TEAM_ROLE_DOMAIN_EXPERT: _ClassVar[TeamRole]
    TEAM_ROLE_ENGINEERING_MANAGER: _ClassVar[TeamRole]
    TEAM_ROLE_ANALYST: _ClassVar[TeamRole]
    TEAM_ROLE_OTHER: _ClassVar[TeamRole]
PROJECT_STATUS_UNSPECIFIED: ProjectStatus
PROJECT_STATUS_PLANNED: ProjectStatus
PROJECT_STATUS_ACTIVE: ProjectStatus
PROJECT_STATUS_COMPLETED: ProjectStatus
PROJECT_STATUS_CANCELLED: ProjectStatus
TEAM_ROLE_UNSPECIFIED: TeamRole
TEAM_ROLE_DATA_SCIENTIST: TeamRole
TEAM_ROLE_ML_ENGINEER: TeamRole
TEAM_ROLE_DATA_ENGINEER: TeamRole
TEAM_ROLE_SOFTWARE_ENGINEER: TeamRole
TEAM_ROLE_MLOPS_ENGINEER: TeamRole
TEAM_ROLE_RESEARCHER: TeamRole
TEAM_ROLE_PRODUCT_MANAGER: TeamRole
TEAM_ROLE_DOMAIN_EXPERT: TeamRole
TEAM_ROLE_ENGINEERING_MANAGER: TeamRole
TEAM_ROLE_ANALYST: TeamRole
TEAM_ROLE_OTHER: TeamRole

class Project(_message.Message):
    __slots__ = ("id", "name", "description", "status", "labels", "repo_url", "mlflow_experiment_id", "start_time", "end_time", "success", "team", "create_time", "update_time", "etag")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    REPO_URL_FIELD_NUMBER: _ClassVar[int]
    MLFLOW_EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    status: ProjectStatus
    labels: _containers.ScalarMap[str, str]
    repo_url: str
    mlflow_experiment_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    success: ProjectSuccess
    team: _containers.RepeatedCompositeFieldContainer[TeamMember]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., status: _Optional[_Union[ProjectStatus, str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., repo_url: _Optional[str] = ..., mlflow_experiment_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., success: _Optional[_Union[ProjectSuccess, _Mapping]] = ..., team: _Optional[_Iterable[_Union[TeamMember, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class ProjectSuccess(_message.Message):
    __slots__ = ("succeeded", "score", "time_to_production", "headline_metric", "business_impact", "notes", "record_time")
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_PRODUCTION_FIELD_NUMBER: _ClassVar[int]
    HEADLINE_METRIC_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_IMPACT_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    succeeded: bool
    score: float
    time_to_production: _duration_pb2.Duration
    headline_metric: ModelMetric
    business_impact: str
    notes: str
    record_time: _timestamp_pb2.Timestamp
    def __init__(self, succeeded: _Optional[bool] = ..., score: _Optional[float] = ..., time_to_production: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., headline_metric: _Optional[_Union[ModelMetric, _Mapping]] = ..., business_impact: _Optional[str] = ..., notes: _Optional[str] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ModelMetric(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: float
    def __init__(self, name: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...

class TeamMember(_message.Message):
    __slots__ = ("id", "project_id", "person_id", "display_name", "role", "years_experience", "skills", "allocation", "join_time", "leave_time", "directory_person_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    YEARS_EXPERIENCE_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    JOIN_TIME_FIELD_NUMBER: _ClassVar[int]
    LEAVE_TIME_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    person_id: str
    display_name: str
    role: TeamRole
    years_experience: float
    skills: _containers.RepeatedScalarFieldContainer[str]
    allocation: float
    join_time: _timestamp_pb2.Timestamp
    leave_time: _timestamp_pb2.Timestamp
    directory_person_id: str
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., person_id: _Optional[str] = ..., display_name: _Optional[str] = ..., role: _Optional[_Union[TeamRole, str]] = ..., years_experience: _Optional[float] = ..., skills: _Optional[_Iterable[str]] = ..., allocation: _Optional[float] = ..., join_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., leave_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., directory_person_id: _Optional[str] = ...) -> None: ...
