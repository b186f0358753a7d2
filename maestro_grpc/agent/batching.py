"""Cuts a flow of rows into spool-sized batches (by rows and by bytes)."""

from __future__ import annotations

import time
from collections.abc import Callable

from maestro.metrics.v1 import metric_pb2, process_event_pb2

# Large batches: a stream pays per message and per ack, not per row. The
# server's max_batch_rows (sent when the stream opens) may be lower: the
# spool then splits them before sending.
MAX_ROWS = 5000
# Well below the server's 32 MiB message limit, so a batch of commits with
# many paths each still fits.
MAX_BYTES = 4 * 1024 * 1024


# Bytes a columnar point costs on the wire, about: value, time, two indexes.
COLUMN_POINT_BYTES = 24


class _Block:
    """One project's and source's points of a batch, as columns."""

    __slots__ = ("label_indexes", "label_sets", "name_indexes", "names", "times", "values")

    def __init__(self) -> None:
        self.names: dict[str, int] = {}
        self.name_indexes: list[int] = []
        self.values: list[float] = []
        self.times: list[int] = []
        self.label_sets: dict[tuple[tuple[str, str], ...], int] = {(): 0}
        self.label_indexes: list[int] = []

    def columns(self, project_id: str, source: int) -> metric_pb2.MetricColumns:
        block = metric_pb2.MetricColumns(
            project_id=project_id,
            source=source,  # type: ignore[arg-type]
            names=list(self.names),
        )
        block.name_indexes.extend(self.name_indexes)
        block.values.extend(self.values)
        block.times_unix_micros.extend(self.times)
        if len(self.label_sets) > 1:  # some point has labels
            for labels in self.label_sets:
                block.label_sets.add().labels.update(labels)
            block.label_set_indexes.extend(self.label_indexes)
        return block


# A full batch waits at most this long for the rest of its group: a slow
# collector (git log of a large history) has its first batches sent while it
# walks on, and the spool still fsyncs at most a few times a second.
GROUP_WAIT_SECONDS = 0.2


class BatchBuilder:
    """Collects rows; hands full batches to `sink` (usually the spool).

    `sink` gets lists of batches: the builder groups `group` batches per call
    (or what is ready after GROUP_WAIT_SECONDS) so that the spool's fsync is
    paid once per group, not per batch.
    """

    def __init__(
        self,
        sink: Callable[[list[metric_pb2.MetricBatch]], None],
        *,
        max_rows: int = MAX_ROWS,
        max_bytes: int = MAX_BYTES,
        group: int = 4,
    ) -> None:
        self._sink = sink
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._group = group
        self._current = metric_pb2.MetricBatch()
        self._blocks: dict[tuple[str, int], _Block] = {}
        self._rows = 0
        self._bytes = 0
        self._ready: list[metric_pb2.MetricBatch] = []
        self._ready_since = 0.0
        self.rows = 0

    def add_event(self, event: process_event_pb2.ProcessEvent) -> None:
        size = event.ByteSize() + 4
        if self._rows and self._bytes + size > self._max_bytes:
            self._cut()
        self._current.events.append(event)
        self._count(size)

    def add_point(self, point: metric_pb2.MetricPoint) -> None:
        size = point.ByteSize() + 4
        if self._rows and self._bytes + size > self._max_bytes:
            self._cut()
        self._current.points.append(point)
        self._count(size)

    def add_short(self, point: tuple[str, int, str, float, int, dict[str, str] | None]) -> None:
        """A point as plain fields (project_id, source, name, value, Unix
        microseconds, labels): kept in a columnar block of its project and
        source, so no message is built per point."""
        project_id, source, name, value, micros, labels = point
        block = self._blocks.get((project_id, source))
        key = tuple(labels.items()) if labels else ()
        size = COLUMN_POINT_BYTES
        if block is None:
            size += len(project_id) + 8
        if block is None or name not in block.names:
            size += len(name) + 2
        if key and (block is None or key not in block.label_sets):
            size += sum(len(k) + len(v) + 6 for k, v in key)
        if self._rows and self._bytes + size > self._max_bytes:
            self._cut()
            block = None
        if block is None:
            block = self._blocks.setdefault((project_id, source), _Block())
        index = block.names.setdefault(name, len(block.names))
        label_index = block.label_sets.setdefault(key, len(block.label_sets))
        block.name_indexes.append(index)
        block.values.append(value)
        block.times.append(micros)
        block.label_indexes.append(label_index)
        self._count(size)

    def _count(self, size: int) -> None:
        self._rows += 1
        self._bytes += size
        self.rows += 1
        if self._rows >= self._max_rows:
            self._cut()

    def _cut(self) -> None:
        self._close_current()
        if len(self._ready) >= self._group or (
            time.monotonic() - self._ready_since >= GROUP_WAIT_SECONDS
        ):
            self._emit()

    def _close_current(self) -> None:
        if self._rows:
            for (project_id, source), block in self._blocks.items():
                self._current.columns.append(block.columns(project_id, source))
            if not self._ready:
                self._ready_since = time.monotonic()
            self._ready.append(self._current)
            self._current = metric_pb2.MetricBatch()
            self._blocks = {}
            self._rows = 0
            self._bytes = 0

    def _emit(self) -> None:
        if self._ready:
            ready, self._ready = self._ready, []
            self._sink(ready)

    def flush(self) -> None:
        """Send everything collected so far."""
        self._close_current()
        self._emit()
