"""The live feed on the wire: each write's stored rows, encoded, and each watcher's view of them.

Every write is encoded for the feed (the store keeps what `encode` makes,
the domain publishes it, neither knows the format), watched or not, so the
encoding is on the ingest path and does no per-point work: per project, a
small JSON header (its series, the row count, the events' length), then
the points' columns as raw little-endian arrays (series index int32, time
int64 microseconds, value float64, source int16), then the events as a
serialized MetricBatch. A replica with watchers turns that into
WatchMetricsResponses, keeping what each watcher asked for: the per-point
work is paid only where somebody watches.
"""

from __future__ import annotations

import json
import struct
import uuid
from collections import defaultdict
from typing import Any

import numpy as np
import numpy.typing as npt

from maestro.metrics.v1 import metric_pb2, metrics_service_pb2, process_event_pb2
from maestro_grpc.metrics.model import EventType, PointColumns, WriteResult
from maestro_grpc.metrics.wire.eventconv import PROTO_EVENT_TYPE, stored_event_to_proto

_HEADER_LENGTH = struct.Struct("<I")
# The columns' types, in their order in an entry.
_COLUMNS: tuple[np.dtype[Any], ...] = (
    np.dtype("<i4"),
    np.dtype("<i8"),
    np.dtype("<f8"),
    np.dtype("<i2"),
)
_NO_ROWS: list[npt.NDArray[Any]] = [np.zeros(0, dtype) for dtype in _COLUMNS]


def encode(result: WriteResult) -> dict[uuid.UUID, bytes]:
    """Per project, the feed entry of what the write stored (see above)."""
    points = result.points
    columns: dict[uuid.UUID, tuple[list[list[str]], list[npt.NDArray[Any]]]] = {}
    if len(points):
        series = points.series
        projects = {series[i].project_id for i in np.unique(points.series_index).tolist()}
        for project in projects:
            columns[project] = _columns(points, project)
    events: dict[uuid.UUID, metric_pb2.MetricBatch] = defaultdict(metric_pb2.MetricBatch)
    for event in sorted(result.events, key=lambda e: e.index):
        events[event.project_id].events.append(stored_event_to_proto(event))
    out: dict[uuid.UUID, bytes] = {}
    for project in sorted(columns.keys() | events.keys(), key=str):
        names, arrays = columns.get(project, ([], _NO_ROWS))
        tail = events[project].SerializeToString() if project in events else b""
        header = json.dumps(
            {"project": str(project), "series": names, "rows": len(arrays[0])}
        ).encode()
        out[project] = _entry(header, arrays, tail)
    return out


def _entry(header: bytes, arrays: list[npt.NDArray[Any]], tail: bytes) -> bytes:
    """One entry, its columns written into one buffer in place. A group commit's entry
    holds tens of thousands of points; encoding each column apart and joining the parts
    held them three times at once, this (with the final bytes) twice."""
    rows = len(arrays[0])
    size = _HEADER_LENGTH.size + len(header) + sum(t.itemsize for t in _COLUMNS) * rows
    entry = bytearray(size + len(tail))
    _HEADER_LENGTH.pack_into(entry, 0, len(header))
    offset = _HEADER_LENGTH.size + len(header)
    entry[_HEADER_LENGTH.size : offset] = header
    for array, dtype in zip(arrays, _COLUMNS, strict=True):
        np.frombuffer(entry, dtype, rows, offset)[:] = array
        offset += rows * dtype.itemsize
    entry[offset:] = tail
    return bytes(entry)


def _columns(
    points: PointColumns, project: uuid.UUID
) -> tuple[list[list[str]], list[npt.NDArray[Any]]]:
    """The project's series ([name, labels JSON] each) and its points' columns, re-indexed."""
    series = points.series
    in_project = np.array([s.project_id == project for s in series], dtype=bool)
    if in_project.all() and np.bincount(points.series_index, minlength=len(series)).all():
        # The common case (a write of one project, every series of it used):
        # the columns as they are, no copies.
        names = [[s.name, s.labels] for s in series]
        return names, [points.series_index, points.times, points.values, points.sources]
    mask = in_project[points.series_index]
    idx = points.series_index[mask]
    used, codes = np.unique(idx, return_inverse=True)
    names = [[series[i].name, series[i].labels] for i in used.tolist()]
    return names, [codes, points.times[mask], points.values[mask], points.sources[mask]]


def _decode(payload: bytes) -> tuple[dict[str, Any], list[npt.NDArray[Any]], bytes]:
    """An entry's header, columns and serialized events."""
    (length,) = _HEADER_LENGTH.unpack_from(payload)
    offset = _HEADER_LENGTH.size + length
    header = json.loads(payload[_HEADER_LENGTH.size : offset])
    rows = int(header["rows"])
    arrays = []
    for dtype in _COLUMNS:
        arrays.append(np.frombuffer(payload, dtype, rows, offset))
        offset += rows * dtype.itemsize
    return header, arrays, payload[offset:]


class WatchFilter:
    """What one watcher asked for: name prefixes and event types (nothing: everything)."""

    def __init__(self, name_prefixes: list[str], event_types: set[EventType]) -> None:
        self.name_prefixes = tuple(name_prefixes)
        self.event_types = event_types
        self.everything = not name_prefixes and not event_types

    def _name_ok(self, name: str) -> bool:
        return self.everything or (bool(self.name_prefixes) and name.startswith(self.name_prefixes))

    def _event_ok(self, event: process_event_pb2.ProcessEvent) -> bool:
        if self.everything:
            return True
        kind = event.WhichOneof("kind")
        event_type = PROTO_EVENT_TYPE.get(
            process_event_pb2.EventType.Value("EVENT_TYPE_" + (kind or "").upper()) if kind else 0
        )
        return event_type in self.event_types

    def response(self, payload: bytes) -> metrics_service_pb2.WatchMetricsResponse | None:
        """The watcher's view of one write's entry; None when nothing matches."""
        header, arrays, events = _decode(payload)
        out = metrics_service_pb2.WatchMetricsResponse()
        self._points(header, arrays, out)
        for event in metric_pb2.MetricBatch.FromString(events).events:
            if self._event_ok(event):
                out.events.append(event)
        if not out.points and not out.events:
            return None
        return out

    def _points(
        self,
        header: dict[str, Any],
        arrays: list[npt.NDArray[Any]],
        out: metrics_service_pb2.WatchMetricsResponse,
    ) -> None:
        series = header["series"]
        wanted = [self._name_ok(name) for name, _ in series]
        if not any(wanted):
            return
        labels = [json.loads(text) for _, text in series]
        project = header["project"]
        codes, times, values, sources = (a.tolist() for a in arrays)
        for k, micros, value, source in zip(codes, times, values, sources, strict=True):
            if not wanted[k]:
                continue
            point = out.points.add(
                project_id=project, name=series[k][0], value=value, source=source
            )
            point.time.FromMicroseconds(micros)
            if labels[k]:
                point.labels.update(labels[k])
