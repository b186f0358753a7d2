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

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_COMMIT: _ClassVar[EventType]
    EVENT_TYPE_PULL_REQUEST: _ClassVar[EventType]
    EVENT_TYPE_PIPELINE_RUN: _ClassVar[EventType]
    EVENT_TYPE_TEST_REPORT: _ClassVar[EventType]
    EVENT_TYPE_DEPLOYMENT: _ClassVar[EventType]
    EVENT_TYPE_INCIDENT: _ClassVar[EventType]
    EVENT_TYPE_EXPERIMENT_RUN: _ClassVar[EventType]
    EVENT_TYPE_BRANCH_HEAD: _ClassVar[EventType]

class PullRequestState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PULL_REQUEST_STATE_UNSPECIFIED: _ClassVar[PullRequestState]
    PULL_REQUEST_STATE_OPEN: _ClassVar[PullRequestState]
    PULL_REQUEST_STATE_MERGED: _ClassVar[PullRequestState]
    PULL_REQUEST_STATE_CLOSED: _ClassVar[PullRequestState]

class PipelineStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PIPELINE_STATUS_UNSPECIFIED: _ClassVar[PipelineStatus]
    PIPELINE_STATUS_QUEUED: _ClassVar[PipelineStatus]
    PIPELINE_STATUS_RUNNING: _ClassVar[PipelineStatus]
    PIPELINE_STATUS_SUCCEEDED: _ClassVar[PipelineStatus]
    PIPELINE_STATUS_FAILED: _ClassVar[PipelineStatus]
    PIPELINE_STATUS_CANCELLED: _ClassVar[PipelineStatus]
    PIPELINE_STATUS_SKIPPED: _ClassVar[PipelineStatus]

class DeploymentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEPLOYMENT_STATUS_UNSPECIFIED: _ClassVar[DeploymentStatus]
    DEPLOYMENT_STATUS_IN_PROGRESS: _ClassVar[DeploymentStatus]
    DEPLOYMENT_STATUS_SUCCEEDED: _ClassVar[DeploymentStatus]
    DEPLOYMENT_STATUS_FAILED: _ClassVar[DeploymentStatus]
    DEPLOYMENT_STATUS_ROLLED_BACK: _ClassVar[DeploymentStatus]

class ExperimentRunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPERIMENT_RUN_STATUS_UNSPECIFIED: _ClassVar[ExperimentRunStatus]
    EXPERIMENT_RUN_STATUS_RUNNING: _ClassVar[ExperimentRunStatus]
    EXPERIMENT_RUN_STATUS_FINISHED: _ClassVar[ExperimentRunStatus]
    EXPERIMENT_RUN_STATUS_FAILED: _ClassVar[ExperimentRunStatus]
    EXPERIMENT_RUN_STATUS_KILLED: _ClassVar[ExperimentRunStatus]
    EXPERIMENT_RUN_STATUS_SCHEDULED: _ClassVar[ExperimentRunStatus]
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_COMMIT: EventType
EVENT_TYPE_PULL_REQUEST: EventType
EVENT_TYPE_PIPELINE_RUN: EventType
EVENT_TYPE_TEST_REPORT: EventType
EVENT_TYPE_DEPLOYMENT: EventType
EVENT_TYPE_INCIDENT: EventType
EVENT_TYPE_EXPERIMENT_RUN: EventType
EVENT_TYPE_BRANCH_HEAD: EventType
PULL_REQUEST_STATE_UNSPECIFIED: PullRequestState
PULL_REQUEST_STATE_OPEN: PullRequestState
PULL_REQUEST_STATE_MERGED: PullRequestState
PULL_REQUEST_STATE_CLOSED: PullRequestState
PIPELINE_STATUS_UNSPECIFIED: PipelineStatus
PIPELINE_STATUS_QUEUED: PipelineStatus
PIPELINE_STATUS_RUNNING: PipelineStatus
PIPELINE_STATUS_SUCCEEDED: PipelineStatus
PIPELINE_STATUS_FAILED: PipelineStatus
PIPELINE_STATUS_CANCELLED: PipelineStatus
PIPELINE_STATUS_SKIPPED: PipelineStatus
DEPLOYMENT_STATUS_UNSPECIFIED: DeploymentStatus
DEPLOYMENT_STATUS_IN_PROGRESS: DeploymentStatus
DEPLOYMENT_STATUS_SUCCEEDED: DeploymentStatus
DEPLOYMENT_STATUS_FAILED: DeploymentStatus
DEPLOYMENT_STATUS_ROLLED_BACK: DeploymentStatus
EXPERIMENT_RUN_STATUS_UNSPECIFIED: ExperimentRunStatus
EXPERIMENT_RUN_STATUS_RUNNING: ExperimentRunStatus
EXPERIMENT_RUN_STATUS_FINISHED: ExperimentRunStatus
EXPERIMENT_RUN_STATUS_FAILED: ExperimentRunStatus
EXPERIMENT_RUN_STATUS_KILLED: ExperimentRunStatus
EXPERIMENT_RUN_STATUS_SCHEDULED: ExperimentRunStatus

