"""WatchMetrics: in process, across two replicas through the real Redis, slow watchers dropped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, cast

import grpc
import grpc.aio
import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.metrics.v1 import process_event_pb2 as pe
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server
from tests.conftest import skip_or_fail, with_settings
from tests.helpers import error_info
from tests.metrics.conftest import make_project
from tests.metrics.helpers import (
    BASE,
    Metrics,
    columns,
    commit,
    ended,
    next_message,
    pipeline,
    point,
    sha,
    stream,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


WatchCall = grpc.aio.UnaryStreamCall[ms.WatchMetricsRequest, ms.WatchMetricsResponse]


async def received(watch: WatchCall) -> ms.WatchMetricsResponse:
    """The watch's next message (within 10 s)."""
    return await asyncio.wait_for(next_message(watch), 10)


async def first(watch: WatchCall) -> None:
    """The watch's empty first message: it is in place."""
    assert await received(watch) == ms.WatchMetricsResponse()


async def drain(watch: WatchCall) -> None:
    """Read until the call ends (with an error)."""
    while not await asyncio.wait_for(ended(watch), 10):
        pass


async def record(stub: Metrics, **batch: Any) -> None:
    await stub.RecordMetrics(ms.RecordMetricsRequest(batch=mp.MetricBatch(**batch)))


async def test_watch_in_process_with_filters(metrics: Metrics, project: str) -> None:
    everything = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
    ci_only = metrics.WatchMetrics(
        ms.WatchMetricsRequest(project_id=project, name_prefixes=["ci."])
    )
    commits_only = metrics.WatchMetrics(
        ms.WatchMetricsRequest(project_id=project, event_types=[pe.EVENT_TYPE_COMMIT])
    )
    for watch in (everything, ci_only, commits_only):
        await first(watch)
    await record(
        metrics,
        columns=[
            columns(
                project,
                [1.0, 2.0],
                names=("ci.duration_seconds", "mlflow.loss"),
                name_indexes=[0, 1],
                label_sets=[{"runner": "a"}],
                label_set_indexes=[0, 0],
            )
        ],
        events=[
            commit(project, sha(1), BASE),
            pipeline(project, "9", pe.PIPELINE_STATUS_RUNNING, BASE),
        ],
    )
    got = await received(everything)
    assert [(p.name, p.value, dict(p.labels)) for p in got.points] == [
        ("ci.duration_seconds", 1.0, {"runner": "a"}),
        ("mlflow.loss", 2.0, {"runner": "a"}),
    ]
    assert got.points[0].time.ToDatetime().replace(tzinfo=BASE.tzinfo) == BASE
    assert got.points[0].source == mp.METRIC_SOURCE_CI
    assert [e.WhichOneof("kind") for e in got.events] == ["commit", "pipeline_run"]
    assert got.events[1].pipeline_run.status == pe.PIPELINE_STATUS_RUNNING
    ci = await received(ci_only)
    assert [p.name for p in ci.points] == ["ci.duration_seconds"]
    assert list(ci.events) == []
    commits = await received(commits_only)
    assert list(commits.points) == []
    assert [e.commit.sha for e in commits.events] == [sha(1)]
    # Another project's writes are not seen.
    for watch in (everything, ci_only, commits_only):
        watch.cancel()


async def test_watch_bad_requests(metrics: Metrics, project: str) -> None:
    call = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id="nope"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    call = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=str(uuid.uuid4())))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    call = metrics.WatchMetrics(
        ms.WatchMetricsRequest(project_id=project, event_types=[cast("pe.EventType", 42)])
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_slow_watcher_is_dropped_not_ingest(settings: Settings) -> None:
    running = await start_server(with_settings(settings, metrics_watch_queue=2))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            project = await make_project(
                registry_service_pb2_grpc.RegistryServiceStub(channel), "slow"
            )
            stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
            watch = stub.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
            await first(watch)
            # The watcher reads nothing while 40 batches of 2,000 points go in.
            for i in range(40):
                await asyncio.wait_for(
                    record(
                        stub,
                        columns=[columns(project, [float(i)] * 2000, start_us=10**15 + i * 10**10)],
                    ),
                    10,
                )
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await drain(watch)
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert error_info(caught.value).reason == "WATCHER_TOO_SLOW"
    finally:
        await running.stop(grace=0.2)


# ---- two replicas through Redis ---------------------------------------------------


@pytest.fixture
def redis_settings(settings: Settings) -> Settings:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        skip_or_fail(f"no Redis answers at {REDIS_URL}: {error}")
    return with_settings(
        settings, redis_url=REDIS_URL, events_prefix=f"maestro-test-{uuid.uuid4().hex}:"
    )


@pytest.fixture
async def replicas(redis_settings: Settings) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    a = await start_server(redis_settings)
    b = await start_server(redis_settings)
    try:
        yield a, b
    finally:
        await a.stop(grace=0.2)
        await b.stop(grace=0.2)


async def test_watch_across_replicas_through_redis(
    replicas: tuple[RunningServer, RunningServer],
) -> None:
    a, b = replicas
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{a.port}") as channel_a,
        grpc.aio.insecure_channel(f"127.0.0.1:{b.port}") as channel_b,
    ):
        project = await make_project(
            registry_service_pb2_grpc.RegistryServiceStub(channel_a), "replicated"
        )
        on_a = metrics_service_pb2_grpc.MetricsServiceStub(channel_a)
        on_b = metrics_service_pb2_grpc.MetricsServiceStub(channel_b)
        watchers = [
            on_a.WatchMetrics(ms.WatchMetricsRequest(project_id=project)),
            on_b.WatchMetrics(ms.WatchMetricsRequest(project_id=project)),
        ]
        for watch in watchers:
            await first(watch)
        await record(on_b, points=[point(project, "x.y", 3.5, BASE + timedelta(seconds=1))])
        for watch in watchers:
            got = await received(watch)
            assert [(p.name, p.value) for p in got.points] == [("x.y", 3.5)]
        # A producer reopening on the other replica ends its older stream there.
        old = stream(on_a)
        await old.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="agent-r")))
        assert (await next_message(old)).opened.epoch == 1
        new = stream(on_b)
        await new.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="agent-r")))
        assert (await next_message(new)).opened.epoch == 2
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await asyncio.wait_for(old.read(), 10)
        assert caught.value.code() == grpc.StatusCode.ABORTED
        await new.done_writing()
        for watch in watchers:
            watch.cancel()


