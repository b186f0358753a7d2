"""The feed entry's format: what `encode` writes, a watcher's filter reads back exactly."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from maestro.metrics.v1 import process_event_pb2 as pe
from maestro_grpc.metrics.model import EventIn, EventType, PointColumns, SeriesKey, WriteResult
from maestro_grpc.metrics.wire.eventconv import event_from_proto
from maestro_grpc.metrics.wire.feed import WatchFilter, encode
from tests.helpers import ts


def test_points_of_two_projects_with_labels_and_mixed_sources_come_back_exactly() -> None:
    a, b = sorted([uuid.uuid4(), uuid.uuid4()], key=str)
    series = [
        SeriesKey(a, "ci.duration", "{}"),
        SeriesKey(b, "ci.duration", '{"runner":"x"}'),
        SeriesKey(a, "mlflow.loss", '{"model":"m"}'),
    ]
    index = np.array([0, 1, 2, 0, 2], np.int64)
    # Times on both sides of 1970, and one far in the future.
    times = np.array([-5_000_000, 1, 2**52, 7, 8], np.int64)
    values = np.array([1.5, -2.0, float("inf"), 0.0, 3.25])
    sources = np.array([2, 2, 3, 5, 3], np.int16)
    entries = encode(WriteResult(points=PointColumns(series, index, times, values, sources)))
    assert sorted(entries, key=str) == [a, b]
    got_a = WatchFilter([], set()).response(entries[a])
    assert got_a is not None
    assert [
        (p.project_id, p.name, p.value, p.source, p.time.ToMicroseconds(), dict(p.labels))
        for p in got_a.points
    ] == [
        (str(a), "ci.duration", 1.5, 2, -5_000_000, {}),
        (str(a), "mlflow.loss", float("inf"), 3, 2**52, {"model": "m"}),
        (str(a), "ci.duration", 0.0, 5, 7, {}),
        (str(a), "mlflow.loss", 3.25, 3, 8, {"model": "m"}),
    ]
    only_ml = WatchFilter(["mlflow."], set()).response(entries[a])
    assert only_ml is not None
    assert [p.value for p in only_ml.points] == [float("inf"), 3.25]
    assert WatchFilter(["nothing."], set()).response(entries[b]) is None


def test_a_write_of_one_project_comes_back_exactly_whether_or_not_it_uses_every_series() -> None:
    """Every series used: the columns are written as they are; one unused: re-indexed."""
    project = uuid.uuid4()
    series = [SeriesKey(project, "ci.duration", "{}"), SeriesKey(project, "ml.loss", "{}")]
    times = np.array([10, 20, 30], np.int64)
    values = np.array([1.0, 2.0, 3.0])
    sources = np.array([1, 2, 3], np.int16)
    for index, names in (([1, 0, 1], ["ml.loss", "ci.duration", "ml.loss"]), ([1, 1, 1], None)):
        points = PointColumns(series, np.array(index, np.int64), times, values, sources)
        got = WatchFilter([], set()).response(encode(WriteResult(points=points))[project])
        assert got is not None
        assert [(p.name, p.value, p.source, p.time.ToMicroseconds()) for p in got.points] == [
            (name, v, s, t)
            for name, v, s, t in zip(
                names or ["ml.loss"] * 3, [1.0, 2.0, 3.0], [1, 2, 3], [10, 20, 30], strict=True
            )
        ]


def test_an_entry_of_events_only() -> None:
    project = uuid.uuid4()
    when = datetime(2026, 1, 2, tzinfo=UTC)
    proto = pe.ProcessEvent(
        project_id=str(project),
        commit=pe.Commit(repo="github.com/acme/app", sha="a" * 40, author_time=ts(when)),
    )
    event = event_from_proto(proto, "events[0]", datetime(2100, 1, 1, tzinfo=UTC))
    assert isinstance(event, EventIn)
    assert event.type is EventType.COMMIT
    # The caller of event_from_proto resolves the project.
    entries = encode(WriteResult(events=[replace(event, project_id=project)]))
    got = WatchFilter([], {EventType.COMMIT}).response(entries[project])
    assert got is not None
    assert list(got.points) == []
    assert [e.commit.sha for e in got.events] == ["a" * 40]
    assert WatchFilter([], {EventType.DEPLOYMENT}).response(entries[project]) is None
