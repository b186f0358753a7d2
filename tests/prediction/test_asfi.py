"""The real data: 222 Apache Incubator projects, loaded through the RPCs, trained at 240 days.

The bar (issue #5): cross-validated ROC AUC of at least 0.80 (a plain
logistic regression on simple aggregates reaches 0.795) and a Brier score
below the majority baseline's, on both stores. Since issue #19 that score is
the nested one (the outer folds alone), and it must beat the plain logistic
regression on the mean and last of each metric on the same folds; the
time-ordered hold-out, the learning curve and the accounting of every
project are shown beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import grpc.aio
import pytest

from maestro.prediction.v1 import meta_model_pb2 as mp
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro_grpc.config import Settings
from maestro_grpc.demo import import_asfi
from tests.conftest import with_settings
from tests.prediction.conftest import PredictionStub, RegistryStub
from tests.prediction.test_meta_model import train

ASFI = Path(__file__).resolve().parents[2] / "data" / "asfi"


@pytest.fixture
def settings(settings: Settings, shared_mlflow: str) -> Settings:
    """The server's settings, with the MLflow store shared by the session."""
    return with_settings(settings, mlflow_tracking_uri=shared_mlflow)


async def test_asfi_through_the_rpcs_meets_the_bar(
    prediction: PredictionStub, registry: RegistryStub, channel: grpc.aio.Channel
) -> None:
    report = await import_asfi(channel, ASFI)
    assert (report.projects, report.graduated, report.retired) == (222, 176, 46)
    assert report.points == 4363 * 18  # every monthly row, every column

    accumulo = (
        await registry.GetProject(rs.GetProjectRequest(project_id=report.project_ids["Accumulo"]))
    ).project
    assert accumulo.start_time.ToDatetime(tzinfo=UTC) == datetime(2011, 9, 12, tzinfo=UTC)
    assert accumulo.end_time.ToDatetime(tzinfo=UTC) == datetime(2012, 3, 21, tzinfo=UTC)
    assert accumulo.status == pp.PROJECT_STATUS_COMPLETED
    assert accumulo.success.succeeded
    assert accumulo.labels["source"] == "asfi"

    model, _ = await train(
        prediction, observation_days=240, cv_folds=5, cv_repeats=4, random_seed=0
    )
    # Accumulo and 13 others ended within 240 days of their start: left out.
    assert model.training_set_size == 208
    scores = model.cv_scores
    print(f"ASFI at 240 days: {scores}")
    assert scores.roc_auc >= 0.80
    assert scores.brier < scores.baseline_brier
    assert scores.accuracy >= scores.baseline_accuracy
    names = {f.name for f in model.features}
    assert "metric.asf.num_commits.mean" in names  # a metric the code never heard of

    # Issue #19: every project accounted for; skill shown honestly, beside a plain model.
    counted = model.training_set
    assert (counted.considered, counted.used, counted.left_out) == (222, 208, 14)
    assert [(pb_reason.reason, pb_reason.count) for pb_reason in counted.left_out_by_reason] == [
        (mp.LEFT_OUT_REASON_ENDED_BEFORE_WINDOW_CLOSED, 14)
    ]
    assert report.project_ids["Accumulo"] in counted.left_out_by_reason[0].project_ids
    assert not model.no_skill
    assert model.serves_by_default
    check = model.validation
    print(
        f"nested AUC {scores.roc_auc:.4f} ({check.roc_auc_low:.3f}-{check.roc_auc_high:.3f}), "
        f"temporal {check.temporal.roc_auc:.4f}, plain LR {check.baseline_lr.roc_auc:.4f}, "
        f"curve {[round(p.roc_auc, 3) for p in check.learning_curve]}"
    )
    assert check.roc_auc_low > 0.7
    # Issue #19's target, at this seed and these folds: 0.8208. The margin is thin
    # (seed 1 gives 0.81): a change that loses it should be looked at, not waved through.
    assert scores.roc_auc >= 0.82
    assert scores.roc_auc > check.baseline_lr.roc_auc
    assert (check.temporal.train_count, check.temporal.test_count) == (156, 52)
    assert check.temporal.roc_auc > 0.75
    assert [p.fraction for p in check.learning_curve] == [0.25, 0.5, 0.75, 1.0]
    assert check.learning_curve[0].roc_auc < check.learning_curve[-1].roc_auc

    # A prediction for one of them, explained by its own activity.
    predicted = (
        await prediction.PredictSuccess(
            pb.PredictSuccessRequest(project_id=report.project_ids["Abdera"])
        )
    ).prediction
    assert predicted.contributions[0].feature.startswith("metric.asf.")
    assert not any("window" in r for r in predicted.extrapolation_reasons)
