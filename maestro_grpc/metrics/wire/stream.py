"""One StreamMetrics call on the wire: the open message, batch messages in, acks out.

The protocol itself (the in-flight window, sequences, epochs, the byte
budget and the lifetime) is the domain's (`domain/streams.py`); this turns
its messages into `Incoming` batches and its `Ack`s into messages.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable

from google.protobuf import duration_pb2

from maestro.metrics.v1 import metric_pb2
from maestro.metrics.v1 import metrics_service_pb2 as pb
from maestro_grpc import audit
from maestro_grpc.access import caller
from maestro_grpc.clock import Clock
from maestro_grpc.errors import InvalidArgument
from maestro_grpc.metrics.domain.streams import Ack, Incoming, Streams
from maestro_grpc.metrics.model import Batch, Opened, Rejected
from maestro_grpc.metrics.wire.convert import BatchDecoder
from maestro_grpc.metrics.wire.telemetry import IngestCounts
from maestro_grpc.metrics.wire.validation import producer_problem
from maestro_grpc.wire.protoconv import parse_uuid

STREAM_METRICS = "StreamMetrics"


class StreamHandler:
    """Runs StreamMetrics calls through the domain's Streams."""

    def __init__(self, streams: Streams, clock: Clock) -> None:
        self.streams = streams
        self.limits = streams.limits
        self.clock = clock
        # What the streams stored and refused (the servicer counts RecordMetrics here too).
        self.counts = IngestCounts()

    async def run(
        self, requests: AsyncIterator[pb.StreamMetricsRequest]
    ) -> AsyncIterator[pb.StreamMetricsResponse]:
        first = await anext(aiter(requests), None)
        if first is None:
            return
        if first.WhichOneof("message") != "open":
            raise InvalidArgument.for_field("open", "the first message of a stream must be open")
        problem = producer_problem(first.open.producer_id)
        if problem:
            raise InvalidArgument.for_field("open.producer_id", problem)
        scope = parse_uuid(first.open.project_id, "open.project_id", required=False)
        if scope is not None:
            caller.require(scope)
        allowed = caller.visible_projects()
        async with self.streams.session(first.open.producer_id, scope) as (session, opened):
            # The stream was audited as it opened (the producer's row);
            # its batches are not, one by one (their producer and sequence
            # are kept with every batch in the store).
            audited = audit.current()
            if audited is not None:
                audited.automatic = False
            yield pb.StreamMetricsResponse(opened=self._opened(opened))
            incoming = self._incoming(requests, scope, allowed)
            acks = self.streams.acks(incoming, session, opened.committed_sequence)
            async with contextlib.aclosing(acks):
                async for ack in acks:
                    if ack.result is None:
                        self.counts.duplicate(STREAM_METRICS)
                    else:
                        self.counts.stored(STREAM_METRICS, ack.result)
                    yield pb.StreamMetricsResponse(ack=ack_to_proto(ack))

    def _opened(self, opened: Opened) -> pb.StreamOpened:
        lifetime = self.limits.lifetime_seconds
        return pb.StreamOpened(
            committed_sequence=opened.committed_sequence,
            epoch=opened.epoch,
            max_inflight_batches=self.limits.max_inflight_batches,
            max_batch_rows=self.limits.max_batch_rows,
            stream_lifetime=duration_pb2.Duration(
                seconds=int(lifetime), nanos=int(lifetime % 1 * 1e9)
            ),
        )

    async def _incoming(
        self,
        requests: AsyncIterator[pb.StreamMetricsRequest],
        scope: uuid.UUID | None,
        allowed: frozenset[uuid.UUID] | None,
    ) -> AsyncIterator[Incoming]:
        """The batches after the open, each to be decoded when its turn comes."""
        async for message in requests:
            if message.WhichOneof("message") != "batch":
                raise InvalidArgument.for_field(
                    "open", "a stream is opened once; later messages must be batches"
                )
            if message.batch.sequence <= 0:
                raise InvalidArgument.for_field("batch.sequence", "must be positive")
            yield Incoming(
                message.batch.sequence,
                message.ByteSize(),
                self._decoder(message.batch, scope, allowed),
            )

    def _decoder(
        self,
        message: pb.StreamBatch,
        scope: uuid.UUID | None,
        allowed: frozenset[uuid.UUID] | None,
    ) -> Callable[[], Batch]:
        def decode() -> Batch:
            decoder = BatchDecoder(
                now=self.clock(),
                max_rows=self.limits.max_batch_rows,
                scope=scope,
                allowed=allowed,
                field="batch.batch",
            )
            return decoder.decode(message.batch)

        return decode


def ack_to_proto(ack: Ack) -> pb.BatchAck:
    if ack.result is None:
        return pb.BatchAck(sequence=ack.sequence, duplicate=True)
    return pb.BatchAck(
        sequence=ack.sequence,
        stored_points=ack.result.stored_points,
        stored_events=ack.result.stored_events,
        rejected=rejected_to_proto(ack.result.rejected),
    )


def rejected_to_proto(rows: list[Rejected]) -> list[metric_pb2.RejectedRow]:
    return [
        metric_pb2.RejectedRow(field=r.field, description=r.description, reason=r.reason)
        for r in rows
    ]
