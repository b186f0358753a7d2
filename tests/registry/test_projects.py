"""Projects, teams and outcomes through a real server, on both stores."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
from google.protobuf import duration_pb2, field_mask_pb2

from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from tests.helpers import error_info, expect_error, expect_invalid, ts


async def create(
    registry: rsg.RegistryServiceStub, name: str = "churn-model", **fields: Any
) -> pp.Project:
    response = await registry.CreateProject(
        rs.CreateProjectRequest(project=pp.Project(name=name, **fields))
    )
    return response.project


async def test_create_and_get_project(registry: rsg.RegistryServiceStub) -> None:
    created = await create(
        registry,
        description="predict churn",
        status=pp.PROJECT_STATUS_ACTIVE,
        labels={"team": "growth", "required_skills": "python,sql"},
        repo_url="https://git.example.com/growth/churn",
        mlflow_experiment_id="17",
        start_time=ts("2026-01-05T09:00:00"),
    )
    assert uuid.UUID(created.id)
    assert created.status == pp.PROJECT_STATUS_ACTIVE
    assert created.etag
    assert created.create_time.seconds > 0
    assert not created.HasField("success")

    got = (await registry.GetProject(rs.GetProjectRequest(project_id=created.id))).project
    assert got == created
    assert got.labels["team"] == "growth"
    assert got.start_time.ToJsonString() == "2026-01-05T09:00:00Z"


async def test_project_defaults_to_planned(registry: rsg.RegistryServiceStub) -> None:
    assert (await create(registry)).status == pp.PROJECT_STATUS_PLANNED


async def test_get_project_malformed_id_is_invalid_argument(
    registry: rsg.RegistryServiceStub,
) -> None:
    found = await expect_invalid(
        registry.GetProject(rs.GetProjectRequest(project_id="42")), "project_id"
    )
    assert "not a UUID" in found["project_id"]


async def test_get_project_unknown_id_is_not_found(registry: rsg.RegistryServiceStub) -> None:
    error = await expect_error(
        registry.GetProject(rs.GetProjectRequest(project_id=str(uuid.uuid4()))),
        grpc.StatusCode.NOT_FOUND,
    )
    assert error_info(error).reason == "PROJECT_NOT_FOUND"


async def test_duplicate_name_is_already_exists(registry: rsg.RegistryServiceStub) -> None:
    await create(registry, "dup")
    error = await expect_error(create(registry, "dup"), grpc.StatusCode.ALREADY_EXISTS)
    assert error_info(error).reason == "PROJECT_EXISTS"


async def test_create_is_idempotent_with_request_id(registry: rsg.RegistryServiceStub) -> None:
    request = rs.CreateProjectRequest(project=pp.Project(name="once"), request_id="req-1")
    first = (await registry.CreateProject(request)).project
    again = (await registry.CreateProject(request)).project
    assert again.id == first.id
    listed = await registry.ListProjects(rs.ListProjectsRequest())
    assert [p.name for p in listed.projects] == ["once"]
    # The same request_id for another request is refused, not silently merged.
    await expect_invalid(
        registry.CreateProject(
            rs.CreateProjectRequest(project=pp.Project(name="other"), request_id="req-1")
        ),
        "request_id",
    )


async def test_update_project_success(registry: rsg.RegistryServiceStub) -> None:
    project = await create(registry)
    success = pp.ProjectSuccess(
        succeeded=True,
        score=0.8,
        time_to_production=duration_pb2.Duration(seconds=86400 * 90),
        headline_metric=pp.ModelMetric(name="val_auc", value=0.91),
        business_impact="churn down 4%",
        notes="shipped in Q2",
    )
    updated = (
        await registry.UpdateProjectSuccess(
            rs.UpdateProjectSuccessRequest(project_id=project.id, success=success)
        )
    ).project
    assert updated.success.succeeded
    assert updated.success.score == 0.8
    assert updated.success.headline_metric.name == "val_auc"
    assert updated.success.headline_metric.value == 0.91
    assert updated.success.time_to_production.seconds == 86400 * 90
    assert updated.success.record_time.seconds > 0
    assert updated.etag != project.etag

    got = (await registry.GetProject(rs.GetProjectRequest(project_id=project.id))).project
    assert got.success == updated.success

    # Recording again replaces the outcome.
    failed = (
        await registry.UpdateProjectSuccess(
            rs.UpdateProjectSuccessRequest(
                project_id=project.id, success=pp.ProjectSuccess(succeeded=False)
            )
        )
    ).project
    assert not failed.success.succeeded
    assert not failed.success.HasField("score")
    assert not failed.success.HasField("headline_metric")


async def test_update_project_success_errors(registry: rsg.RegistryServiceStub) -> None:
    project = await create(registry)
    await expect_invalid(
        registry.UpdateProjectSuccess(
            rs.UpdateProjectSuccessRequest(
                project_id=project.id, success=pp.ProjectSuccess(succeeded=True, score=1.5)
            )
        ),
        "success.score",
    )
    await expect_invalid(
        registry.UpdateProjectSuccess(rs.UpdateProjectSuccessRequest(project_id=project.id)),
        "success",
    )
    await expect_error(
        registry.UpdateProjectSuccess(
            rs.UpdateProjectSuccessRequest(
                project_id=str(uuid.uuid4()), success=pp.ProjectSuccess(succeeded=True)
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_update_project_with_field_mask_and_etag(registry: rsg.RegistryServiceStub) -> None:
    project = await create(registry, description="old", labels={"a": "1"})
    updated = (
        await registry.UpdateProject(
            rs.UpdateProjectRequest(
                project=pp.Project(
                    id=project.id,
                    description="new",
                    status=pp.PROJECT_STATUS_ACTIVE,
                    etag=project.etag,
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["description"]),
            )
        )
    ).project
    # Only the masked field changed.
    assert updated.description == "new"
    assert updated.status == pp.PROJECT_STATUS_PLANNED
    assert updated.labels == {"a": "1"}
    assert updated.etag != project.etag

    # A stale etag is ABORTED and changes nothing.
    error = await expect_error(
        registry.UpdateProject(
            rs.UpdateProjectRequest(
                project=pp.Project(id=project.id, description="lost update", etag=project.etag),
                update_mask=field_mask_pb2.FieldMask(paths=["description"]),
            )
        ),
        grpc.StatusCode.ABORTED,
    )
    assert error_info(error).reason == "ETAG_MISMATCH"
    got = (await registry.GetProject(rs.GetProjectRequest(project_id=project.id))).project
    assert got.description == "new"


async def test_update_project_without_mask_updates_set_fields(
    registry: rsg.RegistryServiceStub,
) -> None:
    project = await create(registry, description="keep me")
    updated = (
        await registry.UpdateProject(
            rs.UpdateProjectRequest(
                project=pp.Project(
                    id=project.id,
                    status=pp.PROJECT_STATUS_COMPLETED,
                    end_time=ts("2026-06-01T00:00:00"),
                )
            )
        )
    ).project
    assert updated.status == pp.PROJECT_STATUS_COMPLETED
    assert updated.description == "keep me"
    assert updated.end_time.ToJsonString() == "2026-06-01T00:00:00Z"


async def test_update_project_mask_can_clear_a_field(registry: rsg.RegistryServiceStub) -> None:
    project = await create(registry, description="to clear", labels={"x": "y"})
    updated = (
        await registry.UpdateProject(
            rs.UpdateProjectRequest(
                project=pp.Project(id=project.id),
                update_mask=field_mask_pb2.FieldMask(paths=["description", "labels"]),
            )
        )
    ).project
    assert updated.description == ""
    assert dict(updated.labels) == {}


async def test_update_project_errors(registry: rsg.RegistryServiceStub) -> None:
    project = await create(registry, start_time=ts("2026-03-01T00:00:00"))
    await create(registry, "taken")
    await expect_invalid(
        registry.UpdateProject(
            rs.UpdateProjectRequest(
                project=pp.Project(id=project.id, name="x"),
                update_mask=field_mask_pb2.FieldMask(paths=["id"]),
            )
        ),
        "update_mask.paths[0]",
    )
    await expect_invalid(
        registry.UpdateProject(
            rs.UpdateProjectRequest(
                project=pp.Project(id=project.id, end_time=ts("2026-01-01T00:00:00")),
                update_mask=field_mask_pb2.FieldMask(paths=["end_time"]),
            )
        ),
        "project.end_time",
    )
    await expect_invalid(
        registry.UpdateProject(
            rs.UpdateProjectRequest(
                project=pp.Project(id=project.id),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
            )
        ),
        "project.name",
    )
    await expect_invalid(
        registry.UpdateProject(rs.UpdateProjectRequest(project=pp.Project(id=project.id))),
        "update_mask",
    )
    await expect_error(
        registry.UpdateProject(
            rs.UpdateProjectRequest(
                project=pp.Project(id=project.id, name="taken"),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
            )
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    await expect_error(
        registry.UpdateProject(
            rs.UpdateProjectRequest(project=pp.Project(id=str(uuid.uuid4()), description="d"))
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_list_projects_filters_and_pages(registry: rsg.RegistryServiceStub) -> None:
    for i in range(7):
        await create(
            registry,
            f"p{i}",
            status=pp.PROJECT_STATUS_ACTIVE if i % 2 else pp.PROJECT_STATUS_COMPLETED,
            labels={"team": "growth" if i < 4 else "search", "tier": str(i % 3)},
        )
    everything = await registry.ListProjects(rs.ListProjectsRequest())
    assert [p.name for p in everything.projects] == [f"p{i}" for i in range(7)]
    assert everything.total_size == 7
    assert everything.next_page_token == ""

    active = await registry.ListProjects(
        rs.ListProjectsRequest(statuses=[pp.PROJECT_STATUS_ACTIVE])
    )
    assert [p.name for p in active.projects] == ["p1", "p3", "p5"]

    growth_tier1 = await registry.ListProjects(
        rs.ListProjectsRequest(labels={"team": "growth", "tier": "1"})
    )
    assert [p.name for p in growth_tier1.projects] == ["p1"]
    any_team = await registry.ListProjects(rs.ListProjectsRequest(labels={"team": ""}))
    assert any_team.total_size == 7

    # Keyset pages of 3: every project exactly once, even with inserts meanwhile.
    seen: list[str] = []
    request = rs.ListProjectsRequest(page_size=3)
    page = await registry.ListProjects(request)
    seen += [p.name for p in page.projects]
    await create(registry, "late")
    while page.next_page_token:
        page = await registry.ListProjects(
            rs.ListProjectsRequest(page_size=3, page_token=page.next_page_token)
        )
        seen += [p.name for p in page.projects]
    assert seen == [f"p{i}" for i in range(7)] + ["late"]


async def test_page_token_is_bound_to_its_filter(registry: rsg.RegistryServiceStub) -> None:
    for i in range(3):
        await create(registry, f"q{i}", status=pp.PROJECT_STATUS_ACTIVE)
    page = await registry.ListProjects(
        rs.ListProjectsRequest(page_size=1, statuses=[pp.PROJECT_STATUS_ACTIVE])
    )
    assert page.next_page_token
    found = await expect_invalid(
        registry.ListProjects(rs.ListProjectsRequest(page_size=1, page_token=page.next_page_token)),
        "page_token",
    )
    assert "different filter" in found["page_token"]
    await expect_invalid(
        registry.ListProjects(rs.ListProjectsRequest(page_token="not-a-token!")), "page_token"
    )


async def test_team_members_lifecycle(registry: rsg.RegistryServiceStub) -> None:
    project = await create(registry, labels={"required_skills": "pytorch,sql"})
    alice = (
        await registry.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=project.id,
                team_member=pp.TeamMember(
                    person_id="alice@example.com",
                    display_name="Alice",
                    role=pp.TEAM_ROLE_DATA_SCIENTIST,
                    years_experience=6,
                    skills=["PyTorch", "sql", "pytorch"],
                    allocation=0.5,
                    join_time=ts("2026-01-10T00:00:00"),
                ),
            )
        )
    ).team_member
    assert alice.skills == ["pytorch", "sql"]
    assert alice.allocation == 0.5
    assert alice.project_id == project.id

    bob = (
        await registry.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=project.id,
                team_member=pp.TeamMember(person_id="bob", role=pp.TEAM_ROLE_ML_ENGINEER),
            )
        )
    ).team_member
    assert bob.allocation == 1.0  # the default

    # A person is once on the current team.
    await expect_error(
        registry.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=project.id,
                team_member=pp.TeamMember(person_id="bob", role=pp.TEAM_ROLE_RESEARCHER),
            )
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )

    got = (await registry.GetProject(rs.GetProjectRequest(project_id=project.id))).project
    assert [m.person_id for m in got.team] == ["alice@example.com", "bob"]

    updated = (
        await registry.UpdateTeamMember(
            rs.UpdateTeamMemberRequest(
                team_member=pp.TeamMember(
                    id=bob.id, years_experience=3, role=pp.TEAM_ROLE_MLOPS_ENGINEER
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["years_experience"]),
            )
        )
    ).team_member
    assert updated.years_experience == 3
    assert updated.role == pp.TEAM_ROLE_ML_ENGINEER

    left = (
        await registry.RemoveTeamMember(
            rs.RemoveTeamMemberRequest(
                team_member_id=alice.id, leave_time=ts("2026-04-01T00:00:00")
            )
        )
    ).team_member
    assert left.leave_time.ToJsonString() == "2026-04-01T00:00:00Z"
    await expect_error(
        registry.RemoveTeamMember(rs.RemoveTeamMemberRequest(team_member_id=alice.id)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )

    current = await registry.ListTeamMembers(rs.ListTeamMembersRequest(project_id=project.id))
    assert [m.person_id for m in current.team_members] == ["bob"]
    everyone = await registry.ListTeamMembers(
        rs.ListTeamMembersRequest(project_id=project.id, include_former=True)
    )
    assert {m.person_id for m in everyone.team_members} == {"alice@example.com", "bob"}
    got = (await registry.GetProject(rs.GetProjectRequest(project_id=project.id))).project
    assert [m.person_id for m in got.team] == ["bob"]

    # Alice may come back: a new membership.
    back = (
        await registry.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=project.id,
                team_member=pp.TeamMember(
                    person_id="alice@example.com", role=pp.TEAM_ROLE_RESEARCHER
                ),
            )
        )
    ).team_member
    assert back.id != alice.id


async def test_team_member_errors(registry: rsg.RegistryServiceStub) -> None:
    project = await create(registry)
    found = await expect_invalid(
        registry.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=project.id,
                team_member=pp.TeamMember(person_id="", allocation=0, years_experience=-1),
            )
        ),
        "team_member.person_id",
    )
    # Every mistake is reported at once.
    assert {"team_member.role", "team_member.allocation", "team_member.years_experience"} <= set(
        found
    )
    await expect_error(
        registry.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=str(uuid.uuid4()),
                team_member=pp.TeamMember(person_id="x", role=pp.TEAM_ROLE_ANALYST),
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    member = (
        await registry.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=project.id,
                team_member=pp.TeamMember(
                    person_id="x", role=pp.TEAM_ROLE_ANALYST, join_time=ts("2026-05-01T00:00:00")
                ),
            )
        )
    ).team_member
    await expect_invalid(
        registry.RemoveTeamMember(
            rs.RemoveTeamMemberRequest(
                team_member_id=member.id, leave_time=ts("2026-01-01T00:00:00")
            )
        ),
        "leave_time",
    )
    await expect_error(
        registry.ListTeamMembers(rs.ListTeamMembersRequest(project_id=str(uuid.uuid4()))),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        registry.UpdateTeamMember(
            rs.UpdateTeamMemberRequest(
                team_member=pp.TeamMember(id=str(uuid.uuid4()), display_name="n")
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_add_team_member_is_idempotent(registry: rsg.RegistryServiceStub) -> None:
    project = await create(registry)
    request = rs.AddTeamMemberRequest(
        project_id=project.id,
        team_member=pp.TeamMember(person_id="carol", role=pp.TEAM_ROLE_DATA_ENGINEER),
        request_id="add-carol",
    )
    first = (await registry.AddTeamMember(request)).team_member
    again = (await registry.AddTeamMember(request)).team_member
    assert first.id == again.id


async def test_team_pages(registry: rsg.RegistryServiceStub) -> None:
    project = await create(registry)
    for i in range(5):
        await registry.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=project.id,
                team_member=pp.TeamMember(
                    person_id=f"m{i}",
                    role=pp.TEAM_ROLE_SOFTWARE_ENGINEER,
                    join_time=ts(f"2026-01-0{i + 1}T00:00:00"),
                ),
            )
        )
    names: list[str] = []
    token = ""
    while True:
        page = await registry.ListTeamMembers(
            rs.ListTeamMembersRequest(project_id=project.id, page_size=2, page_token=token)
        )
        names += [m.person_id for m in page.team_members]
        token = page.next_page_token
        if not token:
            break
    assert names == [f"m{i}" for i in range(5)]