class ProcessEvent(_message.Message):
    __slots__ = ("project_id", "commit", "pull_request", "pipeline_run", "test_report", "deployment", "incident", "experiment_run", "branch_head")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    PULL_REQUEST_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_RUN_FIELD_NUMBER: _ClassVar[int]
    TEST_REPORT_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_RUN_FIELD_NUMBER: _ClassVar[int]
    BRANCH_HEAD_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    commit: Commit
    pull_request: PullRequest
    pipeline_run: PipelineRun
    test_report: TestReport
    deployment: Deployment
    incident: Incident
    experiment_run: ExperimentRun
    branch_head: BranchHead
    def __init__(self, project_id: _Optional[str] = ..., commit: _Optional[_Union[Commit, _Mapping]] = ..., pull_request: _Optional[_Union[PullRequest, _Mapping]] = ..., pipeline_run: _Optional[_Union[PipelineRun, _Mapping]] = ..., test_report: _Optional[_Union[TestReport, _Mapping]] = ..., deployment: _Optional[_Union[Deployment, _Mapping]] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ..., experiment_run: _Optional[_Union[ExperimentRun, _Mapping]] = ..., branch_head: _Optional[_Union[BranchHead, _Mapping]] = ...) -> None: ...

class Commit(_message.Message):
    __slots__ = ("repo", "sha", "author", "author_time", "commit_time", "additions", "deletions", "files", "files_changed", "parent_shas", "summary")
    REPO_FIELD_NUMBER: _ClassVar[int]
    SHA_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_TIME_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    ADDITIONS_FIELD_NUMBER: _ClassVar[int]
    DELETIONS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    FILES_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PARENT_SHAS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    repo: str
    sha: str
    author: str
    author_time: _timestamp_pb2.Timestamp
    commit_time: _timestamp_pb2.Timestamp
    additions: int
    deletions: int
    files: _containers.RepeatedScalarFieldContainer[str]
    files_changed: int
    parent_shas: _containers.RepeatedScalarFieldContainer[str]
    summary: str
    def __init__(self, repo: _Optional[str] = ..., sha: _Optional[str] = ..., author: _Optional[str] = ..., author_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., commit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., additions: _Optional[int] = ..., deletions: _Optional[int] = ..., files: _Optional[_Iterable[str]] = ..., files_changed: _Optional[int] = ..., parent_shas: _Optional[_Iterable[str]] = ..., summary: _Optional[str] = ...) -> None: ...

class PullRequest(_message.Message):
    __slots__ = ("repo", "number", "title", "author", "state", "open_time", "first_commit_time", "merge_time", "close_time", "review_count", "merge_commit_sha", "commit_shas")
    REPO_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    FIRST_COMMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    MERGE_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    MERGE_COMMIT_SHA_FIELD_NUMBER: _ClassVar[int]
    COMMIT_SHAS_FIELD_NUMBER: _ClassVar[int]
    repo: str
    number: int
    title: str
    author: str
    state: PullRequestState
    open_time: _timestamp_pb2.Timestamp
    first_commit_time: _timestamp_pb2.Timestamp
    merge_time: _timestamp_pb2.Timestamp
    close_time: _timestamp_pb2.Timestamp
    review_count: int
    merge_commit_sha: str
    commit_shas: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, repo: _Optional[str] = ..., number: _Optional[int] = ..., title: _Optional[str] = ..., author: _Optional[str] = ..., state: _Optional[_Union[PullRequestState, str]] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_commit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., merge_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., review_count: _Optional[int] = ..., merge_commit_sha: _Optional[str] = ..., commit_shas: _Optional[_Iterable[str]] = ...) -> None: ...

