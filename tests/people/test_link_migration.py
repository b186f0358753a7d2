"""Migration 0014 links the team members that existed before the directory, on both stores."""

from __future__ import annotations

import logging

import grpc.aio
import pytest

from maestro.people.v1 import people_service_pb2 as ps
from maestro.people.v1 import people_service_pb2_grpc as psg
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.config import Settings
from maestro_grpc.server import start_server
from maestro_grpc.store.db import Database
from maestro_grpc.store.migrate import downgrade, upgrade
from tests.helpers import ts

MEMBERS = [
    # (project, person_id, display name, years, skills, join)
    ("p1", "ann@example.com", "Ann", 6.0, ["pytorch"], "2024-01-01T00:00:00"),
    ("p2", "Ann@Example.com", "Ann K.", 1.0, ["sql"], "2025-01-01T00:00:00"),
    ("p3", "bob", "ann k.", 0.0, [], "2025-02-01T00:00:00"),
    ("p3", "emp-42", "", 0.0, [], "2025-02-01T00:00:00"),
    ("p3", "emp-7", "Zed", 0.0, [], "2025-02-01T00:00:00"),
]


async def _members_before_the_directory(settings: Settings) -> dict[str, str]:
    """The members, added through the API; then the store taken back to before 0014."""
    running = await start_server(settings)
    ids: dict[str, str] = {}
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            registry = rsg.RegistryServiceStub(channel)
            projects: dict[str, str] = {}
            for name, person_id, display, years, skills, join in MEMBERS:
                if name not in projects:
                    made = await registry.CreateProject(
                        rs.CreateProjectRequest(project=pp.Project(name=name))
                    )
                    projects[name] = made.project.id
                added = await registry.AddTeamMember(
                    rs.AddTeamMemberRequest(
                        project_id=projects[name],
                        team_member=pp.TeamMember(
                            person_id=person_id,
                            display_name=display,
                            role=pp.TEAM_ROLE_DATA_SCIENTIST,
                            years_experience=years,
                            skills=skills,
                            join_time=ts(join),
                        ),
                    )
                )
                ids[person_id] = added.team_member.id
    finally:
        await running.stop(grace=0.2)
    db = Database(settings.store_url)
    try:
        await downgrade(db, "0013")  # before the link migration (0014), whatever came after
    finally:
        await db.dispose()
    return ids


async def test_existing_members_are_linked_by_email_then_name(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await _members_before_the_directory(settings)
    db = Database(settings.store_url)
    try:
        with caplog.at_level(logging.WARNING, logger="maestro.migrations"):
            await upgrade(db)
    finally:
        await db.dispose()
    assert "1 people made from e-mails; 3 of 5 team members linked, 2 not" in caplog.text

    running = await start_server(settings)
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            people = psg.PeopleServiceStub(channel)
            found = await people.SearchPeople(ps.SearchPeopleRequest())
            assert [(p.handle, p.email, p.display_name) for p in found.people] == [
                ("ann", "ann@example.com", "Ann K.")
            ]
            ann = found.people[0]
            assert [(s.skill, s.level) for s in ann.skills] == [
                ("pytorch", ps.SKILL_LEVEL_ADVANCED),
                ("sql", ps.SKILL_LEVEL_BEGINNER),
            ]
            profile = await people.GetPersonProfile(ps.GetPersonProfileRequest(person_id=ann.id))
            assert [m.project_name for m in profile.memberships] == ["p1", "p2", "p3"]
            assert {m.team_member_id for m in profile.memberships} == {
                ids["ann@example.com"],
                ids["Ann@Example.com"],
                ids["bob"],
            }
            unlinked = await people.ListUnlinkedTeamMembers(ps.ListUnlinkedTeamMembersRequest())
            reasons = {u.person_id: u.reason for u in unlinked.team_members}
            assert reasons == {
                "emp-42": "no e-mail and no name to link by",
                "emp-7": "no e-mail, and no person of the directory is named 'Zed'",
            }
            registry = rsg.RegistryServiceStub(channel)
            team = await registry.ListTeamMembers(
                rs.ListTeamMembersRequest(project_id=profile.memberships[2].project_id)
            )
            linked = {m.person_id: m.directory_person_id for m in team.team_members}
            assert linked == {"bob": ann.id, "emp-42": "", "emp-7": ""}
    finally:
        await running.stop(grace=0.2)
