"""Bad input to every Registry RPC: INVALID_ARGUMENT naming the field, nothing written.

Table-driven: each case is an RPC, a request, and the field the violation
must name. Malformed ids, empty names, bad enum numbers, oversized pages,
foreign page tokens and out-of-range numbers, for every RPC that takes them.
"""

from __future__ import annotations

import uuid
from typing import TypeVar, cast

import grpc
import pytest
from google.protobuf import field_mask_pb2

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from tests.helpers import expect_error, expect_invalid, violations

SOME_ID = str(uuid.uuid4())
E = TypeVar("E")


def unknown(enum: type[E], number: int) -> E:
    """An enum field's value that the enum does not define."""
    return cast(E, number)


CASES: list[tuple[str, object, str]] = [
    # projects
    ("CreateProject", rs.CreateProjectRequest(), "project.name"),
    ("CreateProject", rs.CreateProjectRequest(project=pp.Project(name="  ")), "project.name"),
    ("CreateProject", rs.CreateProjectRequest(project=pp.Project(name="x" * 201)), "project.name"),
    (
        "CreateProject",
        rs.CreateProjectRequest(project=pp.Project(name="p", status=unknown(pp.ProjectStatus, 99))),
        "project.status",
    ),
    (
        "CreateProject",
        rs.CreateProjectRequest(project=pp.Project(name="p", labels={"Bad Key": "v"})),
        "project.labels['Bad Key']",
    ),
    (
        "CreateProject",
        rs.CreateProjectRequest(project=pp.Project(name="p", repo_url="not a url")),
        "project.repo_url",
    ),
    (
        "CreateProject",
        rs.CreateProjectRequest(project=pp.Project(name="p"), request_id="has spaces"),
        "request_id",
    ),
    ("GetProject", rs.GetProjectRequest(project_id=""), "project_id"),
    ("GetProject", rs.GetProjectRequest(project_id="1234"), "project_id"),
    ("ListProjects", rs.ListProjectsRequest(page_size=1001), "page_size"),
    ("ListProjects", rs.ListProjectsRequest(page_size=-1), "page_size"),
    ("ListProjects", rs.ListProjectsRequest(page_token="garbage"), "page_token"),
    (
        "ListProjects",
        rs.ListProjectsRequest(statuses=[unknown(pp.ProjectStatus, 42)]),
        "statuses[0]",
    ),
    ("ListProjects", rs.ListProjectsRequest(labels={"UPPER": "x"}), "labels['UPPER']"),
    ("UpdateProject", rs.UpdateProjectRequest(), "project"),
    ("UpdateProject", rs.UpdateProjectRequest(project=pp.Project(id="bad")), "project.id"),
    (
        "UpdateProject",
        rs.UpdateProjectRequest(
            project=pp.Project(id=SOME_ID), update_mask=field_mask_pb2.FieldMask(paths=["etag"])
        ),
        "update_mask.paths[0]",
    ),
    (
        "UpdateProject",
        rs.UpdateProjectRequest(
            project=pp.Project(id=SOME_ID, status=unknown(pp.ProjectStatus, 7)),
            update_mask=field_mask_pb2.FieldMask(paths=["status"]),
        ),
        "project.status",
    ),
    ("UpdateProjectSuccess", rs.UpdateProjectSuccessRequest(project_id="x"), "project_id"),
    (
        "UpdateProjectSuccess",
        rs.UpdateProjectSuccessRequest(
            project_id=SOME_ID,
            success=pp.ProjectSuccess(
                succeeded=True, headline_metric=pp.ModelMetric(name="", value=1.0)
            ),
        ),
        "success.headline_metric.name",
    ),
    (
        "UpdateProjectSuccess",
        rs.UpdateProjectSuccessRequest(
            project_id=SOME_ID,
            success=pp.ProjectSuccess(
                succeeded=True, headline_metric=pp.ModelMetric(name="auc", value=float("nan"))
            ),
        ),
        "success.headline_metric.value",
    ),
    # team
    ("AddTeamMember", rs.AddTeamMemberRequest(project_id="nope"), "project_id"),
    (
        "AddTeamMember",
        rs.AddTeamMemberRequest(project_id=SOME_ID, team_member=pp.TeamMember(person_id="p")),
        "team_member.role",
    ),
    (
        "AddTeamMember",
        rs.AddTeamMemberRequest(
            project_id=SOME_ID,
            team_member=pp.TeamMember(person_id="p", role=unknown(pp.TeamRole, 123)),
        ),
        "team_member.role",
    ),
    (
        "AddTeamMember",
        rs.AddTeamMemberRequest(
            project_id=SOME_ID,
            team_member=pp.TeamMember(person_id="p", role=pp.TEAM_ROLE_ANALYST, allocation=1.5),
        ),
        "team_member.allocation",
    ),
    (
        "AddTeamMember",
        rs.AddTeamMemberRequest(
            project_id=SOME_ID,
            team_member=pp.TeamMember(person_id="p", role=pp.TEAM_ROLE_ANALYST, skills=[""]),
        ),
        "team_member.skills[0]",
    ),
    ("UpdateTeamMember", rs.UpdateTeamMemberRequest(), "team_member"),
    (
        "UpdateTeamMember",
        rs.UpdateTeamMemberRequest(team_member=pp.TeamMember(id="zzz", display_name="x")),
        "team_member.id",
    ),
    (
        "UpdateTeamMember",
        rs.UpdateTeamMemberRequest(
            team_member=pp.TeamMember(id=SOME_ID),
            update_mask=field_mask_pb2.FieldMask(paths=["person_id"]),
        ),
        "update_mask.paths[0]",
    ),
    ("RemoveTeamMember", rs.RemoveTeamMemberRequest(team_member_id=""), "team_member_id"),
    ("ListTeamMembers", rs.ListTeamMembersRequest(project_id="x"), "project_id"),
    (
        "ListTeamMembers",
        rs.ListTeamMembersRequest(project_id=SOME_ID, page_size=5000),
        "page_size",
    ),
    (
        "ListTeamMembers",
        rs.ListTeamMembersRequest(project_id=SOME_ID, page_token="AAAA"),
        "page_token",
    ),
    # artifacts
    ("CreateArtifact", rs.CreateArtifactRequest(), "artifact.name"),
    (
        "CreateArtifact",
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(name="a", version="1", type=unknown(ap.ArtifactType, 77))
        ),
        "artifact.type",
    ),
    (
        "CreateArtifact",
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(name="a", version="", type=ap.ARTIFACT_TYPE_MODEL)
        ),
        "artifact.version",
    ),
    (
        "CreateArtifact",
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(
                name="a", version="1", type=ap.ARTIFACT_TYPE_MODEL, tags=["x" * 101]
            )
        ),
        "artifact.tags[0]",
    ),
    (
        "CreateArtifact",
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(
                name="a", version="1", type=ap.ARTIFACT_TYPE_MODEL, content_sha256="ABC"
            )
        ),
        "artifact.content_sha256",
    ),
    ("GetArtifact", rs.GetArtifactRequest(artifact_id="x"), "artifact_id"),
    ("UpdateArtifact", rs.UpdateArtifactRequest(), "artifact"),
    (
        "UpdateArtifact",
        rs.UpdateArtifactRequest(artifact=ap.Artifact(id="no", description="d")),
        "artifact.id",
    ),
    (
        "UpdateArtifact",
        rs.UpdateArtifactRequest(
            artifact=ap.Artifact(id=SOME_ID, tags=["Bad Tag"]),
            update_mask=field_mask_pb2.FieldMask(paths=["tags"]),
        ),
        "artifact.tags[0]",
    ),
    ("DeleteArtifact", rs.DeleteArtifactRequest(artifact_id="1"), "artifact_id"),
    ("SearchArtifacts", rs.SearchArtifactsRequest(page_size=1001), "page_size"),
    ("SearchArtifacts", rs.SearchArtifactsRequest(page_token="%%%"), "page_token"),
    (
        "SearchArtifacts",
        rs.SearchArtifactsRequest(types=[unknown(ap.ArtifactType, 99)]),
        "types[0]",
    ),
    (
        "SearchArtifacts",
        rs.SearchArtifactsRequest(order_by=unknown(rs.ArtifactOrderBy, 9)),
        "order_by",
    ),
    ("SearchArtifacts", rs.SearchArtifactsRequest(tags_any=["Nope Nope"]), "tags_any[0]"),
    ("SearchArtifacts", rs.SearchArtifactsRequest(tags_all=[""]), "tags_all[0]"),
    ("SearchArtifacts", rs.SearchArtifactsRequest(min_impact_score=101), "min_impact_score"),
    ("SearchArtifacts", rs.SearchArtifactsRequest(origin_project_id="o"), "origin_project_id"),
    ("SearchArtifacts", rs.SearchArtifactsRequest(query="q" * 501), "query"),
    ("LogArtifactUsage", rs.LogArtifactUsageRequest(), "artifact_usage"),
    (
        "LogArtifactUsage",
        rs.LogArtifactUsageRequest(
            artifact_usage=ap.ArtifactUsage(
                artifact_id=SOME_ID, project_id=SOME_ID, outcome=unknown(ap.UsageOutcome, 17)
            )
        ),
        "artifact_usage.outcome",
    ),
    ("ListArtifactUsages", rs.ListArtifactUsagesRequest(artifact_id="?"), "artifact_id"),
    (
        "ListArtifactUsages",
        rs.ListArtifactUsagesRequest(artifact_id=SOME_ID, page_size=-5),
        "page_size",
    ),
    ("RecommendArtifacts", rs.RecommendArtifactsRequest(project_id=""), "project_id"),
    (
        "RecommendArtifacts",
        rs.RecommendArtifactsRequest(project_id=SOME_ID, types=[unknown(ap.ArtifactType, 55)]),
        "types[0]",
    ),
]


