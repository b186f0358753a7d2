"""RegistryService handlers for projects, their outcomes and their teams."""

from __future__ import annotations

from maestro.registry.v1 import registry_service_pb2 as pb
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.access import caller
from maestro_grpc.errors import InvalidArgument, Violations
from maestro_grpc.paging import KeyKind
from maestro_grpc.registry.domain.projects import ProjectRegistry
from maestro_grpc.registry.model import Project, ProjectStatus
from maestro_grpc.registry.wire import convert
from maestro_grpc.registry.wire import validation as check
from maestro_grpc.registry.wire.memo import AnswerMemo
from maestro_grpc.registry.wire.updates import changes
from maestro_grpc.wire import pagetoken
from maestro_grpc.wire.context import Context
from maestro_grpc.wire.pagetoken import PageTokens
from maestro_grpc.wire.protoconv import opt_time, request_fingerprint, require_uuid, uuid_field


def _get_project_response(project: Project) -> pb.GetProjectResponse:
    return pb.GetProjectResponse(project=convert.project_to_proto(project))


class ProjectHandlers(registry_service_pb2_grpc.RegistryServiceServicer):
    projects: ProjectRegistry
    pages: PageTokens
    # GetProject's responses, by the project record they were built from.
    project_answers: AnswerMemo[Project, pb.GetProjectResponse]

    async def CreateProject(
        self, request: pb.CreateProjectRequest, context: Context
    ) -> pb.CreateProjectResponse:
        v = Violations()
        if not request.HasField("project"):
            v.add("project", "is required")
        fields, _ = convert.project_fields(v, request.project)
        check.not_before(v, fields.start_time, fields.end_time, "project.end_time", "start_time")
        check.request_id(v, request.request_id)
        v.raise_if_any()
        project = await self.projects.create_project(
            fields, request_id=request.request_id, fingerprint=request_fingerprint(request)
        )
        return pb.CreateProjectResponse(project=convert.project_to_proto(project))

    async def GetProject(
        self, request: pb.GetProjectRequest, context: Context
    ) -> pb.GetProjectResponse:
        project_id = require_uuid(request.project_id, "project_id")
        project = await self.projects.get_project(project_id)
        return self.project_answers.answer(project_id, project, _get_project_response)

    async def ListProjects(
        self, request: pb.ListProjectsRequest, context: Context
    ) -> pb.ListProjectsResponse:
        v = Violations()
        statuses = convert.enum_list(v, ProjectStatus, convert.STATUS, request.statuses, "statuses")
        labels = check.labels(v, dict(request.labels), "labels")
        v.raise_if_any()
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode("ListProjects", request, request.page_token, key=KeyKind.TIME)
        page = await self.projects.list_projects(
            statuses=statuses,
            labels=labels,
            page_size=size,
            after=after,
            within=caller.visible_projects(),
        )
        return pb.ListProjectsResponse(
            projects=[convert.project_to_proto(p) for p in page.items],
            next_page_token=self.pages.encode("ListProjects", request, page.next_cursor),
            total_size=page.total_size or 0,
        )

    async def UpdateProject(
        self, request: pb.UpdateProjectRequest, context: Context
    ) -> pb.UpdateProjectResponse:
        if not request.HasField("project"):
            raise InvalidArgument.for_field("project", "is required")
        project_id = require_uuid(request.project.id, "project.id")
        updates = changes(
            request.update_mask,
            convert.PROJECT_UPDATABLE,
            "project",
            lambda v: convert.project_fields(v, request.project),
            required_enum=("status", request.project.status),
        )
        project = await self.projects.update_project(project_id, updates, etag=request.project.etag)
        return pb.UpdateProjectResponse(project=convert.project_to_proto(project))

    async def UpdateProjectSuccess(
        self, request: pb.UpdateProjectSuccessRequest, context: Context
    ) -> pb.UpdateProjectSuccessResponse:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        if not request.HasField("success"):
            v.add("success", "is required")
        success = convert.success_from_proto(v, request.success)
        v.raise_if_any()
        project = await self.projects.record_success(project_id, success)
        return pb.UpdateProjectSuccessResponse(project=convert.project_to_proto(project))

    # ---- team ---------------------------------------------------------------

    async def AddTeamMember(
        self, request: pb.AddTeamMemberRequest, context: Context
    ) -> pb.AddTeamMemberResponse:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        if not request.HasField("team_member"):
            v.add("team_member", "is required")
        fields, _ = convert.team_member_fields(v, request.team_member)
        check.not_before(
            v, fields.join_time, fields.leave_time, "team_member.leave_time", "the join time"
        )
        check.request_id(v, request.request_id)
        v.raise_if_any()
        member = await self.projects.add_team_member(
            project_id,
            fields,
            request_id=request.request_id,
            fingerprint=request_fingerprint(request),
        )
        return pb.AddTeamMemberResponse(team_member=convert.team_member_to_proto(member))

    async def UpdateTeamMember(
        self, request: pb.UpdateTeamMemberRequest, context: Context
    ) -> pb.UpdateTeamMemberResponse:
        if not request.HasField("team_member"):
            raise InvalidArgument.for_field("team_member", "is required")
        member_id = require_uuid(request.team_member.id, "team_member.id")
        updates = changes(
            request.update_mask,
            convert.TEAM_MEMBER_UPDATABLE,
            "team_member",
            lambda v: convert.team_member_fields(v, request.team_member, require_role=False),
            required_enum=("role", request.team_member.role),
        )
        member = await self.projects.update_team_member(member_id, updates)
        return pb.UpdateTeamMemberResponse(team_member=convert.team_member_to_proto(member))

    async def RemoveTeamMember(
        self, request: pb.RemoveTeamMemberRequest, context: Context
    ) -> pb.RemoveTeamMemberResponse:
        member_id = require_uuid(request.team_member_id, "team_member_id")
        leave_time = opt_time(request, "leave_time", "leave_time")
        member = await self.projects.remove_team_member(member_id, leave_time)
        return pb.RemoveTeamMemberResponse(team_member=convert.team_member_to_proto(member))

    async def ListTeamMembers(
        self, request: pb.ListTeamMembersRequest, context: Context
    ) -> pb.ListTeamMembersResponse:
        project_id = require_uuid(request.project_id, "project_id")
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode("ListTeamMembers", request, request.page_token, key=KeyKind.TIME)
        page = await self.projects.list_team_members(
            project_id, include_former=request.include_former, page_size=size, after=after
        )
        return pb.ListTeamMembersResponse(
            team_members=[convert.team_member_to_proto(m) for m in page.items],
            next_page_token=self.pages.encode("ListTeamMembers", request, page.next_cursor),
        )
