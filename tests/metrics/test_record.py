"""RecordMetrics through a real server on both stores: partial success, identity, idempotency."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

import grpc

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import process_event_pb2 as pe
from maestro_grpc.clock import utcnow
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.server import RunningServer
from tests.helpers import error_info, expect_error, expect_invalid, ts
from tests.metrics.helpers import (
    BASE,
    BASE_US,
    Metrics,
    Registry,
    columns,
    commit,
    pipeline,
    point,
    sha,
)


async def record(metrics: Metrics, request_id: str = "", **batch: Any) -> ms.RecordMetricsResponse:
    return await metrics.RecordMetrics(
        ms.RecordMetricsRequest(batch=mp.MetricBatch(**batch), request_id=request_id)
    )


async def stored_points(server: RunningServer, project: str) -> list[tuple[str, datetime, float]]:
    return await MetricsReader(server.db).metric_points(
        uuid.UUID(project), None, utcnow() + timedelta(days=1)
    )


async def test_columns_and_points_are_stored(
    metrics: Metrics, server: RunningServer, project: str
) -> None:
    response = await record(
        metrics,
        columns=[columns(project, [1.0, 2.0, 3.0])],
        points=[point(project, "mlflow.val_accuracy", 0.9, BASE, stage="eval")],
    )
    assert (response.stored_points, response.stored_events, list(response.rejected)) == (4, 0, [])
    rows = await stored_points(server, project)
    assert [(n, v) for n, _, v in rows] == [
        ("ci.duration_seconds", 1.0),
        ("ci.duration_seconds", 2.0),
        ("ci.duration_seconds", 3.0),
        ("mlflow.val_accuracy", 0.9),
    ]
    assert rows[0][1] == BASE
    assert rows[1][1] == BASE + timedelta(seconds=1)


async def test_bad_rows_are_refused_one_by_one(
    metrics: Metrics, server: RunningServer, project: str
) -> None:
    unknown = str(uuid.uuid4())
    block = columns(project, [1.0, math.nan, 3.0, math.inf, 5.0])
    block.times_unix_micros[2] = 0  # missing time
    response = await record(
        metrics,
        columns=[block, columns(unknown, [1.0])],
        points=[
            point(project, "ok.metric", 1.0, BASE),
            point(project, "Bad Name", 1.0, BASE),
            mp.MetricPoint(project_id=project, name="no.time", value=1.0),
            point(project, "ok.metric", math.nan, BASE + timedelta(minutes=1)),
            point(project, "ok.metric", 1.0, utcnow() + timedelta(hours=2)),
            point("not-a-uuid", "ok.metric", 1.0, BASE),
        ],
    )
    rejected = {r.field: r.description for r in response.rejected}
    assert set(rejected) == {
        "columns[0].values[1]",
        "columns[0].values[3]",
        "columns[0].times_unix_micros[2]",
        "columns[1].project_id",
        "points[1].name",
        "points[2].time",
        "points[3].value",
        "points[4].time",
        "points[5].project_id",
    }
    assert "finite" in rejected["columns[0].values[1]"]
    assert "required" in rejected["columns[0].times_unix_micros[2]"]
    assert "does not exist" in rejected["columns[1].project_id"]
    assert "future" in rejected["points[4].time"]
    assert "not a UUID" in rejected["points[5].project_id"]
    # The valid rows went in: 2 of the block, 1 point.
    assert response.stored_points == 3
    assert [v for _, _, v in await stored_points(server, project)] == [1.0, 5.0, 1.0]


async def test_same_identity_replaces_the_value(
    metrics: Metrics, server: RunningServer, project: str
) -> None:
    first = await record(metrics, points=[point(project, "x", 1.0, BASE, host="a")])
    assert first.stored_points == 1
    same = await record(metrics, points=[point(project, "x", 1.0, BASE, host="a")])
    assert same.stored_points == 0  # identical: nothing changed
    other_labels = await record(metrics, points=[point(project, "x", 7.0, BASE, host="b")])
    assert other_labels.stored_points == 1
    replaced = await record(metrics, points=[point(project, "x", 2.0, BASE, host="a")])
    assert replaced.stored_points == 1
    # Within one batch the last point of an identity wins.
    in_batch = await record(
        metrics, columns=[columns(project, [5.0, 6.0], names=("y",), step_us=0)]
    )
    assert in_batch.stored_points == 1
    rows = await stored_points(server, project)
    assert sorted(v for _, _, v in rows) == [2.0, 6.0, 7.0]


async def test_request_id_makes_a_retry_store_nothing(
    metrics: Metrics, server: RunningServer, project: str
) -> None:
    batch = {
        "columns": [columns(project, [1.0, 2.0])],
        "points": [point(project, "bad name", 1.0, BASE)],
    }
    first = await record(metrics, "import-1", **batch)
    again = await record(metrics, "import-1", **batch)
    assert again == first
    assert first.stored_points == 2
    assert len(first.rejected) == 1
    assert len(await stored_points(server, project)) == 2
    await expect_invalid(
        record(metrics, "import-1", columns=[columns(project, [9.0])]), "request_id"
    )


async def test_oversize_batch_is_refused_whole(metrics: Metrics, project: str) -> None:
    error = await expect_error(
        record(metrics, columns=[columns(project, [1.0] * 10_001, step_us=1)]),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert error_info(error).reason == "BATCH_TOO_LARGE"


async def test_missing_batch_and_long_request_id(metrics: Metrics) -> None:
    await expect_invalid(metrics.RecordMetrics(ms.RecordMetricsRequest()), "batch")
    await expect_invalid(
        metrics.RecordMetrics(
            ms.RecordMetricsRequest(batch=mp.MetricBatch(), request_id="r" * 101)
        ),
        "request_id",
    )


async def test_columns_with_labels_and_shape_errors(
    metrics: Metrics, server: RunningServer, project: str
) -> None:
    good = columns(
        project,
        [1.0, 2.0, 3.0, 4.0],
        names=("a.metric", "b.metric", "BAD"),
        name_indexes=[0, 1, 0, 2],
        label_sets=[{"env": "ci"}, {"Bad Key": "x"}],
        label_set_indexes=[0, 0, 1, 0],
    )
    short = columns(project, [1.0, 2.0])
    del short.times_unix_micros[1]
    response = await record(metrics, columns=[good, short])
    rejected = {r.field: r.description for r in response.rejected}
    assert set(rejected) == {
        "columns[0].names[2]",
        "columns[0].label_sets[1].labels[Bad Key]",
        "columns[1]",
    }
    assert response.stored_points == 2
    rows = await MetricsReader(server.db).metric_points(
        uuid.UUID(project), BASE, BASE + timedelta(hours=1)
    )
    assert [(n, v) for n, _, v in rows] == [("a.metric", 1.0), ("b.metric", 2.0)]


async def test_events_are_stored_once_and_updated_to_later_states(
    metrics: Metrics, server: RunningServer, project: str
) -> None:
    c = commit(project, sha(1), BASE, author="ada", additions=10)
    running = pipeline(project, "77", pe.PIPELINE_STATUS_RUNNING, BASE)
    first = await record(metrics, events=[c, running])
    assert first.stored_events == 2
    # The same events again (another agent): nothing new.
    again = await record(metrics, events=[c, running])
    assert again.stored_events == 0
    done = pipeline(project, "77", pe.PIPELINE_STATUS_SUCCEEDED, BASE, BASE + timedelta(minutes=5))
    later = await record(metrics, events=[done])
    assert later.stored_events == 1
    # A late "running" does not undo "succeeded".
    stale = await record(metrics, events=[running])
    assert stale.stored_events == 0
    events = await MetricsReader(server.db).process_events(
        uuid.UUID(project), None, BASE + timedelta(days=1)
    )
    assert [e.type for e in events] == ["commit", "pipeline_run"]
    run = events[1].payload
    assert run["status"] == "succeeded"
    assert run["end_time"] == "2026-03-02T09:05:00Z"
    assert run["attempt"] == 1
    assert events[0].payload["sha"] == sha(1)
    assert events[0].payload["additions"] == 10
    assert events[0].time == BASE


async def test_bad_events_are_refused_per_row(metrics: Metrics, project: str) -> None:
    response = await record(
        metrics,
        events=[
            commit(project, "xyz", BASE),
            pe.ProcessEvent(project_id=project),
            pe.ProcessEvent(project_id=project, deployment=pe.Deployment(deployment_id="d1")),
            pe.ProcessEvent(
                project_id=project,
                experiment_run=pe.ExperimentRun(
                    run_id="r", start_time=ts(BASE), metrics={"loss": math.nan}
                ),
            ),
            commit(project, sha(2), BASE),
        ],
    )
    fields = [r.field for r in response.rejected]
    assert fields == [
        "events[0].commit.sha",
        "events[1].kind",
        "events[2].deployment.environment",
        "events[3].experiment_run.metrics[loss]",
    ]
    assert response.stored_events == 1


async def test_read_api_windows(metrics: Metrics, server: RunningServer, project: str) -> None:
    await record(metrics, columns=[columns(project, [1.0, 2.0, 3.0], step_us=3_600_000_000)])
    await record(
        metrics,
        events=[commit(project, sha(i), BASE + timedelta(hours=i)) for i in range(3)],
    )
    window = await MetricsReader(server.db).metric_points(
        uuid.UUID(project), BASE + timedelta(hours=1), BASE + timedelta(hours=2)
    )
    events = await MetricsReader(server.db).process_events(
        uuid.UUID(project), BASE + timedelta(hours=1), BASE + timedelta(hours=3)
    )
    other = await MetricsReader(server.db).metric_points(
        uuid.uuid4(), None, BASE + timedelta(days=1)
    )
    assert [v for _, _, v in window] == [2.0]
    assert [e.payload["sha"] for e in events] == [sha(1), sha(2)]
    assert other == []
    assert BASE_US > 0


async def test_a_batch_of_many_series_and_projects(
    metrics: Metrics, registry: Registry, server: RunningServer
) -> None:
    """An import: 10,000 points, each its own series, over 20 projects (chunked statements;
    on PostgreSQL a COPY sent in slices of COPY_CHUNK_BYTES, about 6,000 rows each)."""
    from tests.metrics.conftest import make_project

    projects = [await make_project(registry, f"import-{i}") for i in range(20)]
    points = [
        point(projects[i % 20], f"import.metric_{i}", float(i), BASE - timedelta(days=i % 400))
        for i in range(10_000)
    ]
    response = await record(metrics, points=points)
    assert list(response.rejected) == []
    assert response.stored_points == 10_000
    stored = await stored_points(server, projects[3])
    assert len(stored) == 500
    # Every point whole, whichever slice of the COPY it travelled in.
    everything = [row for p in projects for row in await stored_points(server, p)]
    assert sorted((name, value) for name, _, value in everything) == sorted(
        (f"import.metric_{i}", float(i)) for i in range(10_000)
    )
