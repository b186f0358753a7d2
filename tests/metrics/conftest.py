"""Fixtures of the Metrics tests: a stub on the real server, projects to write to."""

from __future__ import annotations

import grpc.aio
import pytest

from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.registry.v1 import project_pb2
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.metrics.helpers import Registry


@pytest.fixture
def metrics(channel: grpc.aio.Channel) -> metrics_service_pb2_grpc.MetricsServiceStub:
    return metrics_service_pb2_grpc.MetricsServiceStub(channel)


async def make_project(registry: Registry, name: str) -> str:
    response = await registry.CreateProject(
        rs.CreateProjectRequest(project=project_pb2.Project(name=name))
    )
    return str(response.project.id)


@pytest.fixture
async def project(registry: Registry) -> str:
    return await make_project(registry, "metrics-project")
