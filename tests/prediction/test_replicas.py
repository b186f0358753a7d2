"""Replicas on one store: a version trained on one is used by the other, without a restart."""

from __future__ import annotations

import grpc
import grpc.aio
import pytest

from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.prediction.v1 import prediction_service_pb2_grpc
from maestro_grpc.config import Settings
from maestro_grpc.demo import seed
from maestro_grpc.server import start_server
from tests.conftest import with_settings
from tests.helpers import error_info, expect_error
from tests.prediction.conftest import PredictionStub, RegistryStub
from tests.prediction.test_meta_model import train


@pytest.fixture
def settings(settings: Settings, shared_mlflow: str) -> Settings:
    """The servers' settings, with the MLflow store shared by the session."""
    return with_settings(settings, mlflow_tracking_uri=shared_mlflow)


async def test_replicas_pick_up_a_new_version_without_restart(
    prediction: PredictionStub, channel: grpc.aio.Channel, settings: Settings
) -> None:
    seeded = await seed(channel, projects=60, active=1, random_seed=2)
    active = next(p for p in seeded.projects if not p.finished)
    replica = await start_server(settings)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{replica.port}") as other:
            on_replica = prediction_service_pb2_grpc.PredictionServiceStub(other)
            # 60 demo projects are too few for a model with skill: served on request.
            await train(prediction, serve_without_skill=True)
            first = (
                await on_replica.PredictSuccess(
                    pb.PredictSuccessRequest(project_id=active.project_id)
                )
            ).prediction
            assert first.model_version == 1
            await train(prediction, random_seed=1, serve_without_skill=True)
            second = (
                await on_replica.PredictSuccess(
                    pb.PredictSuccessRequest(project_id=active.project_id)
                )
            ).prediction
            assert second.model_version == 2
    finally:
        await replica.stop(grace=0.2)


async def test_a_cancelled_training_stores_nothing(
    prediction: PredictionStub, channel: grpc.aio.Channel
) -> None:
    await seed(channel, projects=40, random_seed=6)
    call = prediction.TrainMetaModel(pb.TrainMetaModelRequest(cv_folds=3, cv_repeats=1))
    first = await call.read()
    assert isinstance(first, pb.TrainMetaModelResponse)
    assert first.progress.stage == "loading"
    call.cancel()
    # Train again to the end: the abandoned run, on the same data, would have
    # finished (and stored its version) by then; only this one is stored.
    model, _ = await train(prediction)
    assert model.version == 1
    models = await prediction.ListMetaModels(pb.ListMetaModelsRequest())
    assert [m.version for m in models.models] == [1]


async def test_training_without_a_reachable_mlflow_is_unavailable(
    registry: RegistryStub, settings: Settings
) -> None:
    # Every version is logged to MLflow: when it cannot be, none is stored.
    broken = with_settings(settings, mlflow_tracking_uri="nosuchscheme://mlflow")
    server = await start_server(broken)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            await seed(channel, projects=30, random_seed=9)
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            error = await expect_error(train(stub), grpc.StatusCode.UNAVAILABLE)
            assert error_info(error).reason == "TRACKING_UNAVAILABLE"
            assert "nosuchscheme://mlflow" in (error.details() or "")
            assert list((await stub.ListMetaModels(pb.ListMetaModelsRequest())).models) == []
    finally:
        await server.stop(grace=0.2)
