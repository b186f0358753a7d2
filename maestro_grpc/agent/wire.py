"""The agent's side of the wire: its channel (the client package's), StreamMetrics
framing, error details.

Spooled batches are sent as the bytes they were spooled as:
`encode_batch_request` frames them as a StreamMetricsRequest without parsing
them again, and the stream's request serializer passes bytes through.
"""

from __future__ import annotations

import re
from typing import Any

import grpc
import grpc.aio
from google.rpc import error_details_pb2, status_pb2

from maestro.metrics.v1 import metric_pb2
from maestro_client import channel as client_channel
from maestro_client import retry_delay
from maestro_grpc import tracing
from maestro_grpc.agent.settings import AgentSettings

# The end-of-stream sentinel of grpc.aio reads (grpc-stubs does not declare it).
EOF: Any = getattr(grpc.aio, "EOF")  # noqa: B009
STREAM_METHOD = "/maestro.metrics.v1.MetricsService/StreamMetrics"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def encode_batch_request(sequence: int, payload: bytes) -> bytes:
    """StreamMetricsRequest{batch: StreamBatch{sequence, batch: <payload>}} on the
    wire, without parsing the spooled MetricBatch again."""
    inner = b"\x08" + _varint(sequence) + b"\x12" + _varint(len(payload)) + payload
    return b"\x12" + _varint(len(inner)) + inner


def passthrough(message: bytes) -> bytes:
    """The request serializer of a stream whose requests are already bytes."""
    return message


def open_sync_channel(settings: AgentSettings) -> grpc.Channel:
    """A blocking channel, for the unary look-ups a collector makes from its thread."""
    return client_channel.open_sync_channel(settings.connection(), attach_token=False)


def open_channel(settings: AgentSettings) -> grpc.aio.Channel:
    """The stream's channel: the client package's (TLS, reconnect options), with
    traces; the agent's own backoff paces its streams, so no retry policy."""
    return client_channel.open_channel(
        settings.connection(), attach_token=False, interceptors=tracing.client_interceptors()
    )


def call_metadata(settings: AgentSettings) -> list[tuple[str, str]]:
    return client_channel.token_metadata(settings.token)


def status_details(error: grpc.aio.AioRpcError) -> tuple[dict[str, str], float | None]:
    """(ErrorInfo metadata, RetryInfo delay in seconds) of an error, where present."""
    metadata: dict[str, str] = {}
    trailing: Any = error.trailing_metadata() or ()
    for key, value in trailing:
        if key != "grpc-status-details-bin" or not isinstance(value, bytes):
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                metadata.update(info.metadata)
                metadata.setdefault("reason", info.reason)
    return metadata, retry_delay(error)


_ROW_INDEX = re.compile(r"^(points|events|columns)\[(\d+)\]")
_COLUMN_ROW = re.compile(r"^columns\[\d+\]\.(values|times_unix_micros|name_indexes|names)\[(\d+)\]")


def describe_row(payload: bytes, field_path: str) -> str:
    """A short name for the row a rejection points at ("commit 1a2b3c4d5e6f")."""
    match = _ROW_INDEX.match(field_path)
    if not match:
        return ""
    batch = metric_pb2.MetricBatch.FromString(payload)
    kind, index = match.group(1), int(match.group(2))
    try:
        if kind == "points":
            return f"point {batch.points[index].name}"
        if kind == "columns":
            return _describe_column_row(batch.columns[index], field_path)
        event = batch.events[index]
    except IndexError:
        return ""
    which = event.WhichOneof("kind") or "event"
    inner = getattr(event, which, None) if which != "event" else None
    for key in ("sha", "run_id", "deployment_id", "incident_id", "suite", "number"):
        if inner is not None and key in inner.DESCRIPTOR.fields_by_name:
            value = getattr(inner, key)
            if value:
                shown = value[:12] if key == "sha" else value
                return f"{which} {shown}"
    return which


def _describe_column_row(block: metric_pb2.MetricColumns, field_path: str) -> str:
    """ "point <name>" for a refused point (or name) of a columnar block."""
    match = _COLUMN_ROW.match(field_path)
    if match is None:
        return f"columns of {block.project_id}"
    which, index = match.group(1), int(match.group(2))
    try:
        name_index = index if which == "names" else block.name_indexes[index]
        return f"point {block.names[name_index]}"
    except IndexError:
        return f"columns of {block.project_id}"
