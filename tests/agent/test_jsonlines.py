"""The `agent stream` JSON-lines schema: valid and invalid lines side by side."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from maestro.metrics.v1 import metric_pb2, process_event_pb2
from maestro_grpc.agent import jsonlines

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "check"),
    [
        (
            '{"name": "train.loss", "value": 0.25, "time": "2025-01-31T12:00:00Z", '
            '"labels": {"model": "resnet"}}',
            lambda m: (
                (m.name, m.value, m.labels["model"], m.time.seconds, m.source)
                == ("train.loss", 0.25, "resnet", 1738324800, metric_pb2.METRIC_SOURCE_AGENT)
            ),
        ),
        (
            '{"name": "x", "value": 3, "source": "ci", "project_id": "other"}',
            lambda m: (
                (m.project_id, m.value, m.source, m.time.seconds)
                == ("other", 3.0, metric_pb2.METRIC_SOURCE_CI, int(NOW.timestamp()))
            ),
        ),
        (
            '{"name": "x", "value": 1, "time": 1738324800}',
            lambda m: m.time.seconds == 1738324800,
        ),
        (
            '{"point": {"name": "y", "value": 2, "labels": {"a": "b"}, '
            '"source": "METRIC_SOURCE_MLFLOW"}}',
            lambda m: (
                (m.project_id, m.name, m.source, m.time.seconds)
                == ("p", "y", metric_pb2.METRIC_SOURCE_MLFLOW, int(NOW.timestamp()))
            ),
        ),
        (
            '{"event": {"deployment": {"deployment_id": "d-1", "environment": "production", '
            '"status": "DEPLOYMENT_STATUS_SUCCEEDED", "deploy_time": "2025-01-31T12:00:00Z", '
            '"commit_shas": ["abc"]}}}',
            lambda e: (
                (e.project_id, e.deployment.deployment_id, list(e.deployment.commit_shas))
                == ("p", "d-1", ["abc"])
            ),
        ),
        (
            '{"event": {"projectId": "q", "testReport": {"suite": "s", "passed": 3, '
            '"duration": "1.5s", "time": "2025-01-31T12:00:00Z"}}}',
            lambda e: (
                (e.project_id, e.test_report.passed, e.test_report.duration.seconds) == ("q", 3, 1)
            ),
        ),
    ],
)
def test_valid_lines(line: str, check: Callable[[Any], bool]) -> None:
    parsed = jsonlines.parse_line(line, "p", NOW)
    assert parsed is not None
    assert check(parsed)


@pytest.mark.parametrize("line", ["", "   ", "# a comment"])
def test_ignored_lines(line: str) -> None:
    assert jsonlines.parse_line(line, "p", NOW) is None


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"value": 1}', "'name'"),
        ('{"name": "x", "value": "1"}', "'value' must be a number"),
        ('{"name": "x", "value": true}', "'value' must be a number"),
        ('{"name": "x", "value": 1e999}', "not JSON: number is infinity"),
        ('{"name": "x", "value": 1, "time": "yesterday"}', "ISO 8601"),
        ('{"name": "x", "value": 1, "time": [1]}', "'time'"),
        ('{"name": "x", "value": 1, "labels": {"a": 1}}', "'labels'"),
        ('{"name": "x", "value": 1, "source": "ROBOT"}', "'source'"),
        ('{"name": "x", "value": 1, "colour": "red"}', "unknown field"),
        ('{"point": {"name": "x"}, "extra": 1}', "only field"),
        ('{"point": 5}', "must be an object"),
        ('{"point": {"name": "x", "bogus": 1}}', "bad point"),
        ('{"event": {"project_id": "p"}}', "one kind"),
        ('{"event": {"deployment": {"status": "NOPE"}}}', "bad event"),
    ],
)
def test_invalid_lines(line: str, error: str) -> None:
    with pytest.raises(jsonlines.LineError, match=error):
        jsonlines.parse_line(line, "p", NOW)


def test_project_is_required_somewhere() -> None:
    with pytest.raises(jsonlines.LineError, match="no project"):
        jsonlines.parse_line('{"name": "x", "value": 1}', "", NOW)
    with pytest.raises(jsonlines.LineError, match="no project"):
        jsonlines.parse_line('{"point": {"name": "x", "value": 1}}', "", NOW)


def test_read_lines_reports_invalid_and_keeps_going() -> None:
    points: list[metric_pb2.MetricPoint] = []
    events: list[process_event_pb2.ProcessEvent] = []
    bad: list[tuple[int, str]] = []
    summary = jsonlines.read_lines(
        [
            '{"name": "a", "value": 1}\n',
            "oops\n",
            "\n",
            '{"event": {"incident": {"incident_id": "i", "open_time": "2025-01-01T00:00:00Z"}}}',
        ],
        "p",
        emit_point=points.append,
        emit_event=events.append,
        on_invalid=lambda n, e: bad.append((n, e)),
    )
    assert (summary.lines, summary.points, summary.events) == (4, 1, 1)
    assert [n for n, _ in bad] == [2]
    assert summary.as_dict()["invalid_lines"] == 1
