"""MetricsService: parse and validate each request, call the domain, map the result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from google.protobuf.message import Message

from maestro.metrics.v1 import metrics_service_pb2 as pb
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro_grpc.access import caller
from maestro_grpc.clock import Clock
from maestro_grpc.errors import Violations
from maestro_grpc.metrics.domain.dora import Band, DoraResult
from maestro_grpc.metrics.domain.feed import Watches
from maestro_grpc.metrics.domain.ingest import Ingestor
from maestro_grpc.metrics.domain.queries import Queries
from maestro_grpc.metrics.domain.series import Series
from maestro_grpc.metrics.domain.streams import ByteBudget, acquire_or_exhausted
from maestro_grpc.metrics.domain.summary import Summary
from maestro_grpc.metrics.domain.velocity import Velocity
from maestro_grpc.metrics.model import EventType, NameInfo, SummaryQuery, TypeInfo
from maestro_grpc.metrics.wire import validation as check
from maestro_grpc.metrics.wire.convert import BatchDecoder
from maestro_grpc.metrics.wire.eventconv import EVENT_TYPE_PROTO, PROTO_EVENT_TYPE
from maestro_grpc.metrics.wire.feed import WatchFilter
from maestro_grpc.metrics.wire.stream import StreamHandler, rejected_to_proto
from maestro_grpc.wire.checks import has_nul
from maestro_grpc.wire.context import Context
from maestro_grpc.wire.protoconv import opt_time, request_fingerprint, uuid_field

# GetMetricSeries: values per answer, by default and at most.
DEFAULT_SERIES_POINTS = 500
MAX_SERIES_POINTS = 10_000

# A unary write waits this long for room in the ingest budget before it is
# told RESOURCE_EXHAUSTED with a retry delay.
UNARY_BUDGET_WAIT_SECONDS = 5.0
MAX_NAME_PREFIXES = 50
DEFAULT_ENVIRONMENT = "production"


class MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(
        self,
        ingest: Ingestor,
        streams: StreamHandler,
        budget: ByteBudget,
        queries: Queries,
        watches: Watches,
        *,
        clock: Clock,
        max_batch_rows: int,
    ) -> None:
        self.ingest = ingest
        self.streams = streams
        self.counts = streams.counts
        self.budget = budget
        self.queries = queries
        self.watches = watches
        self.clock = clock
        self.max_batch_rows = max_batch_rows

    # ---- writes --------------------------------------------------------------------

    async def RecordMetrics(
        self, request: pb.RecordMetricsRequest, context: Context
    ) -> pb.RecordMetricsResponse:
        v = Violations()
        check.request_id(v, request.request_id)
        if not request.HasField("batch"):
            v.add("batch", "is required")
        v.raise_if_any()
        batch = BatchDecoder(
            now=self.clock(), max_rows=self.max_batch_rows, allowed=caller.visible_projects()
        ).decode(request.batch)
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
        self.counts.stored("RecordMetrics", result)
        return pb.RecordMetricsResponse(
            stored_points=result.stored_points,
            stored_events=result.stored_events,
            rejected=rejected_to_proto(result.rejected),
        )

    async def StreamMetrics(
        self, request_iterator: AsyncIterator[pb.StreamMetricsRequest], context: Context
    ) -> AsyncIterator[pb.StreamMetricsResponse]:
        async for response in self.streams.run(request_iterator):
            yield response

    # ---- live watch ----------------------------------------------------------------

    async def WatchMetrics(
        self, request: pb.WatchMetricsRequest, context: Context
    ) -> AsyncIterator[pb.WatchMetricsResponse]:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        wanted = _watch_filter(v, request)
        if request.after_sequence < 0:
            v.add("after_sequence", "must not be negative")
        v.raise_if_any()
        async with self.watches.watching(project_id, request.after_sequence) as watch:
            # An empty first message: the watch is in place, and every write
            # after this sequence will come.
            yield pb.WatchMetricsResponse(sequence=watch.start)
            async for entry in watch.entries():
                response = wanted.response(entry.payload)
                if response is not None:
                    response.sequence = entry.sequence
                    yield response

    # ---- queries -------------------------------------------------------------------

    async def GetMetricSummary(
        self, request: pb.GetMetricSummaryRequest, context: Context
    ) -> pb.GetMetricSummaryResponse:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        for i, name in enumerate(request.names):
            problem = check.name_problem(name)
            if problem:
                v.add(f"names[{i}]", problem)
        _prefix(v, request.name_prefix)
        if request.group_by_label and check.LABEL_KEY_RE.fullmatch(request.group_by_label) is None:
            v.add("group_by_label", "is not a label key (1-63 characters of [a-z0-9_.-])")
        start, end = _window(v, request, self.clock(), required_start=False)
        v.raise_if_any()
        found = await self.queries.summary(
            SummaryQuery(
                project_id=project_id,
                names=tuple(dict.fromkeys(request.names)),
                name_prefix=request.name_prefix,
                start=start,
                end=end,
                group_by_label=request.group_by_label,
            )
        )
        return _summaries_to_proto(found)

    async def GetVelocity(
        self, request: pb.GetVelocityRequest, context: Context
    ) -> pb.GetVelocityResponse:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        start, end = _window(v, request, self.clock(), required_start=True)
        if request.granularity not in pb.Granularity.values():
            v.add("granularity", f"{request.granularity} is not a known value")
        v.raise_if_any()
        assert start is not None  # required above
        weekly = request.granularity != pb.GRANULARITY_DAY
        return _velocity_to_proto(await self.queries.velocity(project_id, start, end, weekly))

    async def GetDoraMetrics(
        self, request: pb.GetDoraMetricsRequest, context: Context
    ) -> pb.GetDoraMetricsResponse:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        start, end = _window(v, request, self.clock(), required_start=True)
        if len(request.environment) > 300:
            v.add("environment", "must be at most 300 characters")
        if request.thresholds not in _THRESHOLDS:
            v.add("thresholds", f"{request.thresholds} is not a known value")
        if request.method not in (pb.DORA_METHOD_UNSPECIFIED, pb.DORA_METHOD_FOUR_KEYS):
            v.add("method", f"{request.method} is not a known value")
        v.raise_if_any()
        assert start is not None  # required above
        thresholds = _THRESHOLDS[request.thresholds]
        environment = request.environment.strip() or DEFAULT_ENVIRONMENT
        four_keys = request.method == pb.DORA_METHOD_FOUR_KEYS
        found = await self.queries.dora(
            project_id, start, end, environment, thresholds, four_keys=four_keys
        )
        return _dora_to_proto(found, thresholds)

    async def GetMetricSeries(
        self, request: pb.GetMetricSeriesRequest, context: Context
    ) -> pb.GetMetricSeriesResponse:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        problem = check.name_problem(request.name) if request.name else "is required"
        if problem:
            v.add("name", problem)
        if not 0 <= request.max_points <= MAX_SERIES_POINTS:
            v.add("max_points", f"must be between 0 and {MAX_SERIES_POINTS}")
        start, end = _window(v, request, self.clock(), required_start=False)
        v.raise_if_any()
        found = await self.queries.series(
            project_id, request.name, start, end, request.max_points or DEFAULT_SERIES_POINTS
        )
        return _series_to_proto(found)

    async def ListMetricNames(
        self, request: pb.ListMetricNamesRequest, context: Context
    ) -> pb.ListMetricNamesResponse:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        _prefix(v, request.name_prefix)
        v.raise_if_any()
        names, types = await self.queries.names(project_id, request.name_prefix)
        return _names_to_proto(names, types)

    async def GetRepositoryHeads(
        self, request: pb.GetRepositoryHeadsRequest, context: Context
    ) -> pb.GetRepositoryHeadsResponse:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        repo = request.repo.strip()
        if not repo:
            v.add("repo", "is required")
        elif len(repo) > 300:
            v.add("repo", "must be at most 300 characters")
        elif has_nul(repo):
            v.add("repo", "must not contain NUL characters")
        v.raise_if_any()
        out = pb.GetRepositoryHeadsResponse()
        for head in await self.queries.repository_heads(project_id, repo):
            item = out.heads.add(branch=head.branch, sha=head.sha)
            item.commit_time.FromDatetime(head.commit_time)
            item.update_time.FromDatetime(head.update_time)
        return out


# ---- validation ----------------------------------------------------------------------


def _prefix(v: Violations, name_prefix: str) -> None:
    check.name_prefix(v, name_prefix)


def _window(
    v: Violations, request: Message, now: datetime, *, required_start: bool
) -> tuple[datetime | None, datetime]:
    """The request's [start_time, end_time), end_time defaulting to now; start before end."""
    if required_start and not request.HasField("start_time"):
        v.add("start_time", "is required")
    start = v.take(lambda: opt_time(request, "start_time", "start_time"), None)
    end = v.take(lambda: opt_time(request, "end_time", "end_time"), None)
    if end is None and request.HasField("end_time"):
        return start, now  # malformed, and recorded: nothing to compare
    end = end or now
    if start is not None and end <= start:
        v.add("end_time", "must be after start_time")
    return start, end


