"""Builders of metric batches for the tests, and typed reads of streaming calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import grpc.aio

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.metrics.v1 import process_event_pb2 as pe
from maestro.registry.v1 import registry_service_pb2_grpc
from tests.helpers import ts

Metrics = metrics_service_pb2_grpc.MetricsServiceStub
Registry = registry_service_pb2_grpc.RegistryServiceStub
R = TypeVar("R")
# grpc-stubs types read() as `object | R` and has no EOF: one place knows both.
EOF: object = grpc.aio.EOF  # type: ignore[attr-defined]
StreamingCall = grpc.aio.StreamStreamCall[Any, R] | grpc.aio.UnaryStreamCall[Any, R]


StreamCall = grpc.aio.StreamStreamCall[ms.StreamMetricsRequest, ms.StreamMetricsResponse]


def stream(metrics: Metrics) -> StreamCall:
    """A StreamMetrics call the test writes to itself (grpc-stubs wants an iterator)."""
    return metrics.StreamMetrics(None)


async def next_message(call: StreamingCall[R]) -> R:
    """The call's next message (the stream must not have ended)."""
    message = await call.read()
    assert message is not EOF, "the stream ended"
    return cast(R, message)


async def read_to_end(call: StreamingCall[R]) -> list[R]:
    """Every message left on the call, until it ends."""
    out: list[R] = []
    while (message := await call.read()) is not EOF:
        out.append(cast(R, message))
    return out


async def ended(call: StreamingCall[Any]) -> bool:
    """Whether the call's next read is the end of the stream."""
    return await call.read() is EOF


BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE_US = int(BASE.timestamp()) * 1_000_000


def columns(
    project: str,
    values: list[float],
    *,
    names: tuple[str, ...] = ("ci.duration_seconds",),
    start_us: int = BASE_US,
    step_us: int = 1_000_000,
    name_indexes: list[int] | None = None,
    label_sets: list[dict[str, str]] | None = None,
    label_set_indexes: list[int] | None = None,
    source: mp.MetricSource = mp.METRIC_SOURCE_CI,
) -> mp.MetricColumns:
    block = mp.MetricColumns(
        project_id=project,
        source=source,
        names=list(names),
        name_indexes=name_indexes if name_indexes is not None else [0] * len(values),
        values=values,
        times_unix_micros=[start_us + i * step_us for i in range(len(values))],
    )
    for labels in label_sets or []:
        block.label_sets.add().labels.update(labels)
    if label_set_indexes is not None:
        block.label_set_indexes.extend(label_set_indexes)
    return block


def point(
    project: str, name: str, value: float, when: datetime | str, **labels: str
) -> mp.MetricPoint:
    return mp.MetricPoint(project_id=project, name=name, value=value, time=ts(when), labels=labels)


def commit(
    project: str, sha: str, when: datetime | str, repo: str = "github.com/acme/app", **kw: Any
) -> pe.ProcessEvent:
    return pe.ProcessEvent(
        project_id=project,
        commit=pe.Commit(repo=repo, sha=sha, author_time=ts(when), **kw),
    )


def pipeline(
    project: str,
    run_id: str,
    status: pe.PipelineStatus,
    start: datetime | str,
    end: datetime | str | None = None,
) -> pe.ProcessEvent:
    run = pe.PipelineRun(
        provider="github-actions", run_id=run_id, status=status, start_time=ts(start)
    )
    if end is not None:
        run.end_time.CopyFrom(ts(end))
    return pe.ProcessEvent(project_id=project, pipeline_run=run)


def deployment(
    project: str,
    deployment_id: str,
    when: datetime | str,
    shas: list[str],
    *,
    status: pe.DeploymentStatus = pe.DEPLOYMENT_STATUS_SUCCEEDED,
    environment: str = "production",
) -> pe.ProcessEvent:
    return pe.ProcessEvent(
        project_id=project,
        deployment=pe.Deployment(
            deployment_id=deployment_id,
            environment=environment,
            status=status,
            deploy_time=ts(when),
            commit_shas=shas,
            repo="github.com/acme/app",
        ),
    )


def incident(
    project: str,
    incident_id: str,
    opened: datetime | str,
    resolved: datetime | str | None = None,
    caused_by: str = "",
) -> pe.ProcessEvent:
    inc = pe.Incident(
        incident_id=incident_id, open_time=ts(opened), caused_by_deployment_id=caused_by
    )
    if resolved is not None:
        inc.resolve_time.CopyFrom(ts(resolved))
    return pe.ProcessEvent(project_id=project, incident=inc)


def pull_request(
    project: str,
    number: int,
    *,
    state: pe.PullRequestState,
    opened: datetime | str,
    merged: datetime | str | None = None,
    first_commit: datetime | str | None = None,
    merge_sha: str = "",
    shas: tuple[str, ...] = (),
) -> pe.ProcessEvent:
    pr = pe.PullRequest(
        repo="github.com/acme/app",
        number=number,
        state=state,
        open_time=ts(opened),
        merge_commit_sha=merge_sha,
        commit_shas=list(shas),
    )
    if merged is not None:
        pr.merge_time.CopyFrom(ts(merged))
    if first_commit is not None:
        pr.first_commit_time.CopyFrom(ts(first_commit))
    return pe.ProcessEvent(project_id=project, pull_request=pr)


def sha(n: int) -> str:
    return f"{n:040x}"
