"""Page 4, experiments: the list, and an experiment's variants, assignments, sample-ratio
check and effects with their intervals drawn."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import prediction_service_pb2 as ppb
from maestro.registry.v1 import registry_service_pb2 as rpb
from maestro_grpc.web.client import metadata
from maestro_grpc.web.format import enum_label
from maestro_grpc.web.security import session_token
from maestro_grpc.web.views import backend, not_found_page, render

PAGE_SIZE = 50
UNITS_SHOWN = 50
PROJECTS_NAMED = 200
STATUSES = {
    name.removeprefix("EXPERIMENT_STATUS_").lower(): name
    for name, value in ep.ExperimentStatus.items()
    if value != ep.EXPERIMENT_STATUS_UNSPECIFIED
}
# The interval chart: half its width on each side of zero.
HALF_WIDTH = 200.0


def labels() -> dict[str, Any]:
    return {
        "status_label": lambda v: enum_label(ep.ExperimentStatus, v, "EXPERIMENT_STATUS_"),
        "unit_label": lambda v: enum_label(ep.ExperimentUnit, v, "EXPERIMENT_UNIT_"),
        "role_label": lambda v: enum_label(ep.MetricRole, v, "METRIC_ROLE_"),
        "verdict_label": lambda v: enum_label(ep.Verdict, v, "VERDICT_"),
    }


async def list_page(request: Request) -> Response:
    status = request.query_params.get("status", "")
    answer = await backend(request).prediction.ListExperiments(
        ppb.ListExperimentsRequest(
            page_size=PAGE_SIZE,
            page_token=request.query_params.get("page", ""),
            status=STATUSES.get(status, "EXPERIMENT_STATUS_UNSPECIFIED"),
        ),
        metadata=metadata(session_token(request)),
        timeout=backend(request).timeout,
    )
    next_url = ""
    if answer.next_page_token:
        next_url = f"/experiments?status={status}&page={answer.next_page_token}"
    context = {
        "experiments": list(answer.experiments),
        "status": status,
        "statuses": list(STATUSES),
        "next_url": next_url,
        **labels(),
    }
    return render(request, "experiments.html", context)


def intervals(comparisons: list[Any], *, relative: bool) -> list[dict[str, Any]]:
    """Each comparison's estimate and interval, placed on one scale around zero."""
    rows = []
    for c in comparisons:
        if relative:
            low, mid, high = c.relative.ci_low, c.relative.estimate, c.relative.ci_high
        else:
            low, mid, high = c.ci_low, c.difference, c.ci_high
        # Better or worse is the verdict's to say (a metric knows its direction);
        # an outcome without one is drawn neutral.
        verdict = getattr(c, "verdict", ep.VERDICT_UNSPECIFIED)
        tone = {ep.VERDICT_BETTER: "up", ep.VERDICT_WORSE: "down"}.get(verdict, "neutral")
        if verdict == ep.VERDICT_GUARDRAIL_BREACHED:
            tone = "down"
        rows.append({"c": c, "low": low, "mid": mid, "high": high, "tone": tone})
    widest = max((max(abs(r["low"]), abs(r["high"])) for r in rows), default=0.0) or 1.0
    for r in rows:
        for key in ("low", "mid", "high"):
            r[f"x_{key}"] = round(HALF_WIDTH + HALF_WIDTH * 0.95 * r[key] / widest, 1)
    return rows


async def page(request: Request) -> Response:
    try:
        experiment_id = str(uuid.UUID(request.path_params["experiment_id"]))
    except ValueError:
        return not_found_page(request)
    b = backend(request)
    kw: dict[str, Any] = {
        "metadata": metadata(session_token(request)),
        "timeout": backend(request).timeout,
    }
    experiment = (
        await b.prediction.GetExperiment(
            ppb.GetExperimentRequest(experiment_id=experiment_id), **kw
        )
    ).experiment
    variant = request.query_params.get("variant", "")
    if variant not in {v.name for v in experiment.variants}:
        variant = ""
    analysed, units, projects = await asyncio.gather(
        b.prediction.AnalyzeExperiment(
            ppb.AnalyzeExperimentRequest(experiment_id=experiment_id), **kw
        ),
        b.prediction.ListAssignments(
            ppb.ListAssignmentsRequest(
                experiment_id=experiment_id,
                variant=variant,
                page_size=UNITS_SHOWN,
                page_token=request.query_params.get("units", ""),
            ),
            **kw,
        ),
        b.registry.ListProjects(rpb.ListProjectsRequest(page_size=PROJECTS_NAMED), **kw),
    )
    analysis = analysed.analysis
    query = {"variant": variant} if variant else {}
    context = {
        "units": list(units.assignments),
        "by_project": experiment.unit != ep.EXPERIMENT_UNIT_TEAM,
        "units_total": units.total_size,
        "units_variant": variant,
        "units_first": f"/experiments/{experiment_id}?{urlencode(query)}#units-heading",
        "units_paged": bool(request.query_params.get("units")),
        "units_next": f"/experiments/{experiment_id}?"
        f"{urlencode({**query, 'units': units.next_page_token})}#units-heading"
        if units.next_page_token
        else "",
        "project_names": {p.id: p.name for p in projects.projects},
        "experiment": experiment,
        "analysis": analysis,
        "outcome_rows": intervals(list(analysis.comparisons), relative=False),
        "metric_rows": [
            (m, intervals([c for c in m.comparisons if c.valid], relative=True))
            for m in analysis.metrics
        ],
        "assigned": sum(r.units for r in analysis.results),
        **labels(),
    }
    return render(request, "experiment.html", context)
