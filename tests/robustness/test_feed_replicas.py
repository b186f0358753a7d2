"""Three replicas, one dies between a commit and its publish: no watcher misses it (issue #18, 14).

Three `maestro serve` processes share one PostgreSQL database and one
Redis (the test's own). Replica A runs with the fault hook of
`maestro_grpc/faults.py`: it ends itself, as SIGKILL would, where it would
publish its third live-feed message, so that write is committed (and
perhaps acked) and no replica heard of it from A. The producer streaming to
A reconnects to B and resumes; the watchers on B and C must receive every
point exactly once, in the project's feed sequence.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path

import grpc
import grpc.aio
import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.faults import EXIT_AT_FEED_PUBLISH, EXIT_STATUS
from tests.conftest import _truncate_pg, server_settings
from tests.helpers import free_port
from tests.metrics.conftest import make_project
from tests.metrics.helpers import next_message, read_to_end, stream
from tests.metrics.test_kill import serve
from tests.robustness.redis_process import RedisProcess, private_redis
from tests.robustness.test_bus_faults import POINTS, block, collect, stored_values, values_of

__all__ = ["private_redis"]
pytestmark = pytest.mark.postgres

BATCHES = 60


async def test_a_replica_killed_between_commit_and_publish_loses_no_watch_message(
    pg_url: str, private_redis: RedisProcess, tmp_path: Path
) -> None:
    _truncate_pg(pg_url)
    settings = server_settings(pg_url, tmp_path)
    shared = {
        "MAESTRO_REDIS_URL": private_redis.url,
        "MAESTRO_EVENTS_PREFIX": f"test-{uuid.uuid4().hex}:",
        "MAESTRO_METRICS_WATCH_POLL_SECONDS": "0.2",
    }
    ports = [free_port() for _ in range(3)]
    a = serve(settings, ports[0], {**shared, EXIT_AT_FEED_PUBLISH: "3"})
    b = serve(settings, ports[1], shared)
    c = serve(settings, ports[2], shared)
    try:
        await _kill_and_resume(a, ports, settings)
    finally:
        for process in (a, b, c):
            process.kill()
            process.wait(10)


async def _kill_and_resume(a: subprocess.Popen[bytes], ports: list[int], settings: object) -> None:
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{ports[0]}") as to_a,
        grpc.aio.insecure_channel(f"127.0.0.1:{ports[1]}") as to_b,
        grpc.aio.insecure_channel(f"127.0.0.1:{ports[2]}") as to_c,
    ):
        project = await make_project(registry_service_pb2_grpc.RegistryServiceStub(to_b), "kill")
        on_a, on_b, on_c = (
            metrics_service_pb2_grpc.MetricsServiceStub(ch) for ch in (to_a, to_b, to_c)
        )
        watchers = [
            s.WatchMetrics(ms.WatchMetricsRequest(project_id=project)) for s in (on_b, on_c)
        ]
        starts = [(await asyncio.wait_for(next_message(w), 30)).sequence for w in watchers]

        acked = await _stream_until_killed(on_a, project)
        assert a.wait(30) == EXIT_STATUS, "replica A did not die at its publish"

        # The producer reconnects to B and resumes after what is committed.
        call = stream(on_b)
        await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="agent-kill")))
        opened = (await asyncio.wait_for(next_message(call), 30)).opened
        assert opened.committed_sequence >= len(acked)
        for seq in range(opened.committed_sequence + 1, BATCHES + 1):
            batch = mp.MetricBatch(columns=[block(project, seq)])
            await call.write(
                ms.StreamMetricsRequest(batch=ms.StreamBatch(sequence=seq, batch=batch))
            )
        await call.done_writing()
        await asyncio.wait_for(read_to_end(call), 30)
        assert await call.code() == grpc.StatusCode.OK

        for watch, start in zip(watchers, starts, strict=True):
            got, sequences = await collect(watch, BATCHES * POINTS)
            assert got == values_of(range(1, BATCHES + 1))
            # Every write since the watch began, each once, in the feed's order.
            assert sequences == list(range(start + 1, start + 1 + len(sequences)))
            watch.cancel()
    assert await stored_values(settings, project) == values_of(range(1, BATCHES + 1))  # type: ignore[arg-type]


async def _stream_until_killed(
    stub: metrics_service_pb2_grpc.MetricsServiceStub, project: str
) -> list[int]:
    """Stream every batch to A, windowed, until A dies under the call; the sequences acked."""
    call = stream(stub)
    await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="agent-kill")))
    window = (await asyncio.wait_for(next_message(call), 30)).opened.max_inflight_batches
    acked: list[int] = []
    sent = 0
    try:
        while True:
            while sent < BATCHES and sent - len(acked) < window:
                sent += 1
                batch = mp.MetricBatch(columns=[block(project, sent)])
                await call.write(
                    ms.StreamMetricsRequest(batch=ms.StreamBatch(sequence=sent, batch=batch))
                )
            acked.append((await asyncio.wait_for(next_message(call), 30)).ack.sequence)
    except grpc.aio.AioRpcError as error:
        lost = error.code()
    # A connection that dies under a stream is UNAVAILABLE (INTERNAL when
    # the transport saw a frame torn).
    assert lost in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)
    assert len(acked) < BATCHES
    return acked
