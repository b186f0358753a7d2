"""Experiments through the real server on both stores: create, assign (sticky), analyze."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import grpc
import pytest

from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.helpers import error_info, expect_error, expect_invalid, ts, violations
from tests.prediction.conftest import (
    MetricsStub,
    PredictionStub,
    RegistryStub,
    create_project,
    record_points,
)
from tests.prediction.test_stats import SLEEP_1, SLEEP_2


def experiment(name: str = "review-rule", **fields: Any) -> ep.Experiment:
    fields.setdefault(
        "variants", [ep.Variant(name="control", weight=1), ep.Variant(name="two-reviews", weight=1)]
    )
    fields.setdefault("outcome_metric", "success")
    return ep.Experiment(name=name, **fields)


async def create(prediction: PredictionStub, **fields: Any) -> ep.Experiment:
    response = await prediction.CreateExperiment(
        pb.CreateExperimentRequest(experiment=experiment(**fields))
    )
    return response.experiment


def expected_variant(salt: str, unit_id: str, variants: list[tuple[str, float]]) -> str:
    """The documented rule, written out independently of the server's code."""
    digest = hashlib.sha256(f"{salt}:{unit_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    total = sum(w for _, w in variants)
    edge = 0.0
    for name, weight in variants:
        edge += weight / total
        if u < edge:
            return name
    return variants[-1][0]


async def test_create_and_get(prediction: PredictionStub) -> None:
    created = await create(
        prediction, description="two reviewers per PR", unit=ep.EXPERIMENT_UNIT_TEAM
    )
    assert uuid.UUID(created.id)
    assert created.salt == created.id
    assert created.unit == ep.EXPERIMENT_UNIT_TEAM
    assert [v.name for v in created.variants] == ["control", "two-reviews"]
    assert created.create_time.seconds > 0
    got = (
        await prediction.GetExperiment(pb.GetExperimentRequest(experiment_id=created.id))
    ).experiment
    assert got == created
    defaulted = await create(prediction, name="default-unit", salt="shared-salt")
    assert defaulted.unit == ep.EXPERIMENT_UNIT_PROJECT
    assert defaulted.salt == "shared-salt"


async def test_create_validates_every_field(prediction: PredictionStub) -> None:
    error = await expect_error(
        prediction.CreateExperiment(
            pb.CreateExperimentRequest(
                experiment=ep.Experiment(
                    name="",
                    unit=cast(ep.ExperimentUnit, 7),  # not a known value
                    variants=[
                        ep.Variant(name="Control!", weight=1),
                        ep.Variant(name="b", weight=0),
                        ep.Variant(name="b", weight=float("nan")),
                    ],
                    outcome_metric="Not A Metric",
                    salt="x" * 101,
                ),
                request_id="bad id with spaces",
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    found = violations(error)
    for field in (
        "experiment.name",
        "experiment.unit",
        "experiment.variants[0].name",
        "experiment.variants[1].weight",
        "experiment.variants[2].name",
        "experiment.variants[2].weight",
        "experiment.outcome_metric",
        "experiment.salt",
        "request_id",
    ):
        assert field in found, (field, found)
    await expect_invalid(prediction.CreateExperiment(pb.CreateExperimentRequest()), "experiment")
    await expect_invalid(
        prediction.CreateExperiment(
            pb.CreateExperimentRequest(
                experiment=experiment(variants=[ep.Variant(name="a", weight=1)])
            )
        ),
        "experiment.variants",
    )
    await expect_invalid(
        prediction.CreateExperiment(
            pb.CreateExperimentRequest(experiment=experiment(outcome_metric=""))
        ),
        "experiment.outcome_metric",
    )


async def test_duplicate_name_and_idempotent_retry(prediction: PredictionStub) -> None:
    request = pb.CreateExperimentRequest(experiment=experiment("once"), request_id="exp-1")
    first = (await prediction.CreateExperiment(request)).experiment
    again = (await prediction.CreateExperiment(request)).experiment
    assert again.id == first.id
    error = await expect_error(create(prediction, name="once"), grpc.StatusCode.ALREADY_EXISTS)
    assert error_info(error).reason == "EXPERIMENT_EXISTS"
    await expect_invalid(
        prediction.CreateExperiment(
            pb.CreateExperimentRequest(experiment=experiment("other"), request_id="exp-1")
        ),
        "request_id",
    )


async def test_unknown_and_malformed_ids(prediction: PredictionStub) -> None:
    await expect_invalid(
        prediction.GetExperiment(pb.GetExperimentRequest(experiment_id="x")), "experiment_id"
    )
    for call in (
        prediction.GetExperiment(pb.GetExperimentRequest(experiment_id=str(uuid.uuid4()))),
        prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=str(uuid.uuid4()), unit_id="t")
        ),
        prediction.AnalyzeExperiment(pb.AnalyzeExperimentRequest(experiment_id=str(uuid.uuid4()))),
    ):
        error = await expect_error(call, grpc.StatusCode.NOT_FOUND)
        assert error_info(error).reason == "EXPERIMENT_NOT_FOUND"
    error = await expect_error(
        prediction.AssignVariant(pb.AssignVariantRequest(unit_id="", project_id="nope")),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert {"experiment_id", "unit_id", "project_id"} <= set(violations(error))
    error = await expect_error(
        prediction.AnalyzeExperiment(pb.AnalyzeExperimentRequest(confidence_level=1.5)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert {"experiment_id", "confidence_level"} <= set(violations(error))
    bad_time = pb.AnalyzeExperimentRequest(experiment_id=str(uuid.uuid4()))
    bad_time.end_time.nanos = -1
    await expect_invalid(prediction.AnalyzeExperiment(bad_time), "end_time")


async def test_assignment_is_deterministic_sticky_and_follows_the_weights(
    prediction: PredictionStub,
) -> None:
    variants = [("control", 3.0), ("treatment", 1.0)]
    created = await create(
        prediction,
        unit=ep.EXPERIMENT_UNIT_TEAM,
        salt="salt-1",
        variants=[ep.Variant(name=n, weight=w) for n, w in variants],
    )
    twin = await create(
        prediction,
        name="twin",
        unit=ep.EXPERIMENT_UNIT_TEAM,
        salt="salt-1",
        variants=[ep.Variant(name=n, weight=w) for n, w in variants],
    )
    counts = {"control": 0, "treatment": 0}
    for i in range(400):
        unit = f"team-{i}"
        got = (
            await prediction.AssignVariant(
                pb.AssignVariantRequest(experiment_id=created.id, unit_id=unit)
            )
        ).assignment
        assert got.variant == expected_variant("salt-1", unit, variants)
        counts[got.variant] += 1
        if i < 20:
            # Sticky: the same answer, with the first assignment's time.
            again = (
                await prediction.AssignVariant(
                    pb.AssignVariantRequest(experiment_id=created.id, unit_id=unit)
                )
            ).assignment
            assert again == got
            # The same salt splits identically.
            same = (
                await prediction.AssignVariant(
                    pb.AssignVariantRequest(experiment_id=twin.id, unit_id=unit)
                )
            ).assignment
            assert same.variant == got.variant
    analysis = (
        await prediction.AnalyzeExperiment(pb.AnalyzeExperimentRequest(experiment_id=created.id))
    ).analysis
    assert [r.units for r in analysis.results] == [counts["control"], counts["treatment"]]
    assert [r.expected_share for r in analysis.results] == [0.75, 0.25]
    expected = [400 * 0.75, 400 * 0.25]
    chi = sum((c - e) ** 2 / e for c, e in zip(counts.values(), expected, strict=True))
    assert analysis.sample_ratio.chi_square == pytest.approx(chi)
    assert analysis.sample_ratio.degrees_of_freedom == 1
    assert not analysis.sample_ratio.mismatch
    # No team was linked to a project: nothing to compare.
    assert [r.units_with_outcome for r in analysis.results] == [0, 0]
    assert not analysis.comparisons[0].valid


async def test_project_units_must_be_existing_projects(
    prediction: PredictionStub, registry: RegistryStub
) -> None:
    created = await create(prediction)
    await expect_invalid(
        prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=created.id, unit_id="team-a")
        ),
        "unit_id",
    )
    error = await expect_error(
        prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=created.id, unit_id=str(uuid.uuid4()))
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert error_info(error).reason == "PROJECT_NOT_FOUND"
    project_id = await create_project(registry, "p1")
    got = (
        await prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=created.id, unit_id=project_id.upper())
        )
    ).assignment
    assert got.unit_id == project_id
    assert got.project_id == project_id


async def test_analysis_of_a_metric_matches_r_on_the_sleep_data(
    prediction: PredictionStub, registry: RegistryStub, metrics: MetricsStub
) -> None:
    # Units of the control get the sleep data's group 1, units of the
    # treatment group 2 (one point each, after their assignment); R's
    # t.test(extra ~ group, data = sleep) gives t = -1.8608 (group 1 - group
    # 2), df = 17.776, p-value = 0.07939, CI -3.3654832 0.2054832.
    created = await create(prediction, outcome_metric="ci.review_hours")
    values = {"control": list(SLEEP_1), "two-reviews": list(SLEEP_2)}
    later = datetime.now(UTC) + timedelta(minutes=5)
    n = 0
    while values["control"] or values["two-reviews"]:
        project_id = await create_project(registry, f"unit-{n}")
        n += 1
        got = (
            await prediction.AssignVariant(
                pb.AssignVariantRequest(experiment_id=created.id, unit_id=project_id)
            )
        ).assignment
        if values[got.variant]:
            await record_points(
                metrics,
                project_id,
                [("ci.review_hours", later, values[got.variant].pop()), ("other", later, 99.0)],
            )
    analysis = (
        await prediction.AnalyzeExperiment(
            pb.AnalyzeExperimentRequest(
                experiment_id=created.id, end_time=ts(later + timedelta(minutes=1))
            )
        )
    ).analysis
    control, treatment = analysis.results
    assert (control.units_with_outcome, treatment.units_with_outcome) == (10, 10)
    assert control.units + treatment.units == n
    assert control.mean == pytest.approx(0.75)
    assert treatment.mean == pytest.approx(2.33)
    (comparison,) = analysis.comparisons
    assert (comparison.variant, comparison.control) == ("two-reviews", "control")
    assert comparison.valid
    assert comparison.difference == pytest.approx(1.58)
    assert comparison.t_statistic == pytest.approx(1.8608, abs=5e-5)
    assert comparison.degrees_of_freedom == pytest.approx(17.776, abs=5e-4)
    assert comparison.p_value == pytest.approx(0.07939, abs=5e-6)
    assert comparison.ci_low == pytest.approx(-0.2054832, abs=5e-8)
    assert comparison.ci_high == pytest.approx(3.3654832, abs=5e-8)
    assert comparison.effect_size == pytest.approx(0.8322, abs=5e-5)
    assert not comparison.significant
    assert analysis.confidence_level == 0.95
    # Before the points, nobody has an outcome.
    early = (
        await prediction.AnalyzeExperiment(
            pb.AnalyzeExperimentRequest(experiment_id=created.id, confidence_level=0.9)
        )
    ).analysis
    assert [r.units_with_outcome for r in early.results] == [0, 0]
    assert early.confidence_level == pytest.approx(0.9)


async def test_analysis_of_success_for_team_units(
    prediction: PredictionStub, registry: RegistryStub
) -> None:
    created = await create(prediction, unit=ep.EXPERIMENT_UNIT_TEAM, outcome_metric="success")
    scored = await create(
        prediction, name="scored", unit=ep.EXPERIMENT_UNIT_TEAM, outcome_metric="success_score"
    )
    outcomes = {}
    for i in range(12):
        project_id = await create_project(registry, f"team-project-{i}")
        for exp in (created, scored):
            await prediction.AssignVariant(
                pb.AssignVariantRequest(
                    experiment_id=exp.id, unit_id=f"team-{i}", project_id=project_id
                )
            )
        if i < 10:
            outcomes[f"team-{i}"] = i % 3 != 0
            await registry.UpdateProjectSuccess(
                rs.UpdateProjectSuccessRequest(
                    project_id=project_id,
                    success=pp.ProjectSuccess(succeeded=i % 3 != 0, score=i / 10),
                )
            )
    # A team with no project has no outcome.
    await prediction.AssignVariant(
        pb.AssignVariantRequest(experiment_id=created.id, unit_id="lone")
    )
    analysis = (
        await prediction.AnalyzeExperiment(pb.AnalyzeExperimentRequest(experiment_id=created.id))
    ).analysis
    assert sum(r.units for r in analysis.results) == 13
    assert sum(r.units_with_outcome for r in analysis.results) == 10
    assert sum(r.mean * r.units_with_outcome for r in analysis.results) == pytest.approx(
        sum(outcomes.values())
    )
    scores = (
        await prediction.AnalyzeExperiment(pb.AnalyzeExperimentRequest(experiment_id=scored.id))
    ).analysis
    assert sum(r.mean * r.units_with_outcome for r in scores.results) == pytest.approx(
        sum(i / 10 for i in range(10))
    )
    # An end time before the outcomes were recorded sees none of them.
    before = (
        await prediction.AnalyzeExperiment(
            pb.AnalyzeExperimentRequest(
                experiment_id=created.id, end_time=ts(datetime.now(UTC) - timedelta(days=1))
            )
        )
    ).analysis
    assert sum(r.units for r in before.results) == 0
    assert not before.sample_ratio.mismatch
