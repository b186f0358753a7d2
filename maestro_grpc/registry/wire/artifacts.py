"""RegistryService handlers for artifacts: the library, search, usage and recommendations."""

from __future__ import annotations

from maestro.registry.v1 import registry_service_pb2 as pb
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.access import caller
from maestro_grpc.errors import FieldViolation, InvalidArgument, Violations
from maestro_grpc.paging import KeyKind
from maestro_grpc.registry.domain.artifacts import ArtifactLibrary
from maestro_grpc.registry.domain.recommend import Recommender
from maestro_grpc.registry.model import (
    Artifact,
    ArtifactOrder,
    ArtifactQuery,
    ArtifactType,
    UsageFields,
)
from maestro_grpc.registry.wire import convert
from maestro_grpc.registry.wire import validation as check
from maestro_grpc.registry.wire.memo import AnswerMemo
from maestro_grpc.registry.wire.updates import changes
from maestro_grpc.wire import pagetoken
from maestro_grpc.wire.context import Context
from maestro_grpc.wire.pagetoken import PageTokens
from maestro_grpc.wire.protoconv import (
    enum_list_from_proto,
    opt_time,
    optional_uuid_field,
    parse_uuid,
    request_fingerprint,
    require_uuid,
    uuid_field,
)

MAX_RECOMMENDATIONS = 100
DEFAULT_RECOMMENDATIONS = 10
ORDER_BY = ("ARTIFACT_ORDER_BY_", pb.ArtifactOrderBy)

# What a search page's cursor holds, by the search's order.
_ORDER_KEY = {
    ArtifactOrder.IMPACT: KeyKind.NUMBER,
    ArtifactOrder.RECENCY: KeyKind.TIME,
    ArtifactOrder.USAGE: KeyKind.COUNT,
}


MAX_FACET_TAGS = 200
DEFAULT_FACET_TAGS = 20


def _filter(
    v: Violations, request: pb.SearchArtifactsRequest | pb.CountArtifactFacetsRequest
) -> ArtifactQuery:
    """The filters SearchArtifacts and CountArtifactFacets share."""
    query = ArtifactQuery(
        text=check.text(v, request.query, "query", max_len=500),
        tags_any=list(check.tags(v, request.tags_any, "tags_any")),
        tags_all=list(check.tags(v, request.tags_all, "tags_all")),
        min_impact_score=check.number(
            v, request.min_impact_score, "min_impact_score", low=0.0, high=100.0
        ),
    )
    query.types = convert.enum_list(v, ArtifactType, convert.ARTIFACT_TYPE, request.types, "types")
    query.origin_project_id = optional_uuid_field(v, request.origin_project_id, "origin_project_id")
    return query


def search_query(request: pb.SearchArtifactsRequest) -> ArtifactQuery:
    """SearchArtifacts' filter and order, every bad field reported at once."""
    v = Violations()
    query = _filter(v, request)
    query.name = check.text(v, request.name, "name", max_len=200)
    order = convert.enum_field(
        v, ArtifactOrder, ORDER_BY, request.order_by, "order_by", required=False
    )
    query.order = order or ArtifactOrder.IMPACT
    v.raise_if_any()
    return query


def facets_query(request: pb.CountArtifactFacetsRequest) -> tuple[ArtifactQuery, int]:
    """CountArtifactFacets' filter and how many tags to count."""
    v = Violations()
    query = _filter(v, request)
    if not 0 <= request.max_tags <= MAX_FACET_TAGS:
        v.add("max_tags", f"must be between 0 and {MAX_FACET_TAGS}")
    v.raise_if_any()
    return query, request.max_tags or DEFAULT_FACET_TAGS


def usage_fields(request: pb.LogArtifactUsageRequest) -> UsageFields:
    """LogArtifactUsage's usage, every bad field reported at once."""
    v = Violations()
    usage = request.artifact_usage
    if not request.HasField("artifact_usage"):
        v.add("artifact_usage", "is required")
    artifact_id = uuid_field(v, usage.artifact_id, "artifact_usage.artifact_id")
    project_id = uuid_field(v, usage.project_id, "artifact_usage.project_id")
    use_time = v.take(lambda: opt_time(usage, "use_time", "artifact_usage.use_time"), None)
    fields = UsageFields(
        artifact_id=artifact_id,
        project_id=project_id,
        user=check.text(v, usage.user, "artifact_usage.user", max_len=200),
        purpose=check.text(v, usage.purpose, "artifact_usage.purpose", max_len=2000),
        outcome=convert.outcome_from_proto(v, usage.outcome, "artifact_usage.outcome"),
        use_time=use_time,
    )
    check.request_id(v, request.request_id)
    v.raise_if_any()
    return fields


def _get_artifact_response(artifact: Artifact) -> pb.GetArtifactResponse:
    return pb.GetArtifactResponse(artifact=convert.artifact_to_proto(artifact))


