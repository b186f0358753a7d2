"""The feature module: what each family computes, the window it never reads past, both stores."""

from __future__ import annotations

import asyncio
import math
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc.aio
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from maestro.metrics.v1 import metric_pb2, metrics_service_pb2, metrics_service_pb2_grpc
from maestro.metrics.v1 import process_event_pb2 as pe
from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.config import Settings
from maestro_grpc.metrics.model import EventRecord
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.prediction.domain.features import compute, event_features, metric_features
from maestro_grpc.prediction.domain.observe import FeatureReader, load_projects
from maestro_grpc.prediction.domain.teamfeatures import (
    ROLES,
    CandidatePool,
    skill_coverage,
    team_feature_columns,
    team_feature_names,
    team_features,
)
from maestro_grpc.prediction.domain.window import (
    Features,
    Member,
    Observations,
    ProjectRecord,
    window_for,
)
from maestro_grpc.registry.read import RegistryReader
from maestro_grpc.server import start_server
from tests.helpers import ts
from tests.prediction.conftest import record_points

START = datetime(2025, 1, 1, tzinfo=UTC)
WINDOW = window_for(START, 240, START + timedelta(days=1000))
DAY = timedelta(days=1)


def project(required: frozenset[str] = frozenset()) -> ProjectRecord:
    return ProjectRecord(uuid.uuid4(), "p", "completed", START, None, None, None, required)


# ---- pure computation ---------------------------------------------------------------------


def test_window() -> None:
    assert WINDOW.end == START + 240 * DAY
    assert WINDOW.complete
    assert WINDOW.middle == START + 120 * DAY
    running = window_for(START, 240, START + 30 * DAY)
    assert not running.complete
    assert running.observed_end == START + 30 * DAY
    assert running.observed_days == pytest.approx(30)
    # A project that starts in the future is observed over nothing.
    assert window_for(START, 240, START - DAY).observed_days == 0


def test_metric_aggregates() -> None:
    points = [
        ("asf.num_commits", START + 0 * DAY, 100.0),
        ("asf.num_commits", START + 30 * DAY, 10.0),
        ("asf.num_commits", START + 150 * DAY, 20.0),
        ("asf.num_commits", START + 210 * DAY, 30.0),
        ("asf.num_commits", START + 240 * DAY, 1e9),  # the window's end: excluded
        ("asf.num_commits", START - DAY, 1e9),  # before the start: excluded
        ("solo", START + 5 * DAY, 7.0),
    ]
    out = metric_features(points, WINDOW)
    assert out["metric.asf.num_commits.count"] == 4
    assert out["metric.asf.num_commits.mean"] == pytest.approx(40.0)
    assert out["metric.asf.num_commits.median"] == pytest.approx(25.0)
    assert out["metric.asf.num_commits.min"] == 10.0
    assert out["metric.asf.num_commits.last"] == 30.0
    assert out["metric.asf.num_commits.recent_mean"] == pytest.approx(25.0)
    expected_slope = np.polyfit([0, 30, 150, 210], [100, 10, 20, 30], 1)[0]
    assert out["metric.asf.num_commits.slope"] == pytest.approx(expected_slope)
    # One point: no slope, no recent mean; both missing, not zero.
    assert out["metric.solo.count"] == 1
    assert out["metric.solo.slope"] is None
    assert out["metric.solo.recent_mean"] is None


def test_team_features() -> None:
    members = [
        Member("data_scientist", 4.0, frozenset({"python", "sql"}), 1.0, START, None),
        Member("ml_engineer", 10.0, frozenset({"spark"}), 0.5, START, None),
        # Left within the window: counts as turnover, not in the team.
        Member("ml_engineer", 20.0, frozenset({"nlp"}), 1.0, START, START + 100 * DAY),
        # Left after the window: still on the team at its end.
        Member("data_engineer", 2.0, frozenset(), 1.0, START, START + 300 * DAY),
        # Joined after the window: not seen at all.
        Member("researcher", 30.0, frozenset({"nlp"}), 1.0, START + 241 * DAY, None),
    ]
    out = team_features(members, frozenset({"python", "nlp"}), WINDOW)
    assert out["team.size"] == 3
    assert out["team.role.ml_engineer.count"] == 1
    assert out["team.role.ml_engineer.share"] == pytest.approx(1 / 3)
    assert out["team.role.researcher.count"] == 0
    assert out["team.experience.mean"] == pytest.approx(16 / 3)
    assert out["team.experience.max"] == 10.0
    assert out["team.allocation.total"] == 2.5
    assert out["team.skill_coverage"] == 0.5
    assert out["team.turnover"] == pytest.approx(1 / 4)
    assert set(out) == set(team_feature_names())
    # Nobody joined by the window's end: every team feature is missing.
    nobody = team_features(members[-1:], frozenset(), WINDOW)
    assert set(nobody) == set(team_feature_names())
    assert all(v is None for v in nobody.values())
    # No required skills: coverage is missing, not 1 or 0.
    assert team_features(members, frozenset(), WINDOW)["team.skill_coverage"] is None
    # Everyone left: size 0, shares and experience missing.
    gone = team_features(members[2:3], frozenset({"nlp"}), WINDOW)
    assert gone["team.size"] == 0
    assert gone["team.experience.mean"] is None
    assert gone["team.role.ml_engineer.share"] is None
    assert gone["team.skill_coverage"] == 0.0


