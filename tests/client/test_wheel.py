"""The `maestro-client` wheel, built and installed as a caller would: into a fresh
venv with nothing of the server's, calling a real server (both stores)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server
from tests.conftest import with_settings

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "python"
GENERATED = ROOT / "generated" / "maestro"
TOKEN = "wheel-test-token-0123456789"

# What the fresh venv runs: the client's own settings from the environment,
# the token on each call, a create that carries a request_id (repeated), the
# page iterator over one-item pages, an error as a caller sees it.
SCRIPT = r"""
import asyncio, importlib.util, json, sys, uuid
import grpc
from maestro.registry.v1 import project_pb2, registry_service_pb2 as rs
from maestro_client import MaestroClient

async def main():
    team = sys.argv[1]
    async with MaestroClient.from_env() as maestro:
        ids = []
        for i in range(3):
            request = rs.CreateProjectRequest(
                project=project_pb2.Project(name=f"w{i}-{team}", labels={"team": team}),
                request_id=str(uuid.uuid4()),
            )
            first = await maestro.registry.CreateProject(request)
            again = await maestro.registry.CreateProject(request)
            assert first.project.id == again.project.id
            ids.append(first.project.id)
        listing = rs.ListProjectsRequest(labels={"team": team}, page_size=1)
        pages = maestro.pages(maestro.registry.ListProjects, listing, "projects")
        listed = [p.name async for p in pages]
        try:
            await maestro.registry.GetProject(rs.GetProjectRequest(project_id=str(uuid.uuid4())))
            missing = "found"
        except grpc.aio.AioRpcError as error:
            missing = error.code().name
    absent = [m for m in ("sqlalchemy", "sklearn", "maestro_grpc", "numpy", "rich")
              if importlib.util.find_spec(m) is not None]
    print(json.dumps({"ids": ids, "listed": sorted(listed), "missing": missing,
                      "server_packages": absent}))

asyncio.run(main())
"""


@dataclass
class Installed:
    wheel: Path
    python: Path


def _run(*command: str | Path) -> str:
    done = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel built from this tree, installed into a fresh venv (PyPI for its
    three dependencies), as `make client` and a caller's pip would."""
    where = tmp_path_factory.mktemp("client-wheel")
    _run(sys.executable, "-m", "venv", where / "venv")
    python = where / "venv" / "bin" / "python"
    pip = (python, "-m", "pip", "--disable-pip-version-check", "--quiet")
    _run(*pip, "wheel", "--no-deps", "--wheel-dir", where / "dist", CLIENT)
    (wheel,) = (where / "dist").glob("maestro_client-*.whl")
    _run(*pip, "install", wheel)
    return Installed(wheel=wheel, python=python)


@pytest.fixture
async def authed_server(settings: Settings) -> AsyncIterator[RunningServer]:
    running = await start_server(with_settings(settings, auth_tokens={TOKEN: "wheel"}))
    try:
        yield running
    finally:
        await running.stop(grace=0.2)


@pytest.mark.slow
def test_the_wheel_holds_the_stubs_of_generated_exactly(installed: Installed) -> None:
    """No second copy to drift: the wheel's `maestro` package is generated/ as it is
    (without the server's internal page-token messages)."""
    expected = {
        str(Path("maestro") / p.relative_to(GENERATED)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in GENERATED.rglob("*")
        if p.suffix in {".py", ".pyi"} and p.relative_to(GENERATED).parts[0] != "internal"
    }
    with zipfile.ZipFile(installed.wheel) as wheel:
        shipped = {
            name: hashlib.sha256(wheel.read(name)).hexdigest()
            for name in wheel.namelist()
            if name.startswith("maestro/") and name != "maestro/py.typed"
        }
        names = wheel.namelist()
        metadata = wheel.read(next(n for n in names if n.endswith("/METADATA"))).decode()
    assert shipped == expected
    assert "maestro_client/client.py" in names
    assert "maestro/py.typed" in names
    requires = sorted(
        Requirement(line.removeprefix("Requires-Dist: ")).name
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ")
    )
    assert requires == ["googleapis-common-protos", "grpcio", "protobuf"]


@pytest.mark.slow
async def test_a_fresh_venv_with_the_wheel_calls_a_running_server(
    installed: Installed, authed_server: RunningServer
) -> None:
    team = "wheel" + str(authed_server.port)
    process = await asyncio.create_subprocess_exec(
        str(installed.python),
        "-c",
        SCRIPT,
        team,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=installed.python.parent,  # not this tree: nothing of the server on the path
        env={"MAESTRO_ADDRESS": f"127.0.0.1:{authed_server.port}", "MAESTRO_TOKEN": TOKEN},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    found = json.loads(out)
    assert found["listed"] == [f"w{i}-{team}" for i in range(3)]
    assert len(set(found["ids"])) == 3
    assert found["missing"] == "NOT_FOUND"
    assert found["server_packages"] == []
    listed = _run(installed.python, "-m", "pip", "list", "--format=json")
    packages = {p["name"].lower() for p in json.loads(listed)}
    assert packages.isdisjoint({"sqlalchemy", "scikit-learn", "maestro", "alembic", "mlflow"})


def test_the_client_needs_the_runtimes_the_server_was_generated_for() -> None:
    """The client's three dependencies carry the server's floors: the stubs in
    the wheel are generated for that protobuf runtime."""
    server = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    client = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]["dependencies"]
    floors = {Requirement(r).name: str(Requirement(r).specifier) for r in server}
    mine = {Requirement(r).name: str(Requirement(r).specifier) for r in client}
    assert mine == {name: floors[name] for name in mine}
    assert sorted(mine) == ["googleapis-common-protos", "grpcio", "protobuf"]
