"""Page 5, the meta-model, and a project's prediction, in a real browser, on a server of
their own whose model is trained from `maestro demo seed`'s synthetic projects."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.prediction.v1 import prediction_service_pb2_grpc as pbg
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.agent.live import ROOT
from tests.web.conftest import Maestro, check_page, running_maestro, sign_in


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def maestro(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Maestro]:
    """A server with a trained meta-model (this module's own: others see none)."""
    with running_maestro(
        request.param, request, tmp_path_factory.mktemp(f"models-{request.param}")
    ) as running:
        seeded = subprocess.run(
            [
                sys.executable,
                "-m",
                "maestro_grpc",
                "demo",
                "seed",
                "--projects",
                "40",
                "--active",
                "2",
                "--seed",
                "3",
                "--prefix",
                "seeded",
            ],
            env={
                **os.environ,
                "MAESTRO_ADDRESS": running.server.address,
                "MAESTRO_TOKEN": running.token,
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert seeded.returncode == 0, seeded.stderr
        prediction = pbg.PredictionServiceStub(running._channel)  # type: ignore[arg-type]
        stream = prediction.TrainMetaModel(
            # 40 demo projects are too few for a model with skill: served on request.
            pb.TrainMetaModelRequest(
                cv_folds=3, cv_repeats=1, random_seed=1, serve_without_skill=True
            ),
            metadata=running.auth,
            timeout=300,
        )
        assert any(message.HasField("model") for message in stream)  # type: ignore[attr-defined]
        yield running


def test_the_meta_model_its_versions_and_importances(page: Page, maestro: Maestro) -> None:
    sign_in(page, maestro, "/models")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("version 1")
    expect(row).to_contain_text("40 (")
    expect(row).to_contain_text("no outcome yet")
    check_page(page, f"models-{maestro.store}")
    page.get_by_role("link", name="version 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meta-model version 1")
    expect(page.locator("svg.contrib rect")).not_to_have_count(0)
    expect(page.get_by_text("(kept)")).to_be_visible()
    # Trained with serve_without_skill: whatever its verdict, it serves by default.
    expect(page.locator("#serving")).to_contain_text("Serves by default")
    importances = page.locator(
        "section", has=page.get_by_role("heading", name="Feature importances")
    )
    expect(importances.locator("tbody tr")).not_to_have_count(0)
    check_page(page, f"model-{maestro.store}")


def test_predict_a_running_project_and_read_why(page: Page, maestro: Maestro) -> None:
    active = maestro.registry.ListProjects(
        rs.ListProjectsRequest(statuses=[pp.PROJECT_STATUS_ACTIVE]), metadata=maestro.auth
    ).projects[0]
    sign_in(page, maestro, f"/projects/{active.id}")
    card = page.locator("#prediction")
    expect(card).to_contain_text("No prediction yet.")
    card.get_by_role("button", name="Predict now").click()
    expect(card).to_contain_text("chance of success")
    expect(card).to_contain_text("Model version 1")
    why = page.locator(
        "section", has=page.get_by_role("heading", name="Why: the largest contributions")
    )
    expect(why.locator("svg rect")).not_to_have_count(0)
    expect(why.locator("tbody tr")).not_to_have_count(0)
    check_page(page, f"prediction-{maestro.store}")


def test_recommend_a_team_for_a_running_project(page: Page, maestro: Maestro) -> None:
    active = maestro.registry.ListProjects(
        rs.ListProjectsRequest(statuses=[pp.PROJECT_STATUS_ACTIVE]), metadata=maestro.auth
    ).projects[0]
    sign_in(page, maestro, f"/projects/{active.id}")
    page.get_by_role("link", name="Recommend a team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"A team for {active.name}")
    page.get_by_label("At most").select_option("4 people")
    page.get_by_role("button", name="Recommend").click()
    current = page.locator("section", has=page.get_by_role("heading", name="The current team"))
    expect(current).to_contain_text("chance of success")
    proposal = page.locator("section", has=page.get_by_role("heading", name="Proposal 1"))
    expect(proposal).to_contain_text("chance of success")
    assert 1 <= proposal.locator("ul.members li").count() <= 4
    check_page(page, f"team-{maestro.store}")
