"""A project's recommended team: RecommendTeam over the people of the organisation's teams.

The pool is everyone on a current team of the projects the caller may see
(at most 200 people, as the RPC takes); the page sets the size limit.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import grpc.aio
from starlette.requests import Request
from starlette.responses import Response

from maestro.prediction.v1 import prediction_service_pb2 as ppb
from maestro.registry.v1 import project_pb2
from maestro.registry.v1 import registry_service_pb2 as rpb
from maestro_grpc.web.client import metadata
from maestro_grpc.web.format import enum_label
from maestro_grpc.web.security import session_token
from maestro_grpc.web.views import backend, not_found_page, render

POOL = 200
PROJECTS_SCANNED = 500
MAX_SIZE = 12


def candidates(projects: list[project_pb2.Project]) -> list[ppb.Candidate]:
    """Everyone on a current team, once each (their first membership found)."""
    pool: dict[str, ppb.Candidate] = {}
    for project in projects:
        for m in project.team:
            if m.person_id and m.person_id not in pool and len(pool) < POOL:
                pool[m.person_id] = ppb.Candidate(
                    person_id=m.person_id,
                    display_name=m.display_name,
                    role=m.role,
                    years_experience=m.years_experience,
                    skills=m.skills,
                )
    return list(pool.values())


def _size(raw: str, default: int) -> int:
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_SIZE else default


async def page(request: Request) -> Response:
    try:
        project_id = str(uuid.UUID(request.path_params["project_id"]))
    except ValueError:
        return not_found_page(request)
    b = backend(request)
    auth = metadata(session_token(request))
    kw: dict[str, Any] = {"metadata": auth, "timeout": backend(request).timeout}
    project = (
        await b.registry.GetProject(rpb.GetProjectRequest(project_id=project_id), **kw)
    ).project
    listed = await b.registry.ListProjects(
        rpb.ListProjectsRequest(page_size=PROJECTS_SCANNED), **kw
    )
    pool = candidates([project, *listed.projects])
    size = _size(request.query_params.get("max_size", ""), max(3, len(project.team)))
    answer = None
    problem = ""
    if pool:
        try:
            answer = await b.prediction.RecommendTeam(
                ppb.RecommendTeamRequest(
                    project_id=project_id,
                    candidates=pool,
                    limits=ppb.TeamLimits(min_size=1, max_size=size),
                ),
                metadata=auth,
                timeout=backend(request).timeout * 3,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            problem = error.details() or "no meta-model yet"
    context = {
        "project": project,
        "pool": len(pool),
        "size": size,
        "sizes": range(1, MAX_SIZE + 1),
        "answer": answer,
        "problem": problem,
        "role_label": lambda v: enum_label(project_pb2.TeamRole, v, "TEAM_ROLE_"),
    }
    return render(request, "team.html", context)
