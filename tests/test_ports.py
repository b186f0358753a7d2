"""A taken port stops a server with a message, never a second server or a traceback (#18, 8)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from maestro_grpc.config import ConfigError, Settings
from maestro_grpc.server import start_server
from tests.conftest import with_settings

ROOT = Path(__file__).resolve().parents[1]


async def test_a_second_server_on_a_taken_port_refuses_to_start(settings: Settings) -> None:
    first = await start_server(settings)
    try:
        with pytest.raises(ConfigError, match="is taken"):
            await start_server(with_settings(settings, port=first.port))
    finally:
        await first.stop(grace=0)


def _serve(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maestro_grpc", "serve"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("MAESTRO_")},
            "MAESTRO_DATA_DIR": str(data_dir),
            **env,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("which", ["MAESTRO_PORT", "MAESTRO_METRICS_PORT", "MAESTRO_WEB_PORT"])
def test_the_command_says_which_port_is_taken(which: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "MAESTRO_HOST": "127.0.0.1",
            "MAESTRO_PORT": "0",
            "MAESTRO_METRICS_PORT": "0",
            "MAESTRO_WEB_PORT": "0",
        }
        env[which] = str(port)
        env["MAESTRO_METRICS_HOST"] = "127.0.0.1"
        done = _serve(tmp_path, **env)
    assert done.returncode == 2, done.stderr
    assert f"{port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Event loop is closed" not in done.stderr


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://postgres@127.0.0.1:5432/maestro_no_such_db", "does not exist"),
        ("postgresql://postgres@127.0.0.1:1/x", "Connect call failed"),
    ],
)
def test_migrate_against_a_missing_database_says_so(url: str, says: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "maestro_grpc", "migrate", "--database-url", url],
        env={k: v for k, v in os.environ.items() if not k.startswith("MAESTRO_")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert says in done.stderr
    assert "Traceback" not in done.stderr
