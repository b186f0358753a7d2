"""RecommendTeam drawing its pool from the people directory, through the server on both
stores: inactive people are never drawn, allocations elsewhere count by person, the team
that covers the required skills comes first."""

from __future__ import annotations

import random
from datetime import timedelta

import grpc
import grpc.aio
import pytest
from google.protobuf import field_mask_pb2

from maestro.people.v1 import people_service_pb2 as ps
from maestro.people.v1 import people_service_pb2_grpc as psg
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.registry.v1 import project_pb2 as pp
from maestro_grpc.config import Settings
from tests.conftest import with_settings
from tests.helpers import error_info, expect_error, expect_invalid
from tests.prediction.conftest import PredictionStub, RegistryStub, create_project, days_ago
from tests.prediction.test_meta_model import close, train
from tests.prediction.test_team_honesty import add_member, people
from tests.prediction.test_teams import candidate

E = ps.SKILL_LEVEL_EXPERT


@pytest.fixture
def settings(settings: Settings, shared_mlflow: str) -> Settings:
    return with_settings(settings, mlflow_tracking_uri=shared_mlflow)


@pytest.fixture
def directory(channel: grpc.aio.Channel) -> psg.PeopleServiceStub:
    return psg.PeopleServiceStub(channel)


async def hire(directory: psg.PeopleServiceStub, handle: str, name: str, *skills: str) -> ps.Person:
    made = await directory.CreatePerson(
        ps.CreatePersonRequest(
            person=ps.Person(
                display_name=name,
                email=f"{handle}@example.com",
                handle=handle,
                skills=[ps.PersonSkill(skill=s, level=E) for s in skills],
            )
        )
    )
    return made.person