member_strategy = st.builds(
    Member,
    role=st.sampled_from(ROLES),
    years_experience=st.floats(0, 70),
    skills=st.frozensets(st.sampled_from(["a", "b", "c", "d"]), max_size=3),
    allocation=st.floats(0.05, 1.0),
)


@examples(max_examples=60, deadline=None)
@given(
    pool=st.lists(member_strategy, min_size=1, max_size=8),
    picks=st.lists(st.booleans(), min_size=8, max_size=8),
    required=st.frozensets(st.sampled_from(["a", "b", "c", "x"]), max_size=3),
)
def test_vector_team_features_agree_with_the_scalar_ones(
    pool: list[Member], picks: list[bool], required: frozenset[str]
) -> None:
    mask = np.array(picks[: len(pool)], dtype=bool)
    chosen = [m for m, keep in zip(pool, mask, strict=True) if keep]
    scalar = team_features(chosen, required, WINDOW)
    columns = team_feature_columns(CandidatePool.of(pool, required), mask.reshape(1, -1))
    if not chosen:
        # A hypothetical empty team has size 0 (the scalar form calls it unknown).
        assert columns["team.size"][0] == 0
        return
    for name, value in scalar.items():
        got = columns[name][0]
        if value is None:
            assert math.isnan(got), name
        else:
            assert got == pytest.approx(value), name
    coverage = skill_coverage(CandidatePool.of(pool, required), mask.reshape(1, -1))[0]
    assert coverage == pytest.approx(scalar["team.skill_coverage"] if required else 1.0)


def event(kind: str, time: datetime, **payload: Any) -> EventRecord:
    return EventRecord(type=kind, time=time, payload=payload)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


# long: one table of events, every aggregate checked against it
def test_event_aggregates_dora_and_velocity() -> None:
    sha = "a" * 40
    events = [
        event("commit", START + 1 * DAY, sha=sha),
        event("commit", START + 8 * DAY, sha="b" * 40),
        event("commit", START + 200 * DAY, sha="c" * 40),
        event(
            "deployment",
            START + 3 * DAY,
            deployment_id="d1",
            environment="production",
            status="succeeded",
            commit_shas=[sha],
        ),
        event(
            "deployment",
            START + 10 * DAY,
            deployment_id="d2",
            environment="production",
            status="rolled_back",
        ),
        event(
            "deployment",
            START + 11 * DAY,
            deployment_id="d3",
            environment="staging",
            status="failed",
        ),
        event(
            "incident",
            START + 4 * DAY,
            incident_id="i1",
            resolve_time=iso(START + 4 * DAY + timedelta(hours=6)),
            caused_by_deployment_id="d1",
        ),
        # Resolved after the window: unresolved at its end.
        event("incident", START + 230 * DAY, incident_id="i2", resolve_time=iso(START + 260 * DAY)),
        event("pull_request", START + 5 * DAY, state="merged", merge_time=iso(START + 6 * DAY)),
        # Merged after the window: open at its end.
        event("pull_request", START + 235 * DAY, state="merged", merge_time=iso(START + 250 * DAY)),
        event("pull_request", START + 20 * DAY, state="open", merge_time=None),
        # After the window: ignored.
        event("commit", START + 240 * DAY, sha="d" * 40),
    ]
    out = event_features(events, WINDOW)
    weeks = 240 / 7
    assert out["event.commit.count"] == 3
    assert out["event.commit.mean"] == pytest.approx(3 / weeks)
    assert out["event.commit.last"] == 0
    assert out["event.commit.recent_mean"] == pytest.approx(1 / (120 / 7))
    assert out["event.pull_request.last"] == 1  # opened on day 235
    assert out["dora.deployment_frequency_per_week"] == pytest.approx(1 / weeks)
    # d1 caused an incident, d2 was rolled back: 2 of 2 production deployments.
    assert out["dora.change_failure_rate"] == 1.0
    assert out["dora.lead_time_hours"] == pytest.approx(48.0)
    assert out["dora.time_to_restore_hours"] == pytest.approx(6.0)
    assert out["velocity.merged_prs_per_week"] == pytest.approx(1 / weeks)
    assert event_features([], WINDOW) == {}
    # No deployments: no DORA deployment figures at all (missing, not zero).
    only_commits = event_features(events[:3], WINDOW)
    assert "dora.deployment_frequency_per_week" not in only_commits


