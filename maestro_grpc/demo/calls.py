"""The demo loaders' client: the service stubs on one channel, a bound on calls in
flight, and the few messages both loaders build (gRPC and the protos are
imported when a loader runs, not when the command line is built)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import grpc.aio
    from google.protobuf import timestamp_pb2

    from maestro.metrics.v1 import metric_pb2

T = TypeVar("T")
MAX_POINTS_PER_CALL = 8000


class Calls:
    """The service stubs on one channel, with the token and a bound on calls in flight."""

    def __init__(self, channel: grpc.aio.Channel, token: str = "", concurrency: int = 8) -> None:
        from maestro.metrics.v1 import metrics_service_pb2_grpc
        from maestro.registry.v1 import registry_service_pb2_grpc

        self.registry = registry_service_pb2_grpc.RegistryServiceStub(channel)
        self.metrics = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        self.metadata = [("authorization", f"Bearer {token}")] if token else []
        self.limit = asyncio.Semaphore(max(concurrency, 1))

    async def call(self, method: Callable[..., Awaitable[T]], request: Any) -> T:
        async with self.limit:
            return await method(request, metadata=self.metadata, timeout=120)

    async def record(self, columns: Sequence[metric_pb2.MetricColumns]) -> int:
        """Send columnar points in calls of at most MAX_POINTS_PER_CALL points each."""
        batches: list[list[metric_pb2.MetricColumns]] = [[]]
        size = 0
        for item in columns:
            if batches[-1] and size + len(item.values) > MAX_POINTS_PER_CALL:
                batches.append([])
                size = 0
            batches[-1].append(item)
            size += len(item.values)
        stored = await asyncio.gather(*(self._record_batch(b) for b in batches if b))
        return sum(stored)

    async def _record_batch(self, batch: list[metric_pb2.MetricColumns]) -> int:
        from maestro.metrics.v1 import metric_pb2
        from maestro.metrics.v1 import metrics_service_pb2 as ms

        response = await self.call(
            self.metrics.RecordMetrics,
            ms.RecordMetricsRequest(batch=metric_pb2.MetricBatch(columns=batch)),
        )
        if response.rejected:
            first = response.rejected[0]
            raise RuntimeError(
                f"{len(response.rejected)} points refused, first {first.field}: {first.description}"
            )
        return int(response.stored_points)

    async def close_project(
        self, project_id: str, status: str, end: datetime | None, succeeded: bool, notes: str
    ) -> None:
        """Set the project's final status (and end time), then record its outcome."""
        from google.protobuf import field_mask_pb2

        from maestro.registry.v1 import project_pb2 as pp
        from maestro.registry.v1 import registry_service_pb2 as rs

        paths = ["status"]
        project = pp.Project(id=project_id, status=status)
        if end is not None:
            project.end_time.CopyFrom(timestamp(end))
            paths.append("end_time")
        await self.call(
            self.registry.UpdateProject,
            rs.UpdateProjectRequest(
                project=project, update_mask=field_mask_pb2.FieldMask(paths=paths)
            ),
        )
        await self.call(
            self.registry.UpdateProjectSuccess,
            rs.UpdateProjectSuccessRequest(
                project_id=project_id, success=pp.ProjectSuccess(succeeded=succeeded, notes=notes)
            ),
        )


def columns_of(
    project_id: str, points: Sequence[tuple[str, datetime, float]]
) -> metric_pb2.MetricColumns:
    """One project's points as a MetricColumns message."""
    from maestro.metrics.v1 import metric_pb2
    from maestro_grpc.clock import to_micros

    names = sorted({name for name, _, _ in points})
    index = {name: i for i, name in enumerate(names)}
    return metric_pb2.MetricColumns(
        project_id=project_id,
        source=metric_pb2.METRIC_SOURCE_MANUAL,
        names=names,
        name_indexes=[index[name] for name, _, _ in points],
        values=[value for _, _, value in points],
        times_unix_micros=[to_micros(time) for _, time, _ in points],
    )


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    from google.protobuf import timestamp_pb2

    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value)
    return out
