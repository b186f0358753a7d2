"""The worker entry points run on their own: `python -m workers.<name> --once`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("module", "says"),
    [
        ("workers.indexer", "maestro worker indexer: ran"),
        ("workers.metrics_rollup", "maestro worker metrics: rolled up 0 windows"),
    ],
)
def test_a_worker_runs_once_on_the_embedded_store(module: str, says: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MAESTRO_DATA_DIR": str(tmp_path),
        "MAESTRO_INDEXER_METRICS_PORT": "off",
    }
    env.pop("MAESTRO_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", module, "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert says in done.stdout


def test_a_bad_setting_is_exit_2_with_the_reason(tmp_path: Path) -> None:
    env = {**os.environ, "MAESTRO_DATA_DIR": str(tmp_path), "MAESTRO_DB_POOL_SIZE": "many"}
    done = subprocess.run(
        [sys.executable, "-m", "workers.indexer", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "MAESTRO_DB_POOL_SIZE" in done.stderr
