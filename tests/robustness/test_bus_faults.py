"""Redis stopped or frozen under a real server: ingest, streams and watches go on (issue #18, 11).

Each test runs its own redis-server (`redis_process.py`) and stops or
freezes that one. A write never waits on the bus, a stream opens without
it, and a watcher receives every write, in sequence, whatever the bus did
meanwhile: what the bus did not bring, the watcher's server reads from the
store's feed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
import grpc.aio
import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.clock import utcnow
from maestro_grpc.config import Settings
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.server import RunningServer, start_server
from maestro_grpc.store.db import Database
from tests.conftest import with_settings
from tests.metrics.conftest import make_project
from tests.metrics.helpers import BASE_US, Metrics, columns, next_message, read_to_end, stream
from tests.robustness.redis_process import RedisProcess, private_redis

__all__ = ["private_redis"]

# A hang guard for each call, far above anything the server waits for: a
# call that would wait on the frozen bus fails here instead of passing late.
CALL = 30.0
POINTS = 50

WatchCall = grpc.aio.UnaryStreamCall[ms.WatchMetricsRequest, ms.WatchMetricsResponse]


def block(project: str, n: int) -> mp.MetricColumns:
    """Write number n: POINTS points whose values say which write they came from."""
    values = [float(n * 1000 + i) for i in range(POINTS)]
    return columns(project, values, start_us=BASE_US + n * POINTS * 1000, step_us=1000)


def values_of(writes: range | list[int]) -> list[float]:
    return sorted(float(n * 1000 + i) for n in writes for i in range(POINTS))


@pytest.fixture
async def bus_server(
    settings: Settings, private_redis: RedisProcess
) -> AsyncIterator[RunningServer]:
    running = await start_server(
        with_settings(
            settings,
            redis_url=private_redis.url,
            events_prefix=f"test-{uuid.uuid4().hex}:",
            # A bus that waits this long would hang every test below.
            events_timeout_seconds=3600.0,
            metrics_watch_poll_seconds=0.2,
        )
    )
    try:
        yield running
    finally:
        await running.stop(grace=0.2)


async def stored_values(settings: Settings, project: str) -> list[float]:
    db = Database(settings.store_url)
    try:
        rows = await MetricsReader(db).metric_points(
            uuid.UUID(project), None, utcnow() + timedelta(days=3650)
        )
    finally:
        await db.dispose()
    return sorted(v for _, _, v in rows)


async def stream_writes(stub: Metrics, producer: str, project: str, writes: range) -> int:
    """Open a stream, send the writes as consecutive batches, end it; the epoch it had."""
    call = stream(stub)
    await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id=producer)))
    opened = (await asyncio.wait_for(next_message(call), CALL)).opened
    first = opened.committed_sequence + 1
    for offset, n in enumerate(writes):
        batch = mp.MetricBatch(columns=[block(project, n)])
        await call.write(
            ms.StreamMetricsRequest(batch=ms.StreamBatch(sequence=first + offset, batch=batch))
        )
    await call.done_writing()
    acks = await asyncio.wait_for(read_to_end(call), CALL)
    assert [a.ack.sequence for a in acks] == list(range(first, first + len(writes)))
    assert all(a.ack.stored_points == POINTS for a in acks)
    assert await call.code() == grpc.StatusCode.OK
    return opened.epoch


async def record(stub: Metrics, project: str, n: int, request_id: str = "") -> None:
    response = await stub.RecordMetrics(
        ms.RecordMetricsRequest(
            batch=mp.MetricBatch(columns=[block(project, n)]), request_id=request_id
        ),
        timeout=CALL,
    )
    assert response.stored_points == POINTS


async def collect(watch: WatchCall, expected: int) -> tuple[list[float], list[int]]:
    """Read the watch until `expected` points came: their values and the messages' sequences."""
    got: list[float] = []
    sequences: list[int] = []
    while len(got) < expected:
        try:
            message = await asyncio.wait_for(next_message(watch), 15)
        except TimeoutError:
            raise AssertionError(f"the watcher received {len(got)} of {expected} points") from None
        got.extend(p.value for p in message.points)
        sequences.append(message.sequence)
    return sorted(got), sequences


