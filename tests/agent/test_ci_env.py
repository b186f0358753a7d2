"""CI environments (GitHub Actions, GitLab CI, generic) and the pipeline-run event."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from maestro.metrics.v1 import process_event_pb2 as pe
from maestro_grpc.agent import ci

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_RUN_ID": "9876543210",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_WORKFLOW": "CI",
    "GITHUB_SHA": "a" * 40,
    "GITHUB_REF_NAME": "main",
    "GITHUB_JOB": "test",
}
GITLAB = {
    "GITLAB_CI": "true",
    "CI_PIPELINE_ID": "1234",
    "CI_PROJECT_PATH": "group/project",
    "CI_COMMIT_SHA": "b" * 40,
    "CI_COMMIT_REF_NAME": "feature/x",
    "CI_PIPELINE_CREATED_AT": "2025-03-01T11:50:00Z",
    "CI_JOB_NAME": "unit-tests",
    "CI_JOB_STARTED_AT": "2025-03-01T11:55:00Z",
    "CI_JOB_STATUS": "failed",
}


def test_github_actions(tmp_path: Path) -> None:
    run = ci.complete(ci.from_environment(GITHUB), NOW, ci.RunClock(tmp_path))
    assert (run.provider, run.run_id, run.attempt) == ("github-actions", "9876543210", 2)
    assert (run.pipeline_name, run.commit_sha, run.branch) == ("CI", "a" * 40, "main")
    assert run.status == pe.PIPELINE_STATUS_RUNNING
    assert run.start_time == NOW
    assert run.end_time is None
    assert [(s.name, s.status) for s in run.stages] == [("test", pe.PIPELINE_STATUS_RUNNING)]
    # The same run reported later keeps the start time first seen.
    later = ci.from_environment(GITHUB)
    later.status = ci.parse_status("success")
    later = ci.complete(later, NOW.replace(hour=13), ci.RunClock(tmp_path))
    assert later.start_time == NOW
    assert later.end_time == NOW.replace(hour=13)
    # Pull request builds report the head branch.
    pr = ci.from_environment({**GITHUB, "GITHUB_HEAD_REF": "feature/y"})
    assert pr.branch == "feature/y"


def test_gitlab_ci() -> None:
    run = ci.complete(ci.from_environment(GITLAB), NOW, None)
    assert (run.provider, run.run_id, run.attempt) == ("gitlab-ci", "1234", 1)
    assert (run.pipeline_name, run.branch) == ("group/project", "feature/x")
    assert run.start_time == datetime(2025, 3, 1, 11, 50, tzinfo=UTC)
    assert run.status == pe.PIPELINE_STATUS_FAILED
    assert run.end_time == NOW
    [stage] = run.stages
    assert (stage.name, stage.status) == ("unit-tests", pe.PIPELINE_STATUS_FAILED)
    assert stage.start_time == datetime(2025, 3, 1, 11, 55, tzinfo=UTC)
    assert stage.end_time == NOW


def test_outside_ci_needs_the_generic_form() -> None:
    run = ci.from_environment({})
    with pytest.raises(ci.CiError, match="no CI detected"):
        ci.complete(run, NOW, None)
    run.provider = "jenkins"
    with pytest.raises(ci.CiError, match="--run-id"):
        ci.complete(run, NOW, None)
    run.run_id = "77"
    assert ci.complete(run, NOW, None).start_time == NOW


def test_pipeline_event() -> None:
    run = ci.complete(ci.from_environment(GITLAB), NOW, None)
    run.stages.append(ci.parse_stage("deploy=skipped"))
    event = ci.pipeline_event("p", run)
    message = event.pipeline_run
    assert event.project_id == "p"
    assert (message.provider, message.run_id, message.attempt) == ("gitlab-ci", "1234", 1)
    assert message.status == pe.PIPELINE_STATUS_FAILED
    assert message.start_time.ToDatetime(tzinfo=UTC) == datetime(2025, 3, 1, 11, 50, tzinfo=UTC)
    assert message.end_time.ToDatetime(tzinfo=UTC) == NOW
    assert [(s.name, s.status) for s in message.stages] == [
        ("unit-tests", pe.PIPELINE_STATUS_FAILED),
        ("deploy", pe.PIPELINE_STATUS_SKIPPED),
    ]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("running", pe.PIPELINE_STATUS_RUNNING),
        ("SUCCESS", pe.PIPELINE_STATUS_SUCCEEDED),
        ("passed", pe.PIPELINE_STATUS_SUCCEEDED),
        ("failure", pe.PIPELINE_STATUS_FAILED),
        ("canceled", pe.PIPELINE_STATUS_CANCELLED),
        ("pending", pe.PIPELINE_STATUS_QUEUED),
        ("skipped", pe.PIPELINE_STATUS_SKIPPED),
    ],
)
def test_statuses(raw: str, status: int) -> None:
    assert ci.parse_status(raw) == status


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (lambda: ci.parse_status("exploded"), "unknown status"),
        (lambda: ci.parse_stage("=failed"), "no name"),
        (lambda: ci.parse_time("yesterday"), "not an ISO 8601"),
        (lambda: ci.from_environment({**GITHUB, "GITHUB_RUN_ATTEMPT": "x"}), "not a number"),
        (lambda: ci.from_environment({**GITHUB, "GITHUB_RUN_ATTEMPT": "0"}), "at least 1"),
    ],
)
def test_bad_values(bad: Callable[[], object], error: str) -> None:
    with pytest.raises(ci.CiError, match=error):
        bad()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-01T12:00:00Z", NOW),
        ("2025-03-01T13:00:00+01:00", NOW),
        ("2025-03-01T12:00:00", NOW),
        ("1740830400", NOW),
        ("1740830400.5", NOW.replace(microsecond=500000)),
    ],
)
def test_times(raw: str, expected: datetime) -> None:
    assert ci.parse_time(raw) == expected


def test_pull_request_from_github_event(tmp_path: Path) -> None:
    payload: dict[str, Any] = {
        "action": "closed",
        "pull_request": {
            "number": 42,
            "title": "Speed up training",
            "user": {"login": "octocat"},
            "state": "closed",
            "merged": True,
            "created_at": "2025-02-28T10:00:00Z",
            "merged_at": "2025-03-01T12:00:00Z",
            "merge_commit_sha": "c" * 40,
        },
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    env = {**GITHUB, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(path)}
    event = ci.pull_request_from_environment(env, "p", "github.com/o/r")
    assert event is not None
    pr = event.pull_request
    assert (pr.number, pr.title, pr.author, pr.repo) == (
        42, "Speed up training", "octocat", "github.com/o/r",
    )  # fmt: skip
    assert pr.state == pe.PULL_REQUEST_STATE_MERGED
    assert pr.merge_time.ToDatetime(tzinfo=UTC) == NOW
    assert pr.open_time.ToDatetime(tzinfo=UTC) == datetime(2025, 2, 28, 10, tzinfo=UTC)
    assert pr.merge_commit_sha == "c" * 40
    payload["pull_request"].update(merged=False, merged_at=None, closed_at="2025-03-01T12:00:00Z")
    path.write_text(json.dumps(payload))
    closed = ci.pull_request_from_environment(env, "p", "r")
    assert closed is not None
    assert closed.pull_request.state == pe.PULL_REQUEST_STATE_CLOSED
    payload["pull_request"].update(state="open")
    path.write_text(json.dumps(payload))
    opened = ci.pull_request_from_environment(env, "p", "r")
    assert opened is not None
    assert opened.pull_request.state == pe.PULL_REQUEST_STATE_OPEN
    # A push build, or an unreadable payload: no pull request.
    assert ci.pull_request_from_environment(GITHUB, "p", "r") is None
    broken = {**env, "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}
    assert ci.pull_request_from_environment(broken, "p", "r") is None


def test_merge_request_from_gitlab() -> None:
    env = {
        **GITLAB,
        "CI_MERGE_REQUEST_IID": "17",
        "CI_MERGE_REQUEST_TITLE": "Fix",
        "GITLAB_USER_LOGIN": "dev",
    }
    event = ci.pull_request_from_environment(env, "p", "gitlab.com/g/p")
    assert event is not None
    assert (event.pull_request.number, event.pull_request.title) == (17, "Fix")
    assert event.pull_request.state == pe.PULL_REQUEST_STATE_OPEN
    assert ci.pull_request_from_environment(GITLAB, "p", "r") is None


@pytest.mark.parametrize(
    ("env", "job"),
    [
        (GITHUB, "test"),
        ({**GITHUB, "MAESTRO_AGENT_MATRIX": '{"python": "3.12", "os": "ubuntu-24.04"}'},
         "test (os=ubuntu-24.04, python=3.12)"),
        ({**GITHUB, "MAESTRO_AGENT_MATRIX": '{"shard": 2, "opts": {"fast": true}}'},
         'test (opts={"fast": true}, shard=2)'),
        ({**GITHUB, "MAESTRO_AGENT_MATRIX": "null"}, "test"),  # toJSON of no matrix
        ({**GITHUB, "MAESTRO_AGENT_MATRIX": ""}, "test"),
        ({**GITLAB, "CI_JOB_NAME": "rspec: [ruby, 3.3]"}, "rspec: [ruby, 3.3]"),
        ({"JENKINS_URL": "https://ci.example.com/", "STAGE_NAME": "Unit"}, "Unit"),
        ({}, ""),
    ],
)  # fmt: skip
def test_the_job_a_report_comes_from(env: dict[str, str], job: str) -> None:
    run = ci.from_environment(env)
    assert run.job == job
    if env.get("GITHUB_ACTIONS"):
        assert [s.name for s in run.stages] == [job]


def test_a_matrix_that_is_not_json_is_an_error() -> None:
    with pytest.raises(ci.CiError, match="MAESTRO_AGENT_MATRIX is not JSON"):
        ci.from_environment({**GITHUB, "MAESTRO_AGENT_MATRIX": "{os: linux"})