async def test_watch_without_redis_reads_the_store(settings: Settings) -> None:
    # Nothing listens on port 1: the bus cannot connect.
    running = await start_server(
        with_settings(
            settings,
            redis_url="redis://127.0.0.1:1/0",
            events_prefix="x:",
            metrics_watch_poll_seconds=0.1,
        )
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            project = await make_project(
                registry_service_pb2_grpc.RegistryServiceStub(channel), "no-redis"
            )
            stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
            call = stub.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
            assert (await received(call)).sequence == 0
            # Writes go on, and the watcher receives them from the store.
            response = await stub.RecordMetrics(
                ms.RecordMetricsRequest(
                    batch=mp.MetricBatch(points=[point(project, "a", 1.0, BASE)])
                )
            )
            assert response.stored_points == 1
            got = await received(call)
            assert (got.sequence, [p.value for p in got.points]) == (1, [1.0])
            call.cancel()
    finally:
        await running.stop(grace=0.2)


# ---- sequences and resuming ---------------------------------------------------------


async def test_a_watch_resumes_after_the_last_sequence_it_received(
    metrics: Metrics, project: str
) -> None:
    watch = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
    assert (await received(watch)).sequence == 0
    await record(metrics, points=[point(project, "a", 1.0, BASE)])
    assert (await received(watch)).sequence == 1
    watch.cancel()
    # Written while nobody watched.
    for n in (2, 3):
        await record(metrics, points=[point(project, "a", float(n), BASE + timedelta(seconds=n))])
    resumed = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=project, after_sequence=1))
    assert (await received(resumed)).sequence == 1
    await record(metrics, points=[point(project, "a", 4.0, BASE + timedelta(seconds=4))])
    got = [await received(resumed) for _ in range(3)]
    assert [(m.sequence, [p.value for p in m.points]) for m in got] == [
        (2, [2.0]),
        (3, [3.0]),
        (4, [4.0]),
    ]
    # A watch from now starts after the latest write.
    late = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
    assert (await received(late)).sequence == 4
    for call in (resumed, late):
        call.cancel()


async def test_a_resume_point_the_feed_does_not_hold_is_out_of_range(
    metrics: Metrics, project: str, settings: Settings
) -> None:
    from maestro_grpc.clock import utcnow
    from maestro_grpc.metrics.store.feed import FeedStore
    from maestro_grpc.store.db import Database

    for n in range(3):
        await record(metrics, points=[point(project, "a", float(n), BASE + timedelta(seconds=n))])
    past = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=project, after_sequence=9))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await past.read()
    assert caught.value.code() == grpc.StatusCode.OUT_OF_RANGE
    info = error_info(caught.value)
    assert info.reason == "WATCH_SEQUENCE_OUT_OF_RANGE"
    assert (info.metadata["first_sequence"], info.metadata["last_sequence"]) == ("1", "3")
    # Once the feed's retention has trimmed them, the old entries are gone.
    db = Database(settings.store_url)
    try:
        assert await FeedStore(db).trim(utcnow() + timedelta(minutes=1)) == 3
    finally:
        await db.dispose()
    gone = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=project, after_sequence=1))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await gone.read()
    assert caught.value.code() == grpc.StatusCode.OUT_OF_RANGE
    # The head is always a valid resume point, held entries or not.
    at_head = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=project, after_sequence=3))
    assert (await received(at_head)).sequence == 3
    at_head.cancel()
    negative = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=project, after_sequence=-1))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await negative.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_batches_committed_together_are_one_write_with_one_sequence(
    metrics: Metrics, project: str
) -> None:
    watch = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
    start = (await received(watch)).sequence
    # A stream's window of batches: some of them share a transaction.
    call = stream(metrics)
    await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="agent-seq")))
    await next_message(call)
    for seq in range(1, 9):
        block = columns(project, [float(seq)], start_us=10**15 + seq * 10**6)
        await call.write(
            ms.StreamMetricsRequest(
                batch=ms.StreamBatch(sequence=seq, batch=mp.MetricBatch(columns=[block]))
            )
        )
    await call.done_writing()
    while not await ended(call):
        pass
    values: list[float] = []
    sequences: list[int] = []
    while len(values) < 8:
        message = await received(watch)
        values.extend(p.value for p in message.points)
        sequences.append(message.sequence)
    assert sorted(values) == [float(n) for n in range(1, 9)]
    assert sequences == list(range(start + 1, start + 1 + len(sequences)))
    watch.cancel()
