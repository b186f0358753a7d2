"""What moved an artifact's impact score: each usage's part, from ListArtifactUsages,
through a real server on both stores."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from tests.helpers import ts
from tests.registry.test_artifacts import make_artifact, make_project


async def _outcome(registry: rsg.RegistryServiceStub, project: pp.Project, won: bool) -> None:
    await registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=project.id, success=pp.ProjectSuccess(succeeded=won)
        )
    )


async def test_each_usage_says_what_it_added_or_took_away(
    registry: rsg.RegistryServiceStub,
) -> None:
    won = await make_project(registry, "won")
    lost = await make_project(registry, "lost")
    open_ = await make_project(registry, "open")
    await _outcome(registry, won, True)
    await _outcome(registry, lost, False)
    artifact = await make_artifact(registry, "scored")
    other = await make_artifact(registry, "other")
    half_life_ago = datetime.now(UTC) - timedelta(days=180)
    for project, outcome, when, purpose in [
        (lost, ap.USAGE_OUTCOME_NEUTRAL, half_life_ago, "old neutral"),
        (won, ap.USAGE_OUTCOME_HELPFUL, None, "helpful"),
        (open_, ap.USAGE_OUTCOME_HARMFUL, None, "harmful"),
    ]:
        usage = ap.ArtifactUsage(
            artifact_id=artifact.id, project_id=project.id, outcome=outcome, purpose=purpose
        )
        if when is not None:
            usage.use_time.CopyFrom(ts(when))
        await registry.LogArtifactUsage(rs.LogArtifactUsageRequest(artifact_usage=usage))
    await registry.LogArtifactUsage(
        rs.LogArtifactUsageRequest(
            artifact_usage=ap.ArtifactUsage(
                artifact_id=other.id, project_id=won.id, outcome=ap.USAGE_OUTCOME_HELPFUL
            )
        )
    )

    listed = await registry.ListArtifactUsages(
        rs.ListArtifactUsagesRequest(artifact_id=artifact.id)
    )
    parts = {u.purpose: u.impact for u in listed.artifact_usages}
    # w x f x decay: helpful by a project that succeeded, harmful by one still
    # open, neutral by one that failed, a half-life ago.
    assert (parts["helpful"].outcome_weight, parts["helpful"].project_factor) == (1.0, 1.5)
    assert parts["helpful"].contribution == pytest.approx(1.5, rel=1e-5)
    assert (parts["harmful"].outcome_weight, parts["harmful"].project_factor) == (-1.0, 1.0)
    assert parts["harmful"].contribution == pytest.approx(-1.0, rel=1e-5)
    assert parts["old neutral"].project_factor == 0.5
    assert parts["old neutral"].decay == pytest.approx(0.5, rel=1e-4)
    assert parts["old neutral"].contribution == pytest.approx(0.0625, rel=1e-4)

    total = 1.5 - 1.0 + 0.0625
    score = 100 * (1 - math.exp(-total / 5))
    assert parts["helpful"].points == pytest.approx(score * 1.5 / total, rel=1e-4)
    assert parts["harmful"].points < 0  # it took points away
    assert sum(p.points for p in parts.values()) == pytest.approx(score, rel=1e-4)
    stored = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact.id))).artifact
    assert sum(p.points for p in parts.values()) == pytest.approx(stored.impact_score, rel=1e-4)

    # Listed by project, each usage's part is still in its own artifact's score.
    by_won = await registry.ListArtifactUsages(rs.ListArtifactUsagesRequest(project_id=won.id))
    points = {u.artifact_id: u.impact.points for u in by_won.artifact_usages}
    assert points[artifact.id] == pytest.approx(parts["helpful"].points, rel=1e-4)
    alone = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=other.id))).artifact
    assert points[other.id] == pytest.approx(alone.impact_score, rel=1e-4)


async def test_a_score_taken_to_zero_gives_no_points(registry: rsg.RegistryServiceStub) -> None:
    project = await make_project(registry, "p")
    artifact = await make_artifact(registry, "harmful-only")
    await registry.LogArtifactUsage(
        rs.LogArtifactUsageRequest(
            artifact_usage=ap.ArtifactUsage(
                artifact_id=artifact.id, project_id=project.id, outcome=ap.USAGE_OUTCOME_HARMFUL
            )
        )
    )
    (usage,) = (
        await registry.ListArtifactUsages(rs.ListArtifactUsagesRequest(artifact_id=artifact.id))
    ).artifact_usages
    assert usage.impact.contribution == pytest.approx(-1.0, rel=1e-5)
    assert usage.impact.points == 0.0
