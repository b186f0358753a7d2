"""The live feed on the wire: each write's stored rows as protos, and each watcher's view.

On the bus a write travels as a serialized MetricBatch per project (points
in columnar form, events as ProcessEvents), so the writer pays no per-point
encoding; a replica with watchers turns it into WatchMetricsResponses,
keeping what each watcher asked for. The domain publishes what `encode`
makes (`domain/feed.py`), without knowing the format.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict

import numpy as np
import numpy.typing as npt

from maestro.metrics.v1 import metric_pb2, metrics_service_pb2, process_event_pb2
from maestro_grpc.metrics.model import EventType, PointColumns, WriteResult
from maestro_grpc.metrics.wire.eventconv import PROTO_EVENT_TYPE, event_to_proto


def encode(result: WriteResult) -> dict[uuid.UUID, bytes]:
    """Per project, the serialized MetricBatch of what the write stored."""
    batches: dict[uuid.UUID, metric_pb2.MetricBatch] = defaultdict(metric_pb2.MetricBatch)
    points = result.points
    if len(points):
        series = points.series
        projects = sorted(
            {series[i].project_id for i in np.unique(points.series_index).tolist()}, key=str
        )
        for project in projects:
            batches[project].columns.extend(_blocks(points, project))
    for event in sorted(result.events, key=lambda e: e.index):
        batches[event.project_id].events.append(
            event_to_proto(event.type, event.project_id, event.payload)
        )
    return {project: b.SerializeToString() for project, b in batches.items()}


def _blocks(points: PointColumns, project: uuid.UUID) -> list[metric_pb2.MetricColumns]:
    """The project's points as MetricColumns: one block, or one per source when mixed."""
    series = points.series
    in_project = np.array([s.project_id == project for s in series], dtype=bool)
    mask = in_project[points.series_index]
    idx = points.series_index[mask]
    used = np.unique(idx)
    names = sorted({series[i].name for i in used.tolist()})
    label_texts = sorted({series[i].labels for i in used.tolist()})
    name_code = np.zeros(len(series), dtype=np.int64)
    set_code = np.zeros(len(series), dtype=np.int64)
    name_pos = {n: k for k, n in enumerate(names)}
    set_pos = {t: k for k, t in enumerate(label_texts)}
    for i in used.tolist():
        name_code[i] = name_pos[series[i].name]
        set_code[i] = set_pos[series[i].labels]
    block = metric_pb2.MetricColumns(project_id=str(project))
    block.names.extend(names)
    block.name_indexes.extend(name_code[idx].tolist())
    block.values.extend(points.values[mask].tolist())
    block.times_unix_micros.extend(points.times[mask].tolist())
    if label_texts != ["{}"]:
        for text in label_texts:
            block.label_sets.add().labels.update(json.loads(text))
        block.label_set_indexes.extend(set_code[idx].tolist())
    sources = points.sources[mask]
    # A block has one source; mixed sources travel as one block each.
    if np.all(sources == sources[0]):
        block.source = int(sources[0])  # type: ignore[assignment]
        return [block]
    return [_part(block, sources == source, int(source)) for source in np.unique(sources).tolist()]


def _part(
    block: metric_pb2.MetricColumns, keep: npt.NDArray[np.bool_], source: int
) -> metric_pb2.MetricColumns:
    """The rows of `block` that `keep` selects, as a block of their own source."""
    part = metric_pb2.MetricColumns(
        project_id=block.project_id,
        source=source,  # type: ignore[arg-type]
        names=block.names,
    )
    part.label_sets.extend(block.label_sets)
    part.name_indexes.extend(np.asarray(block.name_indexes)[keep].tolist())
    part.values.extend(np.asarray(block.values)[keep].tolist())
    part.times_unix_micros.extend(np.asarray(block.times_unix_micros)[keep].tolist())
    if block.label_set_indexes:
        part.label_set_indexes.extend(np.asarray(block.label_set_indexes)[keep].tolist())
    return part


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
        """The watcher's view of one published batch; None when nothing matches."""
        batch = metric_pb2.MetricBatch.FromString(payload)
        out = metrics_service_pb2.WatchMetricsResponse()
        for block in batch.columns:
            self._points(block, out)
        for event in batch.events:
            if self._event_ok(event):
                out.events.append(event)
        if not out.points and not out.events:
            return None
        return out

    def _points(
        self, block: metric_pb2.MetricColumns, out: metrics_service_pb2.WatchMetricsResponse
    ) -> None:
        wanted = [self._name_ok(n) for n in block.names]
        if not any(wanted):
            return
        sets = [dict(s.labels) for s in block.label_sets]
        has_sets = bool(block.label_set_indexes)
        for i, (k, value, micros) in enumerate(
            zip(block.name_indexes, block.values, block.times_unix_micros, strict=True)
        ):
            if not wanted[k]:
                continue
            point = out.points.add(
                project_id=block.project_id,
                name=block.names[k],
                value=value,
                source=block.source,
            )
            point.time.FromMicroseconds(micros)
            if has_sets:
                point.labels.update(sets[block.label_set_indexes[i]])
