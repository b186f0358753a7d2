import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from maestro.registry.v1 import artifact_pb2 as _artifact_pb2
from maestro.registry.v1 import project_pb2 as _project_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContentUrlMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTENT_URL_METHOD_UNSPECIFIED: _ClassVar[ContentUrlMethod]
    CONTENT_URL_METHOD_GET: _ClassVar[ContentUrlMethod]
    CONTENT_URL_METHOD_PUT: _ClassVar[ContentUrlMethod]

class ArtifactOrderBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ARTIFACT_ORDER_BY_UNSPECIFIED: _ClassVar[ArtifactOrderBy]
    ARTIFACT_ORDER_BY_IMPACT: _ClassVar[ArtifactOrderBy]
    ARTIFACT_ORDER_BY_RECENCY: _ClassVar[ArtifactOrderBy]
    ARTIFACT_ORDER_BY_USAGE: _ClassVar[ArtifactOrderBy]
CONTENT_URL_METHOD_UNSPECIFIED: ContentUrlMethod
CONTENT_URL_METHOD_GET: ContentUrlMethod
CONTENT_URL_METHOD_PUT: ContentUrlMethod
ARTIFACT_ORDER_BY_UNSPECIFIED: ArtifactOrderBy
ARTIFACT_ORDER_BY_IMPACT: ArtifactOrderBy
ARTIFACT_ORDER_BY_RECENCY: ArtifactOrderBy
ARTIFACT_ORDER_BY_USAGE: ArtifactOrderBy