class ArtifactHandlers(registry_service_pb2_grpc.RegistryServiceServicer):
    library: ArtifactLibrary
    # GetArtifact's responses, by the artifact record they were built from.
    artifact_answers: AnswerMemo[Artifact, pb.GetArtifactResponse]
    recommender: Recommender
    pages: PageTokens

    async def CreateArtifact(
        self, request: pb.CreateArtifactRequest, context: Context
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
        self, request: pb.GetArtifactRequest, context: Context
    ) -> pb.GetArtifactResponse:
        artifact_id = require_uuid(request.artifact_id, "artifact_id")
        artifact = await self.library.get_artifact(artifact_id)
        return self.artifact_answers.answer(artifact_id, artifact, _get_artifact_response)

    async def UpdateArtifact(
        self, request: pb.UpdateArtifactRequest, context: Context
    ) -> pb.UpdateArtifactResponse:
        if not request.HasField("artifact"):
            raise InvalidArgument.for_field("artifact", "is required")
        artifact_id = require_uuid(request.artifact.id, "artifact.id")
        updates = changes(
            request.update_mask,
            convert.ARTIFACT_UPDATABLE,
            "artifact",
            lambda v: convert.artifact_fields(v, request.artifact, creating=False),
            required_enum=("type", request.artifact.type),
        )
        artifact = await self.library.update_artifact(artifact_id, updates)
        return pb.UpdateArtifactResponse(artifact=convert.artifact_to_proto(artifact))

    async def DeleteArtifact(
        self, request: pb.DeleteArtifactRequest, context: Context
    ) -> pb.DeleteArtifactResponse:
        artifact_id = require_uuid(request.artifact_id, "artifact_id")
        artifact = await self.library.delete_artifact(artifact_id)
        return pb.DeleteArtifactResponse(artifact=convert.artifact_to_proto(artifact))

    async def SearchArtifacts(
        self, request: pb.SearchArtifactsRequest, context: Context
    ) -> pb.SearchArtifactsResponse:
        query = search_query(request)
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode(
            "SearchArtifacts", request, request.page_token, key=_ORDER_KEY[query.order]
        )
        page = await self.library.search(query, page_size=size, after=after)
        return pb.SearchArtifactsResponse(
            artifacts=[convert.artifact_to_proto(a) for a in page.items],
            next_page_token=self.pages.encode("SearchArtifacts", request, page.next_cursor),
            total_size=page.total_size or 0,
            total_size_is_lower_bound=page.total_is_lower_bound,
        )

    async def CountArtifactFacets(
        self, request: pb.CountArtifactFacetsRequest, context: Context
    ) -> pb.CountArtifactFacetsResponse:
        query, max_tags = facets_query(request)
        facets = await self.library.facets(query, max_tags=max_tags)
        return pb.CountArtifactFacetsResponse(
            types=[
                pb.FacetCount(value=convert.ARTIFACT_TYPE[0] + t.name, count=n)
                for t, n in facets.types
            ],
            tags=[pb.FacetCount(value=tag, count=n) for tag, n in facets.tags],
            total_size=facets.total,
            total_size_is_lower_bound=facets.total_is_lower_bound,
        )

    async def LogArtifactUsage(
        self, request: pb.LogArtifactUsageRequest, context: Context
    ) -> pb.LogArtifactUsageResponse:
        fields = usage_fields(request)
        logged, artifact = await self.library.log_usage(
            fields, request_id=request.request_id, fingerprint=request_fingerprint(request)
        )
        return pb.LogArtifactUsageResponse(
            artifact_usage=convert.usage_to_proto(logged),
            artifact=convert.artifact_to_proto(artifact),
        )

    async def ListArtifactUsages(
        self, request: pb.ListArtifactUsagesRequest, context: Context
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
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode(
            "ListArtifactUsages", request, request.page_token, key=KeyKind.TIME
        )
        page = await self.library.list_usages(
            artifact_id=artifact_id,
            project_id=project_id,
            page_size=size,
            after=after,
            within=caller.visible_projects(),
        )
        return pb.ListArtifactUsagesResponse(
            artifact_usages=[convert.usage_to_proto(u) for u in page.items],
            next_page_token=self.pages.encode("ListArtifactUsages", request, page.next_cursor),
        )

    async def RecommendArtifacts(
        self, request: pb.RecommendArtifactsRequest, context: Context
    ) -> pb.RecommendArtifactsResponse:
        project_id = require_uuid(request.project_id, "project_id")
        max_results = pagetoken.page_size(
            request.max_results, "max_results", maximum=MAX_RECOMMENDATIONS
        )
        if request.max_results == 0:
            max_results = DEFAULT_RECOMMENDATIONS
        types = enum_list_from_proto(
            ArtifactType,
            convert.ARTIFACT_TYPE[1],
            request.types,
            "types",
            prefix=convert.ARTIFACT_TYPE[0],
        )
        found = await self.recommender.recommend(project_id, max_results=max_results, types=types)
        return pb.RecommendArtifactsResponse(
            recommendations=[convert.recommendation_to_proto(r) for r in found]
        )
