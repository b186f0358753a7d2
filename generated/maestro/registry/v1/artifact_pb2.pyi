import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ArtifactType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ARTIFACT_TYPE_UNSPECIFIED: _ClassVar[ArtifactType]
    ARTIFACT_TYPE_MODEL: _ClassVar[ArtifactType]
    ARTIFACT_TYPE_DATASET: _ClassVar[ArtifactType]
    ARTIFACT_TYPE_FEATURE_PIPELINE: _ClassVar[ArtifactType]
    ARTIFACT_TYPE_NOTEBOOK: _ClassVar[ArtifactType]
    ARTIFACT_TYPE_CODE: _ClassVar[ArtifactType]
    ARTIFACT_TYPE_CONFIG: _ClassVar[ArtifactType]
    ARTIFACT_TYPE_PROMPT: _ClassVar[ArtifactType]
    ARTIFACT_TYPE_REPORT: _ClassVar[ArtifactType]
    ARTIFACT_TYPE_OTHER: _ClassVar[ArtifactType]

class UsageOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_OUTCOME_UNSPECIFIED: _ClassVar[UsageOutcome]
    USAGE_OUTCOME_HELPFUL: _ClassVar[UsageOutcome]
    USAGE_OUTCOME_NEUTRAL: _ClassVar[UsageOutcome]
    USAGE_OUTCOME_HARMFUL: _ClassVar[UsageOutcome]
    USAGE_OUTCOME_UNKNOWN: _ClassVar[UsageOutcome]

class RecommendationReasonKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECOMMENDATION_REASON_KIND_UNSPECIFIED: _ClassVar[RecommendationReasonKind]
    RECOMMENDATION_REASON_KIND_USED_BY_SIMILAR_PROJECTS: _ClassVar[RecommendationReasonKind]
    RECOMMENDATION_REASON_KIND_MATCHING_TAGS: _ClassVar[RecommendationReasonKind]
    RECOMMENDATION_REASON_KIND_HIGH_IMPACT: _ClassVar[RecommendationReasonKind]
    RECOMMENDATION_REASON_KIND_CO_USED: _ClassVar[RecommendationReasonKind]
    RECOMMENDATION_REASON_KIND_WELL_REVIEWED: _ClassVar[RecommendationReasonKind]
ARTIFACT_TYPE_UNSPECIFIED: ArtifactType
ARTIFACT_TYPE_MODEL: ArtifactType
ARTIFACT_TYPE_DATASET: ArtifactType
ARTIFACT_TYPE_FEATURE_PIPELINE: ArtifactType
ARTIFACT_TYPE_NOTEBOOK: ArtifactType
ARTIFACT_TYPE_CODE: ArtifactType
ARTIFACT_TYPE_CONFIG: ArtifactType
ARTIFACT_TYPE_PROMPT: ArtifactType
ARTIFACT_TYPE_REPORT: ArtifactType
ARTIFACT_TYPE_OTHER: ArtifactType
USAGE_OUTCOME_UNSPECIFIED: UsageOutcome
USAGE_OUTCOME_HELPFUL: UsageOutcome
USAGE_OUTCOME_NEUTRAL: UsageOutcome
USAGE_OUTCOME_HARMFUL: UsageOutcome
USAGE_OUTCOME_UNKNOWN: UsageOutcome
RECOMMENDATION_REASON_KIND_UNSPECIFIED: RecommendationReasonKind
RECOMMENDATION_REASON_KIND_USED_BY_SIMILAR_PROJECTS: RecommendationReasonKind
RECOMMENDATION_REASON_KIND_MATCHING_TAGS: RecommendationReasonKind
RECOMMENDATION_REASON_KIND_HIGH_IMPACT: RecommendationReasonKind
RECOMMENDATION_REASON_KIND_CO_USED: RecommendationReasonKind
RECOMMENDATION_REASON_KIND_WELL_REVIEWED: RecommendationReasonKind

class Artifact(_message.Message):
    __slots__ = ("id", "name", "version", "type", "description", "tags", "origin_project_id", "creator", "metadata", "content_sha256", "size_bytes", "storage_uri", "usage_count", "impact_score", "create_time", "update_time", "delete_time", "review_average", "review_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STORAGE_URI_FIELD_NUMBER: _ClassVar[int]
    USAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    IMPACT_SCORE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELETE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVIEW_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    REVIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    version: str
    type: ArtifactType
    description: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    origin_project_id: str
    creator: str
    metadata: _struct_pb2.Struct
    content_sha256: str
    size_bytes: int
    storage_uri: str
    usage_count: int
    impact_score: float
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    delete_time: _timestamp_pb2.Timestamp
    review_average: float
    review_count: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., type: _Optional[_Union[ArtifactType, str]] = ..., description: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., origin_project_id: _Optional[str] = ..., creator: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., content_sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ..., storage_uri: _Optional[str] = ..., usage_count: _Optional[int] = ..., impact_score: _Optional[float] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., review_average: _Optional[float] = ..., review_count: _Optional[int] = ...) -> None: ...

class ArtifactUsage(_message.Message):
    __slots__ = ("id", "artifact_id", "project_id", "user", "purpose", "outcome", "use_time", "create_time", "impact")
    ID_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    USE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    IMPACT_FIELD_NUMBER: _ClassVar[int]
    id: str
    artifact_id: str
    project_id: str
    user: str
    purpose: str
    outcome: UsageOutcome
    use_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    impact: UsageImpact
    def __init__(self, id: _Optional[str] = ..., artifact_id: _Optional[str] = ..., project_id: _Optional[str] = ..., user: _Optional[str] = ..., purpose: _Optional[str] = ..., outcome: _Optional[_Union[UsageOutcome, str]] = ..., use_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., impact: _Optional[_Union[UsageImpact, _Mapping]] = ...) -> None: ...

class UsageImpact(_message.Message):
    __slots__ = ("outcome_weight", "project_factor", "decay", "contribution", "points")
    OUTCOME_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FACTOR_FIELD_NUMBER: _ClassVar[int]
    DECAY_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    outcome_weight: float
    project_factor: float
    decay: float
    contribution: float
    points: float
    def __init__(self, outcome_weight: _Optional[float] = ..., project_factor: _Optional[float] = ..., decay: _Optional[float] = ..., contribution: _Optional[float] = ..., points: _Optional[float] = ...) -> None: ...

class RecommendationReason(_message.Message):
    __slots__ = ("kind", "detail", "weight")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    kind: RecommendationReasonKind
    detail: str
    weight: float
    def __init__(self, kind: _Optional[_Union[RecommendationReasonKind, str]] = ..., detail: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...

class ArtifactRecommendation(_message.Message):
    __slots__ = ("artifact", "score", "reasons")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    artifact: Artifact
    score: float
    reasons: _containers.RepeatedCompositeFieldContainer[RecommendationReason]
    def __init__(self, artifact: _Optional[_Union[Artifact, _Mapping]] = ..., score: _Optional[float] = ..., reasons: _Optional[_Iterable[_Union[RecommendationReason, _Mapping]]] = ...) -> None: ...
