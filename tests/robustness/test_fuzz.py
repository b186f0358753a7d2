"""Every RPC, fuzzed from its descriptor: random messages and raw bytes (#18).

For each method of each service, requests are generated from the request's
descriptor (tests/robustness/fuzz.py) and sent through a real server on both
stores. Whatever comes in, the answer is never INTERNAL or UNKNOWN, never
hangs past the deadline, and a refused write leaves the store as it was. A
new RPC is covered without new test code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
import pytest
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from maestro.access.v1 import access_service_pb2
from maestro.metrics.v1 import metrics_service_pb2
from maestro.prediction.v1 import prediction_service_pb2
from maestro.registry.v1 import registry_service_pb2
from maestro_grpc.access.model import Action
from maestro_grpc.access.wire.permissions import RULES
from maestro_grpc.catalog import metadata
from maestro_grpc.server import RunningServer
from tests.robustness.fuzz import build, message_values

SERVICES = [
    access_service_pb2.DESCRIPTOR.services_by_name["AccessService"],
    metrics_service_pb2.DESCRIPTOR.services_by_name["MetricsService"],
    prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"],
    registry_service_pb2.DESCRIPTOR.services_by_name["RegistryService"],
]
METHODS = [(f"/{s.full_name}/{m.name}", m) for s in SERVICES for m in s.methods]
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
# Streams that run for as long as the client stays (a watch) or work for a
# while (training): a short deadline ends them, and running out is no fault.
LONG = {"WatchMetrics", "TrainMetaModel"}
SHORT = 1.0
# Generous: a hang is what it catches, and the first PredictionService call
# imports scikit-learn, seconds on a loaded machine.
DEADLINE = 60.0
WRITES = {Action.WRITE, Action.INGEST, Action.ADMIN}
EXAMPLES = 12


async def _send(
    channel: grpc.aio.Channel,
    method: str,
    desc: MethodDescriptor,
    messages: list[bytes],
    deadline: float,
) -> grpc.StatusCode:
    """Send serialized messages as the request(s); the status the call ends with."""
    raw: dict[str, Any] = {"request_serializer": None, "response_deserializer": None}
    try:
        if desc.client_streaming:

            async def stream() -> AsyncIterator[bytes]:
                for item in messages:
                    yield item

            if desc.server_streaming:
                call = channel.stream_stream(method, **raw)(stream(), timeout=deadline)
                async for _ in call:
                    pass
            else:
                await channel.stream_unary(method, **raw)(stream(), timeout=deadline)
        elif desc.server_streaming:
            async for _ in channel.unary_stream(method, **raw)(messages[0], timeout=deadline):
                pass
        else:
            await channel.unary_unary(method, **raw)(messages[0], timeout=deadline)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def _counts(server: RunningServer) -> dict[str, int]:
    async with server.db.read() as conn:
        return {
            t.name: int(await conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in metadata.sorted_tables
            if t.name not in {"audit_events", "access_tokens", "service_secrets"}
        }


def _serialized(desc: MethodDescriptor, values: list[dict[str, Any]]) -> list[bytes]:
    out = []
    for item in values:
        message: Message = build(desc.input_type, item)
        out.append(message.SerializeToString())
    return out


def _check(method: str, code: grpc.StatusCode, sent: object) -> None:
    name = method.rsplit("/", 1)[1]
    assert code not in NEVER, f"{method} answered {code.name} to {sent!r}"
    if name not in LONG:
        assert code != grpc.StatusCode.DEADLINE_EXCEEDED, f"{method} hung on {sent!r}"


def _drawn(strategy: st.SearchStrategy[Any]) -> list[Any]:
    """EXAMPLES values of `strategy`, the same on every run.

    Hypothesis cannot drive a coroutine, and the server lives on this test's
    event loop, so values are drawn first and sent after (no shrinking: a
    failure names the request it sent).
    """
    drawn: list[Any] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn


def _deadline(method: str) -> float:
    return SHORT if method.rsplit("/", 1)[1] in LONG else DEADLINE


@pytest.mark.slow
@pytest.mark.parametrize(("method", "desc"), METHODS, ids=[m for m, _ in METHODS])
async def test_random_requests_never_break_the_server(
    server: RunningServer, channel: grpc.aio.Channel, method: str, desc: MethodDescriptor
) -> None:
    write = RULES[method].action in WRITES
    most = 3 if desc.client_streaming else 1
    requests = _drawn(st.lists(message_values(desc.input_type), min_size=1, max_size=most))
    for values in requests:
        before = await _counts(server) if write else None
        messages = _serialized(desc, values)
        code = await _send(channel, method, desc, messages, _deadline(method))
        _check(method, code, values)
        if write and code != grpc.StatusCode.OK:
            assert await _counts(server) == before, (
                f"refused {method} ({code.name}) wrote: {values}"
            )


@pytest.mark.slow
@pytest.mark.parametrize(("method", "desc"), METHODS, ids=[m for m, _ in METHODS])
async def test_raw_bytes_never_break_the_server(
    server: RunningServer, channel: grpc.aio.Channel, method: str, desc: MethodDescriptor
) -> None:
    most = 3 if desc.client_streaming else 1
    for data in _drawn(st.lists(st.binary(max_size=200), min_size=1, max_size=most)):
        code = await _send(channel, method, desc, data, _deadline(method))
        _check(method, code, data)
