"""Unit tests: event conversion (table-driven), rollup windows, the event buses, the byte budget."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from maestro.metrics.v1 import process_event_pb2 as pe
from maestro_grpc.errors import ResourceExhausted
from maestro_grpc.events import BusDisconnected, InProcessBus, RedisBus, SlowSubscriber
from maestro_grpc.metrics.domain.streams import ByteBudget, acquire_or_exhausted
from maestro_grpc.metrics.domain.windows import windows_of
from maestro_grpc.metrics.model import EventIn, Rejected
from maestro_grpc.metrics.wire.eventconv import (
    canonical_json,
    event_from_proto,
    event_to_proto,
    payload_digest,
    stored_event_to_proto,
)
from tests.conftest import skip_or_fail
from tests.helpers import ts

NOW = datetime(2026, 3, 1, tzinfo=UTC)
LIMIT = NOW + timedelta(hours=1)
T = ts("2026-02-01T10:00:00")
T_LATE = ts("2026-02-01T11:00:00")
SHA = "a" * 40


def kinds() -> list[pe.ProcessEvent]:
    return [
        pe.ProcessEvent(
            commit=pe.Commit(
                repo="r", sha=SHA, author_time=T, parent_shas=["b" * 40], files=["x.py"]
            )
        ),
        pe.ProcessEvent(
            pull_request=pe.PullRequest(
                repo="r",
                number=3,
                state=pe.PULL_REQUEST_STATE_CLOSED,
                open_time=T,
                close_time=T_LATE,
                commit_shas=[SHA],
            )
        ),
        pe.ProcessEvent(
            pipeline_run=pe.PipelineRun(
                provider="gitlab-ci",
                run_id="7",
                attempt=2,
                status=pe.PIPELINE_STATUS_FAILED,
                start_time=T,
                end_time=T_LATE,
                stages=[pe.PipelineStage(name="test", status=pe.PIPELINE_STATUS_FAILED)],
            )
        ),
        pe.ProcessEvent(
            test_report=pe.TestReport(
                suite="unit", passed=10, failed=1, time=T, failing_tests=["t1"]
            )
        ),
        pe.ProcessEvent(
            deployment=pe.Deployment(
                deployment_id="d",
                environment="production",
                status=pe.DEPLOYMENT_STATUS_IN_PROGRESS,
                deploy_time=T,
            )
        ),
        pe.ProcessEvent(incident=pe.Incident(incident_id="i", open_time=T)),
        pe.ProcessEvent(
            experiment_run=pe.ExperimentRun(
                run_id="mlflow-1",
                status=pe.EXPERIMENT_RUN_STATUS_FINISHED,
                start_time=T,
                end_time=T_LATE,
                params={"lr": "0.1"},
                metrics={"auc": 0.91},
            )
        ),
    ]


@pytest.mark.parametrize("event", kinds(), ids=lambda e: e.WhichOneof("kind"))
def test_every_kind_round_trips_through_its_payload(event: pe.ProcessEvent) -> None:
    converted = event_from_proto(event, "events[0]", LIMIT)
    assert isinstance(converted, EventIn)
    back = event_to_proto(converted.type, uuid.UUID(int=1), converted.payload)
    kind = event.WhichOneof("kind")
    expected = getattr(event, kind)
    if kind in {"pipeline_run", "test_report"} and not expected.attempt:
        expected.attempt = 1
    if kind == "incident":
        expected.environment = "production"
    assert getattr(back, kind) == expected


@pytest.mark.parametrize("event", kinds(), ids=lambda e: e.WhichOneof("kind"))
def test_the_feed_sends_what_the_payload_holds(event: pe.ProcessEvent) -> None:
    """The feed's event (the decoded bytes) is the one rebuilt from the stored payload,
    and the payload's JSON text and digest are those of the canonical form."""
    converted = event_from_proto(event, "events[0]", LIMIT)
    assert isinstance(converted, EventIn)
    stored = replace(converted, project_id=uuid.UUID(int=1))
    rebuilt = event_to_proto(stored.type, stored.project_id, stored.payload)
    assert stored_event_to_proto(stored) == rebuilt
    assert stored.payload_json == canonical_json(stored.payload)
    assert stored.digest == payload_digest(stored.payload)


def _bad(kind: str, **fields: object) -> pe.ProcessEvent:
    base = {k.WhichOneof("kind"): k for k in kinds()}[kind]
    message = pe.ProcessEvent()
    getattr(message, kind).CopyFrom(getattr(base, kind))
    target = getattr(message, kind)
    for name, value in fields.items():
        if value is None:
            target.ClearField(name)
        else:
            setattr(target, name, value)
    return message


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (_bad("commit", repo=""), "commit.repo"),
        (_bad("commit", additions=-1), "commit.additions"),
        (_bad("commit", author_time=None), "commit.author_time"),
        (_bad("pull_request", number=0), "pull_request.number"),
        (_bad("pull_request", state=0), "pull_request.state"),
        (_bad("pull_request", state=pe.PULL_REQUEST_STATE_MERGED), "pull_request.merge_time"),
        (_bad("pull_request", review_count=-2), "pull_request.review_count"),
        (_bad("pull_request", open_time=None, close_time=None), "pull_request.open_time"),
        (_bad("pipeline_run", provider=" "), "pipeline_run.provider"),
        (_bad("pipeline_run", attempt=-1), "pipeline_run.attempt"),
        (_bad("pipeline_run", status=0), "pipeline_run.status"),
        (_bad("pipeline_run", commit_sha="zz"), "pipeline_run.commit_sha"),
        (_bad("test_report", suite=""), "test_report.suite"),
        (_bad("test_report", failed=-1), "test_report.failed"),
        (_bad("deployment", status=0), "deployment.status"),
        (_bad("deployment", deployment_id="x" * 301), "deployment.deployment_id"),
        (_bad("incident", open_time=None), "incident.open_time"),
        (_bad("experiment_run", run_id=""), "experiment_run.run_id"),
    ],
)
def test_bad_events_name_their_field(event: pe.ProcessEvent, field: str) -> None:
    converted = event_from_proto(event, "events[4]", LIMIT)
    assert isinstance(converted, Rejected)
    assert converted.field == f"events[4].{field}"


