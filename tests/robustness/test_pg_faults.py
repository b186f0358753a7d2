"""PostgreSQL stopped under open streams: UNAVAILABLE, then nothing lost or doubled (#18, 10).

Before, `the database system is shutting down` (SQLSTATE 57P03, wrapped by
SQLAlchemy) and the admin-shutdown errors ended an open StreamMetrics with
INTERNAL. They mean the store is unreachable for now: UNAVAILABLE with a
retry delay, as the proto documents; the agent reopens once the database is
back and resumes after what was acked.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import grpc
import grpc.aio
import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.clock import utcnow
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.server import RunningServer, start_server
from tests.conftest import server_settings
from tests.helpers import error_info
from tests.metrics.conftest import make_project
from tests.metrics.helpers import (
    BASE_US,
    StreamCall,
    columns,
    next_message,
    read_to_end,
    stream,
)
from tests.pgcluster import Cluster, private_cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

BATCHES = 40
POINTS = 50


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with private_cluster() as started:
        yield started


def _batch(project: str, seq: int) -> ms.StreamMetricsRequest:
    values = [float(seq * 1000 + i) for i in range(POINTS)]
    block = columns(project, values, start_us=BASE_US + seq * POINTS * 1000, step_us=1000)
    return ms.StreamMetricsRequest(
        batch=ms.StreamBatch(sequence=seq, batch=mp.MetricBatch(columns=[block]))
    )


async def _stream_until_refused(
    stub: metrics_service_pb2_grpc.MetricsServiceStub,
    project: str,
    cluster: Cluster,
    mode: str,
) -> tuple[list[int], grpc.aio.AioRpcError]:
    """Stream batches; after ten acks stop the database, send one batch more and read
    on: the acks, and how the call ended.

    Nothing is written after that batch: a grpc.aio client whose write races
    the server's status reports INTERNAL "Internal error from Core" instead of
    that status (grpc/grpc#36066; the agent retries either way). Reading shows
    the status the server sent.
    """
    call = stream(stub)
    await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="agent-pg")))
    window = (await next_message(call)).opened.max_inflight_batches
    acked: list[int] = []
    sent = 0
    try:
        while len(acked) < 10:
            while sent < BATCHES and sent - len(acked) < window:
                sent += 1
                await call.write(_batch(project, sent))
            acked.append((await next_message(call)).ack.sequence)
        await asyncio.to_thread(cluster.stop, mode)
        # One batch more, sent before the server can fail (it fails storing it).
        sent += 1
        await call.write(_batch(project, sent))
        while True:
            acked.append((await next_message(call)).ack.sequence)
    except grpc.aio.AioRpcError as error:
        return acked, error


async def _reopen(
    stub: metrics_service_pb2_grpc.MetricsServiceStub,
) -> tuple[StreamCall, ms.StreamOpened]:
    """Reopen as an agent does: UNAVAILABLE (connections the outage broke) is retried."""
    for _ in range(40):
        call = stream(stub)
        await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="agent-pg")))
        try:
            return call, (await next_message(call)).opened
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            await asyncio.sleep(0.25)
    raise AssertionError("the store did not come back")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_stopped_database_is_unavailable_to_open_streams_and_loses_nothing(
    cluster: Cluster, tmp_path: Path, mode: str
) -> None:
    name = f"faults_{uuid.uuid4().hex[:8]}"
    cluster.execute(f'CREATE DATABASE "{name}"')
    url = cluster.admin_url.rsplit("/", 1)[0] + f"/{name}"
    settings = replace(server_settings(url, tmp_path), migrate_on_start=True)
    running: RunningServer = await start_server(settings)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            project = await make_project(
                registry_service_pb2_grpc.RegistryServiceStub(channel), "faults"
            )
            stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
            acked, error = await _stream_until_refused(stub, project, cluster, mode)
            assert error.code() == grpc.StatusCode.UNAVAILABLE, (error.code(), error.details())
            assert error_info(error).reason == "UNAVAILABLE"

            await asyncio.to_thread(cluster.start)
            call, opened = await _reopen(stub)
            assert opened.committed_sequence >= max(acked)
            for seq in range(opened.committed_sequence + 1, BATCHES + 1):
                await call.write(_batch(project, seq))
            await call.done_writing()
            assert all(not r.ack.duplicate for r in await read_to_end(call))
            assert await call.code() == grpc.StatusCode.OK
        rows = await MetricsReader(running.db).metric_points(
            uuid.UUID(project), None, utcnow() + timedelta(days=1)
        )
        assert sorted(v for _, _, v in rows) == sorted(
            float(seq * 1000 + i) for seq in range(1, BATCHES + 1) for i in range(POINTS)
        )
    finally:
        await running.stop(grace=0.2)
        if not cluster.running():
            cluster.start()