def test_compute_combines_every_family() -> None:
    obs = Observations(
        members=[Member("analyst", 3.0, frozenset(), 1.0, START, None)],
        used_impacts={uuid.uuid4(): 40.0, uuid.uuid4(): 60.0},
        reused=1,
        created=3,
        points=[("m", START, 1.0)],
        events=[event("commit", START, sha="a" * 40)],
    )
    out = compute(project(), WINDOW, obs)
    assert out["artifacts.used"] == 2
    assert out["artifacts.impact.mean"] == 50.0
    assert out["artifacts.created_share"] == 0.75
    assert out["team.size"] == 1
    assert out["metric.m.count"] == 1
    assert out["event.commit.count"] == 1
    empty = compute(project(), WINDOW, Observations())
    assert empty["artifacts.used"] == 0
    assert empty["artifacts.impact.mean"] is None
    assert empty["artifacts.created_share"] is None


# ---- reading from the store: both stores, the same vectors, nothing after the window ----------


# long: one project with a bit of every family, and the late data it must ignore
async def load(channel: grpc.aio.Channel, now: datetime) -> tuple[str, str]:
    """One project with a bit of everything, plus data after its window (must be ignored)."""
    registry = registry_service_pb2_grpc.RegistryServiceStub(channel)
    metrics = metrics_service_pb2_grpc.MetricsServiceStub(channel)
    start = now - timedelta(days=400)
    end_of_window = start + timedelta(days=240)
    late = end_of_window + timedelta(days=10)
    project = (
        await registry.CreateProject(
            rs.CreateProjectRequest(
                project=pp.Project(
                    name="observed",
                    start_time=ts(start),
                    labels={"required_skills": "python,spark"},
                )
            )
        )
    ).project
    other = (
        await registry.CreateProject(
            rs.CreateProjectRequest(project=pp.Project(name="other", start_time=ts(start)))
        )
    ).project
    members = [
        ("ann", pp.TEAM_ROLE_DATA_SCIENTIST, 6.0, ["python"], start, None),
        (
            "bob",
            pp.TEAM_ROLE_ML_ENGINEER,
            3.0,
            ["spark"],
            start + timedelta(days=10),
            start + timedelta(days=100),
        ),
        ("cy", pp.TEAM_ROLE_ML_ENGINEER, 9.0, ["go"], start, None),
        # Late: joins after the window.
        ("late", pp.TEAM_ROLE_RESEARCHER, 40.0, ["spark"], late, None),
    ]
    for person, role, years, skills, join, leave in members:
        member = pp.TeamMember(
            person_id=person, role=role, years_experience=years, skills=skills, join_time=ts(join)
        )
        if leave is not None:
            member.leave_time.CopyFrom(ts(leave))
        await registry.AddTeamMember(
            rs.AddTeamMemberRequest(project_id=project.id, team_member=member)
        )
    # Late: leaves after the window (still on the team at its end).
    await registry.AddTeamMember(
        rs.AddTeamMemberRequest(
            project_id=project.id,
            team_member=pp.TeamMember(
                person_id="dee",
                role=pp.TEAM_ROLE_DATA_ENGINEER,
                years_experience=2.0,
                join_time=ts(start),
                leave_time=ts(late),
            ),
        )
    )
    reused = (
        await registry.CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name="features",
                    version="1",
                    type=ap.ARTIFACT_TYPE_DATASET,
                    origin_project_id=other.id,
                )
            )
        )
    ).artifact
    own = (
        await registry.CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name="model",
                    version="1",
                    type=ap.ARTIFACT_TYPE_MODEL,
                    origin_project_id=project.id,
                )
            )
        )
    ).artifact
    for artifact, who, when, outcome in [
        (reused, other.id, start + timedelta(days=5), ap.USAGE_OUTCOME_HELPFUL),
        (reused, project.id, start + timedelta(days=20), ap.USAGE_OUTCOME_HELPFUL),
        # Late: a usage after the window, and a harmful one that would lower the impact.
        (own, project.id, late, ap.USAGE_OUTCOME_HELPFUL),
        (reused, other.id, late, ap.USAGE_OUTCOME_HARMFUL),
    ]:
        await registry.LogArtifactUsage(
            rs.LogArtifactUsageRequest(
                artifact_usage=ap.ArtifactUsage(
                    artifact_id=artifact.id, project_id=who, outcome=outcome, use_time=ts(when)
                )
            )
        )
    # Late: the other project's outcome is recorded now, after the window.
    await registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=other.id, success=pp.ProjectSuccess(succeeded=False)
        )
    )
    points = [("ci.duration", start + timedelta(days=d), float(d)) for d in range(0, 240, 20)]
    points += [("ci.duration", late, 1e6), ("late.only", late, 5.0)]
    await record_points(metrics, project.id, points)
    sha = "ab" * 20
    batch = metric_pb2.MetricBatch(
        events=[
            pe.ProcessEvent(
                project_id=project.id,
                commit=pe.Commit(repo="r", sha=sha, author_time=ts(start + timedelta(days=1))),
            ),
            pe.ProcessEvent(
                project_id=project.id,
                pull_request=pe.PullRequest(
                    repo="r",
                    number=1,
                    state=pe.PULL_REQUEST_STATE_MERGED,
                    open_time=ts(start + timedelta(days=230)),
                    merge_time=ts(late),
                ),
            ),
            pe.ProcessEvent(
                project_id=project.id,
                deployment=pe.Deployment(
                    deployment_id="d1",
                    environment="production",
                    status=pe.DEPLOYMENT_STATUS_SUCCEEDED,
                    deploy_time=ts(start + timedelta(days=2)),
                    commit_shas=[sha],
                ),
            ),
            pe.ProcessEvent(
                project_id=project.id,
                incident=pe.Incident(
                    incident_id="i1",
                    open_time=ts(start + timedelta(days=200)),
                    resolve_time=ts(late),
                ),
            ),
            pe.ProcessEvent(
                project_id=project.id,
                commit=pe.Commit(repo="r", sha="cd" * 20, author_time=ts(late)),
            ),
        ]
    )
    response = await metrics.RecordMetrics(metrics_service_pb2.RecordMetricsRequest(batch=batch))
    assert not response.rejected, response.rejected
    return project.id, own.id


