"""Per-caller limits and the server's bound on downloads (#18, item 13).

Nothing bounded what one caller could hold open or ask: every stalled
download kept its read-ahead, and a caller could open streams, watches and
transfers without end or call as fast as it liked. Each limit here is tried
through a real server with small limits: the call past it is
RESOURCE_EXHAUSTED with a stable reason and a RetryInfo, another caller is
unaffected, and a slot comes back when its call ends or is cancelled. The
request rate is tried on a clock the test moves, in one process and shared
by two servers through the real Redis.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from maestro.access.v1 import access_service_pb2 as ac
from maestro.access.v1 import access_service_pb2_grpc
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.blobs.base import READ_CHUNK
from maestro_grpc.config import LimitSettings, Settings
from maestro_grpc.limits import RedisRate, TokenBuckets
from maestro_grpc.server import RunningServer, start_server
from tests.conftest import skip_or_fail
from tests.content.support import MIB, MovableClock, chunks_of, pattern, upload_messages
from tests.helpers import details_of, error_info, eventually, eventually_sync
from tests.metrics.helpers import EOF, next_message


@pytest.fixture
def store_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the limits never reach the store."""
    target = tmp_path / "maestro.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


ALICE = "alice-secret-0123456789"
BOB = "bob-secret-0123456789"
TOKENS = {ALICE: "alice", BOB: "bob"}
REDIS_URL = "redis://127.0.0.1:6379/0"
# No BDP probing: the client's flow-control window stays small, so a download
# the test stops reading stalls on the server instead of landing in its buffers.
CHANNEL_OPTIONS = [("grpc.http2.bdp_probe", 0)]


def bearer(secret: str) -> tuple[tuple[str, str], ...]:
    """The metadata of a call by the holder of `secret` (none: the anonymous caller)."""
    return (("authorization", f"Bearer {secret}"),) if secret else ()


@dataclass
class Limited:
    """A server with small limits and a channel to it; calls name who makes them."""

    server: RunningServer
    channel: grpc.aio.Channel

    @property
    def registry(self) -> registry_service_pb2_grpc.RegistryServiceStub:
        return registry_service_pb2_grpc.RegistryServiceStub(self.channel)

    @property
    def metrics(self) -> metrics_service_pb2_grpc.MetricsServiceStub:
        return metrics_service_pb2_grpc.MetricsServiceStub(self.channel)

    def gauge(self, name: str, **labels: str) -> float:
        value = self.server.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    async def project(self, who: str) -> str:
        made = await self.registry.CreateProject(
            rs.CreateProjectRequest(project=pp.Project(name=f"p-{uuid.uuid4().hex[:6]}")),
            metadata=bearer(who),
        )
        return made.project.id

    async def artifact(self, who: str, data: bytes = b"") -> str:
        """A new artifact of `who`'s, holding `data` when given."""
        made = await self.registry.CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name=f"a-{uuid.uuid4().hex[:6]}", version="1", type=ap.ARTIFACT_TYPE_MODEL
                )
            ),
            metadata=bearer(who),
        )
        if data:
            await self.registry.UploadArtifactContent(
                upload_messages(made.artifact.id, chunks_of(data, MIB)), metadata=bearer(who)
            )
        return made.artifact.id

    async def list_projects(self, who: str) -> rs.ListProjectsResponse:
        response: rs.ListProjectsResponse = await self.registry.ListProjects(
            rs.ListProjectsRequest(), metadata=bearer(who)
        )
        return response


@asynccontextmanager
async def limited(
    settings: Settings, *, clock: MovableClock | None = None, tokens: bool = True, **limits: Any
) -> AsyncIterator[Limited]:
    changed = replace(settings, limits=LimitSettings(**limits))
    if tokens:
        changed = replace(changed, auth_tokens=TOKENS)
    running = await start_server(changed, clock=clock)
    try:
        address = f"127.0.0.1:{running.port}"
        async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
            yield Limited(running, channel)
    finally:
        await running.stop(grace=0.2)


async def refused(call: Awaitable[Any], reason: str) -> float:
    """The call must be RESOURCE_EXHAUSTED for `reason`, with a RetryInfo: its delay."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = caught.value
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, (error.code(), error.details())
    assert error_info(error).reason == reason
    retries = [d for d in details_of(error) if isinstance(d, error_details_pb2.RetryInfo)]
    assert len(retries) == 1, details_of(error)
    delay = retries[0].retry_delay.ToTimedelta().total_seconds()
    assert delay > 0
    return float(delay)


# ---- slots per caller ------------------------------------------------------------------


async def open_stream(on: Limited, who: str, producer: str) -> Any:
    """A StreamMetrics call of `who`'s, opened and acknowledged."""
    call = on.metrics.StreamMetrics(None, metadata=bearer(who))
    await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id=producer)))
    assert (await next_message(call)).HasField("opened")
    return call


