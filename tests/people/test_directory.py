"""The people directory through a real server, on both stores: people, search, team links."""

from __future__ import annotations

import uuid

import grpc
from google.protobuf import field_mask_pb2

from maestro.people.v1 import people_service_pb2 as ps
from maestro.people.v1 import people_service_pb2_grpc as psg
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.config import Settings
from maestro_grpc.people.model import PeopleQuery
from maestro_grpc.people.read import PeopleReader
from maestro_grpc.store.db import Database
from tests.helpers import error_info, expect_error, expect_invalid

B, MID, A, E = (
    ps.SKILL_LEVEL_BEGINNER,
    ps.SKILL_LEVEL_INTERMEDIATE,
    ps.SKILL_LEVEL_ADVANCED,
    ps.SKILL_LEVEL_EXPERT,
)


async def person(people: psg.PeopleServiceStub, handle: str, **skills: int) -> ps.Person:
    made = await people.CreatePerson(
        ps.CreatePersonRequest(
            person=ps.Person(
                display_name=handle.title(),
                email=f"{handle}@example.com",
                handle=handle,
                skills=[ps.PersonSkill(skill=s, level=level) for s, level in skills.items()],  # type: ignore[arg-type]
                time_zone="Europe/Berlin",
            )
        )
    )
    return made.person


async def project(registry: rsg.RegistryServiceStub, name: str) -> str:
    made = await registry.CreateProject(rs.CreateProjectRequest(project=pp.Project(name=name)))
    return made.project.id


async def join(
    registry: rsg.RegistryServiceStub, project_id: str, person_id: str, allocation: float = 0.5
) -> pp.TeamMember:
    added = await registry.AddTeamMember(
        rs.AddTeamMemberRequest(
            project_id=project_id,
            team_member=pp.TeamMember(
                person_id=person_id,
                role=pp.TEAM_ROLE_ML_ENGINEER,
                allocation=allocation,
                skills=["pytorch"],
            ),
        )
    )
    return added.team_member


