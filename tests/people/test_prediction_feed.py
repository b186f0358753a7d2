"""A prediction that moves is in the feed of the project's followers (real server, tokens)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from maestro.people.v1 import collaboration_service_pb2 as cs
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.prediction.v1 import prediction_service_pb2_grpc as pg
from maestro_grpc.config import Settings
from maestro_grpc.demo import seed
from tests.access.conftest import Secured, bearer
from tests.conftest import server_settings
from tests.people.test_collaboration import collab, feed, someone


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    # Every move counts, so that two predictions of one project make an event.
    return replace(server_settings(store_url, tmp_path), feed_prediction_move=0.0)


@pytest.mark.slow
async def test_a_moved_prediction_reaches_the_followers(secured: Secured) -> None:
    seeded = await seed(secured.channel, projects=40, active=2, random_seed=3, token=secured.admin)
    active = next(p for p in seeded.projects if not p.finished)
    prediction = pg.PredictionServiceStub(secured.channel)
    admin = bearer(secured.admin)
    async for _ in prediction.TrainMetaModel(
        pb.TrainMetaModelRequest(cv_folds=3, cv_repeats=1), metadata=admin
    ):
        pass
    ada = await someone(secured, "ada", "reader")
    await collab(secured).Follow(
        cs.FollowRequest(
            target=cs.FollowTarget(kind=cs.SUBJECT_KIND_PROJECT, subject_id=active.project_id)
        ),
        metadata=ada.md,
    )
    first = await prediction.PredictSuccess(
        pb.PredictSuccessRequest(project_id=active.project_id), metadata=admin
    )
    assert (await feed(secured, ada)).events == []  # nothing to compare the first one with
    second = await prediction.PredictSuccess(
        pb.PredictSuccessRequest(project_id=active.project_id), metadata=admin
    )
    events = (await feed(secured, ada)).events
    assert [e.kind for e in events] == [cs.ACTIVITY_KIND_PREDICTION_MOVED]
    before, after = first.prediction.probability, second.prediction.probability
    assert events[0].summary == f"predicted success moved from {before:.0%} to {after:.0%}"
    assert events[0].project_id == active.project_id
