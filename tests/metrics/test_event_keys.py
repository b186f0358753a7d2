"""Natural keys of the events whose identity issue #16 widened: a merged pull
request keeps its merge commit, a test report its job."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maestro.metrics.v1 import process_event_pb2 as pe
from maestro_grpc.metrics.model import EventIn, Rejected
from maestro_grpc.metrics.wire.eventconv import event_from_proto, key

MAX = datetime(2030, 1, 1, tzinfo=UTC)
T = datetime(2025, 1, 1, tzinfo=UTC)


def convert(event: pe.ProcessEvent) -> EventIn | Rejected:
    return event_from_proto(event, "events[0]", MAX)


def pull(state: int, sha: str = "") -> pe.ProcessEvent:
    event = pe.ProcessEvent(
        pull_request=pe.PullRequest(repo="r", number=5, state=state, merge_commit_sha=sha)  # type: ignore[arg-type]
    )
    event.pull_request.open_time.FromDatetime(T)
    event.pull_request.merge_time.FromDatetime(T)
    return event


def report(job: str = "", flaky: int = 0, passed: int = 1) -> pe.ProcessEvent:
    event = pe.ProcessEvent(
        test_report=pe.TestReport(
            provider="gh", run_id="1", attempt=1, suite="s", job=job, flaky=flaky, passed=passed
        )
    )
    event.test_report.time.FromDatetime(T)
    return event


def natural(event: pe.ProcessEvent) -> str:
    converted = convert(event)
    assert isinstance(converted, EventIn), converted
    return converted.natural_key


def test_a_merged_pull_request_is_keyed_by_its_merge_commit() -> None:
    first, second = "a" * 40, "b" * 40
    merged = pe.PULL_REQUEST_STATE_MERGED
    assert natural(pull(merged, first)) == key("r", 5, first)
    assert natural(pull(merged, first.upper())) == key("r", 5, first)
    assert natural(pull(merged, second)) != natural(pull(merged, first))
    # Without a merge commit, or not merged: repo and number, as before.
    assert natural(pull(merged)) == key("r", 5)
    assert natural(pull(pe.PULL_REQUEST_STATE_OPEN, first)) == key("r", 5)


def test_a_test_report_is_keyed_by_its_job() -> None:
    assert natural(report()) == key("gh", "1", 1, "s")  # the key reports had before
    assert natural(report("test (python=3.12)")) == key("gh", "1", 1, "s", "test (python=3.12)")
    assert natural(report("a")) != natural(report("b"))


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (report(flaky=2, passed=1), "events[0].test_report.flaky"),
        (report(flaky=-1), "events[0].test_report.flaky"),
        (report(job="j" * 301), "events[0].test_report.job"),
    ],
)
def test_bad_flaky_and_job(event: pe.ProcessEvent, field: str) -> None:
    converted = convert(event)
    assert isinstance(converted, Rejected)
    assert converted.field == field