def _watch_filter(v: Violations, request: pb.WatchMetricsRequest) -> WatchFilter:
    if len(request.name_prefixes) > MAX_NAME_PREFIXES:
        v.add("name_prefixes", f"at most {MAX_NAME_PREFIXES} prefixes")
    for i, prefix in enumerate(request.name_prefixes):
        if not prefix:
            v.add(f"name_prefixes[{i}]", "must be 1-200 characters")
        check.name_prefix(v, prefix, f"name_prefixes[{i}]")
    types: set[EventType] = set()
    for i, value in enumerate(request.event_types):
        event_type = PROTO_EVENT_TYPE.get(value)
        if event_type is None:
            v.add(f"event_types[{i}]", f"{value} is not an event type")
        else:
            types.add(event_type)
    return WatchFilter(list(request.name_prefixes), types)


# ---- responses -----------------------------------------------------------------------


def _summaries_to_proto(found: list[Summary]) -> pb.GetMetricSummaryResponse:
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


def _velocity_to_proto(found: Velocity) -> pb.GetVelocityResponse:
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


def _dora_to_proto(found: DoraResult, thresholds: int) -> pb.GetDoraMetricsResponse:
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
    if found.four_keys is not None:
        out.thresholds = pb.DORA_THRESHOLDS_UNSPECIFIED
        out.method = pb.DORA_METHOD_FOUR_KEYS
        out.four_keys.CopyFrom(
            pb.FourKeysBuckets(
                deployment_frequency=found.four_keys.deployment_frequency,
                lead_time=found.four_keys.lead_time,
                change_failure_rate=found.four_keys.change_failure_rate,
                time_to_restore=found.four_keys.time_to_restore,
            )
        )
    if found.median_lead_time is not None:
        out.median_lead_time.FromTimedelta(found.median_lead_time)
    if found.median_time_to_restore is not None:
        out.median_time_to_restore.FromTimedelta(found.median_time_to_restore)
    return out


def _series_to_proto(found: Series) -> pb.GetMetricSeriesResponse:
    out = pb.GetMetricSeriesResponse(bucketed=found.width_us > 0, total_count=found.total)
    for p in found.points:
        item = out.points.add(value=p.value, min=p.min, max=p.max, count=p.count)
        item.time.FromMicroseconds(p.time_us)
    if found.width_us:
        out.bucket_width.FromMicroseconds(found.width_us)
    return out


def _names_to_proto(names: list[NameInfo], types: list[TypeInfo]) -> pb.ListMetricNamesResponse:
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


def _band(band: Band | None) -> pb.DoraBand:
    return pb.DORA_BAND_UNSPECIFIED if band is None else _BANDS[band]
