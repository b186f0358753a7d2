"""The Prediction service: meta-model, predictions, team recommendations, experiments (#5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maestro.prediction.v1 import prediction_service_pb2, prediction_service_pb2_grpc
from maestro_grpc.context import AppContext
from maestro_grpc.lazy import lazy_servicer

if TYPE_CHECKING:
    from maestro_grpc.prediction.servicer import PredictionServicer


def build_servicer(ctx: AppContext) -> Any:
    """The servicer, built on the first Prediction call (scikit-learn is heavy)."""
    return lazy_servicer(
        prediction_service_pb2_grpc.PredictionServiceServicer,
        prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"],
        lambda: build_real_servicer(ctx),
    )


def build_real_servicer(ctx: AppContext) -> PredictionServicer:
    from maestro_grpc.prediction.experiments import Experiments
    from maestro_grpc.prediction.runner import TrainingRunner
    from maestro_grpc.prediction.service import Predictor
    from maestro_grpc.prediction.servicer import PredictionServicer
    from maestro_grpc.prediction.tracking import tracking_target

    predictor = Predictor(
        ctx.db,
        TrainingRunner(ctx.settings.training_processes),
        tracking_target(ctx.settings),
        half_life_days=ctx.settings.impact_half_life_days,
        clock=ctx.clock,
    )
    return PredictionServicer(predictor, Experiments(ctx.db, clock=ctx.clock))