async def test_a_callers_stream_past_the_limit_is_refused_and_others_are_not(
    settings: Settings,
) -> None:
    async with limited(settings, streams=2) as on:
        first = await open_stream(on, ALICE, "agent-1")
        second = await open_stream(on, ALICE, "agent-2")
        # As an agent does: the open is sent at once; the answer is the refusal.
        over = on.metrics.StreamMetrics(None, metadata=bearer(ALICE))
        await over.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="agent-4")))
        delay = await refused(over.read(), "TOO_MANY_STREAMS")
        assert delay == pytest.approx(1.0)
        bobs = await open_stream(on, BOB, "agent-3")
        assert on.gauge("maestro_limit_calls_open", kind="streams") == 3
        # A stream that ends gives its slot back by the time its caller hears OK.
        await first.done_writing()
        assert await first.read() is EOF
        assert await first.code() == grpc.StatusCode.OK
        third = await open_stream(on, ALICE, "agent-1")
        assert on.gauge("maestro_limit_refusals_total", reason="TOO_MANY_STREAMS") == 1
        for call in (second, third, bobs):
            call.cancel()
        await eventually(
            lambda: on.gauge("maestro_limit_calls_open", kind="streams") == 0,
            "cancelled streams give their slots back",
        )


async def test_a_cancelled_watch_gives_its_slot_back(settings: Settings) -> None:
    async with limited(settings, watches=1) as on:
        project = await on.project(ALICE)
        request = ms.WatchMetricsRequest(project_id=project)
        watch = on.metrics.WatchMetrics(request, metadata=bearer(ALICE))
        assert await next_message(watch) == ms.WatchMetricsResponse()
        await refused(
            on.metrics.WatchMetrics(request, metadata=bearer(ALICE)).read(), "TOO_MANY_WATCHES"
        )
        bobs = on.metrics.WatchMetrics(request, metadata=bearer(BOB))
        assert await next_message(bobs) == ms.WatchMetricsResponse()
        watch.cancel()
        await eventually(
            lambda: on.gauge("maestro_limit_calls_open", kind="watches") == 1,
            "the cancelled watch gives its slot back",
        )
        again = on.metrics.WatchMetrics(request, metadata=bearer(ALICE))
        assert await next_message(again) == ms.WatchMetricsResponse()
        again.cancel()
        bobs.cancel()


async def test_uploads_and_downloads_share_a_callers_transfer_slots(settings: Settings) -> None:
    async with limited(settings, transfers=1) as on:
        data = pattern(300_000)
        stored = await on.artifact(BOB, data)
        target = await on.artifact(ALICE)
        gate = asyncio.Event()

        async def held_upload() -> AsyncIterator[rs.UploadArtifactContentRequest]:
            yield rs.UploadArtifactContentRequest(header=rs.UploadHeader(artifact_id=target))
            yield rs.UploadArtifactContentRequest(chunk=data)
            await gate.wait()
            yield rs.UploadArtifactContentRequest(finish=rs.UploadFinish())

        uploading = on.registry.UploadArtifactContent(held_upload(), metadata=bearer(ALICE))
        await eventually(
            lambda: on.gauge("maestro_limit_calls_open", kind="transfers") == 1,
            "the upload holds a transfer slot",
        )
        download = rs.DownloadArtifactContentRequest(artifact_id=stored)
        await refused(
            on.registry.DownloadArtifactContent(download, metadata=bearer(ALICE)).read(),
            "TOO_MANY_TRANSFERS",
        )
        bobs = [
            m.chunk
            async for m in on.registry.DownloadArtifactContent(download, metadata=bearer(BOB))
        ]
        assert b"".join(bobs) == data
        gate.set()
        assert (await uploading).artifact.content_sha256 == hashlib.sha256(data).hexdigest()
        alices = [
            m.chunk
            async for m in on.registry.DownloadArtifactContent(download, metadata=bearer(ALICE))
        ]
        assert b"".join(alices) == data
        # A cancelled upload gives its slot back too.
        gate.clear()
        cancelled = on.registry.UploadArtifactContent(held_upload(), metadata=bearer(ALICE))
        await eventually(
            lambda: on.gauge("maestro_limit_calls_open", kind="transfers") == 1,
            "the second upload holds a transfer slot",
        )
        cancelled.cancel()
        await eventually(
            lambda: on.gauge("maestro_limit_calls_open", kind="transfers") == 0,
            "the cancelled upload gives its slot back",
        )


