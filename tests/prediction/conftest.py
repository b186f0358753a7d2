"""Fixtures of the Prediction tests: stubs on the real server, projects made through the RPCs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc.aio
import pytest

from maestro.metrics.v1 import metric_pb2, metrics_service_pb2, metrics_service_pb2_grpc
from maestro.prediction.v1 import prediction_service_pb2_grpc
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.clock import to_micros
from tests.helpers import ts

PredictionStub = prediction_service_pb2_grpc.PredictionServiceStub
RegistryStub = registry_service_pb2_grpc.RegistryServiceStub
MetricsStub = metrics_service_pb2_grpc.MetricsServiceStub


@pytest.fixture
def prediction(channel: grpc.aio.Channel) -> PredictionStub:
    return PredictionStub(channel)


@pytest.fixture
def metrics(channel: grpc.aio.Channel) -> MetricsStub:
    return MetricsStub(channel)


async def create_project(
    registry: RegistryStub, name: str, start: datetime | None = None, **fields: Any
) -> str:
    project = pp.Project(name=name, **fields)
    if start is not None:
        project.start_time.CopyFrom(ts(start))
    response = await registry.CreateProject(rs.CreateProjectRequest(project=project))
    return response.project.id


def points_request(
    project_id: str, points: list[tuple[str, datetime, float]]
) -> metrics_service_pb2.RecordMetricsRequest:
    """RecordMetrics of (name, time, value) points of one project, as columns."""
    names = sorted({n for n, _, _ in points})
    index = {n: i for i, n in enumerate(names)}
    return metrics_service_pb2.RecordMetricsRequest(
        batch=metric_pb2.MetricBatch(
            columns=[
                metric_pb2.MetricColumns(
                    project_id=project_id,
                    names=names,
                    name_indexes=[index[n] for n, _, _ in points],
                    values=[v for _, _, v in points],
                    times_unix_micros=[to_micros(t) for _, t, _ in points],
                )
            ]
        )
    )


async def record_points(
    metrics: MetricsStub, project_id: str, points: list[tuple[str, datetime, float]]
) -> None:
    response = await metrics.RecordMetrics(points_request(project_id, points))
    assert not response.rejected, response.rejected


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture(scope="session")
def shared_mlflow(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One MLflow tracking store for the tests that do not check the default location.

    Creating an MLflow database takes seconds (its own migrations), so tests
    that train only to get a model share this one.
    """
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
