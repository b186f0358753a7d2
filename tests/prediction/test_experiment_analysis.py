"""Issue #12 through the real server on both stores: each defect reproduced, then the contract.

Statistics are compared with gbstats (GrowthBook's engine) on the data the
test recorded through the RPCs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from gbstats.bayesian.tests import (  # type: ignore
    EffectBayesianABTest,
    EffectBayesianConfig,
    GaussianPrior,
)
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest  # type: ignore
from gbstats.models.statistics import (  # type: ignore
    ProportionStatistic,
    RatioStatistic,
    SampleMeanStatistic,
)
from sqlalchemy import event

from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro_grpc.server import RunningServer
from tests.helpers import error_info, expect_error, expect_invalid, ts, violations
from tests.prediction.conftest import (
    MetricsStub,
    PredictionStub,
    RegistryStub,
    create_project,
    record_points,
)

TOL = 1e-6
LATER = timedelta(minutes=5)


def variants() -> list[ep.Variant]:
    return [ep.Variant(name="control", weight=1), ep.Variant(name="treatment", weight=1)]


async def create(prediction: PredictionStub, name: str, **fields: Any) -> ep.Experiment:
    fields.setdefault("variants", variants())
    if "metrics" not in fields:
        fields.setdefault("outcome_metric", "m")
    request = pb.CreateExperimentRequest(experiment=ep.Experiment(name=name, **fields))
    return (await prediction.CreateExperiment(request)).experiment


async def analyze(
    prediction: PredictionStub, experiment_id: str, end: datetime | None = None, **options: Any
) -> ep.ExperimentAnalysis:
    request = pb.AnalyzeExperimentRequest(experiment_id=experiment_id, **options)
    if end is not None:
        request.end_time.CopyFrom(ts(end))
    return (await prediction.AnalyzeExperiment(request)).analysis


async def enrol(
    prediction: PredictionStub,
    registry: RegistryStub,
    experiment_id: str,
    wanted: dict[str, int],
    prefix: str,
) -> dict[str, list[str]]:
    """Projects assigned until each variant has `wanted[variant]` of them."""
    got: dict[str, list[str]] = {v: [] for v in wanted}
    i = 0
    while any(len(got[v]) < n for v, n in wanted.items()):
        project_id = await create_project(registry, f"{prefix}-{i}")
        i += 1
        assignment = (
            await prediction.AssignVariant(
                pb.AssignVariantRequest(experiment_id=experiment_id, unit_id=project_id)
            )
        ).assignment
        if len(got[assignment.variant]) < wanted[assignment.variant]:
            got[assignment.variant].append(project_id)
    return got


async def give(
    metrics: MetricsStub, projects: list[str], values: list[float], name: str = "m"
) -> datetime:
    at = datetime.now(UTC) + LATER
    for project_id, value in zip(projects, values, strict=True):
        await record_points(metrics, project_id, [(name, at, value), ("unrelated", at, 99.0)])
    return at + timedelta(minutes=1)


def gb_means(values: list[float]) -> Any:
    return SampleMeanStatistic(
        n=len(values), sum=sum(values), sum_squares=sum(v * v for v in values)
    )


def gb_test(a: Any, b: Any, kind: str) -> Any:
    return TwoSidedTTest(a, b, FrequentistConfig(difference_type=kind)).compute_result()


def agree(effect: ep.Effect, result: Any) -> None:
    assert effect.estimate == pytest.approx(result.expected, abs=TOL, rel=TOL)
    assert effect.ci_low == pytest.approx(result.ci[0], abs=TOL, rel=TOL)
    assert effect.ci_high == pytest.approx(result.ci[1], abs=TOL, rel=TOL)
    assert effect.p_value == pytest.approx(result.p_value, abs=TOL)


# ---- the defects, reproduced ------------------------------------------------------------


async def test_an_invalid_comparison_has_p_one_and_no_interval(
    prediction: PredictionStub, registry: RegistryStub, metrics: MetricsStub
) -> None:
    created = await create(prediction, "one-each")
    got = await enrol(prediction, registry, created.id, {"control": 1, "treatment": 1}, "one")
    end = await give(metrics, got["control"] + got["treatment"], [1.0, 5.0])
    analysis = await analyze(prediction, created.id, end)
    (legacy,) = analysis.comparisons
    assert not legacy.valid
    assert legacy.p_value == 1.0  # was 0: "highly significant" to a client not checking valid
    assert not legacy.significant
    (c,) = analysis.metrics[0].comparisons
    assert not c.valid
    assert not c.HasField("absolute")
    assert not c.HasField("relative")
    assert c.verdict == ep.VERDICT_NOT_ENOUGH_DATA
    assert "fewer than 2 units" in c.verdict_reason


async def test_a_zero_control_mean_leaves_the_relative_effect_unset(
    prediction: PredictionStub, registry: RegistryStub, metrics: MetricsStub
) -> None:
    created = await create(prediction, "zero-control")
    got = await enrol(prediction, registry, created.id, {"control": 4, "treatment": 4}, "zero")
    end = await give(
        metrics, got["control"] + got["treatment"], [-1.0, 1.0, -1.0, 1.0, 2.0, 3.0, 2.0, 3.0]
    )
    analysis = await analyze(prediction, created.id, end)
    (c,) = analysis.metrics[0].comparisons
    assert c.valid
    assert c.absolute.estimate == pytest.approx(2.5)
    assert c.absolute.p_value < 0.05
    assert c.verdict == ep.VERDICT_BETTER
    assert not c.HasField("relative")  # was 0: "no change" beside a significant effect
    assert not c.HasField("bayesian")
    assert c.note == "the control's mean is 0: no relative effect"


async def test_success_is_a_proportion_test_as_in_gbstats(
    prediction: PredictionStub, registry: RegistryStub
) -> None:
    created = await create(prediction, "success-30", outcome_metric="success")
    got = await enrol(prediction, registry, created.id, {"control": 15, "treatment": 15}, "s")
    outcomes = {"control": [i < 6 for i in range(15)], "treatment": [i < 10 for i in range(15)]}
    for variant, projects in got.items():
        for project_id, succeeded in zip(projects, outcomes[variant], strict=True):
            await registry.UpdateProjectSuccess(
                rs.UpdateProjectSuccessRequest(
                    project_id=project_id, success=pp.ProjectSuccess(succeeded=succeeded, score=0.5)
                )
            )
    analysis = await analyze(prediction, created.id)
    metric = analysis.metrics[0]
    assert metric.metric.kind == ep.METRIC_KIND_PROPORTION
    (c,) = metric.comparisons
    a, b = ProportionStatistic(n=15, sum=6), ProportionStatistic(n=15, sum=10)
    agree(c.absolute, gb_test(a, b, "absolute"))
    agree(c.relative, gb_test(a, b, "relative"))
    # The first contract's comparison now uses the same p(1 - p) variance.
    assert analysis.comparisons[0].p_value == pytest.approx(c.absolute.p_value)
    assert [r.mean for r in metric.results] == pytest.approx([6 / 15, 10 / 15])


async def test_relative_effects_have_an_interval_and_p_value(
    prediction: PredictionStub, registry: RegistryStub, metrics: MetricsStub
) -> None:
    prior = ep.ExperimentMetric(
        name="m", role=ep.METRIC_ROLE_PRIMARY, prior_mean=0.1, prior_stddev=0.3
    )
    created = await create(prediction, "relative", metrics=[prior])
    assert created.metrics[0].prior_stddev == pytest.approx(0.3)
    got = await enrol(prediction, registry, created.id, {"control": 6, "treatment": 5}, "rel")
    control, treatment = [3.0, 4.0, 5.0, 4.5, 3.5, 4.0], [5.0, 6.0, 4.5, 6.5, 5.5]
    end = await give(metrics, got["control"] + got["treatment"], control + treatment)
    (c,) = (await analyze(prediction, created.id, end)).metrics[0].comparisons
    agree(c.relative, gb_test(gb_means(control), gb_means(treatment), "relative"))
    agree(c.absolute, gb_test(gb_means(control), gb_means(treatment), "absolute"))
    assert c.relative.ci_low < c.relative.estimate < c.relative.ci_high
    bayesian = EffectBayesianABTest(
        gb_means(control),
        gb_means(treatment),
        EffectBayesianConfig(prior_effect=GaussianPrior(0.1, 0.09, True)),
    ).compute_result()
    assert c.bayesian.chance_to_beat_control == pytest.approx(bayesian.chance_to_win, abs=TOL)
    assert c.bayesian.expected_loss == pytest.approx(bayesian.risk[1], abs=TOL)
    assert c.bayesian.control_expected_loss == pytest.approx(bayesian.risk[0], abs=TOL)


async def test_a_project_shared_by_two_teams_counts_once_and_teams_are_clusters(
    prediction: PredictionStub, registry: RegistryStub, metrics: MetricsStub
) -> None:
    created = await create(prediction, "teams", unit=ep.EXPERIMENT_UNIT_TEAM)
    salt = created.salt
    teams: dict[str, list[str]] = {"control": [], "treatment": []}
    i = 0
    while min(len(t) for t in teams.values()) < 3:
        team = f"team-{i}"
        i += 1
        variant = (
            await prediction.AssignVariant(
                pb.AssignVariantRequest(experiment_id=created.id, unit_id=team)
            )
        ).assignment.variant
        teams[variant].append(team)
    assert salt
    values: dict[str, list[float]] = {}
    at = datetime.now(UTC) + LATER
    sizes = {"control": [1, 2, 3], "treatment": [2, 1, 2]}
    for variant in ("control", "treatment"):
        for t, size in zip(teams[variant][:3], sizes[variant], strict=True):
            values[t] = []
            for k in range(size):
                project_id = await create_project(registry, f"{t}-p{k}")
                await prediction.AssignVariant(
                    pb.AssignVariantRequest(
                        experiment_id=created.id, unit_id=t, project_id=project_id
                    )
                )
                value = float(len(t) * 3 + k * 2 + (5 if variant == "treatment" else 0))
                await record_points(metrics, project_id, [("m", at, value)])
                values[t].append(value)
    # A project the first control team has is named again by a treatment team: it
    # stays the control team's.
    shared_owner = teams["control"][0]
    shared = (
        await prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=created.id, unit_id=shared_owner)
        )
    ).assignment.project_id
    await prediction.AssignVariant(
        pb.AssignVariantRequest(
            experiment_id=created.id, unit_id=teams["treatment"][0], project_id=shared
        )
    )
    analysis = await analyze(prediction, created.id, at + timedelta(minutes=1))
    metric = analysis.metrics[0]
    counted = {r.variant: r.projects for r in metric.results}
    assert counted == {"control": 6, "treatment": 5}  # the shared project once, for control

    def clusters(variant: str) -> Any:
        m = [sum(values[t]) for t in teams[variant][:3]]
        d = [float(len(values[t])) for t in teams[variant][:3]]
        return RatioStatistic(
            n=3,
            m_statistic=gb_means(m),
            d_statistic=gb_means(d),
            m_d_sum_of_products=sum(x * y for x, y in zip(m, d, strict=True)),
        )

    (c,) = metric.comparisons
    agree(c.absolute, gb_test(clusters("control"), clusters("treatment"), "absolute"))
    assert metric.results[0].mean == pytest.approx(
        sum(sum(values[t]) for t in teams["control"][:3]) / 6
    )


@contextmanager
def counting(server: RunningServer) -> Iterator[list[str]]:
    """The statements the server's read engine runs meanwhile."""
    seen: list[str] = []
    engine = server.ctx.db.read_engine.sync_engine

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The analysis' own reads, not the server's background work (health, workers).
        if any(t in statement for t in ("experiment", "metric_points", "FROM projects")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_outcomes_are_read_in_a_constant_number_of_queries(
    prediction: PredictionStub, registry: RegistryStub, metrics: MetricsStub, server: RunningServer
) -> None:
    metric_defs = [
        ep.ExperimentMetric(name="m", role=ep.METRIC_ROLE_PRIMARY, pre_period_days=7),
        ep.ExperimentMetric(name="c", kind=ep.METRIC_KIND_COUNT),
        ep.ExperimentMetric(name="r", kind=ep.METRIC_KIND_RATIO, denominator="d"),
        ep.ExperimentMetric(name="l", aggregation=ep.METRIC_AGGREGATION_LAST),
        ep.ExperimentMetric(name="success"),
    ]
    created = await create(prediction, "queries", metrics=metric_defs)
    counts = []
    for size in (2, 8):
        got = await enrol(
            prediction, registry, created.id, {"control": size, "treatment": size}, f"q{size}"
        )
        await give(metrics, got["control"] + got["treatment"], [1.0] * (2 * size))
        await analyze(prediction, created.id)  # a new pooled connection sets itself up once
        with counting(server) as seen:
            await analyze(prediction, created.id)
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


# ---- the contract ------------------------------------------------------------------------


async def test_status_start_stop_and_assignment_rules(
    prediction: PredictionStub, registry: RegistryStub
) -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    draft = await create(prediction, "draft", start_time=ts(soon), hypothesis="faster reviews")
    assert draft.status == ep.EXPERIMENT_STATUS_DRAFT
    assert draft.hypothesis == "faster reviews"
    assert draft.start_time == ts(soon)
    project_id = await create_project(registry, "life-1")
    error = await expect_error(
        prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=draft.id, unit_id=project_id)
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert error_info(error).reason == "EXPERIMENT_NOT_RUNNING"
    error = await expect_error(
        prediction.StopExperiment(pb.StopExperimentRequest(experiment_id=draft.id)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert error_info(error).reason == "EXPERIMENT_NOT_STARTED"

    running = await create(prediction, "running")
    assert running.status == ep.EXPERIMENT_STATUS_RUNNING
    assert running.start_time == running.create_time
    assert not running.HasField("end_time")
    first = (
        await prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=running.id, unit_id=project_id)
        )
    ).assignment
    stopped = (
        await prediction.StopExperiment(pb.StopExperimentRequest(experiment_id=running.id))
    ).experiment
    assert stopped.status == ep.EXPERIMENT_STATUS_STOPPED
    assert stopped.HasField("end_time")
    again = (
        await prediction.StopExperiment(pb.StopExperimentRequest(experiment_id=running.id))
    ).experiment
    assert again.end_time == stopped.end_time
    # A unit assigned before the stop keeps its answer; a new one is refused.
    same = (
        await prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=running.id, unit_id=project_id)
        )
    ).assignment
    assert same == first
    other = await create_project(registry, "life-2")
    await expect_error(
        prediction.AssignVariant(pb.AssignVariantRequest(experiment_id=running.id, unit_id=other)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    # Analyses end at the stop, whatever they ask for.
    analysis = await analyze(prediction, running.id, datetime.now(UTC) + timedelta(days=3))
    assert analysis.end_time == stopped.end_time
    await expect_error(
        prediction.StopExperiment(pb.StopExperimentRequest(experiment_id=str(uuid.uuid4()))),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_invalid(
        prediction.StopExperiment(pb.StopExperimentRequest(experiment_id="nope")), "experiment_id"
    )


async def test_list_experiments_pages_newest_first_and_filters_by_status(
    prediction: PredictionStub,
) -> None:
    made = [(await create(prediction, f"list-{i}")).id for i in range(5)]
    await prediction.StopExperiment(pb.StopExperimentRequest(experiment_id=made[1]))
    await create(prediction, "list-draft", start_time=ts(datetime.now(UTC) + timedelta(days=2)))
    seen: list[str] = []
    token = ""
    while True:
        page = await prediction.ListExperiments(
            pb.ListExperimentsRequest(page_size=2, page_token=token)
        )
        seen += [e.name for e in page.experiments]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["list-draft", "list-4", "list-3", "list-2", "list-1", "list-0"]
    for status, names in (
        (ep.EXPERIMENT_STATUS_STOPPED, ["list-1"]),
        (ep.EXPERIMENT_STATUS_DRAFT, ["list-draft"]),
        (ep.EXPERIMENT_STATUS_RUNNING, ["list-4", "list-3", "list-2", "list-0"]),
    ):
        page = await prediction.ListExperiments(pb.ListExperimentsRequest(status=status))
        assert [e.name for e in page.experiments] == names
    first = await prediction.ListExperiments(pb.ListExperimentsRequest(page_size=1))
    await expect_invalid(
        prediction.ListExperiments(
            pb.ListExperimentsRequest(
                page_size=1, page_token=first.next_page_token, status=ep.EXPERIMENT_STATUS_DRAFT
            )
        ),
        "page_token",
    )
    await expect_invalid(
        prediction.ListExperiments(pb.ListExperimentsRequest(status=9)),  # type: ignore[arg-type]
        "status",
    )


async def test_metric_definitions_are_validated_field_by_field(prediction: PredictionStub) -> None:
    bad = [
        ep.ExperimentMetric(name="a", role=ep.METRIC_ROLE_SECONDARY),
        ep.ExperimentMetric(name="b", kind=ep.METRIC_KIND_RATIO, prior_mean=1),
        ep.ExperimentMetric(name="success", aggregation=ep.METRIC_AGGREGATION_SUM),
        ep.ExperimentMetric(name="a", pre_period_days=400, kind=7),  # type: ignore[arg-type]
        ep.ExperimentMetric(name="Bad Name", minimum_effect=-1, denominator="x"),
    ]
    error = await expect_error(
        prediction.CreateExperiment(
            pb.CreateExperimentRequest(
                experiment=ep.Experiment(
                    name="bad-metrics",
                    variants=variants(),
                    metrics=bad,
                    outcome_metric="zzz",
                    sequential_tuning_parameter=-3,
                    start_time=ts("2030-01-02T00:00:00+00:00"),
                    end_time=ts("2030-01-01T00:00:00+00:00"),
                )
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    found = violations(error)
    for field in (
        "experiment.metrics",  # no PRIMARY
        "experiment.metrics[1].denominator",
        "experiment.metrics[1].prior_mean",
        "experiment.metrics[2].aggregation",
        "experiment.metrics[3].name",
        "experiment.metrics[3].kind",
        "experiment.metrics[3].pre_period_days",
        "experiment.metrics[4].name",
        "experiment.metrics[4].minimum_effect",
        "experiment.metrics[4].denominator",
        "experiment.sequential_tuning_parameter",
        "experiment.end_time",
    ):
        assert field in found, (field, found)
    await expect_invalid(
        prediction.CreateExperiment(
            pb.CreateExperimentRequest(
                experiment=ep.Experiment(
                    name="team-cuped",
                    unit=ep.EXPERIMENT_UNIT_TEAM,
                    variants=variants(),
                    metrics=[
                        ep.ExperimentMetric(
                            name="m", role=ep.METRIC_ROLE_PRIMARY, pre_period_days=7
                        )
                    ],
                )
            )
        ),
        "experiment.metrics[0].pre_period_days",
    )
    await expect_invalid(
        prediction.AnalyzeExperiment(
            pb.AnalyzeExperimentRequest(
                experiment_id=str(uuid.uuid4()),
                p_value_adjustment=8,  # type: ignore[arg-type]
                srm_min_units=-1,
            )
        ),
        "p_value_adjustment",
    )


async def test_metrics_kinds_cuped_guardrails_and_verdicts(
    prediction: PredictionStub, registry: RegistryStub, metrics: MetricsStub
) -> None:
    defs = [
        ep.ExperimentMetric(
            name="lead_time",
            role=ep.METRIC_ROLE_PRIMARY,
            direction=ep.METRIC_DIRECTION_LOWER_IS_BETTER,
            pre_period_days=30,
            minimum_effect=0.1,
        ),
        ep.ExperimentMetric(
            name="incidents",
            role=ep.METRIC_ROLE_GUARDRAIL,
            kind=ep.METRIC_KIND_COUNT,
            direction=ep.METRIC_DIRECTION_LOWER_IS_BETTER,
        ),
        ep.ExperimentMetric(name="deployed", kind=ep.METRIC_KIND_PROPORTION),
        ep.ExperimentMetric(
            name="failed_runs",
            kind=ep.METRIC_KIND_RATIO,
            denominator="runs",
            aggregation=ep.METRIC_AGGREGATION_SUM,
        ),
        ep.ExperimentMetric(name="coverage", aggregation=ep.METRIC_AGGREGATION_LAST),
    ]
    created = await create(prediction, "kinds", metrics=defs, hypothesis="pairing cuts lead time")
    assert created.metrics[0].name == "lead_time"
    assert created.outcome_metric == "lead_time"
    assert created.metrics[1].aggregation == ep.METRIC_AGGREGATION_COUNT
    got = await enrol(prediction, registry, created.id, {"control": 12, "treatment": 12}, "k")
    now = datetime.now(UTC)
    before, after = now - timedelta(days=3), now + LATER
    expected: dict[str, dict[str, list[float]]] = {}
    for variant, projects in got.items():
        treated = variant == "treatment"
        rows: dict[str, list[float]] = {"post": [], "pre": [], "inc": [], "last": []}
        for i, project_id in enumerate(projects):
            base = 10.0 + (i % 4) * 3.0
            post = base - (3.0 if treated else 0.0) + (0.5 if i % 2 else -0.5)
            n_incidents = (3 if treated else 0) + i % 2
            points = [
                ("lead_time", before, base),
                ("lead_time", after, post),
                ("runs", after, 4.0),
                ("runs", after + timedelta(seconds=1), 6.0),
                ("failed_runs", after, float(i % 3)),
                ("coverage", after, 0.1),
                ("coverage", after + timedelta(seconds=2), 0.5 + i / 100),
            ] + [("incidents", after + timedelta(seconds=k), 1.0) for k in range(n_incidents)]
            if i % 3 == 0:
                points.append(("deployed", after, 1.0))
            await record_points(metrics, project_id, points)
            rows["post"].append(post)
            rows["pre"].append(base)
            rows["inc"].append(float(n_incidents))
            rows["last"].append(0.5 + i / 100)
        expected[variant] = rows
    analysis = await analyze(
        prediction,
        created.id,
        after + timedelta(minutes=1),
        p_value_adjustment=ep.P_VALUE_ADJUSTMENT_HOLM,
    )
    by = {m.metric.name: m for m in analysis.metrics}
    assert list(by) == ["lead_time", "incidents", "deployed", "failed_runs", "coverage"]
    lead = by["lead_time"].comparisons[0]
    assert lead.verdict == ep.VERDICT_BETTER
    assert lead.absolute.estimate < 0
    assert lead.variance_reduction > 0.5  # the pre-period explains most of the spread
    assert lead.cuped_theta == pytest.approx(1.0, abs=0.2)
    assert lead.power.power > 0.5
    assert by["lead_time"].results[1].adjusted_mean != by["lead_time"].results[1].mean
    assert "holm p" in lead.verdict_reason
    assert lead.absolute.p_value <= lead.absolute.p_value_holm <= 1
    assert lead.absolute.p_value <= lead.absolute.p_value_bh <= lead.absolute.p_value_holm
    # COUNT and PROPORTION units without points count 0: the units enrol() assigned
    # beyond the twelve wanted have none.
    units = {r.variant: r.units for r in by["incidents"].results}
    padded = {v: expected[v]["inc"] + [0.0] * (units[v] - 12) for v in units}
    incidents = by["incidents"].comparisons[0]
    assert incidents.verdict == ep.VERDICT_GUARDRAIL_BREACHED
    agree(
        incidents.absolute,
        gb_test(gb_means(padded["control"]), gb_means(padded["treatment"]), "absolute"),
    )
    deployed = by["deployed"]
    assert [r.mean for r in deployed.results] == pytest.approx(
        [4 / units["control"], 4 / units["treatment"]]
    )
    assert [r.units_with_value for r in deployed.results] == [units["control"], units["treatment"]]
    ratio = by["failed_runs"]
    failed = sum(float(i % 3) for i in range(12))
    assert [r.mean for r in ratio.results] == pytest.approx([failed / 120, failed / 120])
    coverage = by["coverage"]
    assert [r.mean for r in coverage.results] == pytest.approx(
        [sum(expected[v]["last"]) / 12 for v in ("control", "treatment")]
    )
    assert analysis.p_value_adjustment == ep.P_VALUE_ADJUSTMENT_HOLM
    assert not analysis.sample_ratio.checked  # 24 units < 100
    assert analysis.sample_ratio.min_units == 100


async def test_sequential_experiments_report_confidence_sequences(
    prediction: PredictionStub, registry: RegistryStub, metrics: MetricsStub
) -> None:
    fixed = await create(prediction, "fixed")
    seq = await create(
        prediction, "sequential", sequential_testing=True, sequential_tuning_parameter=100
    )
    assert seq.sequential_testing
    assert seq.sequential_tuning_parameter == 100
    assert fixed.sequential_tuning_parameter == 5000
    control, treatment = [3.0, 4.0, 5.0, 4.5, 3.5, 4.0], [5.0, 6.0, 4.5, 6.5, 5.5, 6.0]
    ends = []
    for e in (fixed, seq):
        got = await enrol(prediction, registry, e.id, {"control": 6, "treatment": 6}, e.name)
        ends.append(await give(metrics, got["control"] + got["treatment"], control + treatment))
    a = (await analyze(prediction, fixed.id, ends[0])).metrics[0].comparisons[0].absolute
    s_analysis = await analyze(prediction, seq.id, ends[1])
    s = s_analysis.metrics[0].comparisons[0].absolute
    assert s_analysis.sequential
    assert s.estimate == pytest.approx(a.estimate)
    assert s.ci_high - s.ci_low > a.ci_high - a.ci_low
    assert s.p_value >= a.p_value


async def test_outcomes_read_any_number_of_projects_in_one_query(
    registry: RegistryStub, server: RunningServer
) -> None:
    # A bound IN list stops at 32,767 parameters on PostgreSQL; uuid_in takes one.
    from maestro_grpc.registry.read import RegistryReader

    project_id = await create_project(registry, "recorded")
    await registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=project_id, success=pp.ProjectSuccess(succeeded=True, score=0.7)
        )
    )
    ids = [uuid.uuid4() for _ in range(40_000)] + [uuid.UUID(project_id)]
    with counting(server) as seen:
        found = await RegistryReader(server.ctx.db).outcomes(ids)
    assert len(seen) == 1
    assert list(found) == [uuid.UUID(project_id)]
    assert found[uuid.UUID(project_id)].succeeded
    assert found[uuid.UUID(project_id)].score == pytest.approx(0.7)
