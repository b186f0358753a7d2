"""Page 2, an artifact: its versions, tags, metadata, origin, usage history, impact,
content download and what projects like yours used beside it."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
from google.protobuf import json_format
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from maestro.registry.v1 import artifact_pb2
from maestro.registry.v1 import registry_service_pb2 as pb
from maestro_grpc.web import collab
from maestro_grpc.web.client import maybe, metadata, unloaded
from maestro_grpc.web.format import outcome
from maestro_grpc.web.security import session_token
from maestro_grpc.web.views import backend, not_found_page, render

USAGES_SHOWN = 50
VERSIONS_SHOWN = 50
PROJECTS_OFFERED = 200
RECOMMENDATIONS = 5
MOVERS_SHOWN = 5
REASON = {
    artifact_pb2.RECOMMENDATION_REASON_KIND_USED_BY_SIMILAR_PROJECTS: "used by similar projects",
    artifact_pb2.RECOMMENDATION_REASON_KIND_MATCHING_TAGS: "matching tags",
    artifact_pb2.RECOMMENDATION_REASON_KIND_HIGH_IMPACT: "high impact",
}
_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def _uuid(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


async def page(request: Request) -> Response:
    registry = backend(request).registry
    auth = metadata(session_token(request))
    kw: dict[str, Any] = {"metadata": auth, "timeout": backend(request).timeout}
    artifact_id = _uuid(request.path_params["artifact_id"])
    if artifact_id is None:
        return not_found_page(request)
    artifact = (
        await registry.GetArtifact(pb.GetArtifactRequest(artifact_id=artifact_id), **kw)
    ).artifact
    versions, usages, projects = await asyncio.gather(
        registry.SearchArtifacts(
            pb.SearchArtifactsRequest(
                name=artifact.name, order_by=pb.ARTIFACT_ORDER_BY_RECENCY, page_size=VERSIONS_SHOWN
            ),
            **kw,
        ),
        maybe(
            registry.ListArtifactUsages(
                pb.ListArtifactUsagesRequest(artifact_id=artifact_id, page_size=USAGES_SHOWN), **kw
            )
        ),
        maybe(registry.ListProjects(pb.ListProjectsRequest(page_size=PROJECTS_OFFERED), **kw)),
    )
    names = {p.id: p.name for p in (projects.projects if projects else [])}
    chosen = _uuid(request.query_params.get("project", "")) or artifact.origin_project_id
    recommendations = None
    if chosen:
        recommendations = await maybe(
            registry.RecommendArtifacts(
                pb.RecommendArtifactsRequest(project_id=chosen, max_results=RECOMMENDATIONS + 1),
                **kw,
            )
        )
    usage_list = list(usages.artifact_usages) if usages else []
    context = {
        "artifact": artifact,
        "versions": list(versions.artifacts),
        "usages": usage_list,
        "usages_more": bool(usages and usages.next_page_token),
        "outcomes": Counter(outcome(u.outcome) for u in usage_list),
        "movers": movers(usage_list),
        "metadata": json.dumps(
            json_format.MessageToDict(artifact.metadata), indent=2, sort_keys=True
        )
        if artifact.HasField("metadata") and artifact.metadata.fields
        else "",
        "project_names": names,
        "projects": sorted(names.items(), key=lambda item: item[1]),
        "chosen": chosen,
        "recommendations": [
            r
            for r in (recommendations.recommendations if recommendations else [])
            if r.artifact.id != artifact.id
        ][:RECOMMENDATIONS],
        "reason_label": lambda kind: REASON.get(kind, "other"),
        "unloaded": unloaded(usages=usages, projects=projects, recommendations=recommendations),
        **await collab.discussion(request, "artifact", artifact.id),
    }
    return render(request, "artifact.html", context)


def movers(usages: list[artifact_pb2.ArtifactUsage]) -> list[artifact_pb2.ArtifactUsage]:
    """The usages that moved the score most, either way (ListArtifactUsages' impact)."""
    scored = [u for u in usages if u.HasField("impact")]
    return sorted(scored, key=lambda u: -abs(u.impact.points or u.impact.contribution))[
        :MOVERS_SHOWN
    ]


async def download(request: Request) -> Response:
    """The artifact's content, streamed from the server as it arrives."""
    registry = backend(request).registry
    auth = metadata(session_token(request))
    artifact_id = _uuid(request.path_params["artifact_id"])
    if artifact_id is None:
        return not_found_page(request)
    artifact = (
        await registry.GetArtifact(
            pb.GetArtifactRequest(artifact_id=artifact_id),
            metadata=auth,
            timeout=backend(request).timeout,
        )
    ).artifact
    stream = registry.DownloadArtifactContent(
        pb.DownloadArtifactContentRequest(artifact_id=artifact_id), metadata=auth
    )
    # The first message (hash and size) arrives before any byte is sent, so
    # a refusal (no content, no right) is still a page, not a broken file.
    first = await stream.read()
    if first is grpc.aio.EOF:  # type: ignore[attr-defined]
        return render(
            request, "error.html", {"title": "No content", "detail": "", "code": ""}, status=404
        )
    assert isinstance(first, pb.DownloadArtifactContentResponse)

    async def chunks() -> AsyncIterator[bytes]:
        if first.chunk:
            yield first.chunk
        async for message in stream:
            yield message.chunk

    filename = _FILENAME.sub("_", f"{artifact.name}-{artifact.version}") or "content"
    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "content-length": str(first.size_bytes),
            "x-content-sha256": first.sha256,
            "cache-control": "no-store",
        },
    )
