"""The meta-model through the real server on both stores: train, predict, explain, replicas."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import grpc.aio
import numpy as np
import pytest
from google.protobuf import field_mask_pb2
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from maestro.prediction.v1 import meta_model_pb2 as mp
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro_grpc.demo import seed
from maestro_grpc.prediction.domain.tracking import tracking_target
from maestro_grpc.server import RunningServer
from tests.helpers import error_info, expect_error, expect_invalid, ts, violations
from tests.prediction.conftest import PredictionStub, RegistryStub, create_project


def spearman(a: list[float], b: list[float]) -> float:
    ranks_a = np.argsort(np.argsort(a))
    ranks_b = np.argsort(np.argsort(b))
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


STAGES = ["loading", "features", "cross_validation", "fitting", "storing", "done"]


async def train(
    prediction: PredictionStub, **fields: Any
) -> tuple[mp.MetaModel, list[mp.TrainingProgress]]:
    fields.setdefault("cv_folds", 3)
    fields.setdefault("cv_repeats", 1)
    progress = []
    model = None
    async for message in prediction.TrainMetaModel(pb.TrainMetaModelRequest(**fields)):
        progress.append(message.progress)
        if message.HasField("model"):
            model = message.model
    assert model is not None
    return model, progress


async def close(
    registry: RegistryStub, project_id: str, succeeded: bool, end: datetime | None = None
) -> None:
    project = pp.Project(id=project_id, status=pp.PROJECT_STATUS_COMPLETED)
    paths = ["status"]
    if end is not None:
        project.end_time.CopyFrom(ts(end))
        paths.append("end_time")
    await registry.UpdateProject(
        rs.UpdateProjectRequest(project=project, update_mask=field_mask_pb2.FieldMask(paths=paths))
    )
    await registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=project_id, success=pp.ProjectSuccess(succeeded=succeeded)
        )
    )


# long: one model's life in order, from training to realised scores and a second version
async def test_train_store_predict_explain_and_list(
    prediction: PredictionStub,
    registry: RegistryStub,
    channel: grpc.aio.Channel,
    server: RunningServer,
) -> None:
    error = await expect_error(
        prediction.PredictSuccess(pb.PredictSuccessRequest(project_id=str(uuid.uuid4()))),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert error_info(error).reason == "NO_MODEL"
    await expect_error(
        prediction.GetMetaModel(pb.GetMetaModelRequest()), grpc.StatusCode.FAILED_PRECONDITION
    )
    assert (await prediction.ListMetaModels(pb.ListMetaModelsRequest())).models == []

    seeded = await seed(channel, projects=200, active=3, random_seed=5)
    finished = [p for p in seeded.projects if p.finished]
    model, progress = await train(prediction, cv_folds=5, random_seed=7)

    stages = [p.stage for p in progress]
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == STAGES
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert model.version == 1
    assert model.training_set_size == len(finished)
    assert model.positive_count == sum(1 for p in finished if p.succeeded)
    assert model.observation_days == 240
    assert model.kind in (mp.MODEL_KIND_LOGISTIC_REGRESSION, mp.MODEL_KIND_GRADIENT_BOOSTING)
    assert (model.cv_scores.folds, model.cv_scores.repeats) == (5, 1)
    assert model.cv_scores.brier < model.cv_scores.baseline_brier

    # The ground truth of `maestro demo seed` is recovered: the model ranks
    # nearly as well as the true probabilities do, and no better (after day
    # 240 review coverage gives the outcome away: reading past the window
    # would show as a score above the truth's).
    oracle = roc_auc_score([p.succeeded for p in finished], [p.probability for p in finished])
    assert oracle - 0.08 <= model.cv_scores.roc_auc <= oracle + 0.04
    importance = {f.name: f.importance for f in model.features}

    def family(prefix: str) -> float:
        return sum(v for k, v in importance.items() if k.startswith(prefix))

    # The signal of a metric is shared among its aggregates; compare families.
    noise = family("metric.demo.noise.")
    assert family("metric.demo.review_coverage.") > noise
    assert family("metric.demo.build_failures.") > 0
    noise = max(v for k, v in importance.items() if k.startswith("metric.demo.noise."))
    assert importance["team.experience.mean"] > noise
    assert {c.kind for c in model.candidates} == {
        mp.MODEL_KIND_LOGISTIC_REGRESSION,
        mp.MODEL_KIND_GRADIENT_BOOSTING,
    }
    # Nested cross-validation: each outer fold chose a candidate by its inner folds.
    assert sum(c.times_selected for c in model.candidates) == 5
    assert model.candidate in {c.name for c in model.candidates}
    assert not model.no_skill
    assert model.serves_by_default
    assert model.verdict.startswith("Skill: ")
    assert model.validation.roc_auc_low > 0.5
    names = {f.name for f in model.features}
    assert {
        "team.experience.mean",
        "metric.demo.review_coverage.mean",
        "team.skill_coverage",
    } <= names
    assert model.mlflow_run_id
    assert model.mlflow_model_uri == "models:/maestro-meta-model/1"
    assert model.realised_scores.projects == 0

    got = (await prediction.GetMetaModel(pb.GetMetaModelRequest())).model
    assert got == model
    assert (await prediction.GetMetaModel(pb.GetMetaModelRequest(version=1))).model == model
    error = await expect_error(
        prediction.GetMetaModel(pb.GetMetaModelRequest(version=9)), grpc.StatusCode.NOT_FOUND
    )
    assert error_info(error).reason == "MODEL_NOT_FOUND"

    # A running project: its window is still open, so the prediction says so.
    active = next(p for p in seeded.projects if not p.finished)
    first = (
        await prediction.PredictSuccess(pb.PredictSuccessRequest(project_id=active.project_id))
    ).prediction
    assert first.model_version == 1
    assert 0 < first.probability < 1
    assert first.extrapolation
    assert "observation window has not closed" in first.extrapolation_reasons[0]
    assert abs(first.observation_end_time.ToDatetime(tzinfo=UTC) - datetime.now(UTC)) < timedelta(
        minutes=1
    )
    magnitudes = [abs(c.contribution) for c in first.contributions]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert {c.feature for c in first.contributions} == names
    second = (
        await prediction.PredictSuccess(
            pb.PredictSuccessRequest(project_id=active.project_id, model_version=1)
        )
    ).prediction
    listed = await prediction.ListPredictions(
        pb.ListPredictionsRequest(project_id=active.project_id, page_size=1)
    )
    assert [p.id for p in listed.predictions] == [second.id]
    rest = await prediction.ListPredictions(
        pb.ListPredictionsRequest(
            project_id=active.project_id, page_size=1, page_token=listed.next_page_token
        )
    )
    assert list(rest.predictions) == [first]
    assert rest.next_page_token == ""

    # A finished project: complete window, inside the training ranges.
    done = finished[0]
    inside = (
        await prediction.PredictSuccess(pb.PredictSuccessRequest(project_id=done.project_id))
    ).prediction
    assert not any("window" in r for r in inside.extrapolation_reasons)

    # The model round-trips through MLflow: the registered version predicts the same.
    import mlflow
    import mlflow.sklearn

    target = tracking_target(server.settings)
    assert target.tracking_uri.startswith("sqlite:///")
    assert str(server.settings.data_dir.resolve()) in target.tracking_uri
    mlflow.set_tracking_uri(target.tracking_uri)
    logged = mlflow.artifacts.load_dict(f"runs:/{model.mlflow_run_id}/features.json")
    assert [f["name"] for f in logged["features"]] == [f.name for f in model.features]
    values = {c.feature: (math.nan if c.missing else c.value) for c in inside.contributions}
    row = np.array([[values.get(name, math.nan) for name in logged["input_names"]]])
    loaded = mlflow.sklearn.load_model(model.mlflow_model_uri)
    assert loaded.predict_proba(row)[0, 1] == pytest.approx(inside.probability, abs=1e-12)
    client = mlflow.MlflowClient()
    run = client.get_run(model.mlflow_run_id)
    assert run.data.params["cv_folds"] == "5"
    assert run.data.metrics["cv_roc_auc"] == pytest.approx(model.cv_scores.roc_auc)
    assert run.data.tags["maestro.meta_model_version"] == "1"
    assert (server.settings.data_dir / "mlflow-artifacts").is_dir()

    # Realised scores: the active project's outcome is recorded after it was predicted.
    await close(registry, active.project_id, succeeded=True)
    realised = (await prediction.GetMetaModel(pb.GetMetaModelRequest())).model.realised_scores
    assert realised.projects == 1
    assert realised.brier == pytest.approx((1 - second.probability) ** 2)
    assert realised.accuracy == (1.0 if second.probability >= 0.5 else 0.0)
    assert realised.roc_auc == 0.0  # one outcome only

    # Projects the model never saw: its probabilities follow the true ones.
    fresh = await seed(channel, projects=40, random_seed=99, prefix="fresh")
    predicted = [
        (
            await prediction.PredictSuccess(pb.PredictSuccessRequest(project_id=p.project_id))
        ).prediction.probability
        for p in fresh.projects
    ]
    truth = [p.probability for p in fresh.projects]
    assert spearman(predicted, truth) > 0.6

    # A second version; both listed newest first, page by page.
    again, _ = await train(prediction, random_seed=8, observation_days=200)
    assert again.version == 2
    assert again.observation_days == 200
    page = await prediction.ListMetaModels(pb.ListMetaModelsRequest(page_size=1))
    assert [m.version for m in page.models] == [2]
    page = await prediction.ListMetaModels(
        pb.ListMetaModelsRequest(page_size=1, page_token=page.next_page_token)
    )
    assert [m.version for m in page.models] == [1]
    assert page.models[0].realised_scores.projects == 1
    assert page.next_page_token == ""
    latest = (
        await prediction.PredictSuccess(pb.PredictSuccessRequest(project_id=done.project_id))
    ).prediction
    assert latest.model_version == 2


async def test_bad_requests(prediction: PredictionStub, registry: RegistryStub) -> None:
    error = await expect_error(
        prediction.TrainMetaModel(
            pb.TrainMetaModelRequest(observation_days=-1, cv_folds=1, cv_repeats=51)
        ).read(),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert {"observation_days", "cv_folds", "cv_repeats"} <= set(violations(error))
    await expect_invalid(
        prediction.TrainMetaModel(pb.TrainMetaModelRequest(observation_days=4000)).read(),
        "observation_days",
    )
    await expect_invalid(prediction.GetMetaModel(pb.GetMetaModelRequest(version=-1)), "version")
    error = await expect_error(
        prediction.PredictSuccess(pb.PredictSuccessRequest(project_id="x", model_version=-2)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert {"project_id", "model_version"} <= set(violations(error))
    await expect_invalid(
        prediction.ListPredictions(pb.ListPredictionsRequest(project_id="")), "project_id"
    )
    await expect_invalid(
        prediction.ListMetaModels(pb.ListMetaModelsRequest(page_size=-1)), "page_size"
    )
    await expect_invalid(
        prediction.ListMetaModels(pb.ListMetaModelsRequest(page_token="junk")), "page_token"
    )
    error = await expect_error(
        prediction.ListPredictions(pb.ListPredictionsRequest(project_id=str(uuid.uuid4()))),
        grpc.StatusCode.NOT_FOUND,
    )
    assert error_info(error).reason == "PROJECT_NOT_FOUND"


async def test_too_few_projects_or_one_outcome_is_failed_precondition(
    prediction: PredictionStub, registry: RegistryStub
) -> None:
    now = datetime.now(UTC)
    # Five projects that ended before their window closed: left out, and counted.
    for i in range(5):
        pid = await create_project(registry, f"short-{i}", now - timedelta(days=500))
        await close(registry, pid, succeeded=True, end=now - timedelta(days=400))
    for i in range(12):
        pid = await create_project(registry, f"ok-{i}", now - timedelta(days=500))
        await close(registry, pid, succeeded=i % 2 == 0, end=now - timedelta(days=100))
    # Still running, or without an outcome: not counted at all.
    await create_project(registry, "running", now - timedelta(days=500))
    error = await expect_error(train(prediction), grpc.StatusCode.FAILED_PRECONDITION)
    assert error_info(error).reason == "NOT_ENOUGH_PROJECTS"
    assert "found 12 (6 succeeded, 6 failed), and 5 more" in (error.details() or "")
    for i in range(20):
        pid = await create_project(registry, f"win-{i}", now - timedelta(days=500))
        await close(registry, pid, succeeded=True, end=now - timedelta(days=100))
    # 32 projects, but every one of them has only its (constant) counts: nothing to learn from.
    error = await expect_error(train(prediction), grpc.StatusCode.FAILED_PRECONDITION)
    assert error_info(error).reason == "NOT_TRAINABLE"
    assert "no feature varies across the 32 eligible projects" in (error.details() or "")


async def test_only_one_outcome_is_failed_precondition(
    prediction: PredictionStub, registry: RegistryStub
) -> None:
    now = datetime.now(UTC)
    for i in range(25):
        pid = await create_project(registry, f"all-good-{i}", now - timedelta(days=500))
        await close(registry, pid, succeeded=True, end=now - timedelta(days=100))
    error = await expect_error(train(prediction), grpc.StatusCode.FAILED_PRECONDITION)
    assert "found 25 (25 succeeded, 0 failed)" in (error.details() or "")
