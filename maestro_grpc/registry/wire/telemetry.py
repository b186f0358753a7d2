"""The registry's Prometheus figures: the project cache's, and the indexer's progress and errors.

The domain keeps plain counts (the cache) or tells an observer (the
indexer); these turn them into metrics on a `CollectorRegistry`, which the
server or the indexer's process serves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from maestro_grpc.registry.domain.indexer import JOB_KINDS
from maestro_grpc.registry.domain.project_cache import ProjectCache
from maestro_grpc.registry.model import GcReport, VerifyReport, VerifyStatus


class CacheCollector(Collector):
    """A cache's figures for Prometheus: hits, misses, entries, and whether it answers.

    `kind` names them: `maestro_project_cache_*` (GetProject's), or
    `maestro_artifact_cache_*` (GetArtifact's).
    """

    def __init__(self, cache: ProjectCache[Any], kind: str = "project") -> None:
        self.cache = cache
        self.kind = kind
        self.rpc = "Get" + kind.capitalize()

    def collect(self) -> Iterator[Metric]:
        c, kind, rpc = self.cache, self.kind, self.rpc
        yield CounterMetricFamily(
            f"maestro_{kind}_cache_hits", f"{rpc} calls answered from memory.", value=c.hits
        )
        yield CounterMetricFamily(
            f"maestro_{kind}_cache_misses", f"{rpc} calls that read the store.", value=c.misses
        )
        yield GaugeMetricFamily(
            f"maestro_{kind}_cache_entries", f"{kind.capitalize()}s held in memory.", value=len(c)
        )
        yield GaugeMetricFamily(
            f"maestro_{kind}_cache_armed",
            "1 while the change feed is connected and the cache may answer.",
            value=1 if c.armed else 0,
        )


class IndexerMetrics:
    """The indexer's Prometheus metrics (an `IndexerObserver`): progress and errors."""

    def __init__(self, registry: CollectorRegistry, *, interval_seconds: float = 0.0) -> None:
        self.registry = registry
        # The label is `task`: Prometheus owns `job` (and would rename ours exported_job).
        self.jobs = Counter(
            "maestro_indexer_jobs_total",
            "Indexer jobs run, by task (impact, verify, gc, ...) and outcome (ok, error).",
            ("task", "outcome"),
            registry=registry,
        )
        self.seconds = Histogram(
            "maestro_indexer_job_duration_seconds",
            "Time an indexer job took, by task.",
            ("task",),
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900),
            registry=registry,
        )
        self.last_success = Gauge(
            "maestro_indexer_last_success_timestamp_seconds",
            "When a job of this task last succeeded (Unix time).",
            ("task",),
            registry=registry,
        )
        self.rescored_total = Counter(
            "maestro_indexer_artifacts_rescored_total",
            "Artifacts whose usage count and impact score were recomputed.",
            registry=registry,
        )
        self.rescore_changed = Counter(
            "maestro_indexer_impact_scores_changed_total",
            "Recomputed artifacts whose usage count or impact score changed.",
            registry=registry,
        )
        self.verified_total = Counter(
            "maestro_indexer_blobs_verified_total",
            "Blobs re-hashed, by result: ok, mismatch (the bytes no longer hash to their "
            "address) or missing (gone from the blob store).",
            ("result",),
            registry=registry,
        )
        self.bad_blobs = Gauge(
            "maestro_indexer_bad_blobs",
            "Stored blobs whose last verification failed (mismatch or missing).",
            registry=registry,
        )
        self.interval = Gauge(
            "maestro_indexer_interval_seconds",
            "How often each indexer task is due (MAESTRO_INDEXER_INTERVAL_SECONDS).",
            registry=registry,
        )
        self.interval.set(interval_seconds)
        self._gc_figures(registry)
        for kind in JOB_KINDS:
            for outcome in ("ok", "error"):
                self.jobs.labels(kind, outcome)
        for status in VerifyStatus:
            self.verified_total.labels(status.value)

    def _gc_figures(self, registry: CollectorRegistry) -> None:
        self.collected_total = Counter(
            "maestro_indexer_blobs_collected_total",
            "Blobs removed by the garbage collector.",
            registry=registry,
        )
        self.collected_bytes = Counter(
            "maestro_indexer_blob_bytes_collected_total",
            "Bytes of the blobs removed by the garbage collector.",
            registry=registry,
        )
        self.gc_failures = Counter(
            "maestro_indexer_gc_failures_total",
            "Blobs the garbage collector failed to remove (retried on its next pass).",
            registry=registry,
        )
        self.swept = Counter(
            "maestro_indexer_upload_leftovers_swept_total",
            "Leftovers of abandoned uploads removed from the blob store (temporary files, "
            "staging objects, unfinished multipart uploads).",
            registry=registry,
        )

    # ---- IndexerObserver -------------------------------------------------------

    def job_done(self, kind: str, ok: bool, seconds: float) -> None:
        self.jobs.labels(kind, "ok" if ok else "error").inc()
        self.seconds.labels(kind).observe(seconds)
        if ok:
            self.last_success.labels(kind).set(time.time())

    def rescored(self, count: int, changed: int) -> None:
        self.rescored_total.inc(count)
        self.rescore_changed.inc(changed)

    def verified(self, report: VerifyReport) -> None:
        for status in VerifyStatus:
            self.verified_total.labels(status.value).inc(getattr(report, status.value))
        self.bad_blobs.set(report.bad_total)

    def collected(self, report: GcReport) -> None:
        self.collected_total.inc(report.deleted)
        self.collected_bytes.inc(report.deleted_bytes)
        self.gc_failures.inc(report.failed)
        self.swept.inc(report.swept)
