"""RecommendTeam's honesty, through the server on both stores: availability the store knows,
a model without skill said so, extrapolation of the team alone, no current team invented."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

import grpc
import grpc.aio
import pytest

from maestro.prediction.v1 import meta_model_pb2 as mp
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro_grpc.config import Settings
from maestro_grpc.demo import seed
from tests.conftest import with_settings
from tests.helpers import error_info, expect_error, ts
from tests.prediction.conftest import PredictionStub, RegistryStub, create_project, days_ago
from tests.prediction.test_meta_model import close, train
from tests.prediction.test_teams import candidate


@pytest.fixture
def settings(settings: Settings, shared_mlflow: str) -> Settings:
    return with_settings(settings, mlflow_tracking_uri=shared_mlflow)


async def add_member(
    registry: RegistryStub,
    project_id: str,
    person_id: str,
    name: str,
    allocation: float = 1.0,
    years: float = 5.0,
    skills: Sequence[str] = (),
    joined: datetime | None = None,
) -> None:
    member = pp.TeamMember(
        person_id=person_id,
        display_name=name,
        role=pp.TEAM_ROLE_ML_ENGINEER,
        years_experience=years,
        skills=list(skills),
        allocation=allocation,
    )
    if joined is not None:
        member.join_time.CopyFrom(ts(joined))
    await registry.AddTeamMember(
        rs.AddTeamMemberRequest(
            project_id=project_id,
            team_member=member,
        )
    )


def has_skill(model: mp.MetaModel) -> bool:
    """The documented rule, from what GetMetaModel shows."""
    cv = model.cv_scores
    half = 1.96 * cv.roc_auc_std * math.sqrt(1 / (cv.folds * cv.repeats) + 1 / (cv.folds - 1))
    return cv.roc_auc - half > 0.5 and cv.brier < cv.baseline_brier


def people(proposal: pb.TeamProposal) -> set[str]:
    return {m.person_id for m in proposal.members}


# long: one trained model serves every case
async def test_availability_extrapolation_and_an_empty_team(
    prediction: PredictionStub, registry: RegistryStub, channel: grpc.aio.Channel
) -> None:
    seeded = await seed(channel, projects=60, active=1, random_seed=4)
    model, _ = await train(prediction)
    active = next(p for p in seeded.projects if not p.finished)
    finished = next(p for p in seeded.projects if p.finished)
    project = (
        await registry.GetProject(rs.GetProjectRequest(project_id=active.project_id))
    ).project
    required = project.labels["required_skills"].split(",")

    # Ada is on two running projects at 0.7 each: 1.4 FTE. Bob (a directory id, no
    # e-mail) gives 0.6 elsewhere: matched by name. Cy's namesake has another e-mail:
    # a different person. Dee is only on a finished project.
    busy_a = await create_project(registry, "busy-a", status=pp.PROJECT_STATUS_ACTIVE)
    busy_b = await create_project(registry, "busy-b", status=pp.PROJECT_STATUS_PLANNED)
    await add_member(registry, busy_a, "Ada@Example.com", "Ada Lovelace", 0.7)
    await add_member(registry, busy_b, "ada@example.com ", "Ada L.", 0.7)
    await add_member(registry, busy_a, "emp-17", "Bob  Stone", 0.6)
    await add_member(registry, busy_b, "cy@one.example", "Cy Young", 0.9)
    await add_member(registry, finished.project_id, "dee@example.com", "Dee", 1.0)
    pool = [
        pb.Candidate(
            person_id="ada@example.com",
            display_name="Ada Lovelace",
            role=pp.TEAM_ROLE_DATA_SCIENTIST,
            years_experience=15,
            skills=required,
            availability=1.0,
        ),
        candidate("bob@example.com", years=6, skills=required[:1], availability=0.8),
        candidate("cy@two.example", pp.TEAM_ROLE_DATA_ENGINEER, 7, required[1:]),
        candidate("dee@example.com", pp.TEAM_ROLE_SOFTWARE_ENGINEER, 5, required),
        candidate("eve@example.com", pp.TEAM_ROLE_MLOPS_ENGINEER, 4),
        candidate("fay@example.com", pp.TEAM_ROLE_DATA_SCIENTIST, 6),
    ]
    pool[1].display_name, pool[2].display_name = "bob stone", "Cy Young"
    response = await prediction.RecommendTeam(
        pb.RecommendTeamRequest(
            project_id=active.project_id,
            candidates=pool,
            limits=pb.TeamLimits(min_size=3, max_size=5),
            max_results=5,
        )
    )
    assert response.proposals
    for proposal in response.proposals:
        assert "ada@example.com" not in people(proposal)
        for m in proposal.members:
            if m.person_id == "bob@example.com":
                assert m.allocation == pytest.approx(0.4)
    changed = {a.person_id: a for a in response.availability}
    assert set(changed) == {"ada@example.com", "bob@example.com"}
    ada = changed["ada@example.com"]
    assert ada.excluded
    assert ada.available == 0.0
    assert ada.allocated_elsewhere == pytest.approx(1.4)
    assert list(ada.projects) == ["busy-a", "busy-b"]
    bob = changed["bob@example.com"]
    assert not bob.excluded
    assert bob.requested == pytest.approx(0.8)
    assert bob.available == pytest.approx(0.4)

    # The ranking follows the stored version's cross-validated skill.
    assert (response.ranking == pb.TEAM_RANKING_PREDICTED_SUCCESS) == has_skill(model)
    assert response.ranking_reason
    # The open window is reported once; an ordinary team is not an extrapolation...
    assert response.observation_window_open
    assert not response.proposals[0].extrapolation
    assert not response.proposals[0].extrapolation_reasons
    # ...an outlandish one is, and says which team feature.
    elders = [candidate(f"elder{i}@example.com", years=70, skills=required) for i in range(3)]
    odd = await prediction.RecommendTeam(
        pb.RecommendTeamRequest(
            project_id=active.project_id,
            candidates=elders,
            limits=pb.TeamLimits(min_size=3, max_size=3),
        )
    )
    assert odd.proposals[0].extrapolation
    assert any(r.startswith("team.experience") for r in odd.proposals[0].extrapolation_reasons)
    # Only Ada: no team can be made, and the error says why.
    error = await expect_error(
        prediction.RecommendTeam(
            pb.RecommendTeamRequest(
                project_id=active.project_id,
                candidates=pool[:1],
                limits=pb.TeamLimits(min_size=1, max_size=2),
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert error_info(error).reason == "NO_FEASIBLE_TEAM"
    assert "allocated elsewhere" in (error.details() or "")

    # A project with nobody on its team: no current team, and no reason quotes one.
    fresh = await create_project(
        registry,
        "fresh",
        start=days_ago(20),
        status=pp.PROJECT_STATUS_ACTIVE,
        labels={"required_skills": ",".join(required)},
    )
    alone = await prediction.RecommendTeam(
        pb.RecommendTeamRequest(
            project_id=fresh, candidates=pool[3:], limits=pb.TeamLimits(min_size=1, max_size=3)
        )
    )
    assert not alone.HasField("current_team")
    assert alone.proposals
    for proposal in alone.proposals:
        assert not any("current team" in r for r in proposal.reasons), proposal.reasons
        assert any("nobody on its team" in r for r in proposal.reasons)


async def test_a_model_without_skill_is_said_so_and_not_trusted(
    prediction: PredictionStub, registry: RegistryStub
) -> None:
    """Outcomes that are coin flips: the model cannot have skill; teams are ranked by skill
    coverage and experience, so the team that covers the required skills comes first."""
    rng = random.Random(3)
    for i in range(24):
        start = days_ago(500)
        pid = await create_project(registry, f"coin-{i}", start=start)
        for j in range(rng.randint(2, 5)):
            years = rng.uniform(1, 10)
            await add_member(registry, pid, f"p{i}-{j}@x", f"P {i} {j}", years=years, joined=start)
        await close(registry, pid, succeeded=bool(i % 2), end=days_ago(500) + timedelta(days=300))
    model, _ = await train(prediction)
    assert not has_skill(model)
    target = await create_project(
        registry,
        "target",
        start=days_ago(30),
        status=pp.PROJECT_STATUS_ACTIVE,
        labels={"required_skills": "sql,spark"},
    )
    pool = [
        candidate("weak1@x", years=3),
        candidate("weak2@x", years=4),
        candidate("weak3@x", years=2),
        candidate("sql@x", years=3, skills=["sql"]),
        candidate("spark@x", years=2, skills=["spark"]),
    ]
    response = await prediction.RecommendTeam(
        pb.RecommendTeamRequest(
            project_id=target, candidates=pool, limits=pb.TeamLimits(min_size=2, max_size=3)
        )
    )
    assert response.ranking == pb.TEAM_RANKING_SKILL_COVERAGE_AND_EXPERIENCE
    assert "no skill" in response.ranking_reason
    assert "ROC AUC" in response.ranking_reason
    best = response.proposals[0]
    assert best.skill_coverage == 1.0
    assert {"sql@x", "spark@x"} <= people(best)
    assert best.reasons[0] == response.ranking_reason
    scores = [p.score for p in response.proposals]
    assert scores == sorted(scores, reverse=True)
