"""Hostile field values get the same clear INVALID_ARGUMENT on both stores (#18, items 3-5).

NUL characters were stored by SQLite and refused by PostgreSQL with INTERNAL;
NaN and infinities in a Struct answered INTERNAL; and tags and skills were
de-duplicated one by one against a list before their number was checked, so
20,000 of them stalled the server for seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc.aio
import pytest
from google.protobuf import struct_pb2

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.prediction.v1 import prediction_service_pb2 as ps
from maestro.prediction.v1 import prediction_service_pb2_grpc
from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from tests.helpers import expect_invalid, ts

NUL = "a\x00b"


@pytest.fixture
async def project(registry: registry_service_pb2_grpc.RegistryServiceStub) -> str:
    made = await registry.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="p")))
    return made.project.id


def _struct(value: float) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update({"loss": value, "nested": {"deeper": [1.0, value]}})
    return out


Case = Callable[[grpc.aio.Channel, str], Awaitable[Any]]


def _reg(channel: grpc.aio.Channel) -> registry_service_pb2_grpc.RegistryServiceStub:
    return registry_service_pb2_grpc.RegistryServiceStub(channel)


def _met(channel: grpc.aio.Channel) -> metrics_service_pb2_grpc.MetricsServiceStub:
    return metrics_service_pb2_grpc.MetricsServiceStub(channel)


def _member(skills: list[str]) -> pp.TeamMember:
    return pp.TeamMember(person_id="ada", role=pp.TEAM_ROLE_ANALYST, skills=skills)


CASES: dict[str, tuple[str, Case]] = {
    "project label value": (
        "project.labels['team']",
        lambda ch, p: _reg(ch).CreateProject(
            rs.CreateProjectRequest(project=pp.Project(name="q", labels={"team": NUL}))
        ),
    ),
    "list filter label": (
        "labels['team']",
        lambda ch, p: _reg(ch).ListProjects(rs.ListProjectsRequest(labels={"team": NUL})),
    ),
    "skill": (
        "team_member.skills[0]",
        lambda ch, p: _reg(ch).AddTeamMember(
            rs.AddTeamMemberRequest(project_id=p, team_member=_member([NUL]))
        ),
    ),
    "search query": (
        "query",
        lambda ch, p: _reg(ch).SearchArtifacts(rs.SearchArtifactsRequest(query=NUL)),
    ),
    "metric request id": (
        "request_id",
        lambda ch, p: _met(ch).RecordMetrics(
            ms.RecordMetricsRequest(batch=mp.MetricBatch(), request_id=NUL)
        ),
    ),
    "summary name prefix": (
        "name_prefix",
        lambda ch, p: _met(ch).GetMetricSummary(
            ms.GetMetricSummaryRequest(project_id=p, name_prefix=NUL)
        ),
    ),
    "metric names prefix": (
        "name_prefix",
        lambda ch, p: _met(ch).ListMetricNames(
            ms.ListMetricNamesRequest(project_id=p, name_prefix=NUL)
        ),
    ),
    "candidate skill": (
        "candidates[0].skills[0]",
        lambda ch, p: prediction_service_pb2_grpc.PredictionServiceStub(ch).RecommendTeam(
            ps.RecommendTeamRequest(
                project_id=p,
                candidates=[ps.Candidate(person_id="ada", skills=[NUL], availability=1.0)],
            )
        ),
    ),
    "metadata NaN": (
        "artifact.metadata",
        lambda ch, p: _reg(ch).CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name="m",
                    version="1",
                    type=ap.ARTIFACT_TYPE_MODEL,
                    metadata=_struct(float("nan")),
                )
            )
        ),
    ),
    "metadata infinity": (
        "artifact.metadata",
        lambda ch, p: _reg(ch).CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name="m",
                    version="1",
                    type=ap.ARTIFACT_TYPE_MODEL,
                    metadata=_struct(float("inf")),
                )
            )
        ),
    ),
    "many skills": (
        "team_member.skills",
        lambda ch, p: _reg(ch).AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=p, team_member=_member([f"s{i}" for i in range(100_000)])
            )
        ),
    ),
    "many tags": (
        "artifact.tags",
        lambda ch, p: _reg(ch).CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name="m",
                    version="1",
                    type=ap.ARTIFACT_TYPE_MODEL,
                    tags=[f"t{i}" for i in range(100_000)],
                )
            )
        ),
    ),
    "many labels": (
        "project.labels",
        lambda ch, p: _reg(ch).CreateProject(
            rs.CreateProjectRequest(
                project=pp.Project(name="r", labels={f"k{i}": "v" for i in range(100_000)})
            )
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_hostile_values_are_invalid_argument(
    case: str, channel: grpc.aio.Channel, project: str
) -> None:
    field, call = CASES[case]
    await expect_invalid(call(channel, project), field)


async def test_a_point_label_with_nul_is_refused_as_a_row(
    channel: grpc.aio.Channel, project: str
) -> None:
    point = mp.MetricPoint(
        project_id=project, name="ci.s", value=1.0, time=ts("2026-05-01"), labels={"k": NUL}
    )
    answer = await _met(channel).RecordMetrics(
        ms.RecordMetricsRequest(batch=mp.MetricBatch(points=[point]))
    )
    assert answer.stored_points == 0
    assert [r.field for r in answer.rejected] == ["points[0].labels[k]"]
