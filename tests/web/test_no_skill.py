"""A meta-model without skill, as a person sees it in a real browser (issue #19), on a
server of its own per store whose organisation's outcomes are coin flips: the model
page says so and that the version does not serve by default, "Predict now" says why
it cannot, and a prediction asked of that version shows the warning beside the
figure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from google.protobuf import field_mask_pb2
from playwright.sync_api import Page, expect

from maestro.metrics.v1 import metrics_service_pb2_grpc as msg
from maestro.prediction.v1 import meta_model_pb2 as mp
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.prediction.v1 import prediction_service_pb2_grpc as pbg
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.helpers import ts
from tests.prediction.conftest import points_request
from tests.prediction.test_reliance import START, coin_flips
from tests.web import seed
from tests.web.conftest import Maestro, check_page, running_maestro, sign_in

RUNNING = ("running-a", "running-b")


def record(maestro: Maestro, metrics: Any, project_id: str, points: Any) -> None:
    answer = metrics.RecordMetrics(points_request(project_id, points), metadata=maestro.auth)
    assert not answer.rejected, answer.rejected


def coin_flip_organisation(maestro: Maestro) -> mp.MetaModel:
    """The coin flips and two running projects, written through the RPCs; then the training."""
    metrics: Any = msg.MetricsServiceStub(maestro._channel)  # type: ignore[arg-type]
    for flip in coin_flips():
        made = seed.project(maestro, flip.name, start_time=ts(flip.start), labels=flip.labels)
        record(maestro, metrics, made.id, flip.points)
        done = pp.Project(id=made.id, status=pp.PROJECT_STATUS_COMPLETED, end_time=ts(flip.end))
        mask = field_mask_pb2.FieldMask(paths=["status", "end_time"])
        maestro.registry.UpdateProject(
            rs.UpdateProjectRequest(project=done, update_mask=mask), metadata=maestro.auth
        )
        maestro.registry.UpdateProjectSuccess(
            rs.UpdateProjectSuccessRequest(
                project_id=made.id, success=pp.ProjectSuccess(succeeded=flip.succeeded)
            ),
            metadata=maestro.auth,
        )
    rng = np.random.default_rng(99)
    for name in RUNNING:
        made = seed.project(maestro, name, status=pp.PROJECT_STATUS_ACTIVE, start_time=ts(START))
        noise = [
            (m, START + timedelta(days=7 * w), float(rng.normal()))
            for m in ("noise.a", "noise.b")
            for w in range(30)
        ]
        record(maestro, metrics, made.id, noise)
    prediction: Any = pbg.PredictionServiceStub(maestro._channel)  # type: ignore[arg-type]
    stream = prediction.TrainMetaModel(
        pb.TrainMetaModelRequest(cv_folds=3, cv_repeats=1, random_seed=3),
        metadata=maestro.auth,
        timeout=300,
    )
    models: list[mp.MetaModel] = [m.model for m in stream if m.HasField("model")]
    assert len(models) == 1
    return models[0]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def maestro(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Maestro]:
    """A server whose only meta-model, version 1, has no skill and was not asked to serve."""
    with running_maestro(
        request.param, request, tmp_path_factory.mktemp(f"noskill-{request.param}")
    ) as running:
        model = coin_flip_organisation(running)
        # What the pages below show, as the API says it.
        assert model.version == 1
        assert model.no_skill
        assert not model.serves_by_default
        yield running


def running_project(maestro: Maestro, name: str) -> pp.Project:
    listed = maestro.registry.ListProjects(
        rs.ListProjectsRequest(statuses=[pp.PROJECT_STATUS_ACTIVE]), metadata=maestro.auth
    ).projects
    found: pp.Project = next(p for p in listed if p.name == name)
    return found


def test_the_model_page_gives_the_verdict_and_says_it_does_not_serve(
    page: Page, maestro: Maestro
) -> None:
    sign_in(page, maestro, "/models")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("version 1")
    expect(row).to_contain_text("no: no skill")
    check_page(page, f"models-noskill-{maestro.store}")
    page.get_by_role("link", name="version 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meta-model version 1")
    expect(page.get_by_role("alert")).to_contain_text("No skill: ")
    serving = page.locator("#serving")
    expect(serving).to_contain_text("Does not serve by default")
    expect(serving).to_contain_text("asks for version 1 by number")
    check_page(page, f"model-noskill-{maestro.store}")


def test_a_project_page_says_why_there_is_no_prediction_and_warns_on_one(
    page: Page, maestro: Maestro
) -> None:
    # "Predict now" names no version, and none serves by default: the page says why.
    first = running_project(maestro, RUNNING[0])
    sign_in(page, maestro, f"/projects/{first.id}")
    page.locator("#prediction").get_by_role("button", name="Predict now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("No prediction yet")
    expect(page.locator("main")).to_contain_text(
        "no meta-model version serves by default: the newest, 1, has no skill"
    )
    check_page(page, f"predict-noskill-{maestro.store}")

    # A prediction asked of version 1 by number (maestro predict --model-version 1, any
    # client): the project's page shows it with the warning and the verdict beside it.
    second = running_project(maestro, RUNNING[1])
    prediction: Any = pbg.PredictionServiceStub(maestro._channel)  # type: ignore[arg-type]
    verdict = prediction.GetMetaModel(
        pb.GetMetaModelRequest(version=1), metadata=maestro.auth
    ).model.verdict
    prediction.PredictSuccess(
        pb.PredictSuccessRequest(project_id=second.id, model_version=1), metadata=maestro.auth
    )
    page.goto(f"/projects/{second.id}")
    card = page.locator("#prediction")
    expect(card).to_contain_text("chance of success")
    expect(card).to_contain_text("Model version 1")
    warning = card.get_by_role("note").filter(has_text="No skill:")
    expect(warning).to_contain_text("No skill:")
    expect(warning).to_contain_text(verdict)
    check_page(page, f"prediction-noskill-{maestro.store}")
