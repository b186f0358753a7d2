"""SIGTERM drains: health first, streams end the way their lifetime ends them (#18, 12).

Before, StreamMetrics kept reading for the whole grace period and every
agent then saw UNAVAILABLE "Cancelling all calls". Now health turns
NOT_SERVING on existing connections, open streams stop reading, ack what they
hold and end OK, and a new stream is refused UNAVAILABLE; nothing acked is
lost, nothing is stored twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.config import Settings
from maestro_grpc.server import start_server
from tests.helpers import expect_error, free_port, wait_until_serving
from tests.metrics.conftest import make_project
from tests.metrics.helpers import EOF, next_message, stream
from tests.metrics.test_stream import batch_message, open_message

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _serve(data: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "MAESTRO_PORT": str(port),
        "MAESTRO_HOST": "127.0.0.1",
        "MAESTRO_DATA_DIR": str(data),
        "MAESTRO_METRICS_PORT": "off",
        "MAESTRO_WEB_PORT": "off",
        # Long enough that only a drain, not the grace running out, can end
        # the stream with OK.
        "MAESTRO_GRACE_SECONDS": "60",
        "MAESTRO_STREAM_LIFETIME_SECONDS": "3600",
    }
    env.pop("MAESTRO_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "maestro_grpc", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _acked_stream(address: str, project: str | None, batches: int) -> dict[str, Any]:
    """Open a stream, have `batches` acked, and hand back what a SIGTERM test needs."""
    channel = grpc.aio.insecure_channel(address)
    if project is None:
        project = await make_project(registry_service_pb2_grpc.RegistryServiceStub(channel), "t")
    health = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
    assert (await next_message(health)).status == SERVING
    call = stream(metrics_service_pb2_grpc.MetricsServiceStub(channel))
    await call.write(open_message("drained-agent", project))
    opened = (await next_message(call)).opened
    first = opened.committed_sequence + 1
    for sequence in range(first, first + batches):
        await call.write(batch_message(sequence, project, [float(sequence)], offset=sequence))
        assert (await next_message(call)).ack.sequence == sequence
    return {"channel": channel, "health": health, "call": call, "project": project, "next": first}


async def test_sigterm_ends_streams_ok_after_their_acks_and_health_says_so_first(
    tmp_path: Path,
) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    process = _serve(tmp_path / "data", port)
    try:
        await asyncio.to_thread(wait_until_serving, address, process)
        opened = await _acked_stream(address, None, batches=3)
        call, health = opened["call"], opened["health"]
        process.send_signal(signal.SIGTERM)
        assert (await next_message(health)).status == NOT_SERVING
        # The stream ends by itself, OK, long before the 60 s grace.
        assert await asyncio.wait_for(call.read(), 30) is EOF
        assert await call.code() == grpc.StatusCode.OK
        await opened["channel"].close()
        _, err = await asyncio.to_thread(process.communicate, timeout=30)
        assert process.returncode == 0, err
        assert "Cancelling all calls" not in err

        # Restarted on the same store, the producer resumes after what was acked.
        process = _serve(tmp_path / "data", port)
        await asyncio.to_thread(wait_until_serving, address, process)
        again = await _acked_stream(address, opened["project"], batches=1)
        assert again["next"] == 4
        await again["call"].done_writing()
        await again["channel"].close()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


async def test_a_stream_opened_while_the_server_shuts_down_is_told_to_go_elsewhere(
    settings: Settings,
) -> None:
    running = await start_server(settings)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            project = await make_project(
                registry_service_pb2_grpc.RegistryServiceStub(channel), "late"
            )
            running.ctx.closing.set()
            call = stream(metrics_service_pb2_grpc.MetricsServiceStub(channel))
            await call.write(open_message("late-agent", project))
            await call.done_writing()
            await expect_error(call.read(), grpc.StatusCode.UNAVAILABLE)
    finally:
        await running.stop(grace=0.2)
