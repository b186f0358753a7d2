"""The CI collector: the current pipeline run, read from the CI's own environment.

GitHub Actions (`GITHUB_ACTIONS=true`): run id `GITHUB_RUN_ID`, attempt
`GITHUB_RUN_ATTEMPT`, pipeline `GITHUB_WORKFLOW`, commit `GITHUB_SHA`, branch
`GITHUB_HEAD_REF` (pull requests) or `GITHUB_REF_NAME`, the current job
`GITHUB_JOB` as a stage. GitHub does not say when a run started: the agent
uses the first time it saw the run in its state dir (or now), unless
`--start-time` is given. GitHub does not tell a matrix job its matrix
either: set `MAESTRO_AGENT_MATRIX: ${{ toJSON(matrix) }}` in the step's env
(or pass --job), or the matrix jobs' test reports replace each other.

GitLab CI (`GITLAB_CI=true`): run id `CI_PIPELINE_ID`, attempt 1 (GitLab
retries jobs, not pipelines), pipeline `CI_PIPELINE_NAME` or
`CI_PROJECT_PATH`, commit `CI_COMMIT_SHA`, branch `CI_COMMIT_REF_NAME`, start
`CI_PIPELINE_CREATED_AT`, the current job `CI_JOB_NAME` (started
`CI_JOB_STARTED_AT`, status `CI_JOB_STATUS` in `after_script`) as a stage.

Jenkins (`JENKINS_URL`): the job is `STAGE_NAME`; the run needs --provider
and --run-id (`--run-id $BUILD_TAG`). Anything else (Buildkite, a laptop):
the generic form, `--provider --run-id --status ...`; options override the
environment everywhere.

The job (a test report's `job`, part of its key): `--job`, else GitHub's
`GITHUB_JOB` with the matrix values (`test (os=ubuntu-24.04,
python=3.12)`), GitLab's `CI_JOB_NAME` (matrix values included), Jenkins'
`STAGE_NAME`.

A pipeline run is one event (natural key provider, run id, attempt) whose
later state replaces the earlier: report it once when the run starts
(`--status running`) and again at the end, listing every stage with
`--stage NAME=STATUS` from the last job.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from google.protobuf import timestamp_pb2

from maestro.metrics.v1 import process_event_pb2

STATUSES: dict[str, int] = {
    "queued": process_event_pb2.PIPELINE_STATUS_QUEUED,
    "pending": process_event_pb2.PIPELINE_STATUS_QUEUED,
    "waiting": process_event_pb2.PIPELINE_STATUS_QUEUED,
    "created": process_event_pb2.PIPELINE_STATUS_QUEUED,
    "running": process_event_pb2.PIPELINE_STATUS_RUNNING,
    "in_progress": process_event_pb2.PIPELINE_STATUS_RUNNING,
    "succeeded": process_event_pb2.PIPELINE_STATUS_SUCCEEDED,
    "success": process_event_pb2.PIPELINE_STATUS_SUCCEEDED,
    "passed": process_event_pb2.PIPELINE_STATUS_SUCCEEDED,
    "failed": process_event_pb2.PIPELINE_STATUS_FAILED,
    "failure": process_event_pb2.PIPELINE_STATUS_FAILED,
    "cancelled": process_event_pb2.PIPELINE_STATUS_CANCELLED,
    "canceled": process_event_pb2.PIPELINE_STATUS_CANCELLED,
    "skipped": process_event_pb2.PIPELINE_STATUS_SKIPPED,
}
FINISHED = {
    process_event_pb2.PIPELINE_STATUS_SUCCEEDED,
    process_event_pb2.PIPELINE_STATUS_FAILED,
    process_event_pb2.PIPELINE_STATUS_CANCELLED,
    process_event_pb2.PIPELINE_STATUS_SKIPPED,
}


class CiError(ValueError):
    """The run cannot be described: a missing id, an unknown status, a bad time."""


def parse_status(raw: str) -> int:
    value = raw.strip().lower()
    if value not in STATUSES:
        known = ", ".join(sorted(STATUSES))
        raise CiError(f"unknown status {raw!r}; use one of {known}")
    return STATUSES[value]


def parse_time(raw: str, what: str = "time") -> datetime:
    """ISO 8601 (a time without zone is UTC; `Z` accepted) or Unix seconds."""
    text = raw.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CiError(f"{what} {raw!r} is not an ISO 8601 time or Unix seconds") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value.astimezone(UTC))
    return out


@dataclass
class Stage:
    name: str
    status: int = process_event_pb2.PIPELINE_STATUS_UNSPECIFIED
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass
class CiRun:
    """The pipeline run as the environment and the options describe it."""

    provider: str = ""
    run_id: str = ""
    attempt: int = 1
    status: int = process_event_pb2.PIPELINE_STATUS_UNSPECIFIED
    pipeline_name: str = ""
    commit_sha: str = ""
    branch: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    stages: list[Stage] = field(default_factory=list)
    job: str = ""


def _attempt(raw: str, what: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise CiError(f"{what} {raw!r} is not a number") from None
    if value < 1:
        raise CiError(f"{what} must be at least 1, not {value}")
    return value


def matrix_job(job: str, matrix_json: str) -> str:
    """GitHub's job id with its matrix values: `test (os=ubuntu, python=3.12)`."""
    if not matrix_json.strip():
        return job
    try:
        matrix = json.loads(matrix_json)
    except ValueError:
        raise CiError(f"MAESTRO_AGENT_MATRIX is not JSON: {matrix_json[:80]!r}") from None
    if not isinstance(matrix, dict) or not matrix:
        return job
    values = ", ".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value, sort_keys=True)}"
        for key, value in sorted(matrix.items())
    )
    return f"{job} ({values})"


