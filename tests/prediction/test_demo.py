"""`maestro demo ...` as a user runs it, against a real server."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from pathlib import Path

from maestro.registry.v1 import registry_service_pb2 as rs
from maestro_grpc.demo import add_months
from maestro_grpc.server import RunningServer
from tests.prediction.conftest import RegistryStub
from tests.prediction.test_asfi import ASFI

MAESTRO = [sys.executable, "-m", "maestro_grpc", "demo"]


async def run(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *MAESTRO,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "MAESTRO_TOKEN": ""},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def small_asfi(directory: Path, projects: int) -> Path:
    """The first `projects` projects of the real data set, with their months."""
    directory.mkdir()
    with (ASFI / "projects.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))[:projects]
    keep = {r["project"] for r in rows}
    with (directory / "projects.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with (ASFI / "monthly.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        months = [r for r in reader if r["project"] in keep]
        fields = reader.fieldnames
    assert fields is not None
    with (directory / "monthly.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(months)
    return directory


async def test_import_asfi_and_seed_commands(
    server: RunningServer, registry: RegistryStub, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{server.port}"
    data = small_asfi(tmp_path / "asfi", 5)
    code, out, err = await run("import-asfi", str(data), "--address", address)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["projects"] == 5
    assert summary["graduated"] + summary["retired"] == 5
    assert summary["points"] > 0
    # Running it again creates nothing twice.
    code, out, err = await run("import-asfi", str(data), "--address", address, "--concurrency", "2")
    assert code == 0, err
    listed = await registry.ListProjects(rs.ListProjectsRequest())
    assert listed.total_size == 5

    code, out, err = await run(
        "seed", "--address", address, "--projects", "12", "--active", "2", "--seed", "3"
    )
    assert code == 0, err
    seeded = json.loads(out)
    assert (seeded["projects"], seeded["active"]) == (12, 2)
    assert 0 <= seeded["succeeded"] <= 12
    listed = await registry.ListProjects(rs.ListProjectsRequest())
    assert listed.total_size == 5 + 14
    assert sum(1 for p in listed.projects if p.labels.get("source") == "demo-seed") == 14


async def test_command_errors(tmp_path: Path) -> None:
    code, _, err = await run("import-asfi", str(tmp_path), "--address", "127.0.0.1:1")
    assert code == 2
    assert "projects.csv not found" in err
    data = small_asfi(tmp_path / "asfi", 1)
    code, _, err = await run("import-asfi", str(data), "--address", "127.0.0.1:1")
    assert code == 1
    assert "UNAVAILABLE" in err
    code, _, err = await run("seed", "--address", "127.0.0.1:1", "--projects", "-1")
    assert code == 2
    code, _, err = await run("seed", "--address", "127.0.0.1:1", "--projects", "1")
    assert code == 1
    assert "UNAVAILABLE" in err


def test_add_months_clamps_the_day() -> None:
    from datetime import UTC, datetime

    start = datetime(2011, 1, 31, tzinfo=UTC)
    assert add_months(start, 1) == datetime(2011, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2012, 1, 31, tzinfo=UTC), 1) == datetime(2012, 2, 29, tzinfo=UTC)
    assert add_months(start, 12) == datetime(2012, 1, 31, tzinfo=UTC)
    assert add_months(datetime(2000, 12, 15, tzinfo=UTC), 14) == datetime(2002, 2, 15, tzinfo=UTC)
    assert add_months(datetime(1900, 1, 29, tzinfo=UTC), 1) == datetime(1900, 2, 28, tzinfo=UTC)
