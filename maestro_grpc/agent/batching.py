"""Cuts a flow of rows into spool-sized batches (by rows and by bytes)."""

from __future__ import annotations

from collections.abc import Callable

from maestro.metrics.v1 import metric_pb2, process_event_pb2

# Large batches: a stream pays per message and per ack, not per row. The
# server's max_batch_rows (sent when the stream opens) may be lower: the
# spool then splits them before sending.
MAX_ROWS = 5000
# Well below the server's 32 MiB message limit, so a batch of commits with
# many paths each still fits.
MAX_BYTES = 4 * 1024 * 1024


class BatchBuilder:
    """Collects rows; hands full batches to `sink` (usually the spool).

    `sink` gets lists of batches: the builder groups `group` batches per call
    so that the spool's fsync is paid once per group, not per batch.
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
        self._rows = 0
        self._bytes = 0
        self._ready: list[metric_pb2.MetricBatch] = []
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

    def _count(self, size: int) -> None:
        self._rows += 1
        self._bytes += size
        self.rows += 1
        if self._rows >= self._max_rows:
            self._cut()

    def _cut(self) -> None:
        if self._rows:
            self._ready.append(self._current)
            self._current = metric_pb2.MetricBatch()
            self._rows = 0
            self._bytes = 0
        if len(self._ready) >= self._group:
            self._emit()

    def _emit(self) -> None:
        if self._ready:
            ready, self._ready = self._ready, []
            self._sink(ready)

    def flush(self) -> None:
        """Send everything collected so far."""
        if self._rows:
            self._ready.append(self._current)
            self._current = metric_pb2.MetricBatch()
            self._rows = 0
            self._bytes = 0
        self._emit()
