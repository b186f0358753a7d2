import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from maestro.metrics.v1 import metric_pb2 as _metric_pb2
from maestro.metrics.v1 import process_event_pb2 as _process_event_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SummarySource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUMMARY_SOURCE_UNSPECIFIED: _ClassVar[SummarySource]
    SUMMARY_SOURCE_RAW: _ClassVar[SummarySource]
    SUMMARY_SOURCE_ROLLUP: _ClassVar[SummarySource]

class Granularity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRANULARITY_UNSPECIFIED: _ClassVar[Granularity]
    GRANULARITY_DAY: _ClassVar[Granularity]
    GRANULARITY_WEEK: _ClassVar[Granularity]

class DoraThresholds(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DORA_THRESHOLDS_UNSPECIFIED: _ClassVar[DoraThresholds]
    DORA_THRESHOLDS_2023: _ClassVar[DoraThresholds]
    DORA_THRESHOLDS_2021: _ClassVar[DoraThresholds]

class DoraMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DORA_METHOD_UNSPECIFIED: _ClassVar[DoraMethod]
    DORA_METHOD_FOUR_KEYS: _ClassVar[DoraMethod]

class DoraBand(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DORA_BAND_UNSPECIFIED: _ClassVar[DoraBand]
    DORA_BAND_ELITE: _ClassVar[DoraBand]
    DORA_BAND_HIGH: _ClassVar[DoraBand]
    DORA_BAND_MEDIUM: _ClassVar[DoraBand]
    DORA_BAND_LOW: _ClassVar[DoraBand]
SUMMARY_SOURCE_UNSPECIFIED: SummarySource
SUMMARY_SOURCE_RAW: SummarySource
SUMMARY_SOURCE_ROLLUP: SummarySource
GRANULARITY_UNSPECIFIED: Granularity
GRANULARITY_DAY: Granularity
GRANULARITY_WEEK: Granularity
DORA_THRESHOLDS_UNSPECIFIED: DoraThresholds
DORA_THRESHOLDS_2023: DoraThresholds
DORA_THRESHOLDS_2021: DoraThresholds
DORA_METHOD_UNSPECIFIED: DoraMethod
DORA_METHOD_FOUR_KEYS: DoraMethod
DORA_BAND_UNSPECIFIED: DoraBand
DORA_BAND_ELITE: DoraBand
DORA_BAND_HIGH: DoraBand
DORA_BAND_MEDIUM: DoraBand
DORA_BAND_LOW: DoraBand

class RecordMetricsRequest(_message.Message):
    __slots__ = ("batch", "request_id")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    batch: _metric_pb2.MetricBatch
    request_id: str
    def __init__(self, batch: _Optional[_Union[_metric_pb2.MetricBatch, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RecordMetricsResponse(_message.Message):
    __slots__ = ("stored_points", "stored_events", "rejected")
    STORED_POINTS_FIELD_NUMBER: _ClassVar[int]
    STORED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    stored_points: int
    stored_events: int
    rejected: _containers.RepeatedCompositeFieldContainer[_metric_pb2.RejectedRow]
    def __init__(self, stored_points: _Optional[int] = ..., stored_events: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[_metric_pb2.RejectedRow, _Mapping]]] = ...) -> None: ...

class StreamMetricsRequest(_message.Message):
    __slots__ = ("open", "batch")
    OPEN_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    open: StreamOpen
    batch: StreamBatch
    def __init__(self, open: _Optional[_Union[StreamOpen, _Mapping]] = ..., batch: _Optional[_Union[StreamBatch, _Mapping]] = ...) -> None: ...

class StreamOpen(_message.Message):
    __slots__ = ("producer_id", "project_id")
    PRODUCER_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    producer_id: str
    project_id: str
    def __init__(self, producer_id: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class StreamBatch(_message.Message):
    __slots__ = ("sequence", "batch")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    batch: _metric_pb2.MetricBatch
    def __init__(self, sequence: _Optional[int] = ..., batch: _Optional[_Union[_metric_pb2.MetricBatch, _Mapping]] = ...) -> None: ...

class StreamMetricsResponse(_message.Message):
    __slots__ = ("opened", "ack")
    OPENED_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    opened: StreamOpened
    ack: BatchAck
    def __init__(self, opened: _Optional[_Union[StreamOpened, _Mapping]] = ..., ack: _Optional[_Union[BatchAck, _Mapping]] = ...) -> None: ...

class StreamOpened(_message.Message):
    __slots__ = ("committed_sequence", "epoch", "max_inflight_batches", "max_batch_rows", "stream_lifetime")
    COMMITTED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    MAX_INFLIGHT_BATCHES_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_ROWS_FIELD_NUMBER: _ClassVar[int]
    STREAM_LIFETIME_FIELD_NUMBER: _ClassVar[int]
    committed_sequence: int
    epoch: int
    max_inflight_batches: int
    max_batch_rows: int
    stream_lifetime: _duration_pb2.Duration
    def __init__(self, committed_sequence: _Optional[int] = ..., epoch: _Optional[int] = ..., max_inflight_batches: _Optional[int] = ..., max_batch_rows: _Optional[int] = ..., stream_lifetime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class BatchAck(_message.Message):
    __slots__ = ("sequence", "stored_points", "stored_events", "duplicate", "rejected")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STORED_POINTS_FIELD_NUMBER: _ClassVar[int]
    STORED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    stored_points: int
    stored_events: int
    duplicate: bool
    rejected: _containers.RepeatedCompositeFieldContainer[_metric_pb2.RejectedRow]
    def __init__(self, sequence: _Optional[int] = ..., stored_points: _Optional[int] = ..., stored_events: _Optional[int] = ..., duplicate: _Optional[bool] = ..., rejected: _Optional[_Iterable[_Union[_metric_pb2.RejectedRow, _Mapping]]] = ...) -> None: ...

class WatchMetricsRequest(_message.Message):
    __slots__ = ("project_id", "name_prefixes", "event_types", "after_sequence")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIXES_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    name_prefixes: _containers.RepeatedScalarFieldContainer[str]
    event_types: _containers.RepeatedScalarFieldContainer[_process_event_pb2.EventType]
    after_sequence: int
    def __init__(self, project_id: _Optional[str] = ..., name_prefixes: _Optional[_Iterable[str]] = ..., event_types: _Optional[_Iterable[_Union[_process_event_pb2.EventType, str]]] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class WatchMetricsResponse(_message.Message):
    __slots__ = ("points", "events", "sequence")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[_metric_pb2.MetricPoint]
    events: _containers.RepeatedCompositeFieldContainer[_process_event_pb2.ProcessEvent]
    sequence: int
    def __init__(self, points: _Optional[_Iterable[_Union[_metric_pb2.MetricPoint, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[_process_event_pb2.ProcessEvent, _Mapping]]] = ..., sequence: _Optional[int] = ...) -> None: ...

class GetMetricSummaryRequest(_message.Message):
    __slots__ = ("project_id", "names", "name_prefix", "start_time", "end_time", "group_by_label")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_LABEL_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    names: _containers.RepeatedScalarFieldContainer[str]
    name_prefix: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    group_by_label: str
    def __init__(self, project_id: _Optional[str] = ..., names: _Optional[_Iterable[str]] = ..., name_prefix: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., group_by_label: _Optional[str] = ...) -> None: ...

class GetMetricSummaryResponse(_message.Message):
    __slots__ = ("summaries",)
    SUMMARIES_FIELD_NUMBER: _ClassVar[int]
    summaries: _containers.RepeatedCompositeFieldContainer[MetricSummary]
    def __init__(self, summaries: _Optional[_Iterable[_Union[MetricSummary, _Mapping]]] = ...) -> None: ...

class MetricSummary(_message.Message):
    __slots__ = ("name", "group_value", "count", "min", "max", "mean", "stddev", "p50", "p90", "p95", "p99", "last", "last_time", "source")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_VALUE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STDDEV_FIELD_NUMBER: _ClassVar[int]
    P50_FIELD_NUMBER: _ClassVar[int]
    P90_FIELD_NUMBER: _ClassVar[int]
    P95_FIELD_NUMBER: _ClassVar[int]
    P99_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    LAST_TIME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    group_value: str
    count: int
    min: float
    max: float
    mean: float
    stddev: float
    p50: float
    p90: float
    p95: float
    p99: float
    last: float
    last_time: _timestamp_pb2.Timestamp
    source: SummarySource
    def __init__(self, name: _Optional[str] = ..., group_value: _Optional[str] = ..., count: _Optional[int] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., mean: _Optional[float] = ..., stddev: _Optional[float] = ..., p50: _Optional[float] = ..., p90: _Optional[float] = ..., p95: _Optional[float] = ..., p99: _Optional[float] = ..., last: _Optional[float] = ..., last_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[_Union[SummarySource, str]] = ...) -> None: ...

class GetVelocityRequest(_message.Message):
    __slots__ = ("project_id", "start_time", "end_time", "granularity")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    granularity: Granularity
    def __init__(self, project_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., granularity: _Optional[_Union[Granularity, str]] = ...) -> None: ...

class VelocityBucket(_message.Message):
    __slots__ = ("start_time", "commits", "merged_pull_requests", "pipeline_runs", "deployments")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    COMMITS_FIELD_NUMBER: _ClassVar[int]
    MERGED_PULL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_RUNS_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    commits: int
    merged_pull_requests: int
    pipeline_runs: int
    deployments: int
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., commits: _Optional[int] = ..., merged_pull_requests: _Optional[int] = ..., pipeline_runs: _Optional[int] = ..., deployments: _Optional[int] = ...) -> None: ...

class VelocityTrend(_message.Message):
    __slots__ = ("commits_per_bucket", "merged_pull_requests_per_bucket", "pipeline_runs_per_bucket", "deployments_per_bucket")
    COMMITS_PER_BUCKET_FIELD_NUMBER: _ClassVar[int]
    MERGED_PULL_REQUESTS_PER_BUCKET_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_RUNS_PER_BUCKET_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENTS_PER_BUCKET_FIELD_NUMBER: _ClassVar[int]
    commits_per_bucket: float
    merged_pull_requests_per_bucket: float
    pipeline_runs_per_bucket: float
    deployments_per_bucket: float
    def __init__(self, commits_per_bucket: _Optional[float] = ..., merged_pull_requests_per_bucket: _Optional[float] = ..., pipeline_runs_per_bucket: _Optional[float] = ..., deployments_per_bucket: _Optional[float] = ...) -> None: ...

class GetVelocityResponse(_message.Message):
    __slots__ = ("buckets", "trend")
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    TREND_FIELD_NUMBER: _ClassVar[int]
    buckets: _containers.RepeatedCompositeFieldContainer[VelocityBucket]
    trend: VelocityTrend
    def __init__(self, buckets: _Optional[_Iterable[_Union[VelocityBucket, _Mapping]]] = ..., trend: _Optional[_Union[VelocityTrend, _Mapping]] = ...) -> None: ...

class GetDoraMetricsRequest(_message.Message):
    __slots__ = ("project_id", "start_time", "end_time", "environment", "thresholds", "method")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    environment: str
    thresholds: DoraThresholds
    method: DoraMethod
    def __init__(self, project_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., environment: _Optional[str] = ..., thresholds: _Optional[_Union[DoraThresholds, str]] = ..., method: _Optional[_Union[DoraMethod, str]] = ...) -> None: ...

class FourKeysBuckets(_message.Message):
    __slots__ = ("deployment_frequency", "lead_time", "change_failure_rate", "time_to_restore")
    DEPLOYMENT_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FAILURE_RATE_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_RESTORE_FIELD_NUMBER: _ClassVar[int]
    deployment_frequency: str
    lead_time: str
    change_failure_rate: str
    time_to_restore: str
    def __init__(self, deployment_frequency: _Optional[str] = ..., lead_time: _Optional[str] = ..., change_failure_rate: _Optional[str] = ..., time_to_restore: _Optional[str] = ...) -> None: ...

class GetDoraMetricsResponse(_message.Message):
    __slots__ = ("deployments", "deployment_days", "deployment_days_per_week", "deployment_frequency_band", "median_lead_time", "lead_time_changes", "lead_time_band", "change_failure_rate", "failed_deployments", "change_failure_rate_band", "median_time_to_restore", "restored_incidents", "time_to_restore_band", "thresholds", "method", "four_keys")
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_DAYS_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_DAYS_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_FREQUENCY_BAND_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_LEAD_TIME_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_CHANGES_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_BAND_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FAILURE_RATE_FIELD_NUMBER: _ClassVar[int]
    FAILED_DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FAILURE_RATE_BAND_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_TIME_TO_RESTORE_FIELD_NUMBER: _ClassVar[int]
    RESTORED_INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_RESTORE_BAND_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    FOUR_KEYS_FIELD_NUMBER: _ClassVar[int]
    deployments: int
    deployment_days: int
    deployment_days_per_week: float
    deployment_frequency_band: DoraBand
    median_lead_time: _duration_pb2.Duration
    lead_time_changes: int
    lead_time_band: DoraBand
    change_failure_rate: float
    failed_deployments: int
    change_failure_rate_band: DoraBand
    median_time_to_restore: _duration_pb2.Duration
    restored_incidents: int
    time_to_restore_band: DoraBand
    thresholds: DoraThresholds
    method: DoraMethod
    four_keys: FourKeysBuckets
    def __init__(self, deployments: _Optional[int] = ..., deployment_days: _Optional[int] = ..., deployment_days_per_week: _Optional[float] = ..., deployment_frequency_band: _Optional[_Union[DoraBand, str]] = ..., median_lead_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., lead_time_changes: _Optional[int] = ..., lead_time_band: _Optional[_Union[DoraBand, str]] = ..., change_failure_rate: _Optional[float] = ..., failed_deployments: _Optional[int] = ..., change_failure_rate_band: _Optional[_Union[DoraBand, str]] = ..., median_time_to_restore: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., restored_incidents: _Optional[int] = ..., time_to_restore_band: _Optional[_Union[DoraBand, str]] = ..., thresholds: _Optional[_Union[DoraThresholds, str]] = ..., method: _Optional[_Union[DoraMethod, str]] = ..., four_keys: _Optional[_Union[FourKeysBuckets, _Mapping]] = ...) -> None: ...

class ListMetricNamesRequest(_message.Message):
    __slots__ = ("project_id", "name_prefix")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    name_prefix: str
    def __init__(self, project_id: _Optional[str] = ..., name_prefix: _Optional[str] = ...) -> None: ...

class MetricNameInfo(_message.Message):
    __slots__ = ("name", "count", "first_time", "last_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    count: int
    first_time: _timestamp_pb2.Timestamp
    last_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., count: _Optional[int] = ..., first_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EventTypeInfo(_message.Message):
    __slots__ = ("event_type", "count", "first_time", "last_time")
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_TIME_FIELD_NUMBER: _ClassVar[int]
    event_type: _process_event_pb2.EventType
    count: int
    first_time: _timestamp_pb2.Timestamp
    last_time: _timestamp_pb2.Timestamp
    def __init__(self, event_type: _Optional[_Union[_process_event_pb2.EventType, str]] = ..., count: _Optional[int] = ..., first_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListMetricNamesResponse(_message.Message):
    __slots__ = ("metric_names", "event_types")
    METRIC_NAMES_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    metric_names: _containers.RepeatedCompositeFieldContainer[MetricNameInfo]
    event_types: _containers.RepeatedCompositeFieldContainer[EventTypeInfo]
    def __init__(self, metric_names: _Optional[_Iterable[_Union[MetricNameInfo, _Mapping]]] = ..., event_types: _Optional[_Iterable[_Union[EventTypeInfo, _Mapping]]] = ...) -> None: ...

class GetRepositoryHeadsRequest(_message.Message):
    __slots__ = ("project_id", "repo")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REPO_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    repo: str
    def __init__(self, project_id: _Optional[str] = ..., repo: _Optional[str] = ...) -> None: ...

class RepositoryHead(_message.Message):
    __slots__ = ("branch", "sha", "commit_time", "update_time")
    BRANCH_FIELD_NUMBER: _ClassVar[int]
    SHA_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    branch: str
    sha: str
    commit_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, branch: _Optional[str] = ..., sha: _Optional[str] = ..., commit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetRepositoryHeadsResponse(_message.Message):
    __slots__ = ("heads",)
    HEADS_FIELD_NUMBER: _ClassVar[int]
    heads: _containers.RepeatedCompositeFieldContainer[RepositoryHead]
    def __init__(self, heads: _Optional[_Iterable[_Union[RepositoryHead, _Mapping]]] = ...) -> None: ...

class GetMetricSeriesRequest(_message.Message):
    __slots__ = ("project_id", "name", "start_time", "end_time", "max_points")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    name: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    max_points: int
    def __init__(self, project_id: _Optional[str] = ..., name: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., max_points: _Optional[int] = ...) -> None: ...

class MetricSeriesPoint(_message.Message):
    __slots__ = ("time", "value", "min", "max", "count")
    TIME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    value: float
    min: float
    max: float
    count: int
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., value: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., count: _Optional[int] = ...) -> None: ...

class GetMetricSeriesResponse(_message.Message):
    __slots__ = ("points", "bucketed", "bucket_width", "total_count")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    BUCKETED_FIELD_NUMBER: _ClassVar[int]
    BUCKET_WIDTH_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[MetricSeriesPoint]
    bucketed: bool
    bucket_width: _duration_pb2.Duration
    total_count: int
    def __init__(self, points: _Optional[_Iterable[_Union[MetricSeriesPoint, _Mapping]]] = ..., bucketed: _Optional[bool] = ..., bucket_width: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., total_count: _Optional[int] = ...) -> None: ...
