"""The `maestro` command as a user runs it: help, migrate, serve and its shutdown."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from maestro_grpc.cli import build_parser
from maestro_grpc.store.migrate import head_revision
from tests.helpers import free_port, wait_until_serving

MAESTRO = [sys.executable, "-m", "maestro_grpc"]


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MAESTRO, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_help_explains_each_command() -> None:
    top = run("--help")
    assert top.returncode == 0
    for command in ("serve", "migrate", "worker", "agent", "demo"):
        assert command in top.stdout
    serve = run("serve", "--help")
    assert serve.returncode == 0
    for option in ("--host", "--port", "--data-dir", "MAESTRO_AUTH_TOKENS"):
        assert option in serve.stdout
    assert "Alembic" in run("migrate", "--help").stdout


def test_migrate_creates_the_embedded_store(tmp_path: Path) -> None:
    result = run("migrate", "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert head_revision() in result.stdout
    db = tmp_path / "data" / "maestro.db"
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert {"projects", "artifacts", "team_members", "artifact_usages"} <= tables
    assert version == head_revision()
    # Running it again changes nothing.
    assert run("migrate", "--data-dir", str(tmp_path / "data")).returncode == 0


def test_serve_refuses_a_public_address_without_tokens(tmp_path: Path) -> None:
    result = run(
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        str(free_port()),
        "--data-dir",
        str(tmp_path),
        timeout=30,
    )
    assert result.returncode == 2
    assert "refusing to listen" in result.stderr
    assert "MAESTRO_AUTH_TOKENS" in result.stderr


def test_bad_settings_are_reported_plainly(tmp_path: Path) -> None:
    result = run("serve", env={"MAESTRO_PORT": "fifty"})
    assert result.returncode == 2
    assert "MAESTRO_PORT='fifty' is not an integer" in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_on_the_embedded_default_and_stop_gracefully(tmp_path: Path, sig: int) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MAESTRO_PORT": str(port),
        "MAESTRO_HOST": "127.0.0.1",
        "MAESTRO_DATA_DIR": str(tmp_path / "data"),
        "MAESTRO_METRICS_PORT": "off",
        "MAESTRO_WEB_PORT": "0",
        "MAESTRO_GRACE_SECONDS": "2",
    }
    env.pop("MAESTRO_DATABASE_URL", None)
    process = subprocess.Popen(
        [*MAESTRO, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until_serving(f"127.0.0.1:{port}", process)
        assert (tmp_path / "data" / "maestro.db").exists()
        process.send_signal(sig)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"serving gRPC on 127.0.0.1:{port}" in out
    assert "web UI on http://localhost:" in out
    assert '"msg": "stopped"' in err
    with pytest.raises(grpc.RpcError), grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)


def _every_parser() -> list[tuple[str, argparse.ArgumentParser]]:
    """`maestro` and each of its subcommands, at every depth, by their command line."""
    found = []
    todo = [("maestro", build_parser())]
    while todo:
        name, parser = todo.pop()
        found.append((name, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo += [(f"{name} {sub}", p) for sub, p in action.choices.items()]
    return found


def test_no_help_text_names_a_tracker_number() -> None:
    # Help is for operators, who do not read our tracker ("issue #3"); pull
    # request numbers in the agent's examples of merge messages are fine.
    parsers = _every_parser()
    assert {"maestro worker metrics", "maestro worker indexer", "maestro agent git"} <= {
        name for name, _ in parsers
    }
    for name, parser in parsers:
        text = parser.format_help()
        assert not re.search(r"(?i)\bissues?\s*(#|no\.?\s*)?\d", text), f"{name} --help: {text}"
