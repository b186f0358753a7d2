"""The commands for people (`maestro projects|artifacts|predict|metrics|experiments`), run
as a person runs them, against a real server on both stores."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import grpc.aio
import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc as msg
from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.server import RunningServer
from tests.helpers import free_port, ts


async def maestro(server: RunningServer | str, *args: str) -> tuple[int, str, str]:
    address = server if isinstance(server, str) else f"127.0.0.1:{server.port}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "maestro_grpc",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "MAESTRO_ADDRESS": address, "MAESTRO_TOKEN": "", "COLUMNS": "200"},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_projects_and_artifacts_from_the_command_line(
    server: RunningServer, registry: rsg.RegistryServiceStub
) -> None:
    w = "w" + uuid.uuid4().hex[:8]
    code, out, err = await maestro(
        server,
        "projects",
        "create",
        "--name",
        f"churn-{w}",
        "--status",
        "active",
        "--label",
        f"team={w}",
        "--description",
        "who leaves",
    )
    assert code == 0, err
    project_id = out.strip()
    assert uuid.UUID(project_id)

    code, out, _ = await maestro(server, "projects", "list", "--label", f"team={w}", "--json")
    assert code == 0
    listed = json.loads(out)["projects"]
    assert [(p["id"], p["status"]) for p in listed] == [(project_id, "PROJECT_STATUS_ACTIVE")]
    code, out, _ = await maestro(
        server, "projects", "list", "--status", "completed", "--label", f"team={w}"
    )
    assert code == 0
    assert "0 projects" in out
    code, out, _ = await maestro(server, "projects", "get", project_id)
    assert code == 0
    assert f"churn-{w}" in out
    assert "who leaves" in out
    assert "not known yet" in out

    made = await registry.CreateArtifact(
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(
                name=f"{w}-model",
                version="1.0.0",
                type=ap.ARTIFACT_TYPE_MODEL,
                tags=["nlp"],
                description=f"model {w}",
            )
        )
    )
    code, out, _ = await maestro(
        server, "artifacts", "search", w, "--type", "model", "--tag", "nlp"
    )
    assert code == 0
    assert f"{w}-model" in out
    assert "1 of 1 artifacts" in out
    code, out, _ = await maestro(server, "artifacts", "search", w, "--type", "dataset", "--json")
    assert json.loads(out).get("artifacts", []) == []
    code, out, err = await maestro(
        server,
        "artifacts",
        "use",
        made.artifact.id,
        "--project",
        project_id,
        "--outcome",
        "helpful",
        "--purpose",
        "baseline",
    )
    assert code == 0, err
    assert "now used 1 times" in out
    code, out, _ = await maestro(server, "artifacts", "get", made.artifact.id, "--json")
    assert json.loads(out)["usage_count"] == "1"


# The store is not what these exercise: once, on SQLite.
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
async def test_metrics_predict_experiments_and_exit_codes(
    server: RunningServer, registry: rsg.RegistryServiceStub
) -> None:
    code, out, _ = await maestro(server, "projects", "create", "--name", "m" + uuid.uuid4().hex[:8])
    project_id = out.strip()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        metrics = msg.MetricsServiceStub(channel)
        now = datetime.now(UTC)
        await metrics.RecordMetrics(
            ms.RecordMetricsRequest(
                batch=mp.MetricBatch(
                    points=[
                        mp.MetricPoint(
                            project_id=project_id,
                            name="ci.duration",
                            value=v,
                            time=ts(now - timedelta(minutes=i)),
                        )
                        for i, v in enumerate([10.0, 20.0, 30.0])
                    ]
                )
            )
        )
    code, out, _ = await maestro(server, "metrics", "summary", project_id, "ci.duration")
    assert code == 0
    assert "ci.duration" in out
    assert " 20 " in out  # the median
    code, out, _ = await maestro(server, "metrics", "summary", project_id, "ci.duration", "--json")
    assert json.loads(out)["summaries"][0]["count"] == "3"

    # No meta-model trained: the server refuses, exit code 1, and says why.
    code, _, err = await maestro(server, "predict", project_id)
    assert code == 1
    assert "FAILED_PRECONDITION" in err
    code, _, err = await maestro(server, "experiments", "analyze", str(uuid.uuid4()))
    assert code == 1
    assert "NOT_FOUND" in err
    # A bad option: exit code 2, nothing sent.
    code, _, err = await maestro(server, "projects", "list", "--limit", "0")
    assert code == 2
    assert "--limit" in err
    # Nobody at the address: exit code 3.
    code, _, err = await maestro(f"127.0.0.1:{free_port()}", "projects", "list")
    assert code == 3
    assert "UNAVAILABLE" in err
