"""A server killed with SIGKILL mid-stream and restarted: no acked batch lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import grpc
import grpc.aio

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.clock import utcnow
from maestro_grpc.config import Settings
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.store.db import Database
from tests.helpers import eventually_sync, free_port
from tests.metrics.conftest import make_project
from tests.metrics.helpers import BASE_US, columns, next_message, read_to_end, stream

ROOT = Path(__file__).resolve().parents[2]
BATCHES = 60
POINTS = 200


def serve(
    settings: Settings, port: int, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`maestro serve` on `settings` in a process of its own, once it listens."""
    env = dict(os.environ)
    env.update(
        MAESTRO_DATABASE_URL=settings.store_url,
        MAESTRO_DATA_DIR=str(settings.data_dir),
        MAESTRO_HOST="127.0.0.1",
        MAESTRO_PORT=str(port),
        MAESTRO_METRICS_PORT="off",
        MAESTRO_WEB_PORT="off",
        MAESTRO_MIGRATE_ON_START="0",
        MAESTRO_ACCESS_LOG="0",
        MAESTRO_LOG_LEVEL="WARNING",
        MAESTRO_GRACE_SECONDS="0.5",
    )
    env.update(extra_env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "maestro_grpc", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )

    def listening() -> bool:
        if process.poll() is not None:
            raise AssertionError("the server exited at start")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        eventually_sync(listening, "the server listens", within=30)
    except AssertionError:
        process.kill()
        raise
    return process


def batch(project: str, seq: int) -> ms.StreamMetricsRequest:
    values = [float(seq * 1000 + i) for i in range(POINTS)]
    block = columns(project, values, start_us=BASE_US + seq * POINTS * 1000, step_us=1000)
    return ms.StreamMetricsRequest(
        batch=ms.StreamBatch(sequence=seq, batch=mp.MetricBatch(columns=[block]))
    )


async def test_sigkill_mid_stream_loses_no_acked_batch(settings: Settings) -> None:
    port = free_port()
    server = serve(settings, port)
    acked: list[int] = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            project = await make_project(
                registry_service_pb2_grpc.RegistryServiceStub(channel), "killed"
            )
            stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
            call = stream(stub)
            await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="agent-k")))
            opened = (await next_message(call)).opened
            window = opened.max_inflight_batches
            sent = 0
            killed = False
            try:
                while sent < BATCHES:
                    while sent < BATCHES and sent - len(acked) < window:
                        sent += 1
                        await call.write(batch(project, sent))
                    acked.append((await next_message(call)).ack.sequence)
                    if len(acked) == 20 and not killed:
                        # Batches are in flight: kill the server without warning.
                        server.send_signal(signal.SIGKILL)
                        killed = True
            except grpc.aio.AioRpcError as error:
                lost = error.code()
            else:
                lost = grpc.StatusCode.OK
            # A connection that dies under a stream is UNAVAILABLE, or INTERNAL
            # when the transport saw the stream torn mid-frame (which one
            # depends on where the kill lands); either way the call failed.
            assert lost in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)
            assert killed
            assert 20 <= len(acked) < BATCHES
    finally:
        server.kill()
        server.wait(10)

    restarted = serve(settings, port)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
            call = stream(stub)
            await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="agent-k")))
            opened = (await next_message(call)).opened
            # Every acked batch survived the kill.
            assert opened.committed_sequence >= max(acked)
            assert opened.epoch == 2
            for seq in range(opened.committed_sequence + 1, BATCHES + 1):
                await call.write(batch(project, seq))
            await call.done_writing()
            for response in await read_to_end(call):
                assert not response.ack.duplicate
            assert await call.code() == grpc.StatusCode.OK
    finally:
        restarted.terminate()
        restarted.wait(10)

    db = Database(settings.store_url)
    try:
        rows = await MetricsReader(db).metric_points(
            uuid.UUID(project), None, utcnow() + timedelta(days=1)
        )
    finally:
        await db.dispose()
    expected = [float(seq * 1000 + i) for seq in range(1, BATCHES + 1) for i in range(POINTS)]
    assert len(rows) == len(expected)
    assert sum(v for _, _, v in rows) == sum(expected)