async def test_the_anonymous_caller_is_one_principal(settings: Settings) -> None:
    async with limited(settings, tokens=False, watches=1) as on:
        project = await on.project("")
        stub = on.metrics
        request = ms.WatchMetricsRequest(project_id=project)
        watch = stub.WatchMetrics(request)
        assert await next_message(watch) == ms.WatchMetricsResponse()
        await refused(stub.WatchMetrics(request).read(), "TOO_MANY_WATCHES")
        watch.cancel()


# ---- the server's downloads -------------------------------------------------------------


async def test_downloads_are_bounded_and_cancelled_ones_free_their_buffers(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    budget = MIB
    async with limited(settings, downloads=2, download_buffer_bytes=budget) as on:
        data = pattern(24 * MIB, seed=1)
        artifact = await on.artifact(ALICE, data)
        request = rs.DownloadArtifactContentRequest(artifact_id=artifact)
        stalled = [
            on.registry.DownloadArtifactContent(request, metadata=bearer(ALICE)) for _ in range(2)
        ]
        for call in stalled:
            assert (await next_message(call)).size_bytes == len(data)
        # The server's downloads, not a caller's: bob is refused too.
        await refused(
            on.registry.DownloadArtifactContent(request, metadata=bearer(BOB)).read(),
            "TOO_MANY_DOWNLOADS",
        )
        assert on.gauge("maestro_blob_reads_open") == 2
        # Stalled, they hold no more than the budget and a chunk each (not 4 chunks each).
        await eventually(
            lambda: on.gauge("maestro_blob_read_ahead_bytes") >= READ_CHUNK * 2,
            "the stalled downloads read ahead",
        )
        await asyncio.sleep(0.2)  # let them read as far ahead as they would
        assert on.gauge("maestro_blob_read_ahead_bytes") <= budget + 2 * READ_CHUNK
        for call in stalled:
            call.cancel()
        await eventually(
            lambda: (
                (
                    on.gauge("maestro_blob_reads_open"),
                    on.gauge("maestro_blob_read_ahead_bytes"),
                    on.gauge("maestro_limit_calls_open", kind="downloads"),
                )
                == (0, 0, 0)
            ),
            "cancelled downloads close their reads and give back their buffers",
        )
        # And they end cleanly: a stream the loop finalized once restored its
        # caller's context in the wrong one ("Task exception was never retrieved").
        gc.collect()
        assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
        got = hashlib.sha256()
        async for message in on.registry.DownloadArtifactContent(request, metadata=bearer(BOB)):
            got.update(message.chunk)
        assert got.hexdigest() == hashlib.sha256(data).hexdigest()
        assert on.gauge("maestro_blob_read_ahead_bytes") == 0


# ---- the request rate --------------------------------------------------------------------


async def test_a_burst_past_the_bucket_is_refused_until_it_refills(settings: Settings) -> None:
    clock = MovableClock.frozen()
    async with limited(settings, clock=clock, rate=1.0, burst=3) as on:
        for _ in range(3):
            await on.list_projects(ALICE)
        delay = await refused(on.list_projects(ALICE), "RATE_LIMITED")
        assert delay == pytest.approx(1.0)
        await on.list_projects(BOB)
        # Operators can always look: health, reflection and WhoAmI are not counted.
        await who_am_i(on, ALICE)
        health = health_pb2_grpc.HealthStub(on.channel)
        assert (await health.Check(health_pb2.HealthCheckRequest())).status == 1
        await list_services(on.channel, ALICE)
        clock.now += timedelta(seconds=0.5)
        assert await refused(on.list_projects(ALICE), "RATE_LIMITED") == pytest.approx(0.5)
        clock.now += timedelta(seconds=0.5)
        await on.list_projects(ALICE)
        await refused(on.list_projects(ALICE), "RATE_LIMITED")
        clock.now += timedelta(seconds=60)  # refills to the burst, no further
        for _ in range(3):
            await on.list_projects(ALICE)
        await refused(on.list_projects(ALICE), "RATE_LIMITED")


async def who_am_i(on: Limited, who: str) -> None:
    stub = access_service_pb2_grpc.AccessServiceStub(on.channel)
    await stub.WhoAmI(ac.WhoAmIRequest(), metadata=bearer(who))


async def list_services(channel: grpc.aio.Channel, who: str) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    async def one() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    async for response in stub.ServerReflectionInfo(one(), metadata=bearer(who)):
        assert response.list_services_response.service


@pytest.fixture
def redis_prefix() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        skip_or_fail(f"no Redis answers at {REDIS_URL}: {error}")
    return f"maestro-test-{uuid.uuid4().hex}:"


@pytest.mark.redis
async def test_two_servers_on_one_redis_share_a_callers_bucket(
    settings: Settings, redis_prefix: str
) -> None:
    clock = MovableClock.frozen()
    shared = replace(settings, redis_url=REDIS_URL, events_prefix=redis_prefix)
    async with (
        limited(shared, clock=clock, rate=1.0, burst=4) as a,
        limited(shared, clock=clock, rate=1.0, burst=4) as b,
    ):
        for on in (a, b, a, b):
            await on.list_projects(ALICE)
        await refused(a.list_projects(ALICE), "RATE_LIMITED")
        await refused(b.list_projects(ALICE), "RATE_LIMITED")
        await a.list_projects(BOB)
        clock.now += timedelta(seconds=1)
        await b.list_projects(ALICE)
        await refused(a.list_projects(ALICE), "RATE_LIMITED")


async def test_without_redis_each_server_counts_alone_and_says_so_once(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="maestro.limits")
    clock = MovableClock.frozen()
    # Nothing listens on port 1: Redis cannot be reached.
    gone = replace(settings, redis_url="redis://127.0.0.1:1/0", events_prefix="x:")
    async with limited(gone, clock=clock, rate=1.0, burst=2) as on:
        await on.list_projects(ALICE)
        await on.list_projects(ALICE)
        await refused(on.list_projects(ALICE), "RATE_LIMITED")
        await on.list_projects(BOB)
        clock.now += timedelta(seconds=1)
        await on.list_projects(ALICE)
    warnings = [r for r in caplog.records if r.name == "maestro.limits"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "per replica" in warnings[0].getMessage()


# ---- the buckets themselves --------------------------------------------------------------


def test_buckets_past_their_key_bound_forget_the_full_ones() -> None:
    buckets = TokenBuckets(rate=1.0, burst=2, max_keys=2)
    assert buckets.take("a", 0.0) == 0.0
    assert buckets.take("a", 0.0) == 0.0
    assert buckets.take("a", 0.0) == pytest.approx(1.0)
    assert buckets.take("b", 0.0) == 0.0
    # At t=1 b is full again (as good as none) and is dropped; a is not full, and is kept.
    assert buckets.take("c", 1.0) == 0.0
    assert buckets.take("a", 1.0) == 0.0
    assert buckets.take("a", 1.0) == pytest.approx(1.0)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own, so that the test may freeze it."""
    binary = shutil.which("redis-server")
    if binary is None:
        skip_or_fail("redis-server is not installed")
    assert binary is not None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    try:
        eventually_sync(answers, "the test's redis-server answers")
        yield url, process
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(10)


@pytest.mark.redis
async def test_a_frozen_redis_is_counted_around_and_used_again_once_it_thaws(
    own_redis: tuple[str, subprocess.Popen[bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="maestro.limits")
    url, process = own_redis
    rate = RedisRate(url, "test:", rate=1.0, burst=2, timeout=0.2, retry_seconds=0.2)
    try:
        assert await rate.take("alice", 0.0) == 0.0
        assert rate.shared
        process.send_signal(signal.SIGSTOP)
        # Redis has one token of alice's left; her own bucket here is full: two.
        assert await rate.take("alice", 0.0) == 0.0
        assert not rate.shared
        assert await rate.take("alice", 0.0) == 0.0
        assert await rate.take("alice", 0.0) > 0
        process.send_signal(signal.SIGCONT)

        async def shared_again() -> bool:
            await rate.take("bob", 0.0)
            return rate.shared

        await eventually(shared_again, "the limits use Redis again")
        # Bob's bucket in Redis gave the one token of the call that found it back.
        assert await rate.take("bob", 0.0) == 0.0
        assert await rate.take("bob", 0.0) > 0
    finally:
        await rate.close()
    said = [r.getMessage() for r in caplog.records if r.name == "maestro.limits"]
    assert len(said) == 2, said
    assert "per replica" in said[0]
    assert "again" in said[1]
