"""Page 3, projects: a filterable list, and a project at a glance.

A project's page shows its team (who left too), its outcome, a chart and
the percentiles of each metric, velocity and DORA with their bands, its
latest prediction with the contributions that moved it, and the artifacts
worth reusing. The charts take new points live (live.py pushes WatchMetrics
to the page as server-sent events).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode

import grpc
import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from maestro.metrics.v1 import metrics_service_pb2 as mpb
from maestro.prediction.v1 import prediction_service_pb2 as ppb
from maestro.registry.v1 import project_pb2
from maestro.registry.v1 import registry_service_pb2 as rpb
from maestro_grpc.web import collab
from maestro_grpc.web.artifact import REASON
from maestro_grpc.web.client import Backend, maybe, metadata, unloaded
from maestro_grpc.web.format import enum_label
from maestro_grpc.web.security import CSRF_FIELD, csrf_ok, session_token
from maestro_grpc.web.views import backend, forbidden, not_found_page, render

PAGE_SIZE = 50
CHARTS = 12
SERIES_POINTS = 500
SERIES_AT_ONCE = 4
VELOCITY_WEEKS = 12
DORA_DAYS = 90
CONTRIBUTIONS = 8
STATUSES: dict[str, project_pb2.ProjectStatus] = {
    name.removeprefix("PROJECT_STATUS_").lower(): cast(project_pb2.ProjectStatus, value)
    for name, value in project_pb2.ProjectStatus.items()
    if value != project_pb2.PROJECT_STATUS_UNSPECIFIED
}


def _stamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _labels(raw: str) -> tuple[dict[str, str], str]:
    """`team=growth, tier` into {"team": "growth", "tier": ""}, or a problem to show."""
    labels: dict[str, str] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key, _, value = item.partition("=")
        if not key.strip():
            return {}, f"{item!r} is not a label (key=value, or a key alone)"
        labels[key.strip()] = value.strip()
    return labels, ""


async def list_page(request: Request) -> Response:
    params = request.query_params
    status = params.get("status", "")
    label_text = params.get("labels", "").strip()[:500]
    labels, problem = _labels(label_text)
    ask = rpb.ListProjectsRequest(
        statuses=[STATUSES[status]] if status in STATUSES else [],
        labels=labels,
        page_size=PAGE_SIZE,
        page_token=params.get("page", ""),
    )
    answer = await backend(request).registry.ListProjects(
        ask, metadata=metadata(session_token(request)), timeout=backend(request).timeout
    )
    query = {"status": status, "labels": label_text}
    next_url = ""
    if answer.next_page_token:
        next_url = "/projects?" + urlencode({**query, "page": answer.next_page_token})
    context = {
        "projects": list(answer.projects),
        "status": status,
        "statuses": list(STATUSES),
        "label_text": label_text,
        "problem": problem,
        "next_url": next_url,
        "status_label": lambda v: enum_label(project_pb2.ProjectStatus, v, "PROJECT_STATUS_"),
    }
    return render(request, "projects.html", context)


def _project_id(request: Request) -> str | None:
    try:
        return str(uuid.UUID(request.path_params["project_id"]))
    except ValueError:
        return None


async def page(request: Request) -> Response:
    project_id = _project_id(request)
    if project_id is None:
        return not_found_page(request)
    b = backend(request)
    kw: dict[str, Any] = {
        "metadata": metadata(session_token(request)),
        "timeout": backend(request).timeout,
    }
    project = (
        await b.registry.GetProject(rpb.GetProjectRequest(project_id=project_id), **kw)
    ).project
    team, names, velocity, dora, predictions, recommended = await _glance(b, project_id, kw)
    charts = await _charts(request, project_id, [m.name for m in names.metric_names][:CHARTS], kw)
    prediction = predictions.predictions[0] if predictions and predictions.predictions else None
    context = {
        "project": project,
        "members": sorted(
            team.team_members, key=lambda m: (m.HasField("leave_time"), m.display_name)
        ),
        "charts": charts,
        "more_metrics": max(0, len(names.metric_names) - CHARTS),
        "velocity": velocity,
        "dora": dora,
        "prediction": prediction,
        "contributions": _contributions(prediction),
        "recommended": list(recommended.recommendations) if recommended else [],
        "unloaded": unloaded(prediction=predictions, recommended=recommended),
        **LABELS,
        **await collab.discussion(request, "project", project.id),
    }
    return render(request, "project.html", context)


LABELS = {
    "reason_label": lambda kind: REASON.get(kind, "other"),
    "status_label": lambda v: enum_label(project_pb2.ProjectStatus, v, "PROJECT_STATUS_"),
    "role_label": lambda v: enum_label(project_pb2.TeamRole, v, "TEAM_ROLE_"),
    "band_label": lambda v: enum_label(mpb.DoraBand, v, "DORA_BAND_") if v else "no data",
}


async def _glance(b: Backend, project_id: str, kw: dict[str, Any]) -> tuple[Any, ...]:
    """Team, metric names, velocity, DORA, the latest prediction and recommendations, at once."""
    now = datetime.now(UTC)
    return await asyncio.gather(
        b.registry.ListTeamMembers(
            rpb.ListTeamMembersRequest(project_id=project_id, include_former=True, page_size=200),
            **kw,
        ),
        b.metrics.ListMetricNames(mpb.ListMetricNamesRequest(project_id=project_id), **kw),
        b.metrics.GetVelocity(
            mpb.GetVelocityRequest(
                project_id=project_id,
                start_time=_stamp(now - timedelta(weeks=VELOCITY_WEEKS)),
                end_time=_stamp(now),
                granularity=mpb.GRANULARITY_WEEK,
            ),
            **kw,
        ),
        b.metrics.GetDoraMetrics(
            mpb.GetDoraMetricsRequest(
                project_id=project_id,
                start_time=_stamp(now - timedelta(days=DORA_DAYS)),
                end_time=_stamp(now),
            ),
            **kw,
        ),
        maybe(
            b.prediction.ListPredictions(
                ppb.ListPredictionsRequest(project_id=project_id, page_size=1), **kw
            )
        ),
        maybe(
            b.registry.RecommendArtifacts(
                rpb.RecommendArtifactsRequest(project_id=project_id, max_results=5), **kw
            )
        ),
    )


async def _charts(
    request: Request, project_id: str, names: list[str], kw: dict[str, Any]
) -> list[dict[str, Any]]:
    """For each metric: its series (for the chart) and its summary (for the figures)."""
    if not names:
        return []
    b = backend(request)
    summary_call = b.metrics.GetMetricSummary(
        mpb.GetMetricSummaryRequest(project_id=project_id, names=names), **kw
    )
    # A few series at a time: one page view should not hold most of the
    # server's store connections at once.
    gate = asyncio.Semaphore(SERIES_AT_ONCE)

    async def one(name: str) -> mpb.GetMetricSeriesResponse:
        async with gate:
            ask = mpb.GetMetricSeriesRequest(
                project_id=project_id, name=name, max_points=SERIES_POINTS
            )
            found: mpb.GetMetricSeriesResponse = await b.metrics.GetMetricSeries(ask, **kw)
            return found

    series_calls = [one(name) for name in names]
    summary = await summary_call
    series = list(await asyncio.gather(*series_calls))
    by_name = {s.name: s for s in summary.summaries}
    charts = []
    for n, (name, found) in enumerate(zip(names, series, strict=True)):
        data = {
            "name": name,
            "t": [p.time.ToMicroseconds() / 1e6 for p in found.points],
            "v": [p.value for p in found.points],
        }
        charts.append(
            {
                "id": f"chart-{n}",
                "name": name,
                "summary": by_name.get(name),
                "data": json.dumps(data, separators=(",", ":")),
                "bucketed": found.bucketed,
                "total": found.total_count,
            }
        )
    return charts


def _contributions(prediction: Any) -> list[dict[str, Any]]:
    """The largest contributions, as bars of an SVG chart (no inline style: CSP)."""
    if prediction is None:
        return []
    top = sorted(prediction.contributions, key=lambda c: -abs(c.contribution))[:CONTRIBUTIONS]
    widest = max((abs(c.contribution) for c in top), default=0.0) or 1.0
    return [
        {
            "feature": c.feature,
            "value": c.value,
            "missing": c.missing,
            "contribution": c.contribution,
            "width": round(150 * abs(c.contribution) / widest, 1),
            "up": c.contribution >= 0,
        }
        for c in top
    ]


async def predict(request: Request) -> Response:
    """Ask for a new prediction (stored, like any PredictSuccess), then show the project."""
    project_id = _project_id(request)
    if project_id is None:
        return not_found_page(request)
    form = await request.form()
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return forbidden(request)
    try:
        await backend(request).prediction.PredictSuccess(
            ppb.PredictSuccessRequest(project_id=project_id),
            metadata=metadata(session_token(request)),
            timeout=backend(request).timeout * 3,
        )
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
            raise
        context = {
            "title": "No prediction yet",
            "detail": error.details() or "",
            "code": error.code().name,
        }
        return render(request, "error.html", context, status=409)
    return RedirectResponse(f"/projects/{project_id}#prediction", status_code=303)
