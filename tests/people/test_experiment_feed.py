"""An experiment's analysis that reaches a verdict is in the feed of its projects'
followers, once per verdict (real server with tokens, both stores)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maestro.metrics.v1 import metric_pb2
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc as msg
from maestro.people.v1 import collaboration_service_pb2 as cs
from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.prediction.v1 import prediction_service_pb2_grpc as pg
from maestro_grpc.clock import to_micros
from tests.access.conftest import Secured, bearer
from tests.helpers import ts
from tests.people.test_collaboration import Someone, collab, feed, someone

VERDICT = cs.ACTIVITY_KIND_EXPERIMENT_VERDICT


async def follow(secured: Secured, who: Someone, project_id: str) -> None:
    await collab(secured).Follow(
        cs.FollowRequest(
            target=cs.FollowTarget(kind=cs.SUBJECT_KIND_PROJECT, subject_id=project_id)
        ),
        metadata=who.md,
    )


async def verdicts(secured: Secured, who: Someone) -> list[cs.ActivityEvent]:
    return [e for e in (await feed(secured, who)).events if e.kind == VERDICT]


async def test_a_verdict_reaches_the_followers_of_the_experiments_projects(
    secured: Secured,
) -> None:
    admin = bearer(secured.admin)
    prediction = pg.PredictionServiceStub(secured.channel)
    created = await prediction.CreateExperiment(
        pb.CreateExperimentRequest(
            experiment=ep.Experiment(
                name="pairing",
                outcome_metric="m",
                variants=[
                    ep.Variant(name="control", weight=1),
                    ep.Variant(name="treatment", weight=1),
                ],
            )
        ),
        metadata=admin,
    )
    experiment_id = created.experiment.id
    arms: dict[str, list[str]] = {"control": [], "treatment": []}
    i = 0
    while min(len(a) for a in arms.values()) < 4:
        project_id = await secured.project(f"unit-{i}")
        i += 1
        assigned = await prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=experiment_id, unit_id=project_id), metadata=admin
        )
        arms[assigned.assignment.variant].append(project_id)
    outside = await secured.project("outside")
    treated, control = arms["treatment"][0], arms["control"][0]

    ada = await someone(secured, "ada", "reader")  # follows a treated project
    bob = await someone(secured, "bob", "reader", control)  # limited to a control project
    cy = await someone(secured, "cy", "reader")  # follows a project of no experiment
    await follow(secured, ada, treated)
    await follow(secured, bob, control)
    await follow(secured, cy, outside)

    async def analyse(end: datetime | None = None) -> ep.ExperimentAnalysis:
        request = pb.AnalyzeExperimentRequest(experiment_id=experiment_id)
        if end is not None:
            request.end_time.CopyFrom(ts(end))
        return (await prediction.AnalyzeExperiment(request, metadata=admin)).analysis

    # No data yet: no verdict, nothing in any feed.
    (first,) = (await analyse()).metrics[0].comparisons
    assert first.verdict == ep.VERDICT_NOT_ENOUGH_DATA
    assert await verdicts(secured, ada) == []

    # The treatment is clearly better: every follower of a counted project hears it.
    at = datetime.now(UTC) + timedelta(minutes=5)
    values = {p: 1.0 + 0.1 * (k % 3) for k, p in enumerate(arms["control"])}
    values |= {p: 3.0 + 0.1 * (k % 3) for k, p in enumerate(arms["treatment"])}
    metrics = msg.MetricsServiceStub(secured.channel)
    await metrics.RecordMetrics(
        ms.RecordMetricsRequest(
            batch=metric_pb2.MetricBatch(
                columns=[
                    metric_pb2.MetricColumns(
                        project_id=p,
                        names=["m"],
                        name_indexes=[0],
                        values=[v],
                        times_unix_micros=[to_micros(at)],
                    )
                    for p, v in values.items()
                ]
            )
        ),
        metadata=admin,
    )
    end = at + timedelta(minutes=1)
    (decided,) = (await analyse(end)).metrics[0].comparisons
    assert decided.verdict == ep.VERDICT_BETTER
    heard = await verdicts(secured, ada)
    assert [e.project_id for e in heard] == [treated]
    summary = heard[0].summary
    assert summary == "experiment 'pairing' reached a verdict: m: treatment against control, better"
    assert [(e.project_id, e.summary) for e in await verdicts(secured, bob)] == [(control, summary)]
    assert await verdicts(secured, cy) == []

    # The same verdict again is not news.
    await analyse(end)
    assert len(await verdicts(secured, ada)) == 1
    assert len(await verdicts(secured, bob)) == 1
