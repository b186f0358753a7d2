"""`agent stream`'s columnar spool across a kill: spooled points are stored exactly once.

The points of `agent stream` are spooled as columnar blocks; a delivery
killed part way (SIGKILL, no cleanup) leaves the spool and the server's
committed sequence out of step, and the next run must send exactly what was
not committed, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.live import LiveServer, agent, committed_sequence, point_counts
from tests.agent.test_e2e import finish
from tests.helpers import eventually_sync

POINTS = 6000
NAMES = ("job.loss", "job.accuracy", "job.duration_seconds")


@pytest.fixture
def live(store_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    # One batch in flight at a time: the delivery takes many round trips,
    # so there is a moment when some, not all, of the spool is stored.
    server = LiveServer(
        store_url, tmp_path / "server", MAESTRO_METRICS_MAX_INFLIGHT_BATCHES="1"
    ).start()
    try:
        yield server
    finally:
        server.stop()


def lines() -> str:
    out = []
    for i in range(POINTS):
        point: dict[str, object] = {
            "name": NAMES[i % len(NAMES)],
            "value": i * 0.5,
            "time": 1_740_000_000 + i,
        }
        if i % 2:
            point["labels"] = {"host": f"h{i % 4}"}
        out.append(json.dumps(point))
    return "\n".join(out) + "\n"


def stored(store_url: str, project: str) -> int:
    return sum(point_counts(store_url, project).values())


def test_a_killed_delivery_is_finished_by_the_next_run_exactly_once(
    live: LiveServer, store_url: str, tmp_path: Path
) -> None:
    project = live.create_project()
    state = tmp_path / "agent"
    small = {"MAESTRO_AGENT_BATCH_ROWS": "50"}
    spooled = agent(
        live.address, state, "stream", "--project", project, "--spool-only", "--json",
        stdin="", **small,
    )  # fmt: skip
    out, err = spooled.communicate(input=lines(), timeout=120)
    assert spooled.returncode == 0, (out, err)
    assert json.loads(out.strip().splitlines()[-1])["spooled_rows"] == POINTS
    assert stored(store_url, project) == 0

    first = agent(live.address, state, "flush", "--json", **small)
    eventually_sync(lambda: stored(store_url, project) > 0, "a first batch is stored", within=60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    before = stored(store_url, project)
    assert 0 < before < POINTS, "the delivery was not killed part way"

    summary = finish(agent(live.address, state, "flush", "--json", **small))
    assert summary["ok"]
    assert summary["rejected"] == []
    assert summary["delivery"]["pending_rows"] == 0
    # What the killed run had committed is not stored again (a batch in
    # flight as it died may have been committed since: acked as a duplicate).
    assert summary["delivery"]["stored_points"] <= POINTS - before
    counts = point_counts(store_url, project)
    assert counts == {name: POINTS // len(NAMES) for name in NAMES}
    acked = json.loads((state / "spool" / "acked.json").read_text())["acked"]
    assert acked == POINTS // 50
    assert committed_sequence(store_url, summary["producer_id"]) == acked
