"""`maestro agent ci` against a real server: real JUnit files of eight producers, and
matrix jobs that keep their own reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent.live import LiveServer, agent, event_counts, event_payloads
from tests.agent.test_junit_producers import EXPECTED, FIXTURES

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_RUN_ID": "777",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_WORKFLOW": "CI",
    "GITHUB_SHA": "e" * 40,
    "GITHUB_REF_NAME": "main",
    "GITHUB_JOB": "test",
}


@pytest.fixture
def live(store_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(store_url, tmp_path / "server").start()
    try:
        yield server
    finally:
        server.stop()


def run(address: str, state: Path, *args: str, stdin: str | None = None, **env: str) -> tuple[
    int, dict[str, Any], str
]:  # fmt: skip
    process = agent(address, state, *args, "--json", stdin=stdin, **env)
    out, err = process.communicate(stdin, timeout=120)
    lines = out.strip().splitlines()
    assert lines, (process.returncode, err)
    return process.returncode, json.loads(lines[-1]), err


def test_real_reports_of_eight_producers_are_all_stored(
    live: LiveServer, store_url: str, tmp_path: Path
) -> None:
    project = live.create_project()
    files = [str(FIXTURES / name) for name in sorted(EXPECTED)]
    code, summary, err = run(
        live.address, tmp_path / "agent", "ci", "--project", project, "--no-run",
        "--provider", "local", "--run-id", "r1", "--junit", *files,
    )  # fmt: skip
    assert code == 0, err
    assert summary["rejected"] == []
    suites = sum(len(v) for v in EXPECTED.values())
    assert summary["collected"]["test_reports"] == suites
    assert event_counts(store_url, project) == {"test_report": suites}
    stored = {p["suite"]: p for p in event_payloads(store_url, project, "test_report")}
    # jest-junit's suites that failed to run (dated 1970) are kept, errored.
    assert stored["libs/foo.spec.ts"]["errored"] == 1
    assert stored["libs/bar.spec.ts"]["errored"] == 1
    assert stored["nextest-tests::basic"]["flaky"] == 1


def test_matrix_jobs_keep_their_own_reports(
    live: LiveServer, store_url: str, tmp_path: Path
) -> None:
    project = live.create_project()
    report = str(FIXTURES / "gradle/spring-gradle-failure.xml")
    for python in ("3.11", "3.12", "3.12"):
        matrix = json.dumps({"python": python})
        code, summary, err = run(
            live.address, tmp_path / f"agent-{python}", "ci", "--project", project,
            "--junit", report, **GITHUB, MAESTRO_AGENT_MATRIX=matrix,
        )  # fmt: skip
        assert code == 0, err
        assert summary["collected"]["job"] == f"test (python={python})"
    reports = event_payloads(store_url, project, "test_report")
    assert sorted(r["job"] for r in reports) == ["test (python=3.11)", "test (python=3.12)"]
    # --job names a job the environment does not (Jenkins, a laptop).
    code, _, err = run(
        live.address, tmp_path / "agent-x", "ci", "--project", project, "--junit", report,
        "--job", "integration", **GITHUB,
    )  # fmt: skip
    assert code == 0, err
    assert event_counts(store_url, project)["test_report"] == 3
