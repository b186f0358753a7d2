"""`maestro agent ci|deploy|incident|stream|mlflow|flush` against a real server, both stores."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent.conftest import Repo
from tests.agent.live import (
    LiveServer,
    agent,
    event_counts,
    event_payloads,
    point_counts,
)
from tests.helpers import free_port

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "agent-test-token-0123456789"


@pytest.fixture
def live(store_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(store_url, tmp_path / "server", MAESTRO_AUTH_TOKENS=f"ci={TOKEN}").start()
    try:
        yield server
    finally:
        server.stop()


def run(
    live_address: str, state: Path, *args: str, stdin: str | None = None, **env: str
) -> tuple[int, dict[str, Any], str]:
    env.setdefault("MAESTRO_TOKEN", TOKEN)
    process = agent(live_address, state, *args, "--json", stdin=stdin, **env)
    out, err = process.communicate(stdin, timeout=120)
    lines = out.strip().splitlines()
    assert lines, (process.returncode, err)
    return process.returncode, json.loads(lines[-1]), err


@pytest.fixture(scope="module")
def pytest_junit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("junit") / "pytest.xml"
    module = tmp_path_factory.mktemp("mod") / "test_sample.py"
    module.write_text((FIXTURES / "sample_tests.py").read_text())
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", "/dev/null",
         f"--junitxml={out}", str(module)],
        capture_output=True, cwd=module.parent, check=False,
    )  # fmt: skip
    return out


def test_ci_deploy_incident_and_stream(
    live: LiveServer, store_url: str, tmp_path: Path, pytest_junit: Path, make_repo: Any
) -> None:
    project = live.create_project(token=TOKEN)
    state = tmp_path / "agent"
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_RUN_ID": "555",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_SHA": "d" * 40,
        "GITHUB_REF_NAME": "main",
        "GITHUB_JOB": "tests",
    }
    # The run starts ...
    code, summary, err = run(live.address, state, "ci", "--project", project, **github)
    assert code == 0, err
    assert summary["collected"]["status"] == "running"
    # ... and ends, with its test reports from pytest and from Surefire.
    surefire = sorted(str(p) for p in FIXTURES.glob("TEST-*.xml"))
    code, summary, err = run(
        live.address, state, "ci", "--project", project, "--status", "success",
        "--stage", "lint=succeeded", "--junit", str(pytest_junit), *surefire, **github,
    )  # fmt: skip
    assert code == 0, err
    assert summary["collected"]["test_reports"] == 3
    assert summary["acked"] == 4
    [pipeline] = event_payloads(store_url, project, "pipeline_run")
    assert json.dumps(pipeline).count("555") >= 1
    assert "SUCCEEDED" in json.dumps(pipeline).upper()
    counts = event_counts(store_url, project)
    assert (counts["pipeline_run"], counts["test_report"]) == (1, 3)

    # A deployment of a commit range of a real repository.
    repo: Repo = make_repo("service")
    base = repo.commit("base", 0, {"a.txt": "1\n"})
    shipped = [repo.commit(f"c{i}", i, {f"f{i}.txt": "x\n"}) for i in range(3)]
    code, summary, err = run(
        live.address, state, "deploy", "--project", project, "--id", "deploy-1",
        "--environment", "production", "--repo", str(repo.path),
        "--commit-range", f"{base}..HEAD", "--time", "2025-03-01T12:00:00Z",
    )  # fmt: skip
    assert code == 0, err
    assert summary["collected"]["commits"] == 3
    [deployment] = event_payloads(store_url, project, "deployment")
    assert sorted(shipped) == sorted(deployment_shas(deployment))

    # An incident opened and resolved: one incident, resolved.
    code, _, err = run(
        live.address, state, "incident", "open", "--project", project, "--id", "inc-1",
        "--title", "Model returns NaN", "--caused-by", "deploy-1",
        "--time", "2025-03-01T13:00:00Z",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run(
        live.address, state, "incident", "resolve", "--project", project, "--id", "inc-1",
        "--time", "2025-03-01T14:30:00Z",
    )  # fmt: skip
    assert code == 0, err
    [incident] = event_payloads(store_url, project, "incident")
    text = json.dumps(incident)
    assert "deploy-1" in text
    assert "2025-03-01T14:30:00" in text
    # Resolving an incident this state dir never opened needs its opening time.
    code, summary, _ = run(
        live.address, state, "incident", "resolve", "--project", project, "--id", "inc-2"
    )
    assert code == 2
    assert "--open-time" in summary["error"]

    # JSON lines: points, an event, a bad line, and a row the server refuses.
    lines = "\n".join(
        [
            json.dumps({"name": "train.loss", "value": 0.5, "time": "2025-03-01T12:00:00Z"}),
            json.dumps({"name": "train.loss", "value": 0.25, "time": "2025-03-01T12:01:00Z"}),
            "this is not json",
            json.dumps(
                {
                    "point": {
                        "project_id": "00000000-0000-4000-8000-000000000000",
                        "name": "orphan",
                        "value": 1,
                    }
                }
            ),
            json.dumps(
                {
                    "event": {
                        "incident": {
                            "incident_id": "inc-3",
                            "open_time": "2025-03-02T00:00:00Z",
                        }
                    }
                }
            ),
        ]
    )
    code, summary, err = run(
        live.address, state, "stream", "--project", project, stdin=lines + "\n"
    )
    assert code == 1  # a bad line and a refused row
    assert "line 3" in err
    assert summary["collected"]["invalid_lines"] == 1
    assert summary["collected"]["points"] == 3
    [refused] = summary["rejected"]
    assert refused["row"] == "point orphan"
    assert refused["field"].startswith("points[")
    assert point_counts(store_url, project)["train.loss"] == 2
    assert event_counts(store_url, project)["incident"] == 2


def deployment_shas(payload: dict[str, Any]) -> list[str]:
    for key in ("commit_shas", "commitShas"):
        if key in payload:
            return list(payload[key])
    for value in payload.values():
        if isinstance(value, dict):
            found = deployment_shas(value)
            if found:
                return found
    return []


def test_deadline_keeps_the_spool_then_flush_delivers(
    live: LiveServer, store_url: str, tmp_path: Path
) -> None:
    project = live.create_project(token=TOKEN)
    state = tmp_path / "agent"
    nobody = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    code, summary, err = run(
        nobody, state, "deploy", "--project", project, "--id", "d-9", "--commit", "e" * 40,
        MAESTRO_AGENT_DEADLINE_SECONDS="1.5",
    )  # fmt: skip
    assert code == 3
    assert "no progress" in summary["error"]
    assert "stay spooled" in summary["error"]
    assert time.monotonic() - started < 30
    assert summary["delivery"]["pending_rows"] == 1
    assert event_counts(store_url, project) == {}
    # A wrong token is refused at once, not retried until the deadline.
    started = time.monotonic()
    code, summary, _ = run(live.address, state, "flush", MAESTRO_TOKEN="wrong-token-000000000")
    assert code == 3
    assert "UNAUTHENTICATED" in summary["error"]
    assert time.monotonic() - started < 20
    # The right one delivers what was kept.
    code, summary, err = run(live.address, state, "flush")
    assert code == 0, err
    assert summary["acked"] == 1
    assert event_counts(store_url, project) == {"deployment": 1}
    # Spool-only collects now and sends later.
    code, summary, _ = run(
        live.address, state, "deploy", "--project", project, "--id", "d-10",
        "--commit", "f" * 40, "--spool-only",
    )  # fmt: skip
    assert code == 0
    assert (summary["sent"], summary["delivery"]["pending_rows"]) == (0, 1)
    code, summary, _ = run(live.address, state, "flush")
    assert (code, summary["acked"]) == (0, 1)
    assert event_counts(store_url, project) == {"deployment": 2}


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    state = tmp_path / "agent"
    project = "6f1c2d3e-0000-4000-8000-000000000001"
    code, summary, _ = run(
        "127.0.0.1:1", state, "git", "--repo", str(tmp_path), "--project", project
    )
    assert code == 2
    assert "not a git repository" in summary["error"]
    code, summary, _ = run("127.0.0.1:1", state, "ci", "--project", project)
    assert code == 2
    assert "no CI detected" in summary["error"]
    code, summary, _ = run("127.0.0.1:1", state, "deploy", "--id", "x", "--project", "p")
    assert code == 2
    assert "must be a UUID" in summary["error"]
    code, summary, _ = run("127.0.0.1:1", state, "deploy", "--id", "x")
    assert code == 2
    assert "no project" in summary["error"]
    process = agent("127.0.0.1:1", state, "flush", MAESTRO_AGENT_DEADLINE_SECONDS="-1")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "deadline" in err