async def test_create_get_update_a_person(people: psg.PeopleServiceStub) -> None:
    ada = await person(people, "ada", pytorch=E, SQL=B)
    assert uuid.UUID(ada.id)
    assert ada.active
    assert ada.availability == 1.0
    assert [(s.skill, s.level) for s in ada.skills] == [("pytorch", E), ("sql", B)]
    got = (await people.GetPerson(ps.GetPersonRequest(person_id=ada.id))).person
    assert got == ada

    changed = await people.UpdatePerson(
        ps.UpdatePersonRequest(
            person=ps.Person(id=ada.id, display_name="Ada L.", active=False, email="not checked"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name", "active"]),
        )
    )
    assert changed.person.display_name == "Ada L."
    assert not changed.person.active
    assert changed.person.email == "ada@example.com"  # not in the mask: left alone


async def test_email_and_handle_are_unique(people: psg.PeopleServiceStub) -> None:
    await person(people, "bo")
    twin = ps.Person(display_name="Bo", email="BO@example.com", handle="bo2")
    error = await expect_error(
        people.CreatePerson(ps.CreatePersonRequest(person=twin)), grpc.StatusCode.ALREADY_EXISTS
    )
    assert error_info(error).reason == "PERSON_EMAIL_EXISTS"
    twin = ps.Person(display_name="Bo", email="bo2@example.com", handle="BO")
    error = await expect_error(
        people.CreatePerson(ps.CreatePersonRequest(person=twin)), grpc.StatusCode.ALREADY_EXISTS
    )
    assert error_info(error).reason == "PERSON_HANDLE_EXISTS"


async def test_create_is_idempotent(people: psg.PeopleServiceStub) -> None:
    request = ps.CreatePersonRequest(
        person=ps.Person(display_name="Cy", email="cy@example.com", handle="cy"), request_id="p-1"
    )
    first = await people.CreatePerson(request)
    assert (await people.CreatePerson(request)).person.id == first.person.id


async def test_bad_person_names_every_field(people: psg.PeopleServiceStub) -> None:
    bad = ps.Person(
        display_name="",
        email="no-at-sign",
        handle="-x",
        time_zone="Mars/Olympus",
        skills=[ps.PersonSkill(skill="", level=9)],  # type: ignore[arg-type]
    )
    found = await expect_invalid(
        people.CreatePerson(ps.CreatePersonRequest(person=bad)), "person.email"
    )
    assert set(found) >= {
        "person.display_name",
        "person.email",
        "person.handle",
        "person.time_zone",
        "person.skills[0].skill",
        "person.skills[0].level",
    }
    await expect_invalid(people.GetPerson(ps.GetPersonRequest(person_id="42")), "person_id")
    error = await expect_error(
        people.GetPerson(ps.GetPersonRequest(person_id=str(uuid.uuid4()))),
        grpc.StatusCode.NOT_FOUND,
    )
    assert error_info(error).reason == "PERSON_NOT_FOUND"
    await expect_invalid(
        people.SearchPeople(ps.SearchPeopleRequest(min_availability=1.5)), "min_availability"
    )


async def test_search_by_skill_level_and_availability(
    people: psg.PeopleServiceStub, registry: rsg.RegistryServiceStub
) -> None:
    ada = await person(people, "ada", pytorch=E, sql=MID)
    bob = await person(people, "bob", pytorch=B)
    cid = await person(people, "cid", pytorch=A, sql=A)
    await person(people, "dee", spark=E)
    churn = await project(registry, "churn")
    fraud = await project(registry, "fraud")
    await join(registry, churn, ada.id, 0.5)
    await join(registry, fraud, ada.id, 0.4)
    await join(registry, churn, cid.id, 0.25)

    async def handles(**query: object) -> list[str]:
        found = await people.SearchPeople(ps.SearchPeopleRequest(**query))  # type: ignore[arg-type]
        return [p.handle for p in found.people]

    assert await handles(skills=["PyTorch"]) == ["ada", "bob", "cid"]
    assert await handles(skills=["pytorch"], min_level=A) == ["ada", "cid"]
    assert await handles(skills=["pytorch", "sql"], min_level=A) == ["cid"]
    assert await handles(skills=["pytorch"], min_availability=0.5) == ["bob", "cid"]
    found = await people.SearchPeople(ps.SearchPeopleRequest(skills=["pytorch"]))
    assert [round(p.availability, 6) for p in found.people] == [0.1, 1.0, 0.75]
    # A project that ended frees its team, as RecommendTeam counts it, though no one left.
    await registry.UpdateProject(
        rs.UpdateProjectRequest(
            project=pp.Project(id=fraud, status=pp.PROJECT_STATUS_COMPLETED),
            update_mask=field_mask_pb2.FieldMask(paths=["status"]),
        )
    )
    found = await people.SearchPeople(ps.SearchPeopleRequest(skills=["pytorch"]))
    assert [round(p.availability, 6) for p in found.people] == [0.5, 1.0, 0.75]
    profile = await people.GetPersonProfile(ps.GetPersonProfileRequest(person_id=ada.id))
    assert round(profile.current_allocation, 6) == 0.5

    await people.UpdatePerson(
        ps.UpdatePersonRequest(
            person=ps.Person(id=bob.id, active=False),
            update_mask=field_mask_pb2.FieldMask(paths=["active"]),
        )
    )
    assert await handles(skills=["pytorch"]) == ["ada", "cid"]
    assert await handles(skills=["pytorch"], include_inactive=True) == ["ada", "bob", "cid"]


async def test_search_pages_by_handle(people: psg.PeopleServiceStub) -> None:
    for i in range(7):
        await person(people, f"p{i}", nlp=MID)
    seen: list[str] = []
    token = ""
    while True:
        page = await people.SearchPeople(
            ps.SearchPeopleRequest(skills=["nlp"], page_size=3, page_token=token)
        )
        seen += [p.handle for p in page.people]
        token = page.next_page_token
        if not token:
            break
    assert seen == [f"p{i}" for i in range(7)]
    await expect_invalid(
        people.SearchPeople(
            ps.SearchPeopleRequest(skills=["sql"], page_size=3, page_token=token or "x")
        ),
        "page_token",
    )


async def test_team_members_link_to_people(
    people: psg.PeopleServiceStub, registry: rsg.RegistryServiceStub
) -> None:
    ada = await person(people, "ada")
    churn = await project(registry, "churn")
    by_id = await join(registry, churn, ada.id)
    assert by_id.directory_person_id == ada.id
    assert by_id.display_name == "Ada"  # filled from the directory
    # The same person by e-mail is the same person: once on the current team.
    error = await expect_error(
        join(registry, churn, "ADA@example.com"), grpc.StatusCode.ALREADY_EXISTS
    )
    assert error_info(error).reason == "TEAM_MEMBER_EXISTS"
    fraud = await project(registry, "fraud")
    by_handle = await join(registry, fraud, "@ada")
    assert by_handle.directory_person_id == ada.id
    free = await join(registry, fraud, "someone-else")
    assert free.directory_person_id == ""

    error = await expect_error(join(registry, fraud, str(uuid.uuid4())), grpc.StatusCode.NOT_FOUND)
    assert error_info(error).reason == "PERSON_NOT_FOUND"
    await people.UpdatePerson(
        ps.UpdatePersonRequest(
            person=ps.Person(id=ada.id, active=False),
            update_mask=field_mask_pb2.FieldMask(paths=["active"]),
        )
    )
    retail = await project(registry, "retail")
    error = await expect_error(join(registry, retail, ada.id), grpc.StatusCode.FAILED_PRECONDITION)
    assert error_info(error).reason == "PERSON_INACTIVE"


async def test_the_read_api_gives_a_pool_with_availability(
    people: psg.PeopleServiceStub, registry: rsg.RegistryServiceStub, settings: Settings
) -> None:
    ada = await person(people, "ada", pytorch=E)
    await person(people, "bob", pytorch=B)
    await join(registry, await project(registry, "churn"), ada.id, 0.75)
    db = Database(settings.store_url)
    try:
        reader = PeopleReader(db)
        pool = await reader.available(PeopleQuery(skills=("pytorch",)))
        assert [(p.handle, p.availability) for p in pool] == [("ada", 0.25), ("bob", 1.0)]
        free = await reader.available(PeopleQuery(skills=("pytorch",), min_availability=0.5))
        assert [p.handle for p in free] == ["bob"]
        assert (await reader.resolve("ADA@example.com")) is not None
    finally:
        await db.dispose()
