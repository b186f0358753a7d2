"""A person's profile through a real server, on both stores; and who may see what of it."""

from __future__ import annotations

import uuid

import grpc

from maestro.access.v1 import access_service_pb2 as ac
from maestro.people.v1 import people_service_pb2 as ps
from maestro.people.v1 import people_service_pb2_grpc as psg
from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from tests.access.conftest import Secured, bearer
from tests.helpers import error_info, expect_error, expect_invalid, ts
from tests.people.test_directory import E, person, project


async def member(
    registry: rsg.RegistryServiceStub,
    project_id: str,
    person_id: str,
    *,
    join: str,
    leave: str = "",
    allocation: float,
    skills: list[str],
    metadata: object = None,
) -> None:
    m = pp.TeamMember(
        person_id=person_id,
        role=pp.TEAM_ROLE_DATA_SCIENTIST,
        allocation=allocation,
        skills=skills,
        join_time=ts(join),
    )
    if leave:
        m.leave_time.CopyFrom(ts(leave))
    await registry.AddTeamMember(
        rs.AddTeamMemberRequest(project_id=project_id, team_member=m),
        metadata=metadata,  # type: ignore[arg-type]
    )


async def use(
    registry: rsg.RegistryServiceStub, artifact_id: str, project_id: str, user: str, outcome: int
) -> None:
    await registry.LogArtifactUsage(
        rs.LogArtifactUsageRequest(
            artifact_usage=ap.ArtifactUsage(
                artifact_id=artifact_id,
                project_id=project_id,
                user=user,
                outcome=outcome,  # type: ignore[arg-type]
            )
        )
    )


async def test_profile_shows_history_experience_and_allocation(
    people: psg.PeopleServiceStub, registry: rsg.RegistryServiceStub
) -> None:
    ada = await person(people, "ada", pytorch=E)
    old = await project(registry, "old")
    churn = await project(registry, "churn")
    fraud = await project(registry, "fraud")
    await member(
        registry,
        old,
        ada.email,
        join="2024-01-01T00:00:00",
        leave="2025-01-01T00:00:00",
        allocation=1.0,
        skills=["pytorch", "sql"],
    )
    await member(
        registry, churn, ada.id, join="2025-01-01T00:00:00", allocation=0.75, skills=["pytorch"]
    )
    await member(
        registry, fraud, "ada", join="2025-06-01T00:00:00", allocation=0.5, skills=["spark"]
    )
    model = (
        await registry.CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name="churn-model",
                    version="1",
                    type=ap.ARTIFACT_TYPE_MODEL,
                    origin_project_id=churn,
                    creator="ADA@example.com",
                )
            )
        )
    ).artifact
    data = (
        await registry.CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name="events", version="1", type=ap.ARTIFACT_TYPE_DATASET, creator="someone"
                )
            )
        )
    ).artifact
    await use(registry, data.id, churn, "ada", ap.USAGE_OUTCOME_HELPFUL)
    await use(registry, data.id, fraud, ada.id, ap.USAGE_OUTCOME_HARMFUL)
    await use(registry, model.id, fraud, "ada@example.com", ap.USAGE_OUTCOME_HELPFUL)
    await use(registry, model.id, fraud, "bob", ap.USAGE_OUTCOME_HELPFUL)

    profile = await people.GetPersonProfile(ps.GetPersonProfileRequest(person_id=ada.id))
    assert profile.person.id == ada.id
    assert [m.project_name for m in profile.memberships] == ["old", "churn", "fraud"]
    assert profile.memberships[0].role == "data_scientist"
    assert profile.memberships[0].HasField("leave_time")
    assert not profile.memberships[1].HasField("leave_time")
    assert profile.current_allocation == 1.25  # over-allocated
    assert profile.person.availability == 0.0
    assert [(a.name, a.version) for a in profile.created] == [("churn-model", "1")]
    used = {u.name: (u.uses, u.helpful, u.harmful) for u in profile.used}
    assert used == {"events": (2, 1, 1), "churn-model": (1, 1, 0)}
    assert [u.name for u in profile.used] == ["events", "churn-model"]
    experience = {e.skill: e for e in profile.experience}
    assert experience["pytorch"].projects == 2
    assert experience["pytorch"].level == E
    assert experience["sql"].projects == 1
    assert abs(experience["sql"].years - 366 / 365.25) < 1e-3  # 2024 was a leap year
    assert experience["sql"].level == ps.SKILL_LEVEL_UNSPECIFIED
    assert experience["pytorch"].years > experience["sql"].years
    assert profile.experience[0].skill == "pytorch"


async def test_scoped_reader_sees_only_its_projects(secured: Secured) -> None:
    admin = bearer(secured.admin)
    people = psg.PeopleServiceStub(secured.channel)
    registry = secured.registry
    made = await people.CreatePerson(
        ps.CreatePersonRequest(
            person=ps.Person(display_name="Ada", email="ada@example.com", handle="ada")
        ),
        metadata=admin,
    )
    ada = made.person
    seen = await secured.project("seen")
    hidden = await secured.project("hidden")
    for pid in (seen, hidden):
        await member(
            registry,
            pid,
            ada.id,
            join="2025-01-01T00:00:00",
            allocation=0.5,
            skills=["nlp"],
            metadata=admin,
        )
    secret, _ = await secured.token("reader", seen)
    profile = await people.GetPersonProfile(
        ps.GetPersonProfileRequest(person_id=ada.id), metadata=bearer(secret)
    )
    assert [m.project_name for m in profile.memberships] == ["seen"]
    assert profile.current_allocation == 1.0  # the person's time, whichever team
    # The directory belongs to the organisation: a scoped writer may not change it.
    writer, _ = await secured.token("writer", seen)
    await expect_error(
        people.CreatePerson(
            ps.CreatePersonRequest(
                person=ps.Person(display_name="Bo", email="bo@example.com", handle="bo")
            ),
            metadata=bearer(writer),
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await expect_error(
        people.ListUnlinkedTeamMembers(
            ps.ListUnlinkedTeamMembersRequest(), metadata=bearer(secret)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )


async def test_a_token_may_name_its_person(secured: Secured) -> None:
    admin = bearer(secured.admin)
    people = psg.PeopleServiceStub(secured.channel)
    ada = (
        await people.CreatePerson(
            ps.CreatePersonRequest(
                person=ps.Person(display_name="Ada", email="ada@example.com", handle="ada")
            ),
            metadata=admin,
        )
    ).person
    made = await secured.access.CreateToken(
        ac.CreateTokenRequest(name="ada", role=ac.ROLE_READER, person_id=ada.id), metadata=admin
    )
    assert made.token.person_id == ada.id
    me = await secured.access.WhoAmI(ac.WhoAmIRequest(), metadata=bearer(made.secret))
    assert me.token.person_id == ada.id
    error = await expect_error(
        secured.access.CreateToken(
            ac.CreateTokenRequest(name="x", role=ac.ROLE_READER, person_id=str(uuid.uuid4())),
            metadata=admin,
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert error_info(error).reason == "PERSON_NOT_FOUND"
    await expect_invalid(
        secured.access.CreateToken(
            ac.CreateTokenRequest(name="x", role=ac.ROLE_READER, person_id="ada"), metadata=admin
        ),
        "person_id",
    )