@pytest.mark.parametrize(
    ("rpc", "request_message", "field"),
    CASES,
    ids=[f"{rpc}-{field}-{i}" for i, (rpc, _, field) in enumerate(CASES)],
)
async def test_invalid_input(
    registry: rsg.RegistryServiceStub, rpc: str, request_message: object, field: str
) -> None:
    await expect_invalid(getattr(registry, rpc)(request_message), field)


async def test_a_token_from_another_rpc_is_refused(registry: rsg.RegistryServiceStub) -> None:
    project = (
        await registry.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="tok")))
    ).project
    for i in range(2):
        await registry.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=project.id,
                team_member=pp.TeamMember(person_id=f"p{i}", role=pp.TEAM_ROLE_OTHER),
            )
        )
    page = await registry.ListTeamMembers(
        rs.ListTeamMembersRequest(project_id=project.id, page_size=1)
    )
    found = await expect_invalid(
        registry.ListProjects(rs.ListProjectsRequest(page_token=page.next_page_token)),
        "page_token",
    )
    assert "another RPC" in found["page_token"]


async def test_invalid_requests_write_nothing(registry: rsg.RegistryServiceStub) -> None:
    await expect_invalid(
        registry.CreateProject(
            rs.CreateProjectRequest(
                project=pp.Project(name="half", status=unknown(pp.ProjectStatus, 99))
            )
        ),
        "project.status",
    )
    listed = await registry.ListProjects(rs.ListProjectsRequest())
    assert listed.total_size == 0


async def test_all_violations_reported_together(registry: rsg.RegistryServiceStub) -> None:
    error = await expect_error(
        registry.CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name="", version="", type=ap.ARTIFACT_TYPE_UNSPECIFIED, tags=["A B"]
                ),
                request_id="no spaces allowed",
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(violations(error)) >= {
        "artifact.name",
        "artifact.version",
        "artifact.type",
        "artifact.tags[0]",
        "request_id",
    }
