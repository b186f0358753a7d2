"""End to end: `maestro agent git` against a real `maestro serve`, crashes included.

The store must end with exactly the commits `git rev-list --count` reports,
whatever happens to the agent (SIGKILL mid-backfill, then a rerun) or to the
server (SIGKILL mid-stream, then a restart), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent.history import generate_history
from tests.agent.live import LiveServer, agent, committed_sequence, event_counts
from tests.helpers import eventually_sync

COMMITS = 2000
BATCH_ROWS = "100"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    path = tmp_path_factory.mktemp("history") / "repo"
    pulls = generate_history(path, COMMITS, merge_every=100)
    count = int(
        subprocess.run(
            ["git", "-C", str(path), "rev-list", "--count", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    return path, count, pulls


@pytest.fixture
def live(store_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(store_url, tmp_path / "server").start()
    try:
        yield server
    finally:
        server.stop()


def some_commits_stored(store_url: str, project: str) -> None:
    """Until the store (written by the server's process) holds a first commit."""
    eventually_sync(
        lambda: event_counts(store_url, project).get("commit", 0) > 0,
        "a first commit is stored",
        within=60,
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> dict[str, Any]:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, (process.returncode, out, err)
    summary: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return summary


def test_agent_killed_mid_backfill_then_rerun(
    live: LiveServer, store_url: str, history: tuple[Path, int, int], tmp_path: Path
) -> None:
    repo, count, pulls = history
    project = live.create_project()
    state = tmp_path / "agent"
    args = ("git", "--repo", str(repo), "--project", project, "--json")
    first = agent(live.address, state, *args, MAESTRO_AGENT_BATCH_ROWS=BATCH_ROWS)
    some_commits_stored(store_url, project)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    stored = event_counts(store_url, project).get("commit", 0)
    assert 0 < stored < count, "the agent was not killed mid-backfill"

    # No cursor was saved (the walk never finished), so the rerun walks again;
    # what was spooled and acked is not stored twice, the rest is delivered.
    summary = finish(agent(live.address, state, *args, MAESTRO_AGENT_BATCH_ROWS=BATCH_ROWS))
    assert summary["ok"]
    assert summary["rejected"] == []
    assert summary["delivery"]["pending_batches"] == 0
    counts = event_counts(store_url, project)
    assert counts["commit"] == count
    assert counts["pull_request"] == pulls
    # Every batch the agent ever numbered is committed, once.
    acked = json.loads((state / "spool" / "acked.json").read_text())["acked"]
    assert committed_sequence(store_url, summary["producer_id"]) == acked

    # A third run finds nothing new (the cursor) and sends nothing.
    again = finish(agent(live.address, state, *args))
    assert again["collected"]["commits"] == 0
    assert again["collected"]["incremental"]
    assert again["sent"] == 0
    assert event_counts(store_url, project)["commit"] == count


def test_server_killed_and_restarted_mid_stream(
    live: LiveServer, store_url: str, history: tuple[Path, int, int], tmp_path: Path
) -> None:
    repo, count, pulls = history
    project = live.create_project()
    state = tmp_path / "agent"
    running = agent(
        live.address,
        state,
        "git",
        "--repo",
        str(repo),
        "--project",
        project,
        "--json",
        MAESTRO_AGENT_BATCH_ROWS=BATCH_ROWS,
    )
    some_commits_stored(store_url, project)
    live.kill()
    stored = event_counts(store_url, project).get("commit", 0)
    assert 0 < stored < count, "the server was not killed mid-stream"
    # Real time on purpose: the agent must meet the dead address and back off
    # for a while (nothing to observe from here but its final summary).
    time.sleep(1.0)
    live.start()
    summary = finish(running)
    assert summary["ok"]
    assert summary["delivery"]["reconnects"] >= 1
    assert summary["delivery"]["streams_opened"] >= 2
    assert summary["delivery"]["pending_rows"] == 0
    counts = event_counts(store_url, project)
    assert counts["commit"] == count
    assert counts["pull_request"] == pulls
    acked = json.loads((state / "spool" / "acked.json").read_text())["acked"]
    assert committed_sequence(store_url, summary["producer_id"]) == acked
