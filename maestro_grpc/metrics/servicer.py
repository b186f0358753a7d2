"""MetricsService: parse and validate each request, call the domain, map the result."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

from maestro.metrics.v1 import metrics_service_pb2 as pb
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro_grpc.errors import (
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
    Unimplemented,
    Violations,
)
from maestro_grpc.events import BusDisconnected, EventBus, SlowSubscriber
from maestro_grpc.metrics import validation as check
from maestro_grpc.metrics.convert import BatchDecoder
from maestro_grpc.metrics.eventconv import PROTO_EVENT_TYPE
from maestro_grpc.metrics.feed import WatchFilter, project_channel
from maestro_grpc.metrics.ingest import Ingestor
from maestro_grpc.metrics.queries import Queries
from maestro_grpc.metrics.stream import (
    ByteBudget,
    StreamHandler,
    acquire_or_exhausted,
    rejected_to_proto,
)
from maestro_grpc.protoconv import require_uuid

# A unary write waits this long for room in the ingest budget before it is
# told RESOURCE_EXHAUSTED with a retry delay.
UNARY_BUDGET_WAIT_SECONDS = 5.0
MAX_NAME_PREFIXES = 50


def fingerprint(request: pb.RecordMetricsRequest) -> str:
    """What identifies a request for idempotency: everything but its request_id."""
    copy = pb.RecordMetricsRequest()
    copy.CopyFrom(request)
    copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


class MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(
        self,
        ingest: Ingestor,
        streams: StreamHandler,
        budget: ByteBudget,
        queries: Queries,
        bus: EventBus,
        *,
        max_batch_rows: int,
        events_prefix: str,
        watch_queue: int,
    ) -> None:
        self.ingest = ingest
        self.streams = streams
        self.budget = budget
        self.queries = queries
        self.bus = bus
        self.max_batch_rows = max_batch_rows
        self.events_prefix = events_prefix
        self.watch_queue = watch_queue

    # ---- writes --------------------------------------------------------------------

    async def RecordMetrics(
        self, request: pb.RecordMetricsRequest, context: Any
    ) -> pb.RecordMetricsResponse:
        v = Violations()
        check.request_id(v, request.request_id)
        if not request.HasField("batch"):
            v.add("batch", "is required")
        v.raise_if_any()
        decoder = BatchDecoder(now=self.ingest.clock(), max_rows=self.max_batch_rows)
        batch = decoder.decode(request.batch)
        size = request.ByteSize()
        await acquire_or_exhausted(self.budget, size, UNARY_BUDGET_WAIT_SECONDS)
        try:
            result = await self.ingest.write(
                batch,
                request_id=request.request_id,
                fingerprint=fingerprint(request) if request.request_id else "",
            )
        finally:
            await self.budget.release(size)
        return pb.RecordMetricsResponse(
            stored_points=result.stored_points,
            stored_events=result.stored_events,
            rejected=rejected_to_proto(result.rejected),
        )

    async def StreamMetrics(
        self, request_iterator: AsyncIterator[pb.StreamMetricsRequest], context: Any
    ) -> AsyncIterator[pb.StreamMetricsResponse]:
        async for response in self.streams.run(request_iterator):
            yield response

    # ---- live watch ----------------------------------------------------------------

    async def WatchMetrics(
        self, request: pb.WatchMetricsRequest, context: Any
    ) -> AsyncIterator[pb.WatchMetricsResponse]:
        v = Violations()
        project_id = None
        try:
            project_id = require_uuid(request.project_id, "project_id")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        if len(request.name_prefixes) > MAX_NAME_PREFIXES:
            v.add("name_prefixes", f"at most {MAX_NAME_PREFIXES} prefixes")
        for i, prefix in enumerate(request.name_prefixes):
            if not prefix or len(prefix) > 200:
                v.add(f"name_prefixes[{i}]", "must be 1-200 characters")
        types = set()
        for i, value in enumerate(request.event_types):
            event_type = PROTO_EVENT_TYPE.get(value)
            if event_type is None:
                v.add(f"event_types[{i}]", f"{value} is not an event type")
            else:
                types.add(event_type)
        v.raise_if_any()
        assert project_id is not None
        await self.queries.require_project(project_id)
        wanted = WatchFilter(list(request.name_prefixes), types)
        subscription = await self.bus.subscribe(
            project_channel(self.events_prefix, project_id), max_queue=self.watch_queue
        )
        try:
            # An empty first message: the watch is in place, and everything
            # stored from now on will come.
            yield pb.WatchMetricsResponse()
            async for payload in subscription:
                response = wanted.response(payload)
                if response is not None:
                    yield response
        except SlowSubscriber:
            raise ResourceExhausted(
                "this watcher fell behind what arrives and was dropped; read faster, "
                "narrow the filter, or watch again",
                reason="WATCHER_TOO_SLOW",
            ) from None
        except BusDisconnected as error:
            raise Unavailable(
                f"{error}; watch again", reason="EVENT_BUS_UNAVAILABLE", retry_delay_seconds=1.0
            ) from None
        finally:
            await self.bus.unsubscribe(subscription)

    # ---- queries -------------------------------------------------------------------

    async def GetMetricSummary(
        self, request: pb.GetMetricSummaryRequest, context: Any
    ) -> pb.GetMetricSummaryResponse:
        raise Unimplemented("GetMetricSummary lands later in issue #3")

    async def GetVelocity(
        self, request: pb.GetVelocityRequest, context: Any
    ) -> pb.GetVelocityResponse:
        raise Unimplemented("GetVelocity lands later in issue #3")

    async def GetDoraMetrics(
        self, request: pb.GetDoraMetricsRequest, context: Any
    ) -> pb.GetDoraMetricsResponse:
        raise Unimplemented("GetDoraMetrics lands later in issue #3")

    async def ListMetricNames(
        self, request: pb.ListMetricNamesRequest, context: Any
    ) -> pb.ListMetricNamesResponse:
        raise Unimplemented("ListMetricNames lands later in issue #3")
