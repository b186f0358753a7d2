"""The prediction context's Prometheus figures: training runs and the model they made.

The Predictor tells a `TrainingObserver` of each run; `TrainingMetrics` is
that observer, on the server's registry. It is made when the server starts
(the servicer itself is built on the first call), so the figures exist,
at zero, before any training.
"""

from __future__ import annotations

import math
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from maestro_grpc.prediction.model import MetaModelRecord

OUTCOMES = ("ok", "not_trainable", "tracking_unavailable", "cancelled", "error")


class TrainingMetrics:
    """A `TrainingObserver` that keeps the training figures on `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "maestro_training_runs_total",
            "TrainMetaModel runs, by outcome: ok, not_trainable (too few finished projects), "
            "tracking_unavailable (MLflow), cancelled, error.",
            ("outcome",),
            registry=registry,
        )
        for outcome in OUTCOMES:
            self.runs.labels(outcome)
        self.running = Gauge(
            "maestro_training_runs_running", "Training runs in progress.", registry=registry
        )
        self.seconds = Histogram(
            "maestro_training_duration_seconds",
            "How long a training run took, whatever its outcome.",
            buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1200, 3600),
            registry=registry,
        )
        self.last_success = Gauge(
            "maestro_training_last_success_timestamp_seconds",
            "When a training run last stored a new version (Unix time; 0: none since start).",
            registry=registry,
        )
        self.version = Gauge(
            "maestro_meta_model_version",
            "The version the last successful training run stored.",
            registry=registry,
        )
        self.roc_auc = Gauge(
            "maestro_meta_model_cv_roc_auc",
            "Cross-validated ROC AUC of the version the last successful run stored.",
            registry=registry,
        )

    def started(self) -> None:
        self.running.inc()

    def ended(self, outcome: str, seconds: float, record: MetaModelRecord | None) -> None:
        self.running.dec()
        self.runs.labels(outcome).inc()
        self.seconds.observe(seconds)
        if record is None:
            return
        self.last_success.set(time.time())
        self.version.set(record.version)
        roc_auc = float(record.details.get("cv_scores", {}).get("roc_auc", math.nan))
        if math.isfinite(roc_auc):
            self.roc_auc.set(roc_auc)
