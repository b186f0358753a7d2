"""RegistryService: parse and validate each request, call the domain, map the result."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask

from maestro.registry.v1 import artifact_pb2, registry_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2 as pb
from maestro_grpc.errors import FieldViolation, InvalidArgument, MaestroError, Violations
from maestro_grpc.paging import KeyKind
from maestro_grpc.registry import convert
from maestro_grpc.registry import validation as check
from maestro_grpc.registry.artifacts import ArtifactLibrary
from maestro_grpc.registry.content import (
    DEFAULT_URL_SECONDS,
    MAX_URL_SECONDS,
    ArtifactContent,
    Finish,
    UploadSpec,
)
from maestro_grpc.registry.model import (
    ArtifactOrder,
    ArtifactQuery,
    ArtifactType,
    ProjectStatus,
    UsageFields,
)
from maestro_grpc.registry.projects import ProjectRegistry
from maestro_grpc.registry.recommend import Reason, Recommender
from maestro_grpc.wire import pagetoken as pagination
from maestro_grpc.wire.protoconv import (
    enum_from_proto,
    enum_list_from_proto,
    mask_paths,
    opt_time,
    parse_uuid,
    request_fingerprint,
    require_uuid,
)

MAX_RECOMMENDATIONS = 100
# The largest chunk an upload message may carry (the proto says 4 MiB).
MAX_UPLOAD_CHUNK = 4 << 20

_URL_METHODS = {
    pb.CONTENT_URL_METHOD_UNSPECIFIED: "GET",
    pb.CONTENT_URL_METHOD_GET: "GET",
    pb.CONTENT_URL_METHOD_PUT: "PUT",
}

# What a search page's cursor holds, by the search's order.
_ORDER_KEY = {
    ArtifactOrder.IMPACT: KeyKind.NUMBER,
    ArtifactOrder.RECENCY: KeyKind.TIME,
    ArtifactOrder.USAGE: KeyKind.COUNT,
}

_REASON_KIND = {
    Reason.SIMILAR: artifact_pb2.RECOMMENDATION_REASON_KIND_USED_BY_SIMILAR_PROJECTS,
    Reason.TAGS: artifact_pb2.RECOMMENDATION_REASON_KIND_MATCHING_TAGS,
    Reason.IMPACT: artifact_pb2.RECOMMENDATION_REASON_KIND_HIGH_IMPACT,
}


async def _upload_parts(
    requests: AsyncIterator[pb.UploadArtifactContentRequest],
) -> AsyncIterator[bytes | Finish]:
    """The messages after an upload's header, as chunks and the finish (checked)."""
    async for message in requests:
        kind = message.WhichOneof("part")
        if kind == "chunk":
            if len(message.chunk) > MAX_UPLOAD_CHUNK:
                raise InvalidArgument.for_field(
                    "chunk",
                    f"is {len(message.chunk)} bytes; at most {MAX_UPLOAD_CHUNK} per message",
                )
            yield message.chunk
        elif kind == "finish":
            v = Violations()
            declared = check.sha256(v, message.finish.declared_sha256, "finish.declared_sha256")
            v.raise_if_any()
            yield Finish(sha256=declared)
        elif kind == "header":
            raise InvalidArgument.for_field("header", "only the first message carries the header")
        else:
            raise InvalidArgument.for_field("part", "carries none of header, chunk, finish")


# Refusing an upload while the client still sends: read (and drop) what is
# already on its way first, up to these bounds. A grpc.aio client whose write
# fails after the status arrived reports INTERNAL instead of the server's
# status (grpc/grpc#36066); draining gives small uploads the real answer.
DRAIN_BYTES = 16 << 20
DRAIN_SECONDS = 2.0


async def _drain(requests: AsyncIterator[pb.UploadArtifactContentRequest]) -> None:
    drained = 0
    with contextlib.suppress(Exception, asyncio.TimeoutError):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for message in requests:
                drained += message.ByteSize()
                if drained > DRAIN_BYTES:
                    return


def _changes(
    mask: FieldMask,
    updatable: tuple[str, ...],
    prefix: str,
    parse: Callable[[Violations], tuple[Any, set[str]]],
    *,
    required_enum: tuple[str, int],
) -> dict[str, Any]:
    """The new values of an update's fields (AIP-134), validated.

    The mask names the fields; an empty mask means every field the message
    sets. Only the updated fields' violations count, and an updated enum
    must not be UNSPECIFIED.
    """
    paths = mask_paths(mask, updatable, "update_mask")
    v = Violations()
    fields, present = parse(v)
    if not paths:
        paths = sorted(present)
    if not paths:
        raise InvalidArgument.for_field(
            "update_mask", f"names no field to update, and {prefix} sets none"
        )
    _masked(v, paths, prefix)
    enum_field, enum_value = required_enum
    if enum_field in paths and enum_value == 0:
        v.add(f"{prefix}.{enum_field}", "is required (UNSPECIFIED given)")
    v.raise_if_any()
    return {p: getattr(fields, p) for p in paths}