class CreateProjectRequest(_message.Message):
    __slots__ = ("project", "request_id")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    project: _project_pb2.Project
    request_id: str
    def __init__(self, project: _Optional[_Union[_project_pb2.Project, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: _project_pb2.Project
    def __init__(self, project: _Optional[_Union[_project_pb2.Project, _Mapping]] = ...) -> None: ...

class GetProjectRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class GetProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: _project_pb2.Project
    def __init__(self, project: _Optional[_Union[_project_pb2.Project, _Mapping]] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ("statuses", "labels", "page_size", "page_token")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedScalarFieldContainer[_project_pb2.ProjectStatus]
    labels: _containers.ScalarMap[str, str]
    page_size: int
    page_token: str
    def __init__(self, statuses: _Optional[_Iterable[_Union[_project_pb2.ProjectStatus, str]]] = ..., labels: _Optional[_Mapping[str, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects", "next_page_token", "total_size")
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[_project_pb2.Project]
    next_page_token: str
    total_size: int
    def __init__(self, projects: _Optional[_Iterable[_Union[_project_pb2.Project, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class UpdateProjectRequest(_message.Message):
    __slots__ = ("project", "update_mask")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    project: _project_pb2.Project
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, project: _Optional[_Union[_project_pb2.Project, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: _project_pb2.Project
    def __init__(self, project: _Optional[_Union[_project_pb2.Project, _Mapping]] = ...) -> None: ...

class UpdateProjectSuccessRequest(_message.Message):
    __slots__ = ("project_id", "success")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    success: _project_pb2.ProjectSuccess
    def __init__(self, project_id: _Optional[str] = ..., success: _Optional[_Union[_project_pb2.ProjectSuccess, _Mapping]] = ...) -> None: ...

class UpdateProjectSuccessResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: _project_pb2.Project
    def __init__(self, project: _Optional[_Union[_project_pb2.Project, _Mapping]] = ...) -> None: ...

class AddTeamMemberRequest(_message.Message):
    __slots__ = ("project_id", "team_member", "request_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_MEMBER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    team_member: _project_pb2.TeamMember
    request_id: str
    def __init__(self, project_id: _Optional[str] = ..., team_member: _Optional[_Union[_project_pb2.TeamMember, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddTeamMemberResponse(_message.Message):
    __slots__ = ("team_member",)
    TEAM_MEMBER_FIELD_NUMBER: _ClassVar[int]
    team_member: _project_pb2.TeamMember
    def __init__(self, team_member: _Optional[_Union[_project_pb2.TeamMember, _Mapping]] = ...) -> None: ...

class UpdateTeamMemberRequest(_message.Message):
    __slots__ = ("team_member", "update_mask")
    TEAM_MEMBER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    team_member: _project_pb2.TeamMember
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, team_member: _Optional[_Union[_project_pb2.TeamMember, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateTeamMemberResponse(_message.Message):
    __slots__ = ("team_member",)
    TEAM_MEMBER_FIELD_NUMBER: _ClassVar[int]
    team_member: _project_pb2.TeamMember
    def __init__(self, team_member: _Optional[_Union[_project_pb2.TeamMember, _Mapping]] = ...) -> None: ...

class RemoveTeamMemberRequest(_message.Message):
    __slots__ = ("team_member_id", "leave_time")
    TEAM_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    LEAVE_TIME_FIELD_NUMBER: _ClassVar[int]
    team_member_id: str
    leave_time: _timestamp_pb2.Timestamp
    def __init__(self, team_member_id: _Optional[str] = ..., leave_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RemoveTeamMemberResponse(_message.Message):
    __slots__ = ("team_member",)
    TEAM_MEMBER_FIELD_NUMBER: _ClassVar[int]
    team_member: _project_pb2.TeamMember
    def __init__(self, team_member: _Optional[_Union[_project_pb2.TeamMember, _Mapping]] = ...) -> None: ...

class ListTeamMembersRequest(_message.Message):
    __slots__ = ("project_id", "include_former", "page_size", "page_token")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_FORMER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    include_former: bool
    page_size: int
    page_token: str
    def __init__(self, project_id: _Optional[str] = ..., include_former: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTeamMembersResponse(_message.Message):
    __slots__ = ("team_members", "next_page_token")
    TEAM_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    team_members: _containers.RepeatedCompositeFieldContainer[_project_pb2.TeamMember]
    next_page_token: str
    def __init__(self, team_members: _Optional[_Iterable[_Union[_project_pb2.TeamMember, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateArtifactRequest(_message.Message):
    __slots__ = ("artifact", "request_id")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    request_id: str
    def __init__(self, artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateArtifactResponse(_message.Message):
    __slots__ = ("artifact",)
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    def __init__(self, artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ...) -> None: ...

class GetArtifactRequest(_message.Message):
    __slots__ = ("artifact_id",)
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    def __init__(self, artifact_id: _Optional[str] = ...) -> None: ...

class GetArtifactResponse(_message.Message):
    __slots__ = ("artifact",)
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    def __init__(self, artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ...) -> None: ...

class UpdateArtifactRequest(_message.Message):
    __slots__ = ("artifact", "update_mask")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateArtifactResponse(_message.Message):
    __slots__ = ("artifact",)
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    def __init__(self, artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ...) -> None: ...

class DeleteArtifactRequest(_message.Message):
    __slots__ = ("artifact_id",)
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    def __init__(self, artifact_id: _Optional[str] = ...) -> None: ...

class DeleteArtifactResponse(_message.Message):
    __slots__ = ("artifact",)
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    def __init__(self, artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ...) -> None: ...

class UploadArtifactContentRequest(_message.Message):
    __slots__ = ("header", "chunk", "finish")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    header: UploadHeader
    chunk: bytes
    finish: UploadFinish
    def __init__(self, header: _Optional[_Union[UploadHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ..., finish: _Optional[_Union[UploadFinish, _Mapping]] = ...) -> None: ...

class UploadHeader(_message.Message):
    __slots__ = ("artifact_id", "declared_sha256", "declared_size_bytes", "uploaded_by_url")
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    DECLARED_SHA256_FIELD_NUMBER: _ClassVar[int]
    DECLARED_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_BY_URL_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    declared_sha256: str
    declared_size_bytes: int
    uploaded_by_url: bool
    def __init__(self, artifact_id: _Optional[str] = ..., declared_sha256: _Optional[str] = ..., declared_size_bytes: _Optional[int] = ..., uploaded_by_url: _Optional[bool] = ...) -> None: ...

class UploadFinish(_message.Message):
    __slots__ = ("declared_sha256",)
    DECLARED_SHA256_FIELD_NUMBER: _ClassVar[int]
    declared_sha256: str
    def __init__(self, declared_sha256: _Optional[str] = ...) -> None: ...

class UploadArtifactContentResponse(_message.Message):
    __slots__ = ("artifact", "deduplicated")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    deduplicated: bool
    def __init__(self, artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ..., deduplicated: _Optional[bool] = ...) -> None: ...

class DownloadArtifactContentRequest(_message.Message):
    __slots__ = ("artifact_id", "offset")
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    offset: int
    def __init__(self, artifact_id: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...

class DownloadArtifactContentResponse(_message.Message):
    __slots__ = ("sha256", "size_bytes", "chunk")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    size_bytes: int
    chunk: bytes
    def __init__(self, sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class GetArtifactContentUrlRequest(_message.Message):
    __slots__ = ("artifact_id", "method", "declared_sha256", "declared_size_bytes", "expires_in_seconds")
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    DECLARED_SHA256_FIELD_NUMBER: _ClassVar[int]
    DECLARED_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    method: ContentUrlMethod
    declared_sha256: str
    declared_size_bytes: int
    expires_in_seconds: int
    def __init__(self, artifact_id: _Optional[str] = ..., method: _Optional[_Union[ContentUrlMethod, str]] = ..., declared_sha256: _Optional[str] = ..., declared_size_bytes: _Optional[int] = ..., expires_in_seconds: _Optional[int] = ...) -> None: ...

class GetArtifactContentUrlResponse(_message.Message):
    __slots__ = ("url", "expire_time", "headers", "http_method")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    HTTP_METHOD_FIELD_NUMBER: _ClassVar[int]
    url: str
    expire_time: _timestamp_pb2.Timestamp
    headers: _containers.ScalarMap[str, str]
    http_method: str
    def __init__(self, url: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., headers: _Optional[_Mapping[str, str]] = ..., http_method: _Optional[str] = ...) -> None: ...

class SearchArtifactsRequest(_message.Message):
    __slots__ = ("query", "types", "tags_any", "tags_all", "origin_project_id", "min_impact_score", "name", "order_by", "page_size", "page_token")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    TAGS_ANY_FIELD_NUMBER: _ClassVar[int]
    TAGS_ALL_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_IMPACT_SCORE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    query: str
    types: _containers.RepeatedScalarFieldContainer[_artifact_pb2.ArtifactType]
    tags_any: _containers.RepeatedScalarFieldContainer[str]
    tags_all: _containers.RepeatedScalarFieldContainer[str]
    origin_project_id: str
    min_impact_score: float
    name: str
    order_by: ArtifactOrderBy
    page_size: int
    page_token: str
    def __init__(self, query: _Optional[str] = ..., types: _Optional[_Iterable[_Union[_artifact_pb2.ArtifactType, str]]] = ..., tags_any: _Optional[_Iterable[str]] = ..., tags_all: _Optional[_Iterable[str]] = ..., origin_project_id: _Optional[str] = ..., min_impact_score: _Optional[float] = ..., name: _Optional[str] = ..., order_by: _Optional[_Union[ArtifactOrderBy, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchArtifactsResponse(_message.Message):
    __slots__ = ("artifacts", "next_page_token", "total_size", "total_size_is_lower_bound")
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_IS_LOWER_BOUND_FIELD_NUMBER: _ClassVar[int]
    artifacts: _containers.RepeatedCompositeFieldContainer[_artifact_pb2.Artifact]
    next_page_token: str
    total_size: int
    total_size_is_lower_bound: bool
    def __init__(self, artifacts: _Optional[_Iterable[_Union[_artifact_pb2.Artifact, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ..., total_size_is_lower_bound: _Optional[bool] = ...) -> None: ...

class CountArtifactFacetsRequest(_message.Message):
    __slots__ = ("query", "types", "tags_any", "tags_all", "origin_project_id", "min_impact_score", "max_tags")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    TAGS_ANY_FIELD_NUMBER: _ClassVar[int]
    TAGS_ALL_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_IMPACT_SCORE_FIELD_NUMBER: _ClassVar[int]
    MAX_TAGS_FIELD_NUMBER: _ClassVar[int]
    query: str
    types: _containers.RepeatedScalarFieldContainer[_artifact_pb2.ArtifactType]
    tags_any: _containers.RepeatedScalarFieldContainer[str]
    tags_all: _containers.RepeatedScalarFieldContainer[str]
    origin_project_id: str
    min_impact_score: float
    max_tags: int
    def __init__(self, query: _Optional[str] = ..., types: _Optional[_Iterable[_Union[_artifact_pb2.ArtifactType, str]]] = ..., tags_any: _Optional[_Iterable[str]] = ..., tags_all: _Optional[_Iterable[str]] = ..., origin_project_id: _Optional[str] = ..., min_impact_score: _Optional[float] = ..., max_tags: _Optional[int] = ...) -> None: ...

class FacetCount(_message.Message):
    __slots__ = ("value", "count")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    value: str
    count: int
    def __init__(self, value: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class CountArtifactFacetsResponse(_message.Message):
    __slots__ = ("types", "tags", "total_size", "total_size_is_lower_bound")
    TYPES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_IS_LOWER_BOUND_FIELD_NUMBER: _ClassVar[int]
    types: _containers.RepeatedCompositeFieldContainer[FacetCount]
    tags: _containers.RepeatedCompositeFieldContainer[FacetCount]
    total_size: int
    total_size_is_lower_bound: bool
    def __init__(self, types: _Optional[_Iterable[_Union[FacetCount, _Mapping]]] = ..., tags: _Optional[_Iterable[_Union[FacetCount, _Mapping]]] = ..., total_size: _Optional[int] = ..., total_size_is_lower_bound: _Optional[bool] = ...) -> None: ...

class LogArtifactUsageRequest(_message.Message):
    __slots__ = ("artifact_usage", "request_id")
    ARTIFACT_USAGE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    artifact_usage: _artifact_pb2.ArtifactUsage
    request_id: str
    def __init__(self, artifact_usage: _Optional[_Union[_artifact_pb2.ArtifactUsage, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class LogArtifactUsageResponse(_message.Message):
    __slots__ = ("artifact_usage", "artifact")
    ARTIFACT_USAGE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    artifact_usage: _artifact_pb2.ArtifactUsage
    artifact: _artifact_pb2.Artifact
    def __init__(self, artifact_usage: _Optional[_Union[_artifact_pb2.ArtifactUsage, _Mapping]] = ..., artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ...) -> None: ...

class ListArtifactUsagesRequest(_message.Message):
    __slots__ = ("artifact_id", "project_id", "page_size", "page_token")
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    project_id: str
    page_size: int
    page_token: str
    def __init__(self, artifact_id: _Optional[str] = ..., project_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListArtifactUsagesResponse(_message.Message):
    __slots__ = ("artifact_usages", "next_page_token")
    ARTIFACT_USAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    artifact_usages: _containers.RepeatedCompositeFieldContainer[_artifact_pb2.ArtifactUsage]
    next_page_token: str
    def __init__(self, artifact_usages: _Optional[_Iterable[_Union[_artifact_pb2.ArtifactUsage, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RecommendArtifactsRequest(_message.Message):
    __slots__ = ("project_id", "max_results", "types")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    max_results: int
    types: _containers.RepeatedScalarFieldContainer[_artifact_pb2.ArtifactType]
    def __init__(self, project_id: _Optional[str] = ..., max_results: _Optional[int] = ..., types: _Optional[_Iterable[_Union[_artifact_pb2.ArtifactType, str]]] = ...) -> None: ...

class RecommendArtifactsResponse(_message.Message):
    __slots__ = ("recommendations",)
    RECOMMENDATIONS_FIELD_NUMBER: _ClassVar[int]
    recommendations: _containers.RepeatedCompositeFieldContainer[_artifact_pb2.ArtifactRecommendation]
    def __init__(self, recommendations: _Optional[_Iterable[_Union[_artifact_pb2.ArtifactRecommendation, _Mapping]]] = ...) -> None: ...
