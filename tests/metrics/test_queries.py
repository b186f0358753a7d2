"""GetMetricSummary (raw, exact), ListMetricNames and GetVelocity through gRPC, both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import numpy as np
import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import process_event_pb2 as pe
from maestro_grpc.metrics.domain.velocity import velocity
from tests.helpers import expect_error, expect_invalid, ts
from tests.metrics.helpers import (
    BASE,
    BASE_US,
    Metrics,
    columns,
    commit,
    deployment,
    pipeline,
    point,
    sha,
)


async def record(metrics: Metrics, **batch: Any) -> ms.RecordMetricsResponse:
    response = await metrics.RecordMetrics(ms.RecordMetricsRequest(batch=mp.MetricBatch(**batch)))
    assert list(response.rejected) == []
    return response


async def test_summary_is_exact_and_grouped(metrics: Metrics, project: str) -> None:
    rng = np.random.default_rng(11)
    ci = rng.normal(300, 40, 101).round(3).tolist()
    block = columns(
        project,
        ci,
        names=("ci.duration_seconds",),
        label_sets=[{"runner": "a"}, {"runner": "b"}],
        label_set_indexes=[i % 2 for i in range(101)],
    )
    await record(metrics, columns=[block])
    await record(
        metrics,
        points=[
            point(project, "mlflow.loss", v, BASE + timedelta(minutes=i))
            for i, v in enumerate([0.9, 0.5, 0.7])
        ],
    )
    got = await metrics.GetMetricSummary(
        ms.GetMetricSummaryRequest(
            project_id=project, start_time=ts(BASE), end_time=ts(BASE + timedelta(hours=1))
        )
    )
    assert [s.name for s in got.summaries] == ["ci.duration_seconds", "mlflow.loss"]
    ci_summary, loss = got.summaries
    values = np.array(ci)
    assert ci_summary.source == ms.SUMMARY_SOURCE_RAW
    assert ci_summary.count == 101
    assert ci_summary.min == values.min()
    assert ci_summary.max == values.max()
    assert ci_summary.mean == pytest.approx(values.mean())
    assert ci_summary.stddev == pytest.approx(values.std(ddof=1))
    for field, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert getattr(ci_summary, field) == pytest.approx(np.percentile(values, q), rel=1e-12)
    assert ci_summary.last == ci[-1]
    assert ci_summary.last_time.ToMicroseconds() == BASE_US + 100 * 1_000_000
    assert (loss.count, loss.p50, loss.last) == (3, 0.7, 0.7)
    assert loss.stddev == pytest.approx(0.2)

    grouped = await metrics.GetMetricSummary(
        ms.GetMetricSummaryRequest(
            project_id=project,
            names=["ci.duration_seconds", "mlflow.loss"],
            group_by_label="runner",
        )
    )
    keys = [(s.name, s.group_value, s.count) for s in grouped.summaries]
    assert keys == [
        ("ci.duration_seconds", "a", 51),
        ("ci.duration_seconds", "b", 50),
        ("mlflow.loss", "", 3),
    ]
    runner_a = values[::2]
    assert grouped.summaries[0].p90 == pytest.approx(np.percentile(runner_a, 90), rel=1e-12)
    prefixed = await metrics.GetMetricSummary(
        ms.GetMetricSummaryRequest(project_id=project, name_prefix="mlflow.")
    )
    assert [s.name for s in prefixed.summaries] == ["mlflow.loss"]
    empty = await metrics.GetMetricSummary(
        ms.GetMetricSummaryRequest(
            project_id=project,
            start_time=ts("2020-01-01T00:00:00"),
            end_time=ts("2020-01-02T00:00:00"),
        )
    )
    assert list(empty.summaries) == []


async def test_summary_bad_requests(metrics: Metrics, project: str) -> None:
    await expect_invalid(
        metrics.GetMetricSummary(ms.GetMetricSummaryRequest(project_id="x")), "project_id"
    )
    await expect_invalid(
        metrics.GetMetricSummary(ms.GetMetricSummaryRequest(project_id=project, names=["Bad"])),
        "names[0]",
    )
    await expect_invalid(
        metrics.GetMetricSummary(
            ms.GetMetricSummaryRequest(project_id=project, group_by_label="A B")
        ),
        "group_by_label",
    )
    await expect_invalid(
        metrics.GetMetricSummary(
            ms.GetMetricSummaryRequest(project_id=project, start_time=ts(BASE), end_time=ts(BASE))
        ),
        "end_time",
    )
    await expect_error(
        metrics.GetMetricSummary(
            ms.GetMetricSummaryRequest(project_id="00000000-0000-0000-0000-000000000009")
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_summary_of_a_missing_project_is_not_found_on_every_path(
    metrics: Metrics, project: str
) -> None:
    # The project is looked up only when an answer comes back empty: a
    # missing one is NOT_FOUND whether the window is read raw or from
    # rollups, and a project with nothing recorded answers with no summaries.
    missing = "00000000-0000-0000-0000-000000000009"
    windows: list[tuple[datetime, datetime] | None] = [
        None,
        (BASE, BASE + timedelta(days=1)),
        (BASE - timedelta(days=365), BASE),
    ]

    def request(project_id: str, window: tuple[datetime, datetime] | None) -> Any:
        out = ms.GetMetricSummaryRequest(project_id=project_id)
        if window is not None:
            out.start_time.CopyFrom(ts(window[0]))
            out.end_time.CopyFrom(ts(window[1]))
        return out

    for window in windows:
        await expect_error(
            metrics.GetMetricSummary(request(missing, window)), grpc.StatusCode.NOT_FOUND
        )
        empty = await metrics.GetMetricSummary(request(project, window))
        assert list(empty.summaries) == []


async def test_list_metric_names(metrics: Metrics, project: str) -> None:
    await record(metrics, columns=[columns(project, [1.0, 2.0, 3.0], names=("b.metric",))])
    await record(metrics, points=[point(project, "a.metric", 1.0, BASE + timedelta(days=1))])
    await record(
        metrics,
        events=[commit(project, sha(1), BASE), commit(project, sha(2), BASE + timedelta(hours=5))],
    )
    got = await metrics.ListMetricNames(ms.ListMetricNamesRequest(project_id=project))
    assert [(m.name, m.count) for m in got.metric_names] == [("a.metric", 1), ("b.metric", 3)]
    assert got.metric_names[1].first_time.ToMicroseconds() == BASE_US
    assert got.metric_names[1].last_time.ToMicroseconds() == BASE_US + 2_000_000
    assert [(t.event_type, t.count) for t in got.event_types] == [(pe.EVENT_TYPE_COMMIT, 2)]
    assert got.event_types[0].last_time.ToDatetime(tzinfo=UTC) == BASE + timedelta(hours=5)
    only_b = await metrics.ListMetricNames(
        ms.ListMetricNamesRequest(project_id=project, name_prefix="b.")
    )
    assert [m.name for m in only_b.metric_names] == ["b.metric"]


def test_velocity_buckets_and_trend() -> None:
    start = datetime(2026, 3, 4, 12, tzinfo=UTC)  # a Wednesday
    end = datetime(2026, 3, 20, tzinfo=UTC)
    events = [
        ("commits", datetime(2026, 3, 4, 13, tzinfo=UTC)),
        ("commits", datetime(2026, 3, 10, tzinfo=UTC)),
        ("commits", datetime(2026, 3, 11, tzinfo=UTC)),
        ("commits", datetime(2026, 3, 19, tzinfo=UTC)),
        ("commits", datetime(2026, 3, 19, 5, tzinfo=UTC)),
        ("commits", datetime(2026, 3, 19, 6, tzinfo=UTC)),
        ("commits", datetime(2026, 3, 4, 11, tzinfo=UTC)),  # before the window
        ("deployments", datetime(2026, 3, 16, tzinfo=UTC)),
    ]
    weekly = velocity(start, end, True, events)
    assert [b.start.day for b in weekly.buckets] == [2, 9, 16]
    assert [b.commits for b in weekly.buckets] == [1, 2, 3]
    assert weekly.trend["commits"] == pytest.approx(1.0)
    assert weekly.trend["deployments"] == pytest.approx(0.5)
    daily = velocity(start, end, False, events)
    assert len(daily.buckets) == 16
    assert daily.buckets[0].start == datetime(2026, 3, 4, tzinfo=UTC)


async def test_velocity_through_grpc(metrics: Metrics, project: str) -> None:
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    merged = pe.ProcessEvent(
        project_id=project,
        pull_request=pe.PullRequest(
            repo="r",
            number=1,
            state=pe.PULL_REQUEST_STATE_MERGED,
            open_time=ts(monday - timedelta(days=3)),
            merge_time=ts(monday + timedelta(days=8)),
        ),
    )
    await record(
        metrics,
        events=[
            commit(project, sha(1), monday + timedelta(hours=1)),
            commit(project, sha(2), monday + timedelta(days=7)),
            commit(project, sha(3), monday + timedelta(days=8)),
            merged,
            pipeline(project, "1", pe.PIPELINE_STATUS_SUCCEEDED, monday + timedelta(days=1)),
            deployment(project, "d1", monday + timedelta(days=9), [sha(2)]),
            deployment(
                project, "d2", monday + timedelta(days=9), [], status=pe.DEPLOYMENT_STATUS_FAILED
            ),
        ],
    )
    got = await metrics.GetVelocity(
        ms.GetVelocityRequest(
            project_id=project, start_time=ts(monday), end_time=ts(monday + timedelta(days=14))
        )
    )
    rows = [
        (b.commits, b.merged_pull_requests, b.pipeline_runs, b.deployments) for b in got.buckets
    ]
    assert rows == [(1, 0, 1, 0), (2, 1, 0, 1)]
    assert got.trend.commits_per_bucket == pytest.approx(1.0)
    assert got.trend.pipeline_runs_per_bucket == pytest.approx(-1.0)
    daily = await metrics.GetVelocity(
        ms.GetVelocityRequest(
            project_id=project,
            start_time=ts(monday),
            end_time=ts(monday + timedelta(days=14)),
            granularity=ms.GRANULARITY_DAY,
        )
    )
    assert len(daily.buckets) == 14
    assert sum(b.commits for b in daily.buckets) == 3
    await expect_invalid(
        metrics.GetVelocity(ms.GetVelocityRequest(project_id=project)), "start_time"
    )
    await expect_invalid(
        metrics.GetVelocity(
            ms.GetVelocityRequest(
                project_id=project,
                start_time=ts("1990-01-01T00:00:00"),
                granularity=ms.GRANULARITY_DAY,
            )
        ),
        "start_time",
    )
