import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from maestro.metrics.v1 import process_event_pb2 as _process_event_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MetricSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_SOURCE_UNSPECIFIED: _ClassVar[MetricSource]
    METRIC_SOURCE_GIT: _ClassVar[MetricSource]
    METRIC_SOURCE_CI: _ClassVar[MetricSource]
    METRIC_SOURCE_MLFLOW: _ClassVar[MetricSource]
    METRIC_SOURCE_AGENT: _ClassVar[MetricSource]
    METRIC_SOURCE_MANUAL: _ClassVar[MetricSource]
METRIC_SOURCE_UNSPECIFIED: MetricSource
METRIC_SOURCE_GIT: MetricSource
METRIC_SOURCE_CI: MetricSource
METRIC_SOURCE_MLFLOW: MetricSource
METRIC_SOURCE_AGENT: MetricSource
METRIC_SOURCE_MANUAL: MetricSource

class MetricPoint(_message.Message):
    __slots__ = ("project_id", "name", "value", "time", "labels", "source")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    name: str
    value: float
    time: _timestamp_pb2.Timestamp
    labels: _containers.ScalarMap[str, str]
    source: MetricSource
    def __init__(self, project_id: _Optional[str] = ..., name: _Optional[str] = ..., value: _Optional[float] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., labels: _Optional[_Mapping[str, str]] = ..., source: _Optional[_Union[MetricSource, str]] = ...) -> None: ...

class LabelSet(_message.Message):
    __slots__ = ("labels",)
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LABELS_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.ScalarMap[str, str]
    def __init__(self, labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class MetricColumns(_message.Message):
    __slots__ = ("project_id", "source", "names", "name_indexes", "values", "times_unix_micros", "label_sets", "label_set_indexes")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    NAME_INDEXES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TIMES_UNIX_MICROS_FIELD_NUMBER: _ClassVar[int]
    LABEL_SETS_FIELD_NUMBER: _ClassVar[int]
    LABEL_SET_INDEXES_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    source: MetricSource
    names: _containers.RepeatedScalarFieldContainer[str]
    name_indexes: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    times_unix_micros: _containers.RepeatedScalarFieldContainer[int]
    label_sets: _containers.RepeatedCompositeFieldContainer[LabelSet]
    label_set_indexes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, project_id: _Optional[str] = ..., source: _Optional[_Union[MetricSource, str]] = ..., names: _Optional[_Iterable[str]] = ..., name_indexes: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ..., times_unix_micros: _Optional[_Iterable[int]] = ..., label_sets: _Optional[_Iterable[_Union[LabelSet, _Mapping]]] = ..., label_set_indexes: _Optional[_Iterable[int]] = ...) -> None: ...

class MetricBatch(_message.Message):
    __slots__ = ("points", "columns", "events")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[MetricPoint]
    columns: _containers.RepeatedCompositeFieldContainer[MetricColumns]
    events: _containers.RepeatedCompositeFieldContainer[_process_event_pb2.ProcessEvent]
    def __init__(self, points: _Optional[_Iterable[_Union[MetricPoint, _Mapping]]] = ..., columns: _Optional[_Iterable[_Union[MetricColumns, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[_process_event_pb2.ProcessEvent, _Mapping]]] = ...) -> None: ...

class RejectedRow(_message.Message):
    __slots__ = ("field", "description", "reason")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    reason: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
