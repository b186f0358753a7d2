"""The streaming client against an in-process server: renumbering and splitting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maestro.metrics.v1 import metric_pb2
from maestro.registry.v1 import project_pb2, registry_service_pb2
from maestro_grpc.agent.client import DeliveryFailed, Feed, Streamer
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.agent.spool import Spool
from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server
from tests.helpers import ts


@pytest.fixture
async def small_server(settings: Settings) -> AsyncIterator[RunningServer]:
    """A server that takes at most 3 rows per batch."""
    running = await start_server(replace(settings, metrics_max_batch_rows=3))
    try:
        yield running
    finally:
        await running.stop(grace=0.2)


def points(project: str, start: int, n: int) -> metric_pb2.MetricBatch:
    batch = metric_pb2.MetricBatch()
    for i in range(start, start + n):
        batch.points.add(
            project_id=project,
            name="agent.test",
            value=float(i),
            time=ts(datetime(2025, 1, 1, tzinfo=UTC).replace(minute=i % 60, hour=i // 60)),
        )
    return batch


async def make_project(server: RunningServer) -> str:
    import grpc.aio

    from maestro.registry.v1 import registry_service_pb2_grpc

    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
        reply = await stub.CreateProject(
            registry_service_pb2.CreateProjectRequest(project=project_pb2.Project(name="c"))
        )
    return str(reply.project.id)


async def test_reused_producer_id_and_small_batches(
    small_server: RunningServer, tmp_path: Path
) -> None:
    project = await make_project(small_server)
    agent = AgentSettings(address=f"127.0.0.1:{small_server.port}", deadline_seconds=20)
    # A first state dir sends 7 rows as batches of 5 and 2: split to 3+2+2.
    first = Spool(tmp_path / "a")
    first.append([points(project, 0, 5), points(project, 5, 2)])
    report = await Streamer(first, agent, "shared-producer").run(Feed.finished())
    assert (report.rows_acked, report.stored_points, report.renumbered) == (7, 7, 1)
    assert first.acked_sequence == 3
    # A new state dir reusing the producer id numbers from 1 again: its batches
    # are renumbered after the server's committed 3 instead of being taken
    # for duplicates (which would lose them).
    second = Spool(tmp_path / "b")
    second.append([points(project, 100, 2)])
    report = await Streamer(second, agent, "shared-producer").run(Feed.finished())
    assert (report.rows_acked, report.stored_points, report.duplicate_batches) == (2, 2, 0)
    assert second.acked_sequence == 4


async def test_invalid_producer_id_is_fatal(small_server: RunningServer, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s")
    spool.append([points("00000000-0000-4000-8000-000000000000", 0, 1)])
    agent = AgentSettings(address=f"127.0.0.1:{small_server.port}", deadline_seconds=20)
    with pytest.raises(DeliveryFailed, match="INVALID_ARGUMENT"):
        await Streamer(spool, agent, "bad producer id!").run(Feed.finished())
    assert len(spool.pending()) == 1
