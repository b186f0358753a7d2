"""StreamMetrics: the exactly-once protocol through a real server, on both stores."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import grpc
import grpc.aio
import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro_grpc.clock import utcnow
from maestro_grpc.config import Settings
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.server import RunningServer, start_server
from tests.conftest import with_settings
from tests.helpers import error_info
from tests.metrics.conftest import make_project
from tests.metrics.helpers import (
    BASE_US,
    Metrics,
    Registry,
    StreamCall,
    columns,
    commit,
    ended,
    next_message,
    read_to_end,
    sha,
    stream,
)


def open_message(producer: str, project: str = "") -> ms.StreamMetricsRequest:
    return ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id=producer, project_id=project))


def batch_message(
    sequence: int, project: str, values: list[float], offset: int = 0
) -> ms.StreamMetricsRequest:
    return ms.StreamMetricsRequest(
        batch=ms.StreamBatch(
            sequence=sequence,
            batch=mp.MetricBatch(
                columns=[columns(project, values, start_us=BASE_US + offset * 1_000_000)]
            ),
        )
    )


async def opened(call: StreamCall) -> ms.StreamOpened:
    response = await next_message(call)
    assert response.WhichOneof("message") == "opened"
    return response.opened


async def next_ack(call: StreamCall) -> ms.BatchAck:
    return (await next_message(call)).ack


async def read_all(call: StreamCall) -> list[ms.BatchAck]:
    return [response.ack for response in await read_to_end(call)]


async def all_points(server: RunningServer, project: str) -> list[float]:
    rows = await MetricsReader(server.db).metric_points(
        uuid.UUID(project), None, utcnow() + timedelta(1)
    )
    return [v for _, _, v in rows]


async def test_open_batches_acks_and_resume(
    metrics: Metrics, server: RunningServer, project: str
) -> None:
    call = stream(metrics)
    await call.write(open_message("agent-1", project))
    first = await opened(call)
    assert first.committed_sequence == 0
    assert first.epoch == 1
    assert first.max_inflight_batches == 8
    assert first.max_batch_rows == 10_000
    assert first.stream_lifetime.seconds == 1800
    for seq in (1, 2, 3):
        await call.write(batch_message(seq, project, [float(seq)] * 2, offset=seq * 10))
    acks = [(await next_ack(call)) for _ in range(3)]
    assert [(a.sequence, a.stored_points, a.duplicate) for a in acks] == [
        (1, 2, False),
        (2, 2, False),
        (3, 2, False),
    ]
    await call.done_writing()
    assert await ended(call)
    assert await call.code() == grpc.StatusCode.OK

    again = stream(metrics)
    await again.write(open_message("agent-1", project))
    resumed = await opened(again)
    assert (resumed.committed_sequence, resumed.epoch) == (3, 2)
    # A resent batch is acked as a duplicate and stores nothing.
    await again.write(batch_message(2, project, [99.0], offset=500))
    duplicate = await next_ack(again)
    assert (duplicate.sequence, duplicate.duplicate, duplicate.stored_points) == (2, True, 0)
    await again.write(batch_message(4, project, [4.0], offset=40))
    assert (await next_ack(again)).stored_points == 1
    await again.done_writing()
    assert await again.code() == grpc.StatusCode.OK
    assert sorted(await all_points(server, project)) == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0]


async def test_a_gap_is_out_of_range_with_the_expected_sequence(
    metrics: Metrics, project: str
) -> None:
    call = stream(metrics)
    await call.write(open_message("agent-gap", project))
    await opened(call)
    await call.write(batch_message(1, project, [1.0]))
    assert (await next_ack(call)).sequence == 1
    await call.write(batch_message(3, project, [3.0]))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.OUT_OF_RANGE
    info = error_info(caught.value)
    assert info.reason == "SEQUENCE_GAP"
    assert info.metadata["expected_sequence"] == "2"


async def test_a_newer_epoch_ends_the_older_stream(
    metrics: Metrics, server: RunningServer, project: str
) -> None:
    old = stream(metrics)
    await old.write(open_message("agent-epoch", project))
    assert (await opened(old)).epoch == 1
    new = stream(metrics)
    await new.write(open_message("agent-epoch", project))
    assert (await opened(new)).epoch == 2
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await old.read()
    assert caught.value.code() == grpc.StatusCode.ABORTED
    assert error_info(caught.value).reason == "PRODUCER_SUPERSEDED"
    await new.write(batch_message(1, project, [1.0]))
    assert (await next_ack(new)).stored_points == 1
    await new.done_writing()
    assert await new.code() == grpc.StatusCode.OK


async def test_first_message_must_be_open(metrics: Metrics, project: str) -> None:
    call = stream(metrics)
    await call.write(batch_message(1, project, [1.0]))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = stream(metrics)
    await bad.write(open_message("no spaces allowed"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await bad.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    unknown = stream(metrics)
    await unknown.write(open_message("agent-x", str(uuid.uuid4())))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unknown.read()
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_scope_refuses_rows_of_other_projects(
    metrics: Metrics, registry: Registry, project: str
) -> None:
    other = await make_project(registry, "other-project")
    call = stream(metrics)
    await call.write(open_message("agent-scope", project))
    await opened(call)
    request = batch_message(1, project, [1.0])
    request.batch.batch.columns.append(columns(other, [2.0]))
    await call.write(request)
    ack = await next_ack(call)
    assert ack.stored_points == 1
    assert [r.field for r in ack.rejected] == ["columns[1].project_id"]
    assert "scope" in ack.rejected[0].description
    # An oversize batch ends the stream: nothing of it is committed.
    await call.write(batch_message(2, project, [1.0] * 10_001))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_disconnect_mid_stream_and_resume_stores_everything_once(
    metrics: Metrics, server: RunningServer, project: str
) -> None:
    """An agent that drops its call with batches in flight resends them; nothing doubles."""
    total = 40
    sent: dict[int, list[float]] = {
        seq: [float(seq * 10 + i) for i in range(50)] for seq in range(1, total + 1)
    }

    def message(seq: int) -> ms.StreamMetricsRequest:
        return batch_message(seq, project, sent[seq], offset=seq * 100)

    call = stream(metrics)
    await call.write(open_message("agent-resume", project))
    await opened(call)
    for seq in range(1, 21):
        await call.write(message(seq))
    for _ in range(5):
        await next_ack(call)
    call.cancel()  # the agent dies with up to 15 batches unacked
    # It resumes at once, whether or not the server has noticed yet: the new
    # stream's epoch keeps the old one's unacked batches from being stored.

    resumed = stream(metrics)
    await resumed.write(open_message("agent-resume", project))
    start = (await opened(resumed)).committed_sequence
    assert 5 <= start <= 20
    # Resend from a bit earlier than needed: overlap must not double anything.
    first_resent = max(1, start - 3)
    for seq in range(first_resent, total + 1):
        await resumed.write(message(seq))
    await resumed.done_writing()
    acks = await read_all(resumed)
    assert acks[-1].sequence == total
    assert sum(1 for a in acks if a.duplicate) == start - first_resent + 1
    assert await resumed.code() == grpc.StatusCode.OK
    stored = await all_points(server, project)
    expected = [v for seq in range(1, total + 1) for v in sent[seq]]
    assert len(stored) == len(expected)
    assert sum(stored) == sum(expected)


async def test_same_events_through_two_producers_are_stored_once(
    metrics: Metrics, server: RunningServer, project: str
) -> None:
    events = [commit(project, sha(i), "2026-03-02T10:00:00") for i in range(5)]
    counts: list[int] = []
    for producer in ("agent-a", "agent-b"):
        call = stream(metrics)
        await call.write(open_message(producer, project))
        await opened(call)
        await call.write(
            ms.StreamMetricsRequest(
                batch=ms.StreamBatch(sequence=1, batch=mp.MetricBatch(events=events))
            )
        )
        counts.append((await next_ack(call)).stored_events)
        await call.done_writing()
        await call.code()
    assert counts == [5, 0]
    stored = await MetricsReader(server.db).process_events(
        uuid.UUID(project), None, utcnow() + timedelta(1)
    )
    assert sorted(e.payload["sha"] for e in stored) == [sha(i) for i in range(5)]


async def test_stream_ends_cleanly_after_its_lifetime(settings: Settings) -> None:
    running = await start_server(with_settings(settings, stream_lifetime_seconds=1.0))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            from maestro.registry.v1 import registry_service_pb2_grpc

            project = await make_project(
                registry_service_pb2_grpc.RegistryServiceStub(channel), "lifetime"
            )
            stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
            call = stream(stub)
            await call.write(open_message("agent-life", project))
            assert (await opened(call)).stream_lifetime.seconds == 1
            await call.write(batch_message(1, project, [1.0]))
            assert (await next_ack(call)).sequence == 1
            # No more batches: the server ends the call with OK after ~1 s.
            assert await asyncio.wait_for(ended(call), 5)
            assert await call.code() == grpc.StatusCode.OK
    finally:
        await running.stop(grace=0.2)