def job_from_environment(env: Mapping[str, str]) -> str:
    """The current CI job's identity, or "" (see the module docstring)."""
    if env.get("GITHUB_ACTIONS") == "true":
        return matrix_job(env.get("GITHUB_JOB", ""), env.get("MAESTRO_AGENT_MATRIX", ""))
    if env.get("GITLAB_CI") == "true":
        return env.get("CI_JOB_NAME", "")
    if env.get("JENKINS_URL"):
        return env.get("STAGE_NAME", "")
    return ""


def from_environment(env: Mapping[str, str]) -> CiRun:
    """What the CI's variables say (an empty CiRun outside a known CI)."""
    job = job_from_environment(env)
    if env.get("GITHUB_ACTIONS") == "true":
        run = CiRun(
            provider="github-actions",
            run_id=env.get("GITHUB_RUN_ID", ""),
            attempt=_attempt(env.get("GITHUB_RUN_ATTEMPT", "1") or "1", "GITHUB_RUN_ATTEMPT"),
            pipeline_name=env.get("GITHUB_WORKFLOW", ""),
            commit_sha=env.get("GITHUB_SHA", ""),
            branch=env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME", ""),
            job=job,
        )
        if job:
            run.stages.append(Stage(name=job))
        return run
    if env.get("GITLAB_CI") == "true":
        run = CiRun(
            provider="gitlab-ci",
            run_id=env.get("CI_PIPELINE_ID", ""),
            pipeline_name=env.get("CI_PIPELINE_NAME") or env.get("CI_PROJECT_PATH", ""),
            commit_sha=env.get("CI_COMMIT_SHA", ""),
            branch=env.get("CI_COMMIT_REF_NAME", ""),
            job=job,
        )
        if env.get("CI_PIPELINE_CREATED_AT"):
            run.start_time = parse_time(env["CI_PIPELINE_CREATED_AT"], "CI_PIPELINE_CREATED_AT")
        if env.get("CI_JOB_STATUS"):
            run.status = parse_status(env["CI_JOB_STATUS"])
        if env.get("CI_JOB_NAME"):
            stage = Stage(name=env["CI_JOB_NAME"], status=run.status)
            if env.get("CI_JOB_STARTED_AT"):
                stage.start_time = parse_time(env["CI_JOB_STARTED_AT"], "CI_JOB_STARTED_AT")
            run.stages.append(stage)
        return run
    return CiRun(job=job)


def parse_stage(raw: str) -> Stage:
    """`NAME=STATUS` (or a bare NAME)."""
    name, sep, status = raw.partition("=")
    name = name.strip()
    if not name:
        raise CiError(f"stage {raw!r} has no name (use NAME=STATUS)")
    return Stage(name=name, status=parse_status(status) if sep else 0)


