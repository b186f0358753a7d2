"""The metrics context's Prometheus figures: ingest, back-pressure, streams, rollups.

The wire layer counts what each write stored and refused (`IngestCounts`,
by RPC); the domain keeps its own plain figures (the ingest byte budget,
the open streams, the rollup worker's counts and queue); the collectors
here read them at scrape time. Every labelled family starts with its
children at zero, so a rate over a quiet server is 0, not "no data".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from maestro_grpc.metrics.domain.rollup import RollupWorker
from maestro_grpc.metrics.domain.streams import ByteBudget, StreamRegistry
from maestro_grpc.metrics.model import WriteResult

RPCS = ("RecordMetrics", "StreamMetrics")
REJECT_REASONS = ("INVALID_ROW", "PROJECT_NOT_FOUND", "PERMISSION_DENIED")


class IngestCounts:
    """What writes stored and refused, by RPC (RecordMetrics, StreamMetrics)."""

    def __init__(self) -> None:
        self.points: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.rejected: Counter[tuple[str, str]] = Counter()
        self.batches: Counter[tuple[str, str]] = Counter()

    def stored(self, rpc: str, result: WriteResult) -> None:
        self.points[rpc] += result.stored_points
        self.events[rpc] += result.stored_events
        self.batches[rpc, "stored"] += 1
        for row in result.rejected:
            self.rejected[rpc, row.reason] += 1

    def duplicate(self, rpc: str) -> None:
        self.batches[rpc, "duplicate"] += 1


class IngestCollector(Collector):
    def __init__(self, counts: IngestCounts, budget: ByteBudget, streams: StreamRegistry) -> None:
        self.counts = counts
        self.budget = budget
        self.streams = streams

    def collect(self) -> Iterator[Metric]:
        yield from self._rows()
        budget = self.budget
        yield GaugeMetricFamily(
            "maestro_ingest_buffer_bytes",
            "Bytes of received batches not yet stored, in this process.",
            value=budget.used,
        )
        yield GaugeMetricFamily(
            "maestro_ingest_buffer_limit_bytes",
            "The most such bytes (MAESTRO_METRICS_INGEST_BUFFER_BYTES); at it, streams stop "
            "being read and RecordMetrics waits, then answers RESOURCE_EXHAUSTED.",
            value=budget.limit,
        )
        yield CounterMetricFamily(
            "maestro_ingest_buffer_waits",
            "Batches that found the ingest buffer full and waited (back-pressure).",
            value=budget.waits,
        )
        yield GaugeMetricFamily(
            "maestro_metrics_streams_open",
            "StreamMetrics streams open on this replica (one per producer).",
            value=len(self.streams.sessions),
        )

    def _rows(self) -> Iterator[Metric]:
        c = self.counts
        points = CounterMetricFamily(
            "maestro_ingest_points", "Metric points stored, by RPC.", labels=("rpc",)
        )
        events = CounterMetricFamily(
            "maestro_ingest_events", "Process events stored, by RPC.", labels=("rpc",)
        )
        for rpc in RPCS:
            points.add_metric((rpc,), c.points[rpc])
            events.add_metric((rpc,), c.events[rpc])
        yield points
        yield events
        rejected = CounterMetricFamily(
            "maestro_ingest_rejected_rows",
            "Rows refused (and answered in `rejected`), by RPC and reason.",
            labels=("rpc", "reason"),
        )
        reasons = sorted({*REJECT_REASONS, *(reason for _, reason in c.rejected)})
        for rpc in RPCS:
            for reason in reasons:
                rejected.add_metric((rpc, reason), c.rejected[rpc, reason])
        yield rejected
        batches = CounterMetricFamily(
            "maestro_ingest_batches",
            "Batches written, by RPC and outcome (stored; duplicate: stored before, acked again).",
            labels=("rpc", "outcome"),
        )
        for rpc in RPCS:
            for outcome in ("stored", "duplicate"):
                batches.add_metric((rpc, outcome), c.batches[rpc, outcome])
        yield batches


class RollupCollector(Collector):
    """The rollup worker's figures (in `maestro worker metrics`, or the embedded server)."""

    def __init__(self, worker: RollupWorker) -> None:
        self.worker = worker

    def collect(self) -> Iterator[Metric]:
        w, figures = self.worker, self.worker.figures
        windows = CounterMetricFamily(
            "maestro_rollup_windows",
            "Rollup jobs (a project's window) processed by this worker, by outcome (ok, error).",
            labels=("outcome",),
        )
        windows.add_metric(("ok",), w.rolled)
        windows.add_metric(("error",), w.failed)
        yield windows
        yield GaugeMetricFamily(
            "maestro_rollup_jobs_queued",
            "Rollup jobs in the queue: waiting for their delay, due, or running.",
            value=figures.queued,
        )
        yield GaugeMetricFamily(
            "maestro_rollup_jobs_due", "Rollup jobs due and not leased.", value=figures.due
        )
        yield GaugeMetricFamily(
            "maestro_rollup_oldest_due_age_seconds",
            "How long the oldest due rollup job has waited for a worker.",
            value=figures.oldest_due_seconds,
        )
        yield GaugeMetricFamily(
            "maestro_metric_points_default_partition_rows",
            "Points in the DEFAULT partition of metric_points (PostgreSQL): written for a "
            "month without its own partition; the worker moves them out.",
            value=figures.default_partition_rows,
        )