async def features_on(url: str, data_dir: Path, now: datetime) -> Features:
    settings_ = Settings(
        host="127.0.0.1",
        port=0,
        data_dir=data_dir,
        database_url=url,
        migrate_on_start=False,
        metrics_port=None,
    )
    server = await start_server(settings_)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            project_id, _ = await load(channel, now)
        registry = RegistryReader(server.db)
        reader = FeatureReader(registry, MetricsReader(server.db), half_life_days=180.0)
        (record,) = await load_projects(registry, [uuid.UUID(project_id)])
        window = window_for(record.start, 240, now)
        (obs,) = await reader.observe([(record, window)])
        return compute(record, window, obs)
    finally:
        await server.stop(grace=0.2)


async def test_both_stores_give_identical_vectors_and_ignore_late_data(
    sqlite_template: Path, pg_url: str, tmp_path: Path
) -> None:
    from tests.conftest import _truncate_pg

    _truncate_pg(pg_url)
    target = tmp_path / "maestro.db"
    shutil.copyfile(sqlite_template, target)
    now = datetime.now(UTC)
    on_sqlite, on_pg = await asyncio.gather(
        features_on(f"sqlite+aiosqlite:///{target}", tmp_path / "a", now),
        features_on(pg_url, tmp_path / "b", now),
    )
    assert on_sqlite == on_pg
    out = on_sqlite
    # Team at the window's end: ann, cy and dee (who leaves later); bob left.
    assert out["team.size"] == 3
    assert out["team.experience.max"] == 9.0
    assert out["team.turnover"] == pytest.approx(1 / 4)
    assert out["team.skill_coverage"] == 0.5  # python, not spark (bob left)
    assert out["team.role.researcher.count"] == 0
    # One artifact used (the late usage is not), made by the other project.
    assert out["artifacts.used"] == 1
    assert out["artifacts.reused"] == 1
    assert out["artifacts.created"] == 0  # "model" was registered now, after the window
    # Impact at the window's end: two helpful usages, no outcome known yet, no harm.
    from maestro_grpc.registry.model import UsageOutcome
    from maestro_grpc.registry.read import UsageSignal, impact_score

    start = now - timedelta(days=400)
    cut = start + timedelta(days=240)
    expected_impact = impact_score(
        [UsageSignal(UsageOutcome.HELPFUL, start + timedelta(days=d)) for d in (5, 20)], cut, 180.0
    )
    assert out["artifacts.impact.mean"] == pytest.approx(expected_impact)
    assert out["metric.ci.duration.count"] == 12
    assert out["metric.ci.duration.last"] == 220.0
    assert "metric.late.only.count" not in out
    assert out["event.commit.count"] == 1
    assert out["velocity.merged_prs_per_week"] == 0.0  # merged after the window
    assert out["dora.time_to_restore_hours"] is None  # resolved after the window
    assert out["dora.lead_time_hours"] == pytest.approx(24.0)
    assert out["dora.deployment_frequency_per_week"] == pytest.approx(1 / (240 / 7))
