"""The Prediction service: meta-model, predictions, team recommendations, experiments (#5)."""

from __future__ import annotations

from typing import Any

from maestro.prediction.v1 import prediction_service_pb2_grpc
from maestro_grpc.context import AppContext
from maestro_grpc.unimplemented import unimplemented_servicer


def build_servicer(ctx: AppContext) -> Any:
    return unimplemented_servicer(prediction_service_pb2_grpc.PredictionServiceServicer, "issue #5")