class PipelineStage(_message.Message):
    __slots__ = ("name", "status", "start_time", "end_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: PipelineStatus
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., status: _Optional[_Union[PipelineStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PipelineRun(_message.Message):
    __slots__ = ("provider", "run_id", "attempt", "status", "pipeline_name", "commit_sha", "branch", "start_time", "end_time", "stages")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_NAME_FIELD_NUMBER: _ClassVar[int]
    COMMIT_SHA_FIELD_NUMBER: _ClassVar[int]
    BRANCH_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    provider: str
    run_id: str
    attempt: int
    status: PipelineStatus
    pipeline_name: str
    commit_sha: str
    branch: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    stages: _containers.RepeatedCompositeFieldContainer[PipelineStage]
    def __init__(self, provider: _Optional[str] = ..., run_id: _Optional[str] = ..., attempt: _Optional[int] = ..., status: _Optional[_Union[PipelineStatus, str]] = ..., pipeline_name: _Optional[str] = ..., commit_sha: _Optional[str] = ..., branch: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stages: _Optional[_Iterable[_Union[PipelineStage, _Mapping]]] = ...) -> None: ...

class TestReport(_message.Message):
    __slots__ = ("provider", "run_id", "attempt", "suite", "passed", "failed", "errored", "skipped", "duration", "failing_tests", "time", "flaky", "job")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    SUITE_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    ERRORED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    FAILING_TESTS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    FLAKY_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    provider: str
    run_id: str
    attempt: int
    suite: str
    passed: int
    failed: int
    errored: int
    skipped: int
    duration: _duration_pb2.Duration
    failing_tests: _containers.RepeatedScalarFieldContainer[str]
    time: _timestamp_pb2.Timestamp
    flaky: int
    job: str
    def __init__(self, provider: _Optional[str] = ..., run_id: _Optional[str] = ..., attempt: _Optional[int] = ..., suite: _Optional[str] = ..., passed: _Optional[int] = ..., failed: _Optional[int] = ..., errored: _Optional[int] = ..., skipped: _Optional[int] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., failing_tests: _Optional[_Iterable[str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., flaky: _Optional[int] = ..., job: _Optional[str] = ...) -> None: ...

class Deployment(_message.Message):
    __slots__ = ("deployment_id", "environment", "status", "deploy_time", "commit_shas", "repo", "service")
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DEPLOY_TIME_FIELD_NUMBER: _ClassVar[int]
    COMMIT_SHAS_FIELD_NUMBER: _ClassVar[int]
    REPO_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    environment: str
    status: DeploymentStatus
    deploy_time: _timestamp_pb2.Timestamp
    commit_shas: _containers.RepeatedScalarFieldContainer[str]
    repo: str
    service: str
    def __init__(self, deployment_id: _Optional[str] = ..., environment: _Optional[str] = ..., status: _Optional[_Union[DeploymentStatus, str]] = ..., deploy_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., commit_shas: _Optional[_Iterable[str]] = ..., repo: _Optional[str] = ..., service: _Optional[str] = ...) -> None: ...

class Incident(_message.Message):
    __slots__ = ("incident_id", "title", "open_time", "resolve_time", "caused_by_deployment_id", "environment")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_TIME_FIELD_NUMBER: _ClassVar[int]
    CAUSED_BY_DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    title: str
    open_time: _timestamp_pb2.Timestamp
    resolve_time: _timestamp_pb2.Timestamp
    caused_by_deployment_id: str
    environment: str
    def __init__(self, incident_id: _Optional[str] = ..., title: _Optional[str] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., caused_by_deployment_id: _Optional[str] = ..., environment: _Optional[str] = ...) -> None: ...

class ExperimentRun(_message.Message):
    __slots__ = ("run_id", "experiment_id", "run_name", "status", "start_time", "end_time", "params", "metrics")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    experiment_id: str
    run_name: str
    status: ExperimentRunStatus
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    params: _containers.ScalarMap[str, str]
    metrics: _containers.ScalarMap[str, float]
    def __init__(self, run_id: _Optional[str] = ..., experiment_id: _Optional[str] = ..., run_name: _Optional[str] = ..., status: _Optional[_Union[ExperimentRunStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., params: _Optional[_Mapping[str, str]] = ..., metrics: _Optional[_Mapping[str, float]] = ...) -> None: ...

class BranchHead(_message.Message):
    __slots__ = ("repo", "branch", "sha", "commit_time")
    REPO_FIELD_NUMBER: _ClassVar[int]
    BRANCH_FIELD_NUMBER: _ClassVar[int]
    SHA_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    repo: str
    branch: str
    sha: str
    commit_time: _timestamp_pb2.Timestamp
    def __init__(self, repo: _Optional[str] = ..., branch: _Optional[str] = ..., sha: _Optional[str] = ..., commit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