async def test_streams_open_and_ingest_while_redis_is_down(
    bus_server: RunningServer, private_redis: RedisProcess, settings: Settings
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{bus_server.port}") as channel:
        project = await make_project(
            registry_service_pb2_grpc.RegistryServiceStub(channel), "redis-down"
        )
        stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        watch = stub.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
        start = await asyncio.wait_for(next_message(watch), CALL)
        private_redis.stop()
        # An agent that connects, and one that reconnects, during the outage.
        assert await stream_writes(stub, "agent-down", project, range(1, 4)) == 1
        assert await stream_writes(stub, "agent-down", project, range(4, 6)) == 2
        await record(stub, project, 6, request_id="once")
        await record(stub, project, 6, request_id="once")  # a retry: stored once
        # The watch goes on from the store, in sequence.
        got, sequences = await collect(watch, 6 * POINTS)
        assert got == values_of(range(1, 7))
        assert sequences == list(range(start.sequence + 1, start.sequence + 1 + len(sequences)))
        # Redis back: the bus carries the feed again.
        private_redis.start()
        await stream_writes(stub, "agent-down", project, range(7, 9))
        got, _ = await collect(watch, 2 * POINTS)
        assert got == values_of(range(7, 9))
        watch.cancel()
    assert await stored_values(settings, project) == values_of(range(1, 9))


async def test_watch_sees_every_write_while_redis_is_frozen(
    bus_server: RunningServer, private_redis: RedisProcess, settings: Settings
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{bus_server.port}") as channel:
        project = await make_project(
            registry_service_pb2_grpc.RegistryServiceStub(channel), "redis-frozen"
        )
        stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        watch = stub.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
        await asyncio.wait_for(next_message(watch), CALL)
        await record(stub, project, 1)
        got, _ = await collect(watch, POINTS)
        assert got == values_of([1])
        private_redis.freeze()
        try:
            # Writes while the bus answers nothing: none of them waits on it.
            await record(stub, project, 2, request_id="frozen-2")
            await record(stub, project, 3)
            await stream_writes(stub, "agent-frozen", project, range(4, 8))
            # A watcher that starts now is in place, and sees what follows.
            late = stub.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
            await asyncio.wait_for(next_message(late), CALL)
            await record(stub, project, 8, request_id="frozen-8")
            got, _ = await collect(watch, 7 * POINTS)
            assert got == values_of(range(2, 9))
            got, _ = await collect(late, POINTS)
            assert got == values_of([8])
        finally:
            private_redis.thaw()
        await stream_writes(stub, "agent-frozen", project, range(9, 11))
        got, _ = await collect(watch, 2 * POINTS)
        assert got == values_of(range(9, 11))
        for call in (watch, late):
            call.cancel()
    assert await stored_values(settings, project) == values_of(range(1, 11))


AGENTS = 3
PHASES = 5
PER_PHASE = 8


async def test_agents_stream_through_redis_stopped_restarted_frozen_and_thawed(
    bus_server: RunningServer, private_redis: RedisProcess, settings: Settings
) -> None:
    """Streams stay open across every fault: all acked OK, stored once, watched once."""
    faults = [private_redis.stop, private_redis.start, private_redis.freeze, private_redis.thaw]
    phases = [asyncio.Event() for _ in range(PHASES)]
    sent = [0] * PHASES
    progress = asyncio.Condition()
    each = PHASES * PER_PHASE

    async def agent(stub: Metrics, project: str, k: int) -> list[int]:
        call = stream(stub)
        await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id=f"agent-{k}")))
        window = (await asyncio.wait_for(next_message(call), CALL)).opened.max_inflight_batches
        acked: list[int] = []
        for phase in range(PHASES):
            await phases[phase].wait()
            for i in range(PER_PHASE):
                seq = phase * PER_PHASE + i + 1
                batch = mp.MetricBatch(columns=[block(project, k * each + seq)])
                await call.write(
                    ms.StreamMetricsRequest(batch=ms.StreamBatch(sequence=seq, batch=batch))
                )
                if seq - len(acked) >= window:
                    acked.append((await asyncio.wait_for(next_message(call), CALL)).ack.sequence)
            # What is in flight stays in flight while the bus fails.
            async with progress:
                sent[phase] += 1
                progress.notify_all()
        await call.done_writing()
        acked.extend(a.ack.sequence for a in await asyncio.wait_for(read_to_end(call), CALL))
        assert await call.code() == grpc.StatusCode.OK
        return acked

    async with grpc.aio.insecure_channel(f"127.0.0.1:{bus_server.port}") as channel:
        project = await make_project(
            registry_service_pb2_grpc.RegistryServiceStub(channel), "redis-faults"
        )
        stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        watch = stub.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
        start = (await asyncio.wait_for(next_message(watch), CALL)).sequence
        agents = [asyncio.create_task(agent(stub, project, k)) for k in range(AGENTS)]
        try:
            phases[0].set()
            for phase, fault in enumerate(faults):
                async with progress:
                    await progress.wait_for(lambda p=phase: sent[p] == AGENTS)  # type: ignore[misc]
                fault()
                phases[phase + 1].set()
            results = await asyncio.wait_for(asyncio.gather(*agents), CALL * 2)
        finally:
            private_redis.thaw()
            for task in agents:
                task.cancel()
        for acked in results:
            assert acked == list(range(1, each + 1))
        got, sequences = await collect(watch, AGENTS * each * POINTS)
        assert got == values_of(range(1, AGENTS * each + 1))
        assert sequences == list(range(start + 1, start + 1 + len(sequences)))
        watch.cancel()
    assert await stored_values(settings, project) == values_of(range(1, AGENTS * each + 1))