async def test_the_pool_is_drawn_from_the_directory(
    prediction: PredictionStub, registry: RegistryStub, directory: psg.PeopleServiceStub
) -> None:
    # Coin-flip outcomes: the model has no skill, so teams rank by skill coverage and
    # experience, and the team covering sql and spark must come first.
    rng = random.Random(3)
    for i in range(24):
        start = days_ago(500)
        pid = await create_project(registry, f"coin-{i}", start=start)
        for j in range(rng.randint(2, 5)):
            years = rng.uniform(1, 10)
            await add_member(registry, pid, f"p{i}-{j}@x", f"P {i} {j}", years=years, joined=start)
        await close(registry, pid, succeeded=bool(i % 2), end=days_ago(500) + timedelta(days=300))
    await train(prediction)
    target = await create_project(
        registry,
        "target",
        start=days_ago(30),
        status=pp.PROJECT_STATUS_ACTIVE,
        labels={"required_skills": "sql,spark"},
    )

    # Ace has both skills but is on two running projects at 0.7 each (1.4 FTE), on
    # memberships that name them by e-mail and handle under other display names. Gone
    # has both skills and has left. Two people are called Sam Lee: the one on a team
    # full time is busy, the other is not.
    ace = await hire(directory, "ace", "Ace Aster", "sql", "spark")
    gone = await hire(directory, "gone", "Gone Away", "sql", "spark")
    await directory.UpdatePerson(
        ps.UpdatePersonRequest(
            person=ps.Person(id=gone.id, active=False),
            update_mask=field_mask_pb2.FieldMask(paths=["active"]),
        )
    )
    sql = await hire(directory, "sqlsam", "Sam Lee", "sql")
    spark = await hire(directory, "spark", "Spa Rk", "spark")
    twin = await hire(directory, "samlee2", "Sam Lee")
    weak = [await hire(directory, f"weak{i}", f"Weak {i}") for i in range(3)]
    busy_a = await create_project(registry, "busy-a", status=pp.PROJECT_STATUS_ACTIVE)
    busy_b = await create_project(registry, "busy-b", status=pp.PROJECT_STATUS_PLANNED)
    await add_member(registry, busy_a, "ace@example.com", "A. Aster", 0.7, years=12)
    await add_member(registry, busy_b, "ace", "Mr Ace", 0.7, years=12)
    await add_member(registry, busy_a, "samlee2", "Sam Lee", 1.0, years=9)
    await add_member(registry, busy_b, "spark@example.com", "Spa Rk", 0.5, years=8)

    response = await prediction.RecommendTeam(
        pb.RecommendTeamRequest(
            project_id=target,
            directory_pool=pb.DirectoryPool(),
            limits=pb.TeamLimits(min_size=2, max_size=3),
            max_results=5,
        )
    )
    assert response.ranking == pb.TEAM_RANKING_SKILL_COVERAGE_AND_EXPERIENCE
    best = response.proposals[0]
    assert best.skill_coverage == 1.0
    assert {sql.id, spark.id} <= people(best)
    for proposal in response.proposals:
        assert ace.id not in people(proposal)
        assert gone.id not in people(proposal)
        assert twin.id not in people(proposal)
        for m in proposal.members:
            assert m.person_id in {sql.id, spark.id, *(w.id for w in weak)}
            if m.person_id == spark.id:
                assert m.allocation == pytest.approx(0.5)
                assert m.display_name == "Spa Rk"
                assert m.skills == ["spark"]
                assert m.years_experience == pytest.approx(8)
    changed = {a.person_id: a for a in response.availability}
    assert set(changed) == {ace.id, twin.id, spark.id}
    assert changed[ace.id].excluded
    assert changed[ace.id].allocated_elsewhere == pytest.approx(1.4)
    assert list(changed[ace.id].projects) == ["busy-a", "busy-b"]
    assert changed[twin.id].excluded
    assert not changed[spark.id].excluded
    assert changed[spark.id].available == pytest.approx(0.5)

    # A skills filter narrows the pool: only people with spark, and Ace is busy.
    narrow = await prediction.RecommendTeam(
        pb.RecommendTeamRequest(
            project_id=target,
            directory_pool=pb.DirectoryPool(skills=["Spark"]),
            limits=pb.TeamLimits(min_size=1, max_size=3),
        )
    )
    assert all(people(p) == {spark.id} for p in narrow.proposals)
    # Nobody has the skill: no team, and the error says why.
    error = await expect_error(
        prediction.RecommendTeam(
            pb.RecommendTeamRequest(
                project_id=target,
                directory_pool=pb.DirectoryPool(skills=["cobol"]),
                limits=pb.TeamLimits(min_size=1, max_size=3),
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert error_info(error).reason == "NO_FEASIBLE_TEAM"
    assert "directory_pool.skills" in (error.details() or "")

    # A caller's candidate who is a person of the directory is matched by person too:
    # Ace under another name is still 1.4 FTE elsewhere.
    given = await prediction.RecommendTeam(
        pb.RecommendTeamRequest(
            project_id=target,
            candidates=[
                candidate("ACE@example.com", skills=["sql", "spark"]),
                candidate("weak0@example.com"),
                candidate("nobody@example.com"),
            ],
            limits=pb.TeamLimits(min_size=1, max_size=2),
        )
    )
    [excluded] = given.availability
    assert excluded.person_id == "ACE@example.com"
    assert excluded.excluded
    assert excluded.allocated_elsewhere == pytest.approx(1.4)


async def test_one_pool_or_the_other(prediction: PredictionStub, registry: RegistryStub) -> None:
    target = await create_project(registry, "target", status=pp.PROJECT_STATUS_ACTIVE)
    limits = pb.TeamLimits(min_size=1, max_size=2)
    await expect_invalid(
        prediction.RecommendTeam(
            pb.RecommendTeamRequest(
                project_id=target,
                candidates=[candidate("a@x")],
                directory_pool=pb.DirectoryPool(),
                limits=limits,
            )
        ),
        "directory_pool",
    )
    await expect_invalid(
        prediction.RecommendTeam(
            pb.RecommendTeamRequest(
                project_id=target,
                directory_pool=pb.DirectoryPool(max_candidates=201, skills=[""]),
                limits=limits,
            )
        ),
        "directory_pool.max_candidates",
    )
    await expect_invalid(
        prediction.RecommendTeam(pb.RecommendTeamRequest(project_id=target, limits=limits)),
        "candidates",
    )