def test_event_times_are_checked() -> None:
    future = pe.ProcessEvent(
        incident=pe.Incident(incident_id="i", open_time=ts(NOW + timedelta(hours=2)))
    )
    assert event_from_proto(future, "e", LIMIT) == Rejected(
        "e.incident.open_time", "is more than 1 hour in the future"
    )
    backwards = _bad("incident")
    backwards.incident.resolve_time.CopyFrom(ts("2026-01-01T00:00:00"))
    assert isinstance(event_from_proto(backwards, "e", LIMIT), Rejected)
    epoch = pe.ProcessEvent(
        incident=pe.Incident(incident_id="i", open_time=ts("1970-01-01T00:00:00"))
    )
    assert "after 1970" in event_from_proto(epoch, "e", LIMIT).description  # type: ignore[union-attr]
    bad_nanos = _bad("incident")
    bad_nanos.incident.open_time.nanos = -1
    assert isinstance(event_from_proto(bad_nanos, "e", LIMIT), Rejected)


def test_windows_coarsen_to_at_most_eight() -> None:
    project = uuid.uuid4()
    hour = 3_600_000_000
    base = int(datetime(2026, 5, 31, 20, tzinfo=UTC).timestamp()) * 1_000_000
    assert [w.unit for w in windows_of(project, np.array([base, base + 10]))] == ["hour"]
    days = windows_of(project, base + np.arange(30) * hour)
    assert {w.unit for w in days} == {"day"}
    assert len(days) == 3  # 31 May 20:00 to 2 June 01:00
    months = windows_of(project, base + np.arange(20) * 24 * hour * 3)
    assert {w.unit for w in months} == {"month"}
    assert months[0].end_us - months[0].start_us == 31 * 24 * hour
    years = windows_of(project, base + np.arange(12) * 24 * hour * 40)
    assert {w.unit for w in years} == {"year"}
    december = int(datetime(2026, 12, 15, tzinfo=UTC).timestamp()) * 1_000_000
    spread = windows_of(project, december + np.arange(9) * 24 * hour * 4)
    assert spread[0].unit == "month"
    assert spread[0].key.startswith(f"{project}:month:2026-12-01")
    assert windows_of(project, np.zeros(0, np.int64)) == []


async def test_in_process_bus_drops_slow_subscribers() -> None:
    bus = InProcessBus()
    slow = await bus.subscribe("c", max_queue=2)
    fast = await bus.subscribe("c", max_queue=100)
    for i in range(5):
        await bus.publish("c", bytes([i]))
    with pytest.raises(SlowSubscriber):
        async for _ in slow:
            pass
    await bus.unsubscribe(fast)
    assert [item async for item in fast] == [bytes([i]) for i in range(5)]
    other = await bus.subscribe("d")
    await bus.close()
    assert [item async for item in other] == []


async def test_redis_bus_ends_subscribers_when_the_connection_drops() -> None:
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        skip_or_fail(f"no Redis at {url}: {error}")
    bus = RedisBus(url)
    channel = f"maestro-test-{uuid.uuid4().hex}"
    try:
        sub = await bus.subscribe(channel)
        await bus.publish(channel, b"one")
        got = []
        async for item in sub:
            got.append(item)
            # The pub/sub connection breaks under the subscriber.
            await bus._pubsub.connection.disconnect()
        assert got == [b"one"]
    except BusDisconnected:
        pass
    else:
        raise AssertionError("the subscriber was not told the bus broke")
    finally:
        await bus.close()
    # A new subscribe reconnects.
    bus = RedisBus(url)
    try:
        again = await bus.subscribe(channel)
        await bus.publish(channel, b"two")
        assert await asyncio.wait_for(anext(aiter(again)), 5) == b"two"
        await bus.unsubscribe(again)
    finally:
        await bus.close()


async def test_byte_budget_backpressure() -> None:
    budget = ByteBudget(100)
    await budget.acquire(80)
    with pytest.raises(ResourceExhausted) as caught:
        # The unary wait is real time by design: 50 ms of it, then refused.
        await acquire_or_exhausted(budget, 30, 0.05)
    assert caught.value.retry_delay_seconds == 1.0
    waiter = asyncio.create_task(budget.acquire(30))
    # Turns of the loop, no time: the waiter runs until it blocks on the budget.
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiter.done()
    await budget.release(80)
    await asyncio.wait_for(waiter, 1)
    # A batch larger than the whole budget waits for all of it, not forever.
    await budget.release(30)
    await asyncio.wait_for(budget.acquire(500), 1)
    assert budget.used == 100
