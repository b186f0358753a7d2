"""Page 4, experiments, in a real browser: the list, then one experiment's variants,
assignments, sample-ratio check and effects with their intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc as msg
from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.prediction.v1 import prediction_service_pb2_grpc as pbg
from tests.helpers import ts
from tests.web import seed
from tests.web.conftest import Maestro, check_page, sign_in


def test_an_experiment_its_assignments_and_effects(page: Page, maestro: Maestro) -> None:
    w = seed.word()
    prediction = pbg.PredictionServiceStub(maestro._channel)  # type: ignore[arg-type]
    metrics = msg.MetricsServiceStub(maestro._channel)  # type: ignore[arg-type]
    made = prediction.CreateExperiment(
        pb.CreateExperimentRequest(
            experiment=ep.Experiment(
                name=f"two-reviewers-{w}",
                hypothesis="a second reviewer shortens review time",
                variants=[ep.Variant(name="control", weight=1), ep.Variant(name="two", weight=1)],
                outcome_metric="ci.review_hours",
                metrics=[
                    ep.ExperimentMetric(
                        name="ci.review_hours",
                        role=ep.METRIC_ROLE_PRIMARY,
                        kind=ep.METRIC_KIND_MEAN,
                        direction=ep.METRIC_DIRECTION_LOWER_IS_BETTER,
                    )
                ],
            )
        ),
        metadata=maestro.auth,
    ).experiment  # type: ignore[attr-defined]
    later = datetime.now(UTC) + timedelta(seconds=1)
    for n in range(16):
        project = seed.project(maestro, f"unit-{w}-{n}")
        got = prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=made.id, unit_id=project.id),
            metadata=maestro.auth,
        ).assignment  # type: ignore[attr-defined]
        value = (8.0 if got.variant == "control" else 5.0) + (n % 4) * 0.5
        metrics.RecordMetrics(
            ms.RecordMetricsRequest(
                batch=mp.MetricBatch(
                    points=[
                        mp.MetricPoint(
                            project_id=project.id,
                            name="ci.review_hours",
                            value=value,
                            time=ts(later),
                        )
                    ]
                )
            ),
            metadata=maestro.auth,
        )

    sign_in(page, maestro, "/experiments")
    row = page.locator("tbody tr", has_text=f"two-reviewers-{w}")
    expect(row).to_contain_text("control (1), two (1)")
    check_page(page, f"experiments-{maestro.store}")
    row.get_by_role("link", name=f"two-reviewers-{w}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"two-reviewers-{w}")
    variants = page.locator(
        "section", has=page.get_by_role("heading", name="Variants and assignments")
    )
    expect(variants).to_contain_text("16 units in all.")
    expect(
        page.locator("section", has=page.get_by_role("heading", name="Sample ratio"))
    ).not_to_contain_text("Mismatch")
    outcome = page.locator(
        "section", has=page.get_by_role("heading", name="Outcome: ci.review_hours")
    )
    expect(outcome.locator("svg.intervals line.ci")).to_have_count(1)
    expect(outcome.locator("tbody").last).to_contain_text("two")
    check_page(page, f"experiment-{maestro.store}")


def test_an_experiments_assigned_units_page_by_page(page: Page, maestro: Maestro) -> None:
    w = seed.word()
    prediction = pbg.PredictionServiceStub(maestro._channel)  # type: ignore[arg-type]
    made = prediction.CreateExperiment(
        pb.CreateExperimentRequest(
            experiment=ep.Experiment(
                name=f"pairing-{w}",
                variants=[ep.Variant(name="solo", weight=1), ep.Variant(name="pairs", weight=1)],
                outcome_metric="success",
            )
        ),
        metadata=maestro.auth,
    ).experiment  # type: ignore[attr-defined]
    names: dict[str, str] = {}
    variants: dict[str, str] = {}
    for n in range(52):
        project = seed.project(maestro, f"team-{w}-{n:02d}")
        names[project.id] = project.name
        variants[project.id] = prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=made.id, unit_id=project.id),
            metadata=maestro.auth,
        ).assignment.variant  # type: ignore[attr-defined]
    by_id = sorted(names)

    sign_in(page, maestro, f"/experiments/{made.id}")
    units = page.locator("section", has=page.get_by_role("heading", name="Assigned units"))
    expect(units.locator("#units-count")).to_have_text("52 units, by unit id.")
    rows = units.locator("tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text(names[by_id[0]])
    expect(rows.first).to_contain_text(variants[by_id[0]])
    check_page(page, f"experiment-units-{maestro.store}")

    units.get_by_role("link", name="Next units").click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(names[by_id[50]])
    expect(rows.last).to_contain_text(names[by_id[51]])
    expect(units.get_by_role("link", name="Next units")).to_have_count(0)

    # One variant's units, then one of them is a link to its project.
    page.get_by_label("Units of variant").select_option("pairs")
    units.get_by_role("button", name="Show").click()
    pairs = sorted(u for u, v in variants.items() if v == "pairs")
    expect(units.locator("#units-count")).to_have_text(f"{len(pairs)} units in pairs, by unit id.")
    expect(rows).to_have_count(min(50, len(pairs)))
    expect(rows.first).to_contain_text(names[pairs[0]])
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(names[pairs[0]])
