"""GetMetricSeries through gRPC on both stores, and its bucketing on its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import grpc
import numpy as np
import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro_grpc.metrics.domain.series import series
from tests.helpers import expect_error, expect_invalid, ts
from tests.metrics.helpers import BASE, BASE_US, Metrics, point


async def record(metrics: Metrics, **batch: Any) -> None:
    response = await metrics.RecordMetrics(ms.RecordMetricsRequest(batch=mp.MetricBatch(**batch)))
    assert list(response.rejected) == []


async def test_every_point_of_one_name_in_time_order(metrics: Metrics, project: str) -> None:
    minute = timedelta(minutes=1)
    await record(
        metrics,
        points=[
            point(project, "train.loss", 0.9, BASE + 2 * minute, run="a"),
            point(project, "train.loss", 0.5, BASE, run="b"),
            point(project, "train.loss", 0.7, BASE + minute, run="a"),
            point(project, "train.accuracy", 0.1, BASE),
        ],
    )
    got = await metrics.GetMetricSeries(
        ms.GetMetricSeriesRequest(project_id=project, name="train.loss")
    )
    assert not got.bucketed
    assert got.total_count == 3
    # Every label set together, oldest first.
    assert [(p.time.ToMicroseconds(), p.value, p.count) for p in got.points] == [
        (BASE_US, 0.5, 1),
        (BASE_US + 60_000_000, 0.7, 1),
        (BASE_US + 120_000_000, 0.9, 1),
    ]
    window = await metrics.GetMetricSeries(
        ms.GetMetricSeriesRequest(
            project_id=project,
            name="train.loss",
            start_time=ts(BASE + minute),
            end_time=ts(BASE + 2 * minute),
        )
    )
    assert [p.value for p in window.points] == [0.7]
    nothing = await metrics.GetMetricSeries(
        ms.GetMetricSeriesRequest(project_id=project, name="no.such")
    )
    assert list(nothing.points) == []


async def test_many_points_come_back_as_buckets(metrics: Metrics, project: str) -> None:
    values = [float(i) for i in range(100)]
    await record(
        metrics,
        points=[
            point(project, "ci.q", v, BASE + timedelta(seconds=i)) for i, v in enumerate(values)
        ],
    )
    got = await metrics.GetMetricSeries(
        ms.GetMetricSeriesRequest(project_id=project, name="ci.q", max_points=10)
    )
    assert got.bucketed
    assert got.total_count == 100
    assert len(got.points) == 10
    assert sum(p.count for p in got.points) == 100
    assert got.bucket_width.ToMicroseconds() == 9_900_001
    first = got.points[0]
    assert (first.min, first.max, first.count) == (0.0, 9.0, 10)
    assert first.value == pytest.approx(4.5)
    assert first.time.ToMicroseconds() == BASE_US


async def test_bad_requests(metrics: Metrics, project: str) -> None:
    await expect_invalid(
        metrics.GetMetricSeries(ms.GetMetricSeriesRequest(project_id=project)), "name"
    )
    await expect_invalid(
        metrics.GetMetricSeries(
            ms.GetMetricSeriesRequest(project_id=project, name="a", max_points=10_001)
        ),
        "max_points",
    )
    await expect_invalid(
        metrics.GetMetricSeries(
            ms.GetMetricSeriesRequest(
                project_id=project, name="a", start_time=ts(BASE), end_time=ts(BASE)
            )
        ),
        "end_time",
    )
    await expect_invalid(
        metrics.GetMetricSeries(ms.GetMetricSeriesRequest(project_id="nope", name="a")),
        "project_id",
    )
    await expect_error(
        metrics.GetMetricSeries(
            ms.GetMetricSeriesRequest(project_id="00000000-0000-4000-8000-000000000000", name="a")
        ),
        grpc.StatusCode.NOT_FOUND,
    )


@pytest.mark.parametrize(
    ("times", "max_points", "expected"),
    [
        # At most max_points: as they are.
        ([0, 5], 2, [(0, 1), (5, 1)]),
        # Width ceil(11 / 2) = 6: [0, 6) and [6, 12).
        ([0, 1, 2, 10], 2, [(0, 3), (10, 1)]),
        # An empty bucket in the middle is left out.
        ([0, 1, 100, 101], 3, [(0, 2), (100, 2)]),
        ([], 5, []),
    ],
)
def test_bucketing(times: list[int], max_points: int, expected: list[tuple[int, int]]) -> None:
    t = np.array(times, dtype=np.int64)
    found = series(t, np.arange(len(times), dtype=np.float64), max_points)
    assert [(p.time_us, p.count) for p in found.points] == expected
    assert found.total == len(times)
