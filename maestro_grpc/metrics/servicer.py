"""MetricsService: parse and validate each request, call the domain, map the result."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from maestro.metrics.v1 import metrics_service_pb2 as pb
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro_grpc.errors import (
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
    Violations,
)
from maestro_grpc.events import BusDisconnected, EventBus, SlowSubscriber
from maestro_grpc.metrics import validation as check
from maestro_grpc.metrics.convert import BatchDecoder
from maestro_grpc.metrics.domain.dora import Band
from maestro_grpc.metrics.domain.ingest import Ingestor
from maestro_grpc.metrics.eventconv import EVENT_TYPE_PROTO, PROTO_EVENT_TYPE
from maestro_grpc.metrics.feed import WatchFilter, project_channel
from maestro_grpc.metrics.queries import Queries
from maestro_grpc.metrics.stream import (
    ByteBudget,
    StreamHandler,
    acquire_or_exhausted,
    rejected_to_proto,
)
from maestro_grpc.metrics.summary import SummaryQuery
from maestro_grpc.wire.protoconv import opt_time, request_fingerprint, require_uuid

# A unary write waits this long for room in the ingest budget before it is
# told RESOURCE_EXHAUSTED with a retry delay.
UNARY_BUDGET_WAIT_SECONDS = 5.0
MAX_NAME_PREFIXES = 50


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
                fingerprint=request_fingerprint(request) if request.request_id else "",
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
        try:
            subscription = await self.bus.subscribe(
                project_channel(self.events_prefix, project_id), max_queue=self.watch_queue
            )
        except (BusDisconnected, OSError, ConnectionError, TimeoutError) as error:
            raise _bus_unavailable(error) from None
        except Exception as error:
            # redis-py's own errors do not derive from OSError.
            if type(error).__module__.startswith("redis"):
                raise _bus_unavailable(error) from None
            raise
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
        v = Violations()
        project_id = _project(v, request.project_id)
        for i, name in enumerate(request.names):
            problem = check.name_problem(name)
            if problem:
                v.add(f"names[{i}]", problem)
        if len(request.name_prefix) > 200:
            v.add("name_prefix", "must be at most 200 characters")
        if request.group_by_label and check.LABEL_KEY_RE.fullmatch(request.group_by_label) is None:
            v.add("group_by_label", "is not a label key (1-63 characters of [a-z0-9_.-])")
        start, end = _window(v, request, required_start=False)
        v.raise_if_any()
        assert project_id is not None
        found = await self.queries.summary(
            SummaryQuery(
                project_id=project_id,
                names=tuple(dict.fromkeys(request.names)),
                name_prefix=request.name_prefix,
                start=start,
                end=end or self.ingest.clock(),
                group_by_label=request.group_by_label,
            )
        )
        out = pb.GetMetricSummaryResponse()
        for summary in found:
            m = summary.moments
            item = out.summaries.add(
                name=summary.name,
                group_value=summary.group_value,
                count=m.count,
                min=m.min,
                max=m.max,
                mean=m.mean,
                stddev=m.stddev,
                p50=summary.percentiles[0],
                p90=summary.percentiles[1],
                p95=summary.percentiles[2],
                p99=summary.percentiles[3],
                last=m.last_value,
                source=pb.SUMMARY_SOURCE_ROLLUP if summary.from_rollups else pb.SUMMARY_SOURCE_RAW,
            )
            item.last_time.FromDatetime(m.last_time)
        return out

    async def GetVelocity(
        self, request: pb.GetVelocityRequest, context: Any
    ) -> pb.GetVelocityResponse:
        v = Violations()
        project_id = _project(v, request.project_id)
        start, end = _window(v, request, required_start=True)
        if request.granularity not in pb.Granularity.values():
            v.add("granularity", f"{request.granularity} is not a known value")
        v.raise_if_any()
        assert project_id is not None
        assert start is not None
        found = await self.queries.velocity(
            project_id, start, end or self.ingest.clock(), request.granularity != pb.GRANULARITY_DAY
        )
        out = pb.GetVelocityResponse(
            trend=pb.VelocityTrend(
                commits_per_bucket=found.trend["commits"],
                merged_pull_requests_per_bucket=found.trend["merged_pull_requests"],
                pipeline_runs_per_bucket=found.trend["pipeline_runs"],
                deployments_per_bucket=found.trend["deployments"],
            )
        )
        for bucket in found.buckets:
            item = out.buckets.add(
                commits=bucket.commits,
                merged_pull_requests=bucket.merged_pull_requests,
                pipeline_runs=bucket.pipeline_runs,
                deployments=bucket.deployments,
            )
            item.start_time.FromDatetime(bucket.start)
        return out

    async def GetDoraMetrics(
        self, request: pb.GetDoraMetricsRequest, context: Any
    ) -> pb.GetDoraMetricsResponse:
        v = Violations()
        project_id = _project(v, request.project_id)
        start, end = _window(v, request, required_start=True)
        if len(request.environment) > 300:
            v.add("environment", "must be at most 300 characters")
        thresholds = _THRESHOLDS.get(request.thresholds)
        if thresholds is None:
            v.add("thresholds", f"{request.thresholds} is not a known value")
        v.raise_if_any()
        assert project_id is not None
        assert start is not None
        assert thresholds is not None
        found = await self.queries.dora(
            project_id,
            start,
            end or self.ingest.clock(),
            request.environment.strip() or "production",
            thresholds,
        )
        out = pb.GetDoraMetricsResponse(
            deployments=found.deployments,
            deployment_days=found.deployment_days,
            deployment_days_per_week=found.deployment_days_per_week,
            deployment_frequency_band=_band(found.deployment_frequency_band),
            lead_time_changes=found.lead_time_changes,
            lead_time_band=_band(found.lead_time_band),
            change_failure_rate=found.change_failure_rate,
            failed_deployments=found.failed_deployments,
            change_failure_rate_band=_band(found.change_failure_rate_band),
            restored_incidents=found.restored_incidents,
            time_to_restore_band=_band(found.time_to_restore_band),
            thresholds=pb.DORA_THRESHOLDS_2021 if thresholds == 2021 else pb.DORA_THRESHOLDS_2023,
        )
        if found.median_lead_time is not None:
            out.median_lead_time.FromTimedelta(found.median_lead_time)
        if found.median_time_to_restore is not None:
            out.median_time_to_restore.FromTimedelta(found.median_time_to_restore)
        return out

    async def ListMetricNames(
        self, request: pb.ListMetricNamesRequest, context: Any
    ) -> pb.ListMetricNamesResponse:
        v = Violations()
        project_id = _project(v, request.project_id)
        if len(request.name_prefix) > 200:
            v.add("name_prefix", "must be at most 200 characters")
        v.raise_if_any()
        assert project_id is not None
        names, types = await self.queries.names(project_id, request.name_prefix)
        out = pb.ListMetricNamesResponse()
        for info in names:
            item = out.metric_names.add(name=info.name, count=info.count)
            item.first_time.FromDatetime(info.first_time)
            item.last_time.FromDatetime(info.last_time)
        for kind in types:
            entry = out.event_types.add(event_type=EVENT_TYPE_PROTO[kind.type], count=kind.count)
            entry.first_time.FromDatetime(kind.first_time)
            entry.last_time.FromDatetime(kind.last_time)
        return out


def _bus_unavailable(error: BaseException) -> Unavailable:
    return Unavailable(
        f"the event bus is unreachable ({error}); watch again later",
        reason="EVENT_BUS_UNAVAILABLE",
        retry_delay_seconds=1.0,
    )


_THRESHOLDS = {
    pb.DORA_THRESHOLDS_UNSPECIFIED: 2023,
    pb.DORA_THRESHOLDS_2023: 2023,
    pb.DORA_THRESHOLDS_2021: 2021,
}
_BANDS = {
    Band.ELITE: pb.DORA_BAND_ELITE,
    Band.HIGH: pb.DORA_BAND_HIGH,
    Band.MEDIUM: pb.DORA_BAND_MEDIUM,
    Band.LOW: pb.DORA_BAND_LOW,
}


def _band(band: Band | None) -> Any:
    return pb.DORA_BAND_UNSPECIFIED if band is None else _BANDS[band]


def _project(v: Violations, value: str) -> uuid.UUID | None:
    try:
        return require_uuid(value, "project_id")
    except InvalidArgument as error:
        v.items.extend(error.violations)
        return None


def _window(
    v: Violations, request: Any, *, required_start: bool
) -> tuple[datetime | None, datetime | None]:
    start = end = None
    try:
        start = opt_time(request, "start_time", "start_time")
        if start is None and required_start:
            v.add("start_time", "is required")
    except InvalidArgument as error:
        v.items.extend(error.violations)
    try:
        end = opt_time(request, "end_time", "end_time")
    except InvalidArgument as error:
        v.items.extend(error.violations)
    if start is not None and end is not None and end <= start:
        v.add("end_time", "must be after start_time")
    return start, end
