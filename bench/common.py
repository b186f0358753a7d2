"""What the benchmarks share: a free port, the PostgreSQL they make databases on,
and a `maestro serve` subprocess on a store of their own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "MAESTRO_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    """A TCP port nothing listens on right now (on the loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(
    port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 60
) -> None:
    """Until something accepts connections on `port` (or `process` exits)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {timeout:g}s")


def database_url(name: str) -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def create_database(prefix: str = "maestro_bench") -> tuple[str, str]:
    """A new, empty PostgreSQL database: (its URL, its name)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name), name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(url: str) -> None:
    """`maestro migrate` on a store, in a subprocess."""
    subprocess.run(
        [sys.executable, "-m", "maestro_grpc", "migrate", "--database-url", url],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def start_server(url: str, port: int, **env: str) -> subprocess.Popen[bytes]:
    """`maestro serve` on `url` at 127.0.0.1:`port`, once it accepts connections.

    MAESTRO_BENCH_PROFILE=<file> runs it under cProfile."""
    full = dict(os.environ)
    full.update(
        MAESTRO_DATABASE_URL=url,
        MAESTRO_PORT=str(port),
        MAESTRO_HOST="127.0.0.1",
        MAESTRO_METRICS_PORT="off",
        MAESTRO_WEB_PORT="off",
        MAESTRO_ACCESS_LOG="0",
        MAESTRO_LOG_LEVEL="WARNING",
        MAESTRO_MIGRATE_ON_START="0",
        MAESTRO_DB_POOL_SIZE="12",
    )
    full.update(env)
    command = [sys.executable, "-m", "maestro_grpc", "serve"]
    if os.environ.get("MAESTRO_BENCH_PROFILE"):
        command[1:1] = ["-m", "cProfile", "-o", os.environ["MAESTRO_BENCH_PROFILE"]]
    process = subprocess.Popen(command, env=full, cwd=ROOT)
    try:
        wait_port(port, process, timeout=60)
    except BaseException:
        process.kill()
        raise
    return process