class RunClock:
    """First-seen times of runs, in the state dir: GitHub does not say when a run began."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "ci-runs.json"

    def first_seen(self, key: str, now: datetime) -> datetime:
        try:
            seen = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            seen = {}
        if key in seen:
            return parse_time(str(seen[key]))
        seen[key] = now.isoformat()
        # Keep the file small: only the latest runs matter.
        recent = dict(list(seen.items())[-200:])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(recent))
        os.replace(tmp, self.path)
        return now


def check_identified(run: CiRun) -> None:
    """A run needs a provider and an id: outside GitHub or GitLab, the options say them."""
    if not run.provider:
        raise CiError(
            "no CI detected (neither GITHUB_ACTIONS nor GITLAB_CI is set): pass --provider "
            'and --run-id, e.g. --provider jenkins --run-id "$BUILD_TAG" (or --no-run '
            "with --junit to send only test reports)"
        )
    if not run.run_id:
        raise CiError(f"no run id for {run.provider}: pass --run-id")


def complete(run: CiRun, now: datetime, clock: RunClock | None) -> CiRun:
    """Fill the defaults: status running, start time, end time of a finished run."""
    check_identified(run)
    if not run.status:
        run.status = process_event_pb2.PIPELINE_STATUS_RUNNING
    if run.start_time is None:
        key = f"{run.provider}/{run.run_id}/{run.attempt}"
        run.start_time = clock.first_seen(key, now) if clock else now
    if run.end_time is None and run.status in FINISHED:
        run.end_time = now
    for stage in run.stages:
        if not stage.status:
            stage.status = run.status
        if stage.end_time is None and stage.status in FINISHED:
            stage.end_time = now
    return run


def pipeline_event(project_id: str, run: CiRun) -> process_event_pb2.ProcessEvent:
    message = process_event_pb2.PipelineRun(
        provider=run.provider,
        run_id=run.run_id,
        attempt=run.attempt,
        status=run.status,  # type: ignore[arg-type]
        pipeline_name=run.pipeline_name,
        commit_sha=run.commit_sha,
        branch=run.branch,
    )
    if run.start_time is not None:
        message.start_time.CopyFrom(timestamp(run.start_time))
    if run.end_time is not None:
        message.end_time.CopyFrom(timestamp(run.end_time))
    for stage in run.stages:
        item = message.stages.add(name=stage.name, status=stage.status)
        if stage.start_time is not None:
            item.start_time.CopyFrom(timestamp(stage.start_time))
        if stage.end_time is not None:
            item.end_time.CopyFrom(timestamp(stage.end_time))
    return process_event_pb2.ProcessEvent(project_id=project_id, pipeline_run=message)


def status_name(status: int) -> str:
    name: str = process_event_pb2.PipelineStatus.Name(status)
    return name.removeprefix("PIPELINE_STATUS_").lower()


def pull_request_from_environment(
    env: Mapping[str, str], project_id: str, repo_name: str
) -> process_event_pb2.ProcessEvent | None:
    """The pull (merge) request the CI run is about, when the environment names one.

    GitHub: the `pull_request` event payload (`GITHUB_EVENT_PATH`), with its
    state (merged on a `closed` event of a merged PR), times and author.
    GitLab: a merge request pipeline's `CI_MERGE_REQUEST_IID` (open).
    """
    if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_EVENT_NAME", "").startswith(
        "pull_request"
    ):
        try:
            payload = json.loads(Path(env.get("GITHUB_EVENT_PATH", "")).read_text())
        except (OSError, ValueError):
            return None
        pr = payload.get("pull_request") if isinstance(payload, dict) else None
        if not isinstance(pr, dict) or not isinstance(pr.get("number"), int):
            return None
        message = process_event_pb2.PullRequest(
            repo=repo_name,
            number=pr["number"],
            title=str(pr.get("title") or "")[:500],
            author=str((pr.get("user") or {}).get("login") or ""),
        )
        if pr.get("merged") or pr.get("merged_at"):
            message.state = process_event_pb2.PULL_REQUEST_STATE_MERGED
            if pr.get("merged_at"):
                message.merge_time.CopyFrom(timestamp(parse_time(pr["merged_at"])))
            if pr.get("merge_commit_sha"):
                message.merge_commit_sha = str(pr["merge_commit_sha"])
        elif pr.get("state") == "closed":
            message.state = process_event_pb2.PULL_REQUEST_STATE_CLOSED
            if pr.get("closed_at"):
                message.close_time.CopyFrom(timestamp(parse_time(pr["closed_at"])))
        else:
            message.state = process_event_pb2.PULL_REQUEST_STATE_OPEN
        if pr.get("created_at"):
            message.open_time.CopyFrom(timestamp(parse_time(pr["created_at"])))
        return process_event_pb2.ProcessEvent(project_id=project_id, pull_request=message)
    if env.get("GITLAB_CI") == "true" and env.get("CI_MERGE_REQUEST_IID", "").isdigit():
        return process_event_pb2.ProcessEvent(
            project_id=project_id,
            pull_request=process_event_pb2.PullRequest(
                repo=repo_name,
                number=int(env["CI_MERGE_REQUEST_IID"]),
                title=env.get("CI_MERGE_REQUEST_TITLE", "")[:500],
                author=env.get("GITLAB_USER_LOGIN", ""),
                state=process_event_pb2.PULL_REQUEST_STATE_OPEN,
            ),
        )
    return None
