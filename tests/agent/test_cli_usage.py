"""The agent's usage errors are said before anything is spooled or sent, and the
examples its help shows are values the server stores."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.live import ROOT, LiveServer, event_counts
from tests.agent.test_ci_reports import run


@pytest.fixture
def live(store_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(store_url, tmp_path / "server").start()
    try:
        yield server
    finally:
        server.stop()


def _bare_agent(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The agent with no CI variables at all, and no server behind its address."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "GITLAB_", "CI_", "JENKINS_", "MAESTRO_"))
    }
    env.update(MAESTRO_ADDRESS="127.0.0.1:1", MAESTRO_AGENT_STATE_DIR=str(state))
    return subprocess.run(
        [sys.executable, "-m", "maestro_grpc", "agent", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_ci_outside_a_ci_system_says_what_to_pass_first(tmp_path: Path) -> None:
    state = tmp_path / "agent"
    done = _bare_agent(state, "ci", "--project", str(uuid.uuid4()))
    assert done.returncode == 2
    assert done.stdout == ""  # no empty summary before the message
    assert "pass --provider and --run-id" in done.stderr
    assert not state.exists()  # nothing spooled, nothing locked
    done = _bare_agent(state, "ci", "--project", str(uuid.uuid4()), "--json")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"].startswith("no CI detected")
    assert not state.exists()


@pytest.mark.parametrize("command", [["git"], ["ci", "--provider", "x", "--run-id", "1"],
                                     ["deploy", "--id", "d"], ["stream"]])  # fmt: skip
def test_a_project_that_is_not_a_uuid_is_a_usage_error(tmp_path: Path, command: list[str]) -> None:
    state = tmp_path / "agent"
    done = _bare_agent(state, *command, "--project", "not-a-uuid")
    assert done.returncode == 2
    assert "must be a UUID" in done.stderr
    assert "not-a-uuid" in done.stderr
    assert not state.exists()


def test_the_stream_help_examples_are_stored_as_they_are(
    live: LiveServer, store_url: str, tmp_path: Path
) -> None:
    shown = _bare_agent(tmp_path / "unused", "stream", "--help").stdout
    examples = [
        json.loads(re.sub(r"\s+", " ", block))
        for block in re.findall(r"^ {4}(\{.*?\}\}?\}?)$", shown, flags=re.MULTILINE | re.DOTALL)
    ]
    assert len(examples) == 2, shown  # the short point and the event
    project = live.create_project()
    lines = "\n".join(json.dumps(e) for e in examples) + "\n"
    code, summary, err = run(
        live.address, tmp_path / "agent", "stream", "--project", project, stdin=lines
    )
    assert code == 0, err
    assert summary["rejected"] == []
    assert summary["acked"] == 2
    assert event_counts(store_url, project) == {"deployment": 1}