def _masked(v: Violations, paths: list[str], prefix: str) -> None:
    """Keep only the violations of fields being updated (an update leaves the others alone)."""
    keep = [
        item
        for item in v.items
        if any(
            item.field == f"{prefix}.{p}"
            or item.field.startswith(f"{prefix}.{p}[")
            or item.field.startswith(f"{prefix}.{p}.")
            for p in paths
        )
        or not item.field.startswith(f"{prefix}.")
    ]
    v.items[:] = keep


class RegistryServicer(registry_service_pb2_grpc.RegistryServiceServicer):
    def __init__(
        self,
        projects: ProjectRegistry,
        library: ArtifactLibrary,
        recommender: Recommender,
        content: ArtifactContent,
    ) -> None:
        self.projects = projects
        self.library = library
        self.recommender = recommender
        self.content = content

    # ---- projects -----------------------------------------------------------

    async def CreateProject(
        self, request: pb.CreateProjectRequest, context: Any
    ) -> pb.CreateProjectResponse:
        v = Violations()
        if not request.HasField("project"):
            v.add("project", "is required")
        fields, _ = convert.project_fields(v, request.project)
        check.request_id(v, request.request_id)
        v.raise_if_any()
        project = await self.projects.create_project(
            fields, request_id=request.request_id, fingerprint=request_fingerprint(request)
        )
        return pb.CreateProjectResponse(project=convert.project_to_proto(project))

    async def GetProject(
        self, request: pb.GetProjectRequest, context: Any
    ) -> pb.GetProjectResponse:
        project_id = require_uuid(request.project_id, "project_id")

        async def load() -> pb.GetProjectResponse:
            project = await self.projects.get_project(project_id)
            return pb.GetProjectResponse(project=convert.project_to_proto(project))

        return await self.projects.cache.get_or_load(project_id, load)

    async def ListProjects(
        self, request: pb.ListProjectsRequest, context: Any
    ) -> pb.ListProjectsResponse:
        v = Violations()
        statuses: list[ProjectStatus] = []
        try:
            statuses = enum_list_from_proto(
                ProjectStatus,
                convert.STATUS[1],
                request.statuses,
                "statuses",
                prefix=convert.STATUS[0],
            )
        except InvalidArgument as error:
            v.items.extend(error.violations)
        labels = check.labels(v, dict(request.labels), "labels")
        v.raise_if_any()
        size = pagination.page_size(request.page_size)
        after = pagination.decode("ListProjects", request, request.page_token, key=KeyKind.TIME)
        page = await self.projects.list_projects(
            statuses=statuses, labels=labels, page_size=size, after=after
        )
        return pb.ListProjectsResponse(
            projects=[convert.project_to_proto(p) for p in page.items],
            next_page_token=pagination.encode("ListProjects", request, page.next_cursor),
            total_size=page.total_size or 0,
        )

    async def UpdateProject(
        self, request: pb.UpdateProjectRequest, context: Any
    ) -> pb.UpdateProjectResponse:
        if not request.HasField("project"):
            raise InvalidArgument.for_field("project", "is required")
        project_id = require_uuid(request.project.id, "project.id")
        changes = _changes(
            request.update_mask,
            convert.PROJECT_UPDATABLE,
            "project",
            lambda v: convert.project_fields(v, request.project),
            required_enum=("status", request.project.status),
        )
        project = await self.projects.update_project(project_id, changes, etag=request.project.etag)
        return pb.UpdateProjectResponse(project=convert.project_to_proto(project))

    async def UpdateProjectSuccess(
        self, request: pb.UpdateProjectSuccessRequest, context: Any
    ) -> pb.UpdateProjectSuccessResponse:
        v = Violations()
        project_id = None
        try:
            project_id = require_uuid(request.project_id, "project_id")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        if not request.HasField("success"):
            v.add("success", "is required")
        success = convert.success_from_proto(v, request.success)
        v.raise_if_any()
        assert project_id is not None
        project = await self.projects.record_success(project_id, success)
        return pb.UpdateProjectSuccessResponse(project=convert.project_to_proto(project))

    # ---- team ---------------------------------------------------------------

    async def AddTeamMember(
        self, request: pb.AddTeamMemberRequest, context: Any
    ) -> pb.AddTeamMemberResponse:
        v = Violations()
        project_id = None
        try:
            project_id = require_uuid(request.project_id, "project_id")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        if not request.HasField("team_member"):
            v.add("team_member", "is required")
        fields, _ = convert.team_member_fields(v, request.team_member)
        check.request_id(v, request.request_id)
        v.raise_if_any()
        assert project_id is not None
        member = await self.projects.add_team_member(
            project_id,
            fields,
            request_id=request.request_id,
            fingerprint=request_fingerprint(request),
        )
        return pb.AddTeamMemberResponse(team_member=convert.team_member_to_proto(member))

    async def UpdateTeamMember(
        self, request: pb.UpdateTeamMemberRequest, context: Any
    ) -> pb.UpdateTeamMemberResponse:
        if not request.HasField("team_member"):
            raise InvalidArgument.for_field("team_member", "is required")
        member_id = require_uuid(request.team_member.id, "team_member.id")
        changes = _changes(
            request.update_mask,
            convert.TEAM_MEMBER_UPDATABLE,
            "team_member",
            lambda v: convert.team_member_fields(v, request.team_member, require_role=False),
            required_enum=("role", request.team_member.role),
        )
        member = await self.projects.update_team_member(member_id, changes)
        return pb.UpdateTeamMemberResponse(team_member=convert.team_member_to_proto(member))

    async def RemoveTeamMember(
        self, request: pb.RemoveTeamMemberRequest, context: Any
    ) -> pb.RemoveTeamMemberResponse:
        member_id = require_uuid(request.team_member_id, "team_member_id")
        leave_time = opt_time(request, "leave_time", "leave_time")
        member = await self.projects.remove_team_member(member_id, leave_time)
        return pb.RemoveTeamMemberResponse(team_member=convert.team_member_to_proto(member))

    async def ListTeamMembers(
        self, request: pb.ListTeamMembersRequest, context: Any
    ) -> pb.ListTeamMembersResponse:
        project_id = require_uuid(request.project_id, "project_id")
        size = pagination.page_size(request.page_size)
        after = pagination.decode("ListTeamMembers", request, request.page_token, key=KeyKind.TIME)
        page = await self.projects.list_team_members(
            project_id, include_former=request.include_former, page_size=size, after=after
        )
        return pb.ListTeamMembersResponse(
            team_members=[convert.team_member_to_proto(m) for m in page.items],
            next_page_token=pagination.encode("ListTeamMembers", request, page.next_cursor),
        )

    # ---- artifacts ----------------------------------------------------------

    async def UploadArtifactContent(
        self, request_iterator: AsyncIterator[pb.UploadArtifactContentRequest], context: Any
    ) -> pb.UploadArtifactContentResponse:
        requests = aiter(request_iterator)
        try:
            return await self._upload(requests)
        except MaestroError:
            await _drain(requests)
            raise

    async def _upload(
        self, requests: AsyncIterator[pb.UploadArtifactContentRequest]
    ) -> pb.UploadArtifactContentResponse:
        first = await anext(requests, None)
        if first is None or first.WhichOneof("part") != "header":
            raise InvalidArgument.for_field("header", "the first message must carry the header")
        header = first.header
        v = Violations()
        artifact_id = None
        try:
            artifact_id = require_uuid(header.artifact_id, "header.artifact_id")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        declared = check.sha256(v, header.declared_sha256, "header.declared_sha256")
        if header.declared_size_bytes < 0:
            v.add("header.declared_size_bytes", "must not be negative")
        v.raise_if_any()
        assert artifact_id is not None
        spec = UploadSpec(
            artifact_id=artifact_id,
            sha256=declared,
            size_bytes=header.declared_size_bytes or None,
            by_url=header.uploaded_by_url,
        )
        result = await self.content.upload(spec, _upload_parts(requests))
        return pb.UploadArtifactContentResponse(
            artifact=convert.artifact_to_proto(result.artifact),
            deduplicated=result.deduplicated,
        )

    async def DownloadArtifactContent(
        self, request: pb.DownloadArtifactContentRequest, context: Any
    ) -> AsyncIterator[pb.DownloadArtifactContentResponse]:
        artifact_id = require_uuid(request.artifact_id, "artifact_id")
        if request.offset < 0:
            raise InvalidArgument.for_field("offset", "must not be negative")
        download = await self.content.download(artifact_id, request.offset)
        first = True
        async with contextlib.aclosing(download.chunks) as chunks:
            async for chunk in chunks:
                if first:
                    first = False
                    yield pb.DownloadArtifactContentResponse(
                        sha256=download.sha256, size_bytes=download.size_bytes, chunk=chunk
                    )
                else:
                    yield pb.DownloadArtifactContentResponse(chunk=chunk)
        if first:
            yield pb.DownloadArtifactContentResponse(
                sha256=download.sha256, size_bytes=download.size_bytes
            )

    async def GetArtifactContentUrl(
        self, request: pb.GetArtifactContentUrlRequest, context: Any
    ) -> pb.GetArtifactContentUrlResponse:
        v = Violations()
        artifact_id = None
        try:
            artifact_id = require_uuid(request.artifact_id, "artifact_id")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        method = _URL_METHODS.get(request.method)
        if method is None:
            v.add("method", f"{request.method} is not a known value")
        sha256 = check.sha256(v, request.declared_sha256, "declared_sha256")
        if method == "PUT" and not sha256:
            v.add("declared_sha256", "is required for an upload URL")
        if request.declared_size_bytes < 0:
            v.add("declared_size_bytes", "must not be negative")
        if not 0 <= request.expires_in_seconds <= MAX_URL_SECONDS:
            v.add("expires_in_seconds", f"must be between 0 and {MAX_URL_SECONDS}")
        v.raise_if_any()
        assert artifact_id is not None
        assert method is not None
        url = await self.content.content_url(
            artifact_id,
            method=method,
            sha256=sha256,
            expires_in=request.expires_in_seconds or DEFAULT_URL_SECONDS,
        )
        response = pb.GetArtifactContentUrlResponse(
            url=url.url, headers=url.headers, http_method=url.method
        )
        response.expire_time.FromDatetime(url.expire_time)
        return response

    async def CreateArtifact(
        self, request: pb.CreateArtifactRequest, context: Any
    ) -> pb.CreateArtifactResponse:
        v = Violations()
        if not request.HasField("artifact"):
            v.add("artifact", "is required")
        fields, _ = convert.artifact_fields(v, request.artifact)
        check.request_id(v, request.request_id)
        v.raise_if_any()
        artifact = await self.library.create_artifact(
            fields, request_id=request.request_id, fingerprint=request_fingerprint(request)
        )
        return pb.CreateArtifactResponse(artifact=convert.artifact_to_proto(artifact))

    async def GetArtifact(
        self, request: pb.GetArtifactRequest, context: Any
    ) -> pb.GetArtifactResponse:
        artifact_id = require_uuid(request.artifact_id, "artifact_id")
        artifact = await self.library.get_artifact(artifact_id)
        return pb.GetArtifactResponse(artifact=convert.artifact_to_proto(artifact))

    async def UpdateArtifact(
        self, request: pb.UpdateArtifactRequest, context: Any
    ) -> pb.UpdateArtifactResponse:
        if not request.HasField("artifact"):
            raise InvalidArgument.for_field("artifact", "is required")
        artifact_id = require_uuid(request.artifact.id, "artifact.id")
        changes = _changes(
            request.update_mask,
            convert.ARTIFACT_UPDATABLE,
            "artifact",
            lambda v: convert.artifact_fields(v, request.artifact, creating=False),
            required_enum=("type", request.artifact.type),
        )
        artifact = await self.library.update_artifact(artifact_id, changes)
        return pb.UpdateArtifactResponse(artifact=convert.artifact_to_proto(artifact))

    async def DeleteArtifact(
        self, request: pb.DeleteArtifactRequest, context: Any
    ) -> pb.DeleteArtifactResponse:
        artifact_id = require_uuid(request.artifact_id, "artifact_id")
        artifact = await self.library.delete_artifact(artifact_id)
        return pb.DeleteArtifactResponse(artifact=convert.artifact_to_proto(artifact))

    async def SearchArtifacts(
        self, request: pb.SearchArtifactsRequest, context: Any
    ) -> pb.SearchArtifactsResponse:
        v = Violations()
        query = ArtifactQuery(
            text=check.text(v, request.query, "query", max_len=500),
            tags_any=list(check.tags(v, request.tags_any, "tags_any")),
            tags_all=list(check.tags(v, request.tags_all, "tags_all")),
            min_impact_score=check.number(
                v, request.min_impact_score, "min_impact_score", low=0.0, high=100.0
            ),
            name=check.text(v, request.name, "name", max_len=200),
        )
        try:
            query.types = enum_list_from_proto(
                ArtifactType,
                convert.ARTIFACT_TYPE[1],
                request.types,
                "types",
                prefix=convert.ARTIFACT_TYPE[0],
            )
        except InvalidArgument as error:
            v.items.extend(error.violations)
        try:
            query.origin_project_id = parse_uuid(
                request.origin_project_id, "origin_project_id", required=False
            )
        except InvalidArgument as error:
            v.items.extend(error.violations)
        try:
            order = enum_from_proto(
                ArtifactOrder,
                pb.ArtifactOrderBy,
                request.order_by,
                "order_by",
                prefix="ARTIFACT_ORDER_BY_",
                allow_unspecified=True,
            )
            query.order = order or ArtifactOrder.IMPACT
        except InvalidArgument as error:
            v.items.extend(error.violations)
        v.raise_if_any()
        size = pagination.page_size(request.page_size)
        after = pagination.decode(
            "SearchArtifacts", request, request.page_token, key=_ORDER_KEY[query.order]
        )
        page = await self.library.search(query, page_size=size, after=after)
        return pb.SearchArtifactsResponse(
            artifacts=[convert.artifact_to_proto(a) for a in page.items],
            next_page_token=pagination.encode("SearchArtifacts", request, page.next_cursor),
            total_size=page.total_size or 0,
        )

    async def LogArtifactUsage(
        self, request: pb.LogArtifactUsageRequest, context: Any
    ) -> pb.LogArtifactUsageResponse:
        v = Violations()
        usage = request.artifact_usage
        if not request.HasField("artifact_usage"):
            v.add("artifact_usage", "is required")
        ids = {}
        for name in ("artifact_id", "project_id"):
            try:
                ids[name] = require_uuid(getattr(usage, name), f"artifact_usage.{name}")
            except InvalidArgument as error:
                v.items.extend(error.violations)
        use_time = None
        try:
            use_time = opt_time(usage, "use_time", "artifact_usage.use_time")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        fields = UsageFields(
            artifact_id=ids.get("artifact_id"),  # type: ignore[arg-type]
            project_id=ids.get("project_id"),  # type: ignore[arg-type]
            user=check.text(v, usage.user, "artifact_usage.user", max_len=200),
            purpose=check.text(v, usage.purpose, "artifact_usage.purpose", max_len=2000),
            outcome=convert.outcome_from_proto(v, usage.outcome, "artifact_usage.outcome"),
            use_time=use_time,
        )
        check.request_id(v, request.request_id)
        v.raise_if_any()
        logged, artifact = await self.library.log_usage(
            fields, request_id=request.request_id, fingerprint=request_fingerprint(request)
        )
        return pb.LogArtifactUsageResponse(
            artifact_usage=convert.usage_to_proto(logged),
            artifact=convert.artifact_to_proto(artifact),
        )

    async def ListArtifactUsages(
        self, request: pb.ListArtifactUsagesRequest, context: Any
    ) -> pb.ListArtifactUsagesResponse:
        artifact_id = parse_uuid(request.artifact_id, "artifact_id", required=False)
        project_id = parse_uuid(request.project_id, "project_id", required=False)
        if artifact_id is None and project_id is None:
            raise InvalidArgument.from_violations(
                [
                    FieldViolation("artifact_id", "one of artifact_id and project_id is required"),
                    FieldViolation("project_id", "one of artifact_id and project_id is required"),
                ]
            )
        size = pagination.page_size(request.page_size)
        after = pagination.decode(
            "ListArtifactUsages", request, request.page_token, key=KeyKind.TIME
        )
        page = await self.library.list_usages(
            artifact_id=artifact_id, project_id=project_id, page_size=size, after=after
        )
        return pb.ListArtifactUsagesResponse(
            artifact_usages=[convert.usage_to_proto(u) for u in page.items],
            next_page_token=pagination.encode("ListArtifactUsages", request, page.next_cursor),
        )

    async def RecommendArtifacts(
        self, request: pb.RecommendArtifactsRequest, context: Any
    ) -> pb.RecommendArtifactsResponse:
        project_id = require_uuid(request.project_id, "project_id")
        max_results = pagination.page_size(
            request.max_results, "max_results", maximum=MAX_RECOMMENDATIONS
        )
        if request.max_results == 0:
            max_results = 10
        types = enum_list_from_proto(
            ArtifactType,
            convert.ARTIFACT_TYPE[1],
            request.types,
            "types",
            prefix=convert.ARTIFACT_TYPE[0],
        )
        found = await self.recommender.recommend(project_id, max_results=max_results, types=types)
        return pb.RecommendArtifactsResponse(
            recommendations=[
                artifact_pb2.ArtifactRecommendation(
                    artifact=convert.artifact_to_proto(r.artifact),
                    score=r.score,
                    reasons=[
                        artifact_pb2.RecommendationReason(
                            kind=_REASON_KIND[kind], detail=detail, weight=weight
                        )
                        for kind, detail, weight in r.reasons
                    ],
                )
                for r in found
            ]
        )
