"""The Metrics service: exactly-once ingest, summaries, velocity, DORA, live watch (issue #3)."""

from __future__ import annotations

from typing import Any

from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro_grpc.context import AppContext
from maestro_grpc.unimplemented import unimplemented_servicer


def build_servicer(ctx: AppContext) -> Any:
    return unimplemented_servicer(metrics_service_pb2_grpc.MetricsServiceServicer, "issue #3")
