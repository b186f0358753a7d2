"""Bytes that do not parse are INVALID_ARGUMENT, counted, logged, and authenticated first (#18, 1).

Sent with a raw channel (no client-side serializer) to every RPC of every
service: garbage, invalid UTF-8 in a string field, and a Struct nested past
protobuf's depth limit.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
import grpc.aio
import pytest
from google.protobuf.descriptor import MethodDescriptor

from maestro.access.v1 import access_service_pb2
from maestro.metrics.v1 import metrics_service_pb2
from maestro.prediction.v1 import prediction_service_pb2
from maestro.registry.v1 import registry_service_pb2
from maestro_grpc.app import bootstrap_admin
from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server
from tests.helpers import error_info, eventually

SERVICES = [
    access_service_pb2.DESCRIPTOR.services_by_name["AccessService"],
    metrics_service_pb2.DESCRIPTOR.services_by_name["MetricsService"],
    prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"],
    registry_service_pb2.DESCRIPTOR.services_by_name["RegistryService"],
]
METHODS = [(f"/{s.full_name}/{m.name}", m) for s in SERVICES for m in s.methods]

GARBAGE = b"\xff\xff\xff\xff\x0f"
# Field 1 (a string in every request that has one) holding invalid UTF-8.
BAD_UTF8 = b"\x0a\x02\xc3\x28"


def _deep_struct() -> bytes:
    """An UpdateArtifactRequest whose artifact.metadata Struct nests 200 levels."""
    value = b""
    for _ in range(200):
        # Struct{fields: {"a": Value{struct_value: <value>}}}
        inner = b"\x2a" + _varint(len(value)) + value  # Value.struct_value = 5
        entry = b"\x0a\x01a" + b"\x12" + _varint(len(inner)) + inner
        value = b"\x0a" + _varint(len(entry)) + entry
    return value


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


async def _call(
    channel: grpc.aio.Channel,
    method: str,
    desc: MethodDescriptor,
    data: bytes,
    metadata: tuple[tuple[str, str], ...] = (),
) -> None:
    """Send `data` as the request of `method`, bytes as they are (no serializer)."""
    raw: dict[str, Any] = {"request_serializer": None, "response_deserializer": None}
    if desc.client_streaming and desc.server_streaming:
        bidi = channel.stream_stream(method, **raw)(iter([data]), timeout=10, metadata=metadata)
        async for _ in bidi:
            pass
    elif desc.client_streaming:
        await channel.stream_unary(method, **raw)(iter([data]), timeout=10, metadata=metadata)
    elif desc.server_streaming:
        async for _ in channel.unary_stream(method, **raw)(data, timeout=10, metadata=metadata):
            pass
    else:
        await channel.unary_unary(method, **raw)(data, timeout=10, metadata=metadata)


async def _code(
    channel: grpc.aio.Channel, method: str, desc: MethodDescriptor, data: bytes
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(channel, method, desc, data)
    return caught.value


@pytest.mark.parametrize(("method", "desc"), METHODS, ids=[m for m, _ in METHODS])
async def test_garbage_is_invalid_argument_on_every_rpc(
    server: RunningServer, channel: grpc.aio.Channel, method: str, desc: MethodDescriptor
) -> None:
    first = desc.input_type.fields_by_number.get(1)
    string_first = first is not None and first.type == first.TYPE_STRING
    for data in (GARBAGE, BAD_UTF8) if string_first else (GARBAGE,):
        error = await _code(channel, method, desc, data)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, error.details())
        assert error_info(error).reason == "MALFORMED_REQUEST"
        assert "Request" not in (error.details() or "")
        trailers: Any = error.trailing_metadata() or ()
        assert any(key == "x-request-id" and value for key, value in trailers)


async def test_a_struct_nested_past_the_limit_is_invalid_argument(
    server: RunningServer, channel: grpc.aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="maestro.access")
    method = "/maestro.registry.v1.RegistryService/UpdateArtifact"
    artifact = b"\x52" + _varint(len(_deep_struct())) + _deep_struct()  # Artifact.metadata = 10
    data = b"\x0a" + _varint(len(artifact)) + artifact
    desc = registry_service_pb2.DESCRIPTOR.services_by_name["RegistryService"].methods_by_name[
        "UpdateArtifact"
    ]
    error = await _code(channel, method, desc, data)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    # An abort sends the status at once; the access log and the metrics are
    # written as the call's interceptors unwind, which may be just after the
    # client has its answer.
    lines = await eventually(
        lambda: [r for r in caplog.records if getattr(r, "grpc_method", "") == method],
        "the call's access-log line",
    )
    assert lines[-1].__dict__["grpc_code"] == "INVALID_ARGUMENT"
    counted = await eventually(
        lambda: server.registry.get_sample_value(
            "grpc_server_handled_total",
            {
                "grpc_type": "unary",
                "grpc_service": "maestro.registry.v1.RegistryService",
                "grpc_method": "UpdateArtifact",
                "grpc_code": "INVALID_ARGUMENT",
            },
        ),
        "the call counted as handled",
    )
    assert counted == 1


async def test_without_a_token_garbage_is_unauthenticated_first(settings: Settings) -> None:
    await bootstrap_admin(settings, "root")
    running = await start_server(settings)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            for method, desc in METHODS:
                error = await _code(channel, method, desc, GARBAGE)
                assert error.code() == grpc.StatusCode.UNAUTHENTICATED, method
                assert "Request" not in (error.details() or "")
    finally:
        await running.stop(grace=0)
